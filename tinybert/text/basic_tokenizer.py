"""Stage one of BERT's tokenizer: raw text to words and punctuation marks, as `BasicTokenizer` in
google-research/bert's tokenization.py.

    BasicTokenizer().tokenize("Héllo, 中文 [MASK]!")   # ['hello', ',', '中', '文', '[MASK]', '!']

In order: the special tokens are cut out first and kept whole; then control characters are dropped; CJK
characters get a space on each side (Chinese is not written with spaces, so each character is a word); the
text is split on whitespace; each word is lower-cased and loses its accents; and each punctuation mark
becomes a word of its own. Stage two, `WordpieceTokenizer`, then cuts each word into vocabulary pieces.

Where google-research/bert and Hugging Face differ, tinybert follows Hugging Face's `tokenizers`, against
which tests/parity checks it: private-use characters count as control characters, special tokens are found
anywhere in the raw text, and lower-casing goes one character at a time.
"""

import re
import string
import unicodedata

from .vocab import SPECIAL_TOKENS

CJK_RANGES = (  # the CJK Unified Ideographs blocks, as _is_chinese_char in google-research/bert
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)


def is_control(char):
    """A character to drop: control characters such as NUL (category Cc), format characters such as the
    zero-width joiner (Cf), private-use characters (Co) and surrogates (Cs); tab, newline and carriage
    return are whitespace instead. google-research/bert drops Cc and Cf only; Hugging Face's tokenizers
    drops Co and Cs too. A code point Unicode has not assigned (Cn) is kept: a later Unicode may make it
    a letter, and WordpieceTokenizer turns it into [UNK]."""
    return char not in "\t\n\r" and unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs")


def is_punctuation(char):
    """BERT's punctuation: Unicode's P* categories, plus every ASCII character that is not a letter, digit
    or space. So "$", "+", "^" and "`", which Unicode calls symbols, split words too."""
    return char in string.punctuation or unicodedata.category(char).startswith("P")


def is_cjk(char):
    return any(low <= ord(char) <= high for low, high in CJK_RANGES)


def clean_text(text):
    """Drop NUL, the replacement character U+FFFD (what a decoder leaves for bytes it could not read) and
    control characters."""
    return "".join(char for char in text if char not in "\x00\ufffd" and not is_control(char))


def space_out_cjk(text):
    return "".join(f" {char} " if is_cjk(char) else char for char in text)


def lowercase_and_strip_accents(word):
    """"Héllo" -> "hello": lower-case each character, decompose (NFD: "é" -> "e" + a combining acute accent),
    then drop the combining marks (category Mn). One character at a time, as Hugging Face's tokenizers:
    "ΟΔΟΣ" -> "οδοσ", where str.lower() would give the word-final "ς"."""
    lowered = "".join(char.lower() for char in word)
    return "".join(char for char in unicodedata.normalize("NFD", lowered) if unicodedata.category(char) != "Mn")


def split_on_punctuation(word):
    """"don't!" -> ["don", "'", "t", "!"]: each punctuation mark alone, the runs between them kept."""
    pieces, run = [], ""
    for char in word:
        if is_punctuation(char):
            if run:
                pieces.append(run)
            pieces.append(char)
            run = ""
        else:
            run += char
    return pieces + [run] if run else pieces


class BasicTokenizer:
    """Raw text to a list of words and punctuation marks, with `never_split` tokens (BERT's special
    tokens by default) kept exactly as written, so that "the [MASK] statement" keeps its [MASK]."""

    def __init__(self, lowercase=True, never_split=SPECIAL_TOKENS):
        self.lowercase = lowercase
        self.never_split = frozenset(never_split)
        # longest first, so that a special token that begins another never cuts it short
        alternatives = "|".join(re.escape(token) for token in sorted(self.never_split, key=len, reverse=True))
        self.never_split_pattern = re.compile(f"({alternatives})") if alternatives else None

    def tokenize(self, text):
        pieces = self.never_split_pattern.split(text) if self.never_split_pattern else [text]
        words = []
        for piece in pieces:  # the pattern's group keeps the special tokens among the pieces
            words += [piece] if piece in self.never_split else self.split_words(piece)
        return words

    def split_words(self, text):
        words = []
        for word in space_out_cjk(clean_text(text)).split():  # split() splits on every kind of whitespace
            if self.lowercase:
                word = lowercase_and_strip_accents(word)
            words += split_on_punctuation(word)
        return words
