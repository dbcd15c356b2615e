"""The vocabulary: BERT's special tokens and the vocab.txt file.

vocab.txt is the format of google-research/bert and Hugging Face: one token per line, and a token's line
number (from 0) is its id. A trained tinybert vocabulary starts with the special tokens, so [PAD] is 0 as in
BERT's own vocab.txt; BERT's other specials sit further down there ([UNK] is 100 in bert-base-uncased), so
code asks the tokenizer for an id (`tokenizer.mask_id`) rather than assuming one.
"""

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN = SPECIAL_TOKENS
CONTINUATION_PREFIX = "##"  # marks a piece that continues a word: "playing" -> "play", "##ing"


def save_vocab(tokens, path):
    """Write `tokens` to `path`, one a line, so that line number = id."""
    for token_id, token in enumerate(tokens):
        if "\n" in token or "\r" in token or token == "":
            raise ValueError(f"token {token_id} ({token!r}) is empty or holds a line break, so vocab.txt could not "
                             "keep one token a line; tokens come from BasicTokenizer, which never yields either")
    with open(path, "w", encoding="utf-8") as file:
        file.write("".join(token + "\n" for token in tokens))


def load_vocab(path):
    """The tokens of a vocab.txt, in id order (as load_vocab in google-research/bert's tokenization.py)."""
    with open(path, encoding="utf-8") as file:
        return [line.rstrip("\n") for line in file]
