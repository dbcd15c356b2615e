"""Stage two of BERT's tokenizer: one word to vocabulary pieces, as `WordpieceTokenizer` in
google-research/bert's tokenization.py.

    WordpieceTokenizer({"un", "##aff", "##able", ...}).tokenize("unaffable")   # ['un', '##aff', '##able']

Greedy longest match first: take the longest prefix of the word that is in the vocabulary, then the longest
"##"-marked piece of what is left, and so on. A word that cannot be covered to its end, or that is longer
than `max_chars_per_word`, becomes a single [UNK]: never a half-tokenized word.
"""

from .vocab import CONTINUATION_PREFIX, UNK_TOKEN


class WordpieceTokenizer:
    def __init__(self, vocab, unk_token=UNK_TOKEN, max_chars_per_word=100):
        self.vocab = set(vocab)  # a list of tokens, or a dict token -> id
        self.unk_token = unk_token
        self.max_chars_per_word = max_chars_per_word

    def tokenize(self, word):
        if len(word) > self.max_chars_per_word:
            return [self.unk_token]
        pieces, start = [], 0
        while start < len(word):
            match = self.longest_piece(word, start)
            if match is None:
                return [self.unk_token]
            piece, start = match
            pieces.append(piece)
        return pieces

    def longest_piece(self, word, start):
        """The longest vocabulary piece for word[start:end] ("##"-marked unless start is 0) and its end,
        or None where not even one character is in the vocabulary."""
        prefix = CONTINUATION_PREFIX if start > 0 else ""
        for end in range(len(word), start, -1):
            if prefix + word[start:end] in self.vocab:
                return prefix + word[start:end], end
        return None
