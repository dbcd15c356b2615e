"""The WordPiece tokenizer stage by stage (BasicTokenizer, WordpieceTokenizer), then encoding, decoding,
vocabulary training and vocab.txt, each against what google-research/bert's tokenization.py does."""

import string
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinybert
from tinybert.text import (SPECIAL_TOKENS, UNK_TOKEN, BasicTokenizer, BertTokenizer, WordpieceTokenizer, load_vocab,
                           save_vocab, train_wordpiece_vocab, truncate_longer_first)
from tinybert.text.vocab_training import count_words, spell

# a corpus that spells every lower-case letter and digit both at the start of a word and inside one
SMALL_CORPUS = ["The quick brown fox jumps over the lazy dog; the dog sleeps (then wakes).",
                " ".join(char * 2 for char in string.ascii_lowercase + string.digits) + " - : ; ( ) /"]
SMALL_TOKENIZER = BertTokenizer(train_wordpiece_vocab(SMALL_CORPUS, vocab_size=1000, min_frequency=1))  # all merges
# text the small vocabulary covers: after lower-casing and stripping accents, only characters it spells
COVERED_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "éÜñ-:;()/ \t\n", max_size=80)


# ---- BasicTokenizer -----------------------------------------------------------------------------------

def test_lowercasing_strips_accents():
    assert BasicTokenizer().tokenize("Héllo Ça NAÏVE") == ["hello", "ca", "naive"]


def test_the_cased_tokenizer_keeps_case_and_accents():
    assert BasicTokenizer(lowercase=False).tokenize("Héllo Ça") == ["Héllo", "Ça"]


def test_each_cjk_character_is_a_word():
    assert BasicTokenizer().tokenize("中文abc") == ["中", "文", "abc"]
    # Extension E starts at U+2B820, as in google-research/bert (Hugging Face's tokenizers has U+2B920)
    assert BasicTokenizer().tokenize("a\U0002B820b") == ["a", "\U0002B820", "b"]


def test_control_characters_are_dropped_and_any_whitespace_splits():
    # NUL, BEL, U+FFFD and the zero-width space (a format character) vanish; tab, newline, U+3000 split
    assert BasicTokenizer().tokenize("a\x00b\ufffdc\u200bd\x07e\tf\ng\u3000h") == ["abcde", "f", "g", "h"]


def test_punctuation_is_split_off_ascii_symbols_included():
    assert BasicTokenizer().tokenize("don't stop!") == ["don", "'", "t", "stop", "!"]
    assert BasicTokenizer().tokenize("a$b+c^d`e") == ["a", "$", "b", "+", "c", "^", "d", "`", "e"]
    assert BasicTokenizer().tokenize("«x»—y") == ["«", "x", "»", "—", "y"]


def test_special_tokens_stay_whole_wherever_they_stand():
    assert BasicTokenizer().tokenize("the [MASK] statement.") == ["the", "[MASK]", "statement", "."]
    assert BasicTokenizer().tokenize("x[MASK]y [SEP]") == ["x", "[MASK]", "y", "[SEP]"]


def test_a_lower_case_mask_is_ordinary_text():
    assert BasicTokenizer().tokenize("[mask]") == ["[", "mask", "]"]


@given(st.text(max_size=60))
def test_no_token_is_empty_or_holds_whitespace(text):
    for token in BasicTokenizer().tokenize(text):
        assert token and not any(char.isspace() for char in token)


# ---- WordpieceTokenizer -------------------------------------------------------------------------------

def test_wordpiece_takes_the_longest_match_first():
    wordpiece = WordpieceTokenizer(["un", "u", "##aff", "##a", "##able", "##ab"])
    assert wordpiece.tokenize("unaffable") == ["un", "##aff", "##able"]
    # greedy: "ab" + "##c", although "a" + "##bc" would also cover the word
    assert WordpieceTokenizer(["a", "ab", "##bc", "##c"]).tokenize("abc") == ["ab", "##c"]


def test_continuations_must_be_marked():
    assert WordpieceTokenizer(["a", "b"]).tokenize("ab") == [UNK_TOKEN]


def test_a_word_with_one_uncoverable_character_is_one_unk():
    assert WordpieceTokenizer(["a", "##b"]).tokenize("abxb") == [UNK_TOKEN]


def test_a_word_over_the_length_limit_is_one_unk():
    wordpiece = WordpieceTokenizer(["a", "##a"], max_chars_per_word=100)
    assert wordpiece.tokenize("a" * 100) == ["a"] + ["##a"] * 99
    assert wordpiece.tokenize("a" * 101) == [UNK_TOKEN]


# ---- encode and decode --------------------------------------------------------------------------------

def test_a_pair_is_cls_a_sep_b_sep_with_segment_ids():
    encoding = SMALL_TOKENIZER.encode("the fox", "the dog")
    assert encoding.tokens == ["[CLS]", "the", "fox", "[SEP]", "the", "dog", "[SEP]"]
    assert encoding.segment_ids == [0, 0, 0, 0, 1, 1, 1]
    assert encoding.ids == SMALL_TOKENIZER.convert_tokens_to_ids(encoding.tokens)


def test_a_single_text_is_cls_a_sep_in_segment_0():
    encoding = SMALL_TOKENIZER.encode("the fox", max_length=3)
    assert encoding.tokens == ["[CLS]", "the", "[SEP]"]
    assert encoding.segment_ids == [0, 0, 0]


def test_truncation_takes_from_the_end_of_the_longer_side_first():
    encoding = SMALL_TOKENIZER.encode("a b c d e f", "u v", max_length=9)
    assert encoding.tokens == ["[CLS]", "a", "b", "c", "d", "[SEP]", "u", "v", "[SEP]"]
    encoding = SMALL_TOKENIZER.encode("a b c d", "u v w x", max_length=8)  # a tie: B loses the odd token
    assert encoding.tokens == ["[CLS]", "a", "b", "c", "[SEP]", "u", "v", "[SEP]"]


@given(length_a=st.integers(0, 20), length_b=st.integers(0, 20), max_tokens=st.integers(0, 40))
def test_truncation_keeps_prefixes_that_fit_and_balances_the_cut(length_a, length_b, max_tokens):
    tokens_a, tokens_b = [f"a{i}" for i in range(length_a)], [f"b{i}" for i in range(length_b)]
    kept_a, kept_b = truncate_longer_first(tokens_a, tokens_b, max_tokens)
    assert len(kept_a) + len(kept_b) == min(max_tokens, length_a + length_b)
    assert kept_a == tokens_a[:len(kept_a)] and kept_b == tokens_b[:len(kept_b)]
    # a side is cut only while it is the longer (B on a tie), so a cut side ends at most one shorter
    if len(kept_a) < length_a:
        assert len(kept_a) >= len(kept_b)
    if len(kept_b) < length_b:
        assert len(kept_b) >= len(kept_a) - 1


def test_max_length_must_leave_room_for_the_special_tokens():
    with pytest.raises(ValueError, match="max_length=2 is too short"):
        SMALL_TOKENIZER.encode("a", "b", max_length=2)


@given(COVERED_TEXT)
def test_decode_of_encode_gives_back_the_normalised_text(text):
    encoding = SMALL_TOKENIZER.encode(text)
    assert UNK_TOKEN not in encoding.tokens
    assert SMALL_TOKENIZER.decode(encoding.ids) == " ".join(BasicTokenizer().tokenize(text))


def test_decode_joins_pieces_and_tightens_punctuation_as_hugging_face():
    tokenizer = BertTokenizer(list(SPECIAL_TOKENS) + ["hello", ",", "world", "!", "it", "'", "s", "f", "##ine", "."])
    ids = tokenizer.encode("Hello, world! It's fine.").ids
    assert tokenizer.decode(ids) == "hello, world! it's fine."
    assert tokenizer.decode(ids, skip_special_tokens=False) == "[CLS] hello, world! it's fine. [SEP]"


def test_decode_names_an_id_outside_the_vocabulary():
    with pytest.raises(ValueError, match=f"token id {SMALL_TOKENIZER.vocab_size} is outside the vocabulary"):
        SMALL_TOKENIZER.decode([2, SMALL_TOKENIZER.vocab_size])
    with pytest.raises(ValueError, match="token id -1 is outside"):
        SMALL_TOKENIZER.convert_ids_to_tokens([-1])


def test_special_ids_and_continuation_flags_follow_the_vocabulary():
    tokenizer = BertTokenizer(["a", "##b", "[SEP]", "[MASK]", "[PAD]", "[UNK]", "[CLS]"])
    special_ids = (tokenizer.pad_id, tokenizer.unk_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id)
    assert special_ids == (4, 5, 6, 2, 3)
    assert tokenizer.special_ids == {2, 3, 4, 5, 6}
    assert tokenizer.is_continuation.tolist() == [False, True, False, False, False, False, False]
    assert tokenizer.convert_tokens_to_ids(["a", "##b", "zzz"]) == [0, 1, 5]


def test_a_vocabulary_without_the_special_tokens_or_with_a_token_twice_is_refused():
    with pytest.raises(ValueError, match=r"lacks \[CLS\], \[MASK\]"):
        BertTokenizer(["[PAD]", "[UNK]", "[SEP]", "a"])
    with pytest.raises(ValueError, match="holds 'a' twice, as ids 5 and 6"):
        BertTokenizer(list(SPECIAL_TOKENS) + ["a", "a"])


# ---- vocabulary training ------------------------------------------------------------------------------

# the Hugging Face course's example corpus: "hug" 10 times, "pug" 5, "pun" 12, "bun" 4, "hugs" 5
COURSE_CORPUS = ["hug"] * 10 + ["pug"] * 5 + ["pun"] * 12 + ["bun"] * 4 + ["hugs"] * 5


def test_training_starts_from_the_specials_and_the_characters():
    vocab = train_wordpiece_vocab(COURSE_CORPUS, vocab_size=12)
    assert vocab == list(SPECIAL_TOKENS) + ["b", "h", "p", "##g", "##n", "##s", "##u"]


def test_the_first_merge_has_the_best_likelihood_score_not_the_highest_count():
    # ("##u", "##g") occurs 20 times but scores 20 / (36 * 20); ("##g", "##s") occurs 5 times and scores 5 / (20 * 5)
    assert train_wordpiece_vocab(COURSE_CORPUS, vocab_size=13, min_frequency=1)[-1] == "##gs"


def test_pairs_rarer_than_min_frequency_are_never_merged():
    assert "##gs" not in train_wordpiece_vocab(COURSE_CORPUS, vocab_size=14, min_frequency=6)


def test_training_stops_early_when_no_pair_is_left_to_merge():
    vocab = train_wordpiece_vocab(["abc abc"], vocab_size=1000)
    assert vocab == list(SPECIAL_TOKENS) + ["a", "##b", "##c", "ab", "abc"]


def test_a_vocab_size_below_the_alphabet_is_refused():
    with pytest.raises(ValueError, match="ask for at least 12"):
        train_wordpiece_vocab(COURSE_CORPUS, vocab_size=11)


@given(st.lists(st.text(alphabet="abcdeé xyZ.,", max_size=30), max_size=8), st.integers(0, 30))
def test_a_trained_vocab_has_specials_first_no_duplicates_and_the_size_asked(texts, extra_tokens):
    alphabet = {piece for word in count_words(texts) for piece in spell(word)}
    vocab_size = len(SPECIAL_TOKENS) + len(alphabet) + extra_tokens
    vocab = train_wordpiece_vocab(texts, vocab_size, min_frequency=1)
    assert tuple(vocab[:len(SPECIAL_TOKENS)]) == SPECIAL_TOKENS
    assert set(vocab[len(SPECIAL_TOKENS):len(SPECIAL_TOKENS) + len(alphabet)]) == alphabet
    assert len(set(vocab)) == len(vocab)
    every_merge = train_wordpiece_vocab(texts, vocab_size=10_000, min_frequency=1)
    assert vocab == every_merge[:vocab_size]  # the size asked, or fewer only where the merges ran out
    tokenizer = BertTokenizer(vocab)
    assert UNK_TOKEN not in [piece for text in texts for piece in tokenizer.tokenize(text)]


def test_a_vocab_trained_on_the_python_reference_covers_it_in_seconds():
    topics = pytest.importorskip("pydoc_data.topics", reason="this Python was installed without pydoc_data").topics
    text = "\n".join(topics.values())  # about 65,000 words of English and Python
    start = time.perf_counter()
    vocab = train_wordpiece_vocab([text], vocab_size=4000)
    seconds = time.perf_counter() - start
    assert seconds < 30, f"training took {seconds:.1f} s"
    assert tuple(vocab[:len(SPECIAL_TOKENS)]) == SPECIAL_TOKENS
    assert len(vocab) == len(set(vocab)) == 4000
    tokenizer = BertTokenizer(vocab)
    for word in set(BasicTokenizer().tokenize(text)):
        assert UNK_TOKEN not in tokenizer.tokenize(word), word


# ---- vocab.txt ----------------------------------------------------------------------------------------

@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), min_size=1),
                unique=True))
def test_save_then_load_gives_back_the_tokens(tmp_path_factory, tokens):
    path = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    save_vocab(tokens, path)
    assert load_vocab(path) == tokens


def test_a_token_with_a_line_break_is_refused(tmp_path):
    with pytest.raises(ValueError, match="token 1"):
        save_vocab(["a", "b\nc"], tmp_path / "vocab.txt")


def test_a_saved_tokenizer_loads_with_the_same_ids(tmp_path):
    path = SMALL_TOKENIZER.save(tmp_path)
    assert path == str(tmp_path / "vocab.txt")
    loaded = BertTokenizer.from_file(path)
    assert loaded.tokens == SMALL_TOKENIZER.tokens
    np.testing.assert_array_equal(loaded.is_continuation, SMALL_TOKENIZER.is_continuation)
    assert loaded.encode("the lazy fox").ids == SMALL_TOKENIZER.encode("the lazy fox").ids


def test_text_processing_imports_neither_the_engine_nor_the_models():
    code = "import sys, tinybert.text; print(' '.join(sys.modules))"
    repository = Path(tinybert.__file__).parent.parent
    loaded = subprocess.run([sys.executable, "-c", code], cwd=repository, capture_output=True, text=True, check=True)
    assert [name for name in loaded.stdout.split() if name.startswith("tinybert.")
            and not name.startswith("tinybert.text")] == []


def test_count_merges_learn_the_most_frequent_word_and_an_unknown_score_is_named():
    texts = ["the cat and the dog saw the end of the road"] * 20 + ["he she we me be see tree free"] * 20
    by_count = train_wordpiece_vocab(texts, 60, score="count")
    assert "the" in by_count
    with pytest.raises(ValueError, match="unknown merge score 'bpe'"):
        train_wordpiece_vocab(texts, 60, score="bpe")


def test_encode_batch_pads_to_the_longest_and_marks_the_real_tokens():
    tokenizer = BertTokenizer(list(SPECIAL_TOKENS) + ["a", "cat", "sat", "dog"])
    input_ids, segment_ids, is_real = tokenizer.encode_batch(["a cat sat", "a dog"], ["dog", "cat"])
    first, second = tokenizer.encode("a cat sat", "dog"), tokenizer.encode("a dog", "cat")
    assert input_ids.shape == segment_ids.shape == is_real.shape == (2, len(first.ids))
    assert input_ids[0].tolist() == first.ids and segment_ids[0].tolist() == first.segment_ids
    assert input_ids[1].tolist() == second.ids + [tokenizer.pad_id]
    assert segment_ids[1].tolist() == second.segment_ids + [0]
    assert is_real.tolist() == [[True] * 7, [True] * 6 + [False]]  # [CLS] a cat sat [SEP] dog [SEP]
