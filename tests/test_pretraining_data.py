"""The pretraining-data builder: the corpus format, sentence pairs for NSP and SOP, RoBERTa's packed full
sentences, masking (static and dynamic), batches.

Pair tests use "numbered" corpora: every token id is unique, so each token says which document, sentence
and place it came from, and a test can check where sentence B really was."""

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from tinybert.text.corpus import read_corpus, read_corpus_file, tokenize_documents
from tinybert.text.full_sentences import pack_full_sentences
from tinybert.text.masking import draw_ordinary_ids, mask_tokens
from tinybert.text.pretraining_data import (IGNORE_INDEX, IN_ORDER, IS_NEXT, NOT_NEXT, SWAPPED, PretrainingData,
                                            VocabularyIds, create_instances, make_batch, truncate_seq_pair)

PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4
SPECIAL_IDS = frozenset({PAD, UNK, CLS, SEP, MASK})
FIRST_WORD_ID = 5
VOCAB_SIZE = 5000
CONTINUATION_FROM = 3000  # in these tests, ids 3000 and up are "##" pieces
IS_CONTINUATION = np.arange(VOCAB_SIZE) >= CONTINUATION_FROM
IDS = VocabularyIds(VOCAB_SIZE, PAD, CLS, SEP, MASK, SPECIAL_IDS, IS_CONTINUATION)

sentence_lengths = st.lists(st.integers(1, 8), min_size=1, max_size=12)
corpus_shapes = st.lists(sentence_lengths, min_size=2, max_size=6)
one_token_sentences = st.lists(st.integers(1, 30), min_size=2, max_size=6).map(lambda counts: [[1] * n for n in counts])
seeds = st.integers(0, 2**32 - 1)


def numbered_corpus(shape):
    """Documents with sentences of the given lengths, every id unique; where[id] = (document, sentence,
    place of the token in its document)."""
    documents, where, next_id = [], {}, FIRST_WORD_ID
    for document_index, lengths in enumerate(shape):
        document, place = [], 0
        for sentence_index, length in enumerate(lengths):
            sentence = list(range(next_id, next_id + length))
            for token in sentence:
                where[token] = (document_index, sentence_index, place)
                place += 1
            document.append(sentence)
            next_id += length
        documents.append(document)
    return documents, where


def sentences_a_and_b(instance):
    first_sep = list(instance.token_ids).index(SEP)
    return list(instance.token_ids[1:first_sep]), list(instance.token_ids[first_sep + 1:-1])


def places(tokens, where):
    return [where[token][2] for token in tokens]


def instances(documents, seed, **settings):
    return create_instances(documents, np.random.default_rng(seed), cls_id=CLS, sep_id=SEP, **settings)


# the corpus format

def test_documents_are_split_at_blank_lines_and_sentences_stripped():
    text = "\n\nThe cat sat.  \n\tIt purred.\n\n\n   \nA new document.\r\nIts second line.\r\n\r\nA third.\n\n"
    assert read_corpus(text) == [["The cat sat.", "It purred."], ["A new document.", "Its second line."],
                                 ["A third."]]


@given(st.lists(st.lists(st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"]),
                                 min_size=1).map(str.strip).filter(bool), min_size=1, max_size=4),
                min_size=1, max_size=4),
       st.sampled_from(["\n", "\r\n"]))
def test_any_documents_written_in_the_format_read_back_unchanged(documents, newline):
    text = (newline * 2).join(newline.join(document) for document in documents) + newline
    assert read_corpus(text) == documents


@pytest.mark.parametrize("text, message", [("", "has no sentences: it is empty"),
                                           ("\n  \n\t\n", "has no sentences: lines 1 to 3 are all blank"),
                                           ("one.\ntwo.\n\x00t\x00h\x00r\x00e\x00e\n", "line 3: a NUL character")])
def test_a_corpus_without_sentences_or_with_a_nul_is_a_clear_error(text, message):
    with pytest.raises(ValueError, match=message):
        read_corpus(text)


def test_a_corpus_file_is_read_as_utf8_and_a_bad_byte_is_named_by_its_line(tmp_path):
    good = tmp_path / "good.txt"
    good.write_bytes("\ufeffCafé au lait.\r\nSecond.\r\n\r\nOther.\r\n".encode("utf-8"))
    assert read_corpus_file(good) == [["Café au lait.", "Second."], ["Other."]]
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("one.\ntwo.\n\nCafé.\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1.txt, line 4: not UTF-8"):
        read_corpus_file(bad)
    blank = tmp_path / "blank.txt"
    blank.write_text("\n\n")
    with pytest.raises(ValueError, match=r"blank.txt has no sentences"):
        read_corpus_file(blank)


class WordTokenizer:
    """A stand-in tokenizer: words that are all letters, numbered as they are first seen."""
    def __init__(self):
        self.vocab = {}

    def tokenize(self, text):
        return [word for word in text.split() if word.isalpha()]

    def convert_tokens_to_ids(self, tokens):
        return [self.vocab.setdefault(token, FIRST_WORD_ID + len(self.vocab)) for token in tokens]


def test_tokenize_documents_drops_sentences_and_documents_left_without_tokens():
    documents = [["a b", "123", "b c"], ["!!", "42"], ["c"]]
    assert tokenize_documents(documents, WordTokenizer()) == [[[5, 6], [6, 7]], [[7]]]


# sentence pairs

@given(corpus_shapes, seeds, st.integers(5, 40), st.sampled_from(["nsp", "sop"]), st.floats(0, 1))
def test_every_pair_is_cls_a_sep_b_sep_with_segments_0_then_1_and_fits_max_seq_length(
        shape, seed, max_seq_length, task, short_seq_prob):
    documents, _ = numbered_corpus(shape)
    for instance in instances(documents, seed, max_seq_length=max_seq_length, task=task,
                              short_seq_prob=short_seq_prob):
        a, b = sentences_a_and_b(instance)
        assert len(a) >= 1 and len(b) >= 1 and len(instance.token_ids) <= max_seq_length
        assert list(instance.token_ids) == [CLS, *a, SEP, *b, SEP]
        assert list(instance.segment_ids) == [0] * (len(a) + 2) + [1] * (len(b) + 1)


@given(corpus_shapes, seeds, st.integers(5, 40))
def test_a_not_next_b_comes_from_another_document_and_an_is_next_b_follows_a_in_its_document(
        shape, seed, max_seq_length):
    documents, where = numbered_corpus(shape)
    for instance in instances(documents, seed, max_seq_length=max_seq_length):
        a, b = sentences_a_and_b(instance)
        for segment in (a, b):  # each a run of one document, cut only at its ends
            assert len({where[token][0] for token in segment}) == 1
            assert places(segment, where) == list(range(where[segment[0]][2], where[segment[-1]][2] + 1))
        same_document = where[a[0]][0] == where[b[0]][0]
        if instance.label == NOT_NEXT:
            assert not same_document
        else:
            assert instance.label == IS_NEXT and same_document and where[b[0]][1] > where[a[-1]][1]


@given(one_token_sentences, seeds, st.integers(5, 20))
def test_with_one_token_sentences_is_next_b_starts_at_the_next_sentence_and_unused_sentences_are_put_back(
        shape, seed, max_seq_length):
    """One-token sentences never need truncating, so the split is exact: B starts right after A, and each
    sentence of each document is used once in its own document (as A, or as an IsNext B)."""
    documents, where = numbered_corpus(shape)
    used_in_own_document = []
    for instance in instances(documents, seed, max_seq_length=max_seq_length):
        a, b = sentences_a_and_b(instance)
        used_in_own_document += a
        if instance.label == IS_NEXT:
            assert b[0] == a[-1] + 1 and where[b[0]][0] == where[a[-1]][0]
            used_in_own_document += b
    assert sorted(used_in_own_document) == sorted(where)


@given(corpus_shapes, seeds, st.integers(5, 40))
def test_sop_pairs_are_two_runs_of_one_document_and_swapped_exactly_when_labelled_swapped(
        shape, seed, max_seq_length):
    documents, where = numbered_corpus(shape)
    for instance in instances(documents, seed, max_seq_length=max_seq_length, task="sop"):
        a, b = sentences_a_and_b(instance)
        assert where[a[0]][0] == where[b[0]][0]
        if instance.label == IN_ORDER:
            assert where[a[-1]][1] < where[b[0]][1]
        else:
            assert instance.label == SWAPPED and where[b[-1]][1] < where[a[0]][1]


@given(st.integers(1, 30), st.integers(1, 30), st.integers(2, 40), seeds)
def test_truncation_cuts_the_longer_side_until_the_pair_fits_and_leaves_each_a_run_of_itself(
        length_a, length_b, max_num_tokens, seed):
    tokens_a, tokens_b = list(range(length_a)), list(range(100, 100 + length_b))
    truncate_seq_pair(tokens_a, tokens_b, max_num_tokens, np.random.default_rng(seed))
    if length_a + length_b <= max_num_tokens:
        expected = (length_a, length_b)
    elif length_a < length_b and length_a <= max_num_tokens // 2:  # the shorter side is never cut
        expected = (length_a, max_num_tokens - length_a)
    elif length_b < length_a and length_b <= max_num_tokens // 2:
        expected = (max_num_tokens - length_b, length_b)
    else:  # both cut down to half each; on a tie B is cut, so A keeps the odd token
        expected = (max_num_tokens - max_num_tokens // 2, max_num_tokens // 2)
    assert (len(tokens_a), len(tokens_b)) == expected
    for kept in (tokens_a, tokens_b):
        assert kept == list(range(kept[0], kept[0] + len(kept)))


def test_truncation_cuts_the_front_about_as_often_as_the_back():
    front_cuts = []
    for seed in range(400):
        tokens_a, tokens_b = list(range(10)), [100]
        truncate_seq_pair(tokens_a, tokens_b, 2, np.random.default_rng(seed))  # one of 0..9 is left
        front_cuts.append(tokens_a[0])  # tokens cut from the front
    assert abs(np.mean(front_cuts) - 4.5) < 0.5


@pytest.mark.parametrize("task", ["nsp", "sop"])
def test_labels_are_near_half_and_half(task):
    """Long documents and no short targets: a chunk of one sentence is always NotNext (as the original),
    which tips NSP's balance when chunks of one sentence are common."""
    rng = np.random.default_rng(0)
    documents, _ = numbered_corpus([rng.integers(1, 6, size=300) for _ in range(20)])
    labels = [instance.label for instance in instances(documents, 1, max_seq_length=32, short_seq_prob=0.0,
                                                       dupe_factor=5, task=task)]
    assert len(labels) > 2000
    assert abs(np.mean(labels) - 0.5) < 0.04


@pytest.mark.parametrize("short_seq_prob", [0.0, 0.1, 0.5])
def test_about_short_seq_prob_of_documents_aim_at_a_shorter_length(short_seq_prob):
    """Documents of exactly max_seq_length - 3 one-token sentences fill one full sequence, unless the
    document drew a short target: 2 to max_seq_length - 3 tokens, the last of which is full again."""
    max_seq_length, count = 23, 2000
    documents, where = numbered_corpus([[1] * (max_seq_length - 3)] * count)
    full = {where[instance.token_ids[1]][0] for instance in instances(documents, 0, max_seq_length=max_seq_length,
                                                                     short_seq_prob=short_seq_prob, task="sop")
            if len(instance.token_ids) == max_seq_length}
    expected_short = short_seq_prob * (1 - 1 / (max_seq_length - 4))
    assert abs((1 - len(full) / count) - expected_short) < 0.03


@given(corpus_shapes, seeds, st.sampled_from(["nsp", "sop"]))
def test_the_same_seed_gives_the_same_instances_and_another_seed_others(shape, seed, task):
    documents, _ = numbered_corpus([lengths * 4 for lengths in shape])  # long enough to differ between seeds
    first, again, other = (instances(documents, s, max_seq_length=16, task=task) for s in (seed, seed, seed + 1))
    as_lists = lambda drawn: [(list(i.token_ids), list(i.segment_ids), i.label) for i in drawn]
    assert as_lists(first) == as_lists(again)
    assert as_lists(first) != as_lists(other)


@pytest.mark.parametrize("settings, message", [
    (dict(task="mlm"), "unknown task 'mlm': use one of nsp, sop, none"),
    (dict(max_seq_length=4), "max_seq_length=4 is too short"),
])
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        instances([[[5, 6]], [[7]]], 0, **settings)


def test_nsp_on_a_single_document_says_it_needs_two():
    with pytest.raises(ValueError, match="needs at least 2 documents; the corpus has 1"):
        instances([[[5, 6], [7, 8]]], 0)


# RoBERTa's full sentences

def runs_of_sentences(tokens, where):
    """The tokens cut where the (document, sentence) they come from changes."""
    starts = [k for k in range(len(tokens)) if k == 0 or where[tokens[k]][:2] != where[tokens[k - 1]][:2]]
    return [tokens[start:end] for start, end in zip(starts, starts[1:] + [len(tokens)])]


@given(corpus_shapes.map(lambda shape: [lengths * 3 for lengths in shape]), st.integers(3, 30))
def test_full_sentences_are_packed_in_order_with_a_sep_between_documents_until_the_next_would_not_fit(
        shape, max_seq_length):
    documents, where = numbered_corpus(shape)
    inputs = pack_full_sentences(documents, max_seq_length, CLS, SEP)
    room = max_seq_length - 2
    contents = []
    for token_ids in inputs:
        assert token_ids[0] == CLS and token_ids[-1] == SEP and len(token_ids) <= max_seq_length
        inner = token_ids[1:-1]
        assert inner[0] != SEP and inner[-1] != SEP
        for before, after in zip(inner, inner[1:]):  # a [SEP] stands exactly where one document ends, the next begins
            if SEP not in (before, after):
                assert where[before][0] == where[after][0]
        for before, separator, after in zip(inner, inner[1:], inner[2:]):
            if separator == SEP:
                assert where[after][0] == where[before][0] + 1 and where[after][2] == 0
        contents.append([token for token in inner if token != SEP])
    assert [token for content in contents for token in content] == sorted(where)  # every token once, in order
    for content in contents:  # a sentence is cut only where it is longer than a whole input
        for run in runs_of_sentences(content, where):
            sentence = documents[where[run[0]][0]][where[run[0]][1]]
            assert len(run) == len(sentence) or len(sentence) > room
    for packed, following in zip(inputs, contents[1:]):  # full: the next input's first sentence would not fit
        first = runs_of_sentences(following, where)[0]
        separator = where[first[0]][2] == 0  # it starts a document: a [SEP] would have come first
        assert len(packed) + separator + len(first) > max_seq_length


def test_a_sentence_longer_than_an_input_is_cut_into_whole_inputs():
    long_sentence = list(range(FIRST_WORD_ID, FIRST_WORD_ID + 11))
    inputs = pack_full_sentences([[[100, 101], long_sentence, [102]], [[103]]], 6, CLS, SEP)
    assert inputs == [[CLS, 100, 101, SEP], [CLS, *long_sentence[:4], SEP], [CLS, *long_sentence[4:8], SEP],
                      [CLS, *long_sentence[8:], 102, SEP], [CLS, 103, SEP]]


def test_full_sentence_inputs_have_segment_0_no_sentence_label_and_documents_in_a_new_order_each_pass():
    documents, where = numbered_corpus([[2, 2]] * 6)
    rng = np.random.default_rng(0)
    passes = [create_instances(documents, rng, 16, task="none", cls_id=CLS, sep_id=SEP) for _ in range(3)]
    orders = set()
    for drawn in passes:
        assert all((instance.segment_ids == 0).all() and instance.label == IGNORE_INDEX for instance in drawn)
        tokens = [token for instance in drawn for token in instance.token_ids if token not in (CLS, SEP)]
        assert sorted(tokens) == sorted(where)  # each pass packs the whole corpus once
        orders.add(tuple(where[instance.token_ids[1]][0] for instance in drawn))
    assert len(orders) == 3


def test_full_sentences_take_a_single_document():
    inputs = instances([[[5, 6], [7, 8]]], 0, max_seq_length=8, task="none")
    assert [list(instance.token_ids) for instance in inputs] == [[CLS, 5, 6, 7, 8, SEP]]


# masking

def num_to_predict(token_ids, masked_lm_prob, max_predictions_per_seq):
    eligible = sum(token not in SPECIAL_IDS for token in token_ids)
    return min(max_predictions_per_seq, max(1, round(eligible * masked_lm_prob))) if eligible else 0


token_sequences = st.lists(st.one_of(st.sampled_from(sorted(SPECIAL_IDS)), st.integers(FIRST_WORD_ID, VOCAB_SIZE - 1)),
                           min_size=1, max_size=80)


@given(token_sequences, seeds, st.floats(0.01, 0.5), st.integers(1, 20))
def test_masking_chooses_its_count_of_non_special_positions_and_labels_them_with_the_originals(
        token_ids, seed, masked_lm_prob, max_predictions_per_seq):
    token_ids = np.array(token_ids)
    masked = mask_tokens(token_ids, np.random.default_rng(seed), VOCAB_SIZE, SPECIAL_IDS, masked_lm_prob,
                         max_predictions_per_seq, mask_id=MASK)
    positions = masked.masked_positions
    assert len(positions) == num_to_predict(token_ids, masked_lm_prob, max_predictions_per_seq)
    assert (np.diff(positions) > 0).all() and not np.isin(token_ids[positions], list(SPECIAL_IDS)).any()
    np.testing.assert_array_equal(masked.masked_labels, token_ids[positions])
    untouched = np.setdiff1d(np.arange(len(token_ids)), positions)
    np.testing.assert_array_equal(masked.input_ids[untouched], token_ids[untouched])
    written = masked.input_ids[positions]
    assert ((written == MASK) | ~np.isin(written, list(SPECIAL_IDS))).all()


def test_masking_statistics_each_token_15_percent_then_80_mask_10_random_10_kept():
    rng = np.random.default_rng(0)
    words = rng.integers(FIRST_WORD_ID, VOCAB_SIZE, size=100)
    token_ids = np.array([CLS, *words[:60], SEP, *words[60:], SEP, PAD, PAD])
    draws = 4000
    chosen_count = np.zeros(len(token_ids))
    outcomes = {"mask": 0, "kept": 0, "random": 0}
    for _ in range(draws):
        masked = mask_tokens(token_ids, rng, VOCAB_SIZE, SPECIAL_IDS, mask_id=MASK)
        chosen_count[masked.masked_positions] += 1
        written = masked.input_ids[masked.masked_positions]
        outcomes["mask"] += (written == MASK).sum()
        outcomes["kept"] += (written == masked.masked_labels).sum()
        outcomes["random"] += ((written != MASK) & (written != masked.masked_labels)).sum()
    is_word = ~np.isin(token_ids, list(SPECIAL_IDS))
    assert (chosen_count[~is_word] == 0).all()
    np.testing.assert_allclose(chosen_count[is_word] / draws, 0.15, atol=0.035)  # every word alike
    total = sum(outcomes.values())
    assert total == draws * 15
    for outcome, share in [("mask", 0.8), ("kept", 0.1), ("random", 0.1)]:
        assert abs(outcomes[outcome] / total - share) < 0.01, outcome


def test_masking_respects_max_predictions_per_seq():
    token_ids = np.arange(FIRST_WORD_ID, FIRST_WORD_ID + 500)
    masked = mask_tokens(token_ids, np.random.default_rng(0), VOCAB_SIZE, SPECIAL_IDS, max_predictions_per_seq=20,
                         mask_id=MASK)
    assert len(masked.masked_positions) == 20


@pytest.mark.parametrize("special_ids", [frozenset({0, 3, 7, 11}), frozenset({0, 1, 2, 3, 4})])
def test_random_replacements_are_uniform_over_the_ordinary_ids_and_never_special(special_ids):
    vocab_size, draws = 12, 24000
    ids = draw_ordinary_ids(np.random.default_rng(0), draws, vocab_size, special_ids)
    ordinary = sorted(set(range(vocab_size)) - special_ids)
    assert sorted(set(ids.tolist())) == ordinary
    counts = np.bincount(ids, minlength=vocab_size)[ordinary]
    np.testing.assert_allclose(counts / draws, 1 / len(ordinary), atol=0.01)


@st.composite
def word_pieces(draw):
    """A sequence of words, each a first piece and 0 to 3 "##" pieces, with [CLS] and [SEP] about; a "##"
    piece may also follow [SEP] directly, where it has no word to join."""
    tokens = [CLS]
    for _ in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(["word", "word", "word", "sep"]))
        if kind == "sep":
            tokens.append(SEP)
        else:
            tokens.append(draw(st.integers(FIRST_WORD_ID, CONTINUATION_FROM - 1)))
        tokens += draw(st.lists(st.integers(CONTINUATION_FROM, VOCAB_SIZE - 1), max_size=3))
    return np.array(tokens + [SEP])


def word_of_each_position(token_ids):
    """word[i]: the number of the word position i belongs to (-1 for special tokens)."""
    word, number = [], -1
    for position, token in enumerate(token_ids):
        if token in SPECIAL_IDS:
            word.append(-1)
            continue
        joins = IS_CONTINUATION[token] and position > 0 and token_ids[position - 1] not in SPECIAL_IDS
        number += not joins
        word.append(number)
    return np.array(word)


@given(word_pieces(), seeds, st.floats(0.05, 0.6), st.integers(1, 20))
def test_whole_word_masking_chooses_every_piece_of_a_word_together(token_ids, seed, masked_lm_prob,
                                                                   max_predictions_per_seq):
    masked = mask_tokens(token_ids, np.random.default_rng(seed), VOCAB_SIZE, SPECIAL_IDS, masked_lm_prob,
                         max_predictions_per_seq, whole_word=True, is_continuation=IS_CONTINUATION, mask_id=MASK)
    word = word_of_each_position(token_ids)
    chosen_words = set(word[masked.masked_positions].tolist())
    assert -1 not in chosen_words
    np.testing.assert_array_equal(masked.masked_positions, np.flatnonzero(np.isin(word, list(chosen_words))))
    assert len(masked.masked_positions) <= num_to_predict(token_ids, masked_lm_prob, max_predictions_per_seq)
    np.testing.assert_array_equal(masked.masked_labels, token_ids[masked.masked_positions])


def test_a_continuation_piece_right_after_sep_starts_a_word_of_its_own():
    """The original would join it to the word before [SEP], across the sentence boundary."""
    first, continuation = FIRST_WORD_ID, CONTINUATION_FROM
    token_ids = np.array([CLS, first, continuation, SEP, continuation + 1, continuation + 2, SEP])
    chosen = {tuple(mask_tokens(token_ids, np.random.default_rng(seed), VOCAB_SIZE, SPECIAL_IDS, masked_lm_prob=0.5,
                                whole_word=True, is_continuation=IS_CONTINUATION, mask_id=MASK).masked_positions)
              for seed in range(20)}
    assert chosen == {(1, 2), (4, 5)}


def test_whole_word_masking_without_is_continuation_says_what_it_needs():
    with pytest.raises(ValueError, match="whole_word=True needs is_continuation"):
        mask_tokens(np.array([CLS, 5, 6, SEP]), np.random.default_rng(0), VOCAB_SIZE, SPECIAL_IDS, whole_word=True,
                    mask_id=MASK)


# batches

@given(corpus_shapes, seeds, st.integers(5, 40), st.integers(1, 8))
def test_batches_pad_with_pad_id_segment_0_no_attention_and_ignored_predictions(shape, seed, max_seq_length, size):
    documents, _ = numbered_corpus(shape)
    rng = np.random.default_rng(seed)
    pairs = [(instance, mask_tokens(instance.token_ids, rng, VOCAB_SIZE, SPECIAL_IDS, mask_id=MASK))
             for instance in instances(documents, seed, max_seq_length=max_seq_length)[:size]]
    batch = make_batch(pairs, max_seq_length, 20, PAD)
    lengths = [len(instance.token_ids) for instance, _ in pairs]
    assert batch.input_ids.shape == batch.segment_ids.shape == batch.attention_mask.shape == (len(pairs), max(lengths))
    assert batch.masked_positions.shape == batch.masked_labels.shape == (len(pairs), 20)
    assert batch.input_ids.dtype == batch.masked_labels.dtype == np.int64 and batch.attention_mask.dtype == bool
    for row, ((instance, masked), length) in enumerate(zip(pairs, lengths)):
        np.testing.assert_array_equal(batch.input_ids[row, :length], masked.input_ids)
        np.testing.assert_array_equal(batch.segment_ids[row, :length], instance.segment_ids)
        assert (batch.input_ids[row, length:] == PAD).all() and (batch.segment_ids[row, length:] == 0).all()
        assert batch.attention_mask[row, :length].all() and not batch.attention_mask[row, length:].any()
        predictions = len(masked.masked_positions)
        np.testing.assert_array_equal(batch.masked_labels[row, :predictions], masked.masked_labels)
        assert (batch.masked_labels[row, predictions:] == IGNORE_INDEX).all()
        assert (batch.masked_positions[row, predictions:] == 0).all()
    np.testing.assert_array_equal(batch.next_sentence_labels, [instance.label for instance, _ in pairs])


def test_a_sequence_longer_than_max_seq_length_is_an_error():
    documents, _ = numbered_corpus([[8, 8], [8, 8]])
    pairs = [(instance, mask_tokens(instance.token_ids, np.random.default_rng(0), VOCAB_SIZE, SPECIAL_IDS,
                                    mask_id=MASK)) for instance in instances(documents, 0, max_seq_length=20)]
    with pytest.raises(ValueError, match="longer than max_seq_length=10"):
        make_batch(pairs, 10, 20, PAD)


# the endless stream of batches

def first_batches(data, count):
    stream = iter(data)
    return [next(stream) for _ in range(count)]


def unmasked(input_ids, positions, labels):
    original = input_ids.copy()
    original[positions] = labels
    return tuple(original.tolist())


@given(corpus_shapes, seeds, st.sampled_from(["nsp", "sop"]), st.booleans())
def test_pretraining_data_gives_the_same_batches_for_a_seed_and_others_for_another(shape, seed, task, whole_word):
    documents, _ = numbered_corpus([lengths * 4 for lengths in shape])
    settings = dict(batch_size=4, max_seq_length=16, max_predictions_per_seq=4, task=task, whole_word=whole_word)
    try:
        first, again, other = (first_batches(PretrainingData(documents, IDS, seed=s, **settings), 3)
                               for s in (seed, seed, seed + 1))
    except ValueError as error:  # a pass over so short a corpus may draw no sentence-order pair: nothing to compare
        assume("no sentence-order pairs" not in str(error))
        raise
    fields = ["input_ids", "segment_ids", "attention_mask", "masked_positions", "masked_labels",
              "next_sentence_labels"]
    same = lambda x, y: all(np.array_equal(getattr(a, f), getattr(b, f)) for a, b in zip(x, y) for f in fields)
    assert same(first, again)
    assert not same(first, other)
    for batch in first:
        assert batch.input_ids.shape[0] == 4 and batch.input_ids.shape[1] <= 16


def masks_of_each_instance(data, batches):
    """{an instance as it was before masking: the set of masked inputs it was seen as} over the first batches."""
    masks = {}
    for batch in first_batches(data, batches):
        for row in range(len(batch.input_ids)):
            predictions = batch.masked_labels[row] != IGNORE_INDEX
            original = unmasked(batch.input_ids[row], batch.masked_positions[row][predictions],
                                batch.masked_labels[row][predictions])
            masks.setdefault(original, []).append(tuple(batch.input_ids[row].tolist()))
    return masks


@pytest.mark.parametrize("task", ["nsp", "sop", "none"])
def test_dynamic_masking_masks_an_instance_afresh_each_time_it_comes_round_and_static_never(task):
    documents, _ = numbered_corpus([[3, 3], [3, 3], [2, 4]])  # a handful of instances a pass: each comes back often
    for masking in ("dynamic", "static"):
        data = PretrainingData(documents, IDS, batch_size=4, max_seq_length=16, task=task, masking=masking)
        seen = [masks for masks in masks_of_each_instance(data, 20).values() if len(masks) > 1]
        assert seen, "no instance came round twice"
        if masking == "static":
            assert all(len(set(masks)) == 1 for masks in seen)
        else:
            assert np.mean([len(set(masks)) > 1 for masks in seen]) > 0.5


def test_static_masking_shows_every_instance_of_the_first_pass_again_in_a_new_order():
    documents, _ = numbered_corpus([[2, 2, 2]] * 8)
    data = PretrainingData(documents, IDS, batch_size=1, max_seq_length=8, task="sop", masking="static")
    first_pass_length = len(create_instances(documents, np.random.default_rng(0), 8, task="sop", cls_id=CLS,
                                             sep_id=SEP))
    rows = [tuple(batch.input_ids[0].tolist()) for batch in first_batches(data, 3 * first_pass_length)]
    passes = [rows[k * first_pass_length:(k + 1) * first_pass_length] for k in range(3)]
    assert sorted(passes[0]) == sorted(passes[1]) == sorted(passes[2])
    assert passes[0] != passes[1] != passes[2]


def random_word_corpus(rng, documents=500, sentences=12):
    """Documents of sentences of 3 to 14 random word ids (repeats allowed): for counting what masking does."""
    return [[rng.integers(FIRST_WORD_ID, VOCAB_SIZE, size=rng.integers(3, 15)).tolist() for _ in range(sentences)]
            for _ in range(documents)]


@pytest.mark.parametrize("masking", ["dynamic", "static"])
@pytest.mark.parametrize("task", ["nsp", "none"])
def test_both_maskings_choose_15_percent_then_mask_80_keep_10_and_replace_10(masking, task):
    documents = random_word_corpus(np.random.default_rng(1))  # a pass gives over 800 instances: 25 batches are
    data = PretrainingData(documents, IDS, batch_size=32, max_seq_length=64, max_predictions_per_seq=20,  # new ones
                           task=task, masking=masking)
    chosen, words, outcomes = 0, 0, np.zeros(3)
    for batch in first_batches(data, 25):
        for row in range(len(batch.input_ids)):
            predictions = batch.masked_labels[row] != IGNORE_INDEX
            positions, labels = batch.masked_positions[row][predictions], batch.masked_labels[row][predictions]
            original = np.array(unmasked(batch.input_ids[row], positions, labels))[batch.attention_mask[row]]
            assert len(positions) == num_to_predict(original, 0.15, 20)
            chosen, words = chosen + len(positions), words + np.isin(original, list(SPECIAL_IDS), invert=True).sum()
            written = batch.input_ids[row][positions]
            replaced = (written != MASK) & (written != labels)
            outcomes += [(written == MASK).sum(), (written == labels).sum(), replaced.sum()]
    assert chosen > 5000
    assert abs(chosen / words - 0.15) < 0.01
    np.testing.assert_allclose(outcomes / chosen, [0.8, 0.1, 0.1], atol=0.02)


def test_an_unknown_masking_is_named():
    with pytest.raises(ValueError, match="unknown masking 'sometimes': use one of dynamic, static"):
        PretrainingData([[[5, 6]], [[7]]], IDS, masking="sometimes")


def test_a_corpus_too_small_for_one_batch_is_an_error_when_full_batches_are_asked_for():
    documents, _ = numbered_corpus([[3, 3], [3, 3]])  # a pass gives about one pair a document
    data = PretrainingData(documents, IDS, batch_size=8, max_seq_length=16, fill_a_batch_per_pass=True)
    with pytest.raises(ValueError, match=r"one pass over the corpus gives \d sentence pairs, fewer than one batch of 8"):
        first_batches(data, 1)


def test_sop_on_documents_of_one_sentence_says_why_there_are_no_pairs():
    with pytest.raises(ValueError, match="no sentence-order pairs"):
        first_batches(PretrainingData([[[5, 6, 7]], [[8, 9]]], IDS, task="sop"), 1)


def test_from_a_corpus_text_through_the_tokenizer_to_batches():
    from tinybert.text import BertTokenizer
    tokenizer = BertTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "dog", "is", "play",
                               "##ing", "ran", "home", "."])
    text = "The cat is playing.\nThe dog ran home.\n\nThe dog is playing.\nThe cat ran.\nThe cat ran home.\n"
    documents = tokenize_documents(read_corpus(text), tokenizer)
    assert documents[0] == [[5, 6, 8, 9, 10, 13], [5, 7, 11, 12, 13]]
    ids = VocabularyIds.from_tokenizer(tokenizer)
    batch = next(iter(PretrainingData(documents, ids, batch_size=3, max_seq_length=16, whole_word=True)))
    assert batch.input_ids.shape[0] == 3 and (batch.input_ids[:, 0] == tokenizer.cls_id).all()
    for row in range(3):  # "play" and "##ing" are masked together or not at all
        predicted = set(batch.masked_labels[row][batch.masked_labels[row] != IGNORE_INDEX].tolist())
        assert (9 in predicted) == (10 in predicted)


def test_a_document_whose_first_sentence_is_empty_is_still_set_apart_by_a_sep():
    # CLS 1, SEP 2: documents [[5, 6]] and [[], [7]] (an empty first sentence) pack as CLS 5 6 SEP 7 SEP
    assert pack_full_sentences([[[5, 6]], [[], [7]]], max_seq_length=16, cls_id=1, sep_id=2) == [[1, 5, 6, 2, 7, 2]]
