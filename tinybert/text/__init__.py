"""Text to token ids and back, the tokenizer of google-research/bert's tokenization.py: pure Python and
NumPy, no engine and no model.

Read basic_tokenizer (stage one: text to words), wordpiece (stage two: a word to pieces), vocab (the
special tokens and vocab.txt), vocab_training (learning the pieces from a corpus), then tokenizer (the
two stages, ids, [CLS] A [SEP] B [SEP] and decoding)."""

from .basic_tokenizer import BasicTokenizer
from .tokenizer import BertTokenizer, Encoding, clean_up_tokenization, truncate_longer_first
from .vocab import (CLS_TOKEN, CONTINUATION_PREFIX, MASK_TOKEN, PAD_TOKEN, SEP_TOKEN, SPECIAL_TOKENS, UNK_TOKEN,
                    load_vocab, save_vocab)
from .vocab_training import train_wordpiece_vocab
from .wordpiece import WordpieceTokenizer

__all__ = ["BasicTokenizer", "WordpieceTokenizer", "BertTokenizer", "Encoding", "train_wordpiece_vocab",
           "load_vocab", "save_vocab", "SPECIAL_TOKENS", "PAD_TOKEN", "UNK_TOKEN", "CLS_TOKEN", "SEP_TOKEN",
           "MASK_TOKEN", "CONTINUATION_PREFIX", "clean_up_tokenization", "truncate_longer_first"]
