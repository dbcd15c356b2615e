"""BERT's whole tokenizer: text to ids and back, as FullTokenizer in google-research/bert's tokenization.py,
with the [CLS] A [SEP] B [SEP] framing of its run_classifier.py and the decoding of Hugging Face's
BertTokenizer.

    tokenizer = BertTokenizer.from_file("vocab.txt")   # bert-base-uncased's
    encoding = tokenizer.encode("The cat sat.", "It purred.", max_length=128)
    encoding.tokens        # ['[CLS]', 'the', 'cat', 'sat', '.', '[SEP]', 'it', 'pu', '##rred', '.', '[SEP]']
    encoding.segment_ids   # [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    tokenizer.decode(encoding.ids)   # 'the cat sat. it purred.'
"""

import os
from dataclasses import dataclass

import numpy as np

from .basic_tokenizer import BasicTokenizer
from .vocab import CLS_TOKEN, CONTINUATION_PREFIX, SEP_TOKEN, SPECIAL_TOKENS, UNK_TOKEN, load_vocab, save_vocab
from .wordpiece import WordpieceTokenizer


@dataclass
class Encoding:
    """One model input: token ids, segment ids (0 for [CLS] A [SEP], 1 for B [SEP]) and the tokens."""
    ids: list
    segment_ids: list
    tokens: list


def truncate_longer_first(tokens_a, tokens_b, max_tokens):
    """Shortened copies of the two token lists with at most `max_tokens` together, taking one token at a
    time from the end of the longer (of B on a tie), as _truncate_seq_pair in google-research/bert's
    run_classifier.py. (Hugging Face's "longest_first" gives the odd token to B rather than A on a tie.)"""
    tokens_a, tokens_b = list(tokens_a), list(tokens_b)
    while len(tokens_a) + len(tokens_b) > max_tokens:
        longer = tokens_a if len(tokens_a) > len(tokens_b) else tokens_b
        longer.pop()
    return tokens_a, tokens_b


def clean_up_tokenization(text):
    """Take out the spaces that joining tokens puts before punctuation and inside English contractions:
    "hello , world ! it ' s" -> "hello, world! it's", as Hugging Face's clean_up_tokenization."""
    for spaced, joined in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                           (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        text = text.replace(spaced, joined)
    return text


class BertTokenizer:
    """BasicTokenizer, then WordpieceTokenizer on each word, then ids from the vocabulary (a list of tokens,
    id = position), which must hold each of BERT's special tokens."""

    def __init__(self, vocab_tokens, lowercase=True, max_chars_per_word=100):
        self.tokens = list(vocab_tokens)
        self.ids = {}
        for token_id, token in enumerate(self.tokens):
            if token in self.ids:
                raise ValueError(f"the vocabulary holds {token!r} twice, as ids {self.ids[token]} and {token_id}; "
                                 "a token's id is its line in vocab.txt, so each token must appear once")
            self.ids[token] = token_id
        missing = [token for token in SPECIAL_TOKENS if token not in self.ids]
        if missing:
            raise ValueError(f"the vocabulary lacks {', '.join(missing)}; BERT needs all of "
                             f"{', '.join(SPECIAL_TOKENS)} (train_wordpiece_vocab puts them first)")
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (self.ids[token] for token in SPECIAL_TOKENS)
        self.special_ids = {self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id}
        # True for "##" pieces: whole-word masking masks a word's pieces together
        self.is_continuation = np.array([token.startswith(CONTINUATION_PREFIX) for token in self.tokens], dtype=bool)
        self.basic_tokenizer = BasicTokenizer(lowercase)
        self.wordpiece_tokenizer = WordpieceTokenizer(self.ids, UNK_TOKEN, max_chars_per_word)

    @classmethod
    def from_file(cls, path, lowercase=True):
        return cls(load_vocab(path), lowercase=lowercase)

    def save(self, directory):
        """Write directory/vocab.txt; returns its path."""
        path = os.path.join(directory, "vocab.txt")
        save_vocab(self.tokens, path)
        return path

    @property
    def vocab_size(self):
        return len(self.tokens)

    def tokenize(self, text):
        words = self.basic_tokenizer.tokenize(text)
        return [piece for word in words for piece in self.wordpiece_tokenizer.tokenize(word)]

    def convert_tokens_to_ids(self, tokens):
        """Ids of the tokens; a token outside the vocabulary gets [UNK]'s id, as in Hugging Face."""
        return [self.ids.get(token, self.unk_id) for token in tokens]

    def convert_ids_to_tokens(self, ids):
        tokens = []
        for token_id in ids:
            if not 0 <= token_id < self.vocab_size:
                raise ValueError(f"token id {token_id} is outside the vocabulary (size {self.vocab_size}); "
                                 "was the model trained with another vocab.txt?")
            tokens.append(self.tokens[token_id])
        return tokens

    def encode(self, text, text_pair=None, max_length=None):
        """[CLS] A [SEP], or [CLS] A [SEP] B [SEP] with `text_pair`, cut to `max_length` tokens in all."""
        tokens_a = self.tokenize(text)
        tokens_b = self.tokenize(text_pair) if text_pair is not None else []
        special_count = 2 if text_pair is None else 3
        if max_length is not None:
            if max_length < special_count:
                raise ValueError(f"max_length={max_length} is too short: the special tokens alone take "
                                 f"{special_count} ([CLS] A [SEP]{'' if text_pair is None else ' B [SEP]'})")
            tokens_a, tokens_b = truncate_longer_first(tokens_a, tokens_b, max_length - special_count)
        tokens = [CLS_TOKEN] + tokens_a + [SEP_TOKEN]
        segment_ids = [0] * len(tokens)
        if text_pair is not None:
            tokens += tokens_b + [SEP_TOKEN]
            segment_ids += [1] * (len(tokens_b) + 1)
        return Encoding(ids=self.convert_tokens_to_ids(tokens), segment_ids=segment_ids, tokens=tokens)

    def encode_batch(self, texts, text_pairs=None, max_length=None):
        """Many inputs, padded to the longest: (input_ids, segment_ids, is_real), each (N, T), is_real True
        at real tokens and False at padding."""
        encodings = [self.encode(text, None if text_pairs is None else text_pairs[number], max_length)
                     for number, text in enumerate(texts)]
        longest = max(len(encoding.ids) for encoding in encodings)
        input_ids = np.full((len(encodings), longest), self.pad_id, dtype=np.int64)  # (N, T)
        segment_ids = np.zeros((len(encodings), longest), dtype=np.int64)  # (N, T)
        for row, encoding in enumerate(encodings):  # one input at a time: a short loop over the inputs
            input_ids[row, :len(encoding.ids)] = encoding.ids
            segment_ids[row, :len(encoding.ids)] = encoding.segment_ids
        lengths = np.array([len(encoding.ids) for encoding in encodings])
        return input_ids, segment_ids, np.arange(longest)[None, :] < lengths[:, None]  # (N, T) each

    def decode(self, ids, skip_special_tokens=True):
        """Text from ids: "##" pieces joined back onto their words, then clean_up_tokenization, as Hugging
        Face's BertTokenizer.decode with clean_up_tokenization_spaces=True. Skipping the special tokens
        skips [UNK] too, as Hugging Face does."""
        ids = [int(token_id) for token_id in ids]
        tokens = self.convert_ids_to_tokens(ids)
        if skip_special_tokens:
            tokens = [token for token, token_id in zip(tokens, ids) if token_id not in self.special_ids]
        text = " ".join(tokens).replace(" " + CONTINUATION_PREFIX, "").strip()
        return clean_up_tokenization(text)
