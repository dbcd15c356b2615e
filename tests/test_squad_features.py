"""SQuAD windows as run_squad.py makes them: the layout of [CLS] question [SEP] context [SEP], answer
positions that spell the answer, [CLS] where a window lacks it, the narrowing of answer spans, and the
one window that gives each piece its most context."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinybert.squad.features import best_window_of_each_piece, improve_answer_span, squad_features, window_starts
from tinybert.squad.reader import SquadExample
from tinybert.text import BertTokenizer, SPECIAL_TOKENS

WORDS = ["ada", "was", "born", "in", "london", "18", "##15", "(", ")", ".", "she", "wrote", "program", "where"]
TOKENIZER = BertTokenizer(list(SPECIAL_TOKENS) + WORDS)
CONTEXT = "Ada was born in London (1815).  She wrote.\nShe was born in London."


def example(answer, start, context=CONTEXT, question="Where was Ada born?"):
    return SquadExample("q", question, context, (answer,), (start,))


def test_one_window_holds_cls_question_sep_context_sep_and_the_answer_positions():
    features = squad_features([example("1815", 24)], TOKENIZER, max_seq_length=32, doc_stride=8,
                              max_query_length=8)
    tokens = TOKENIZER.convert_ids_to_tokens(features.input_ids[0][features.is_real[0]])
    assert tokens == ["[CLS]", "where", "was", "ada", "born", "[UNK]", "[SEP]", "ada", "was", "born", "in", "london",
                      "(", "18", "##15", ")", ".", "she", "wrote", ".", "she", "was", "born", "in", "london", ".",
                      "[SEP]"]  # "?" is not in this vocabulary
    assert features.segment_ids[0][features.is_real[0]].tolist() == [0] * 7 + [1] * 20
    # the word "(1815)." gives the pieces ( 18 ##15 ) .; the answer is 18 ##15 alone, tokens 13 and 14
    assert (features.start_positions[0], features.end_positions[0]) == (13, 14)
    assert features.token_to_piece[0, 7:26].tolist() == list(range(19))
    assert (features.token_to_piece[0, :7] == -1).all() and features.token_to_piece[0, 26] == -1


def test_windows_slide_by_doc_stride_and_those_without_the_whole_answer_point_at_cls():
    features = squad_features([example("London", 16)], TOKENIZER, max_seq_length=12, doc_stride=3,
                              max_query_length=8)
    room = 12 - 5 - 3  # max_seq_length - question pieces - 3 special tokens
    starts = features.token_to_piece[:, 7]  # each window's first piece
    assert starts.tolist() == [0, 3, 6, 9, 12, 15] and room == 4
    assert features.start_positions.tolist() == [0, 8, 0, 0, 0, 0]  # "london" is piece 4: in window 1 alone
    assert features.end_positions.tolist() == features.start_positions.tolist()


def test_leading_and_trailing_space_in_an_answer_does_not_move_it_to_a_neighbouring_word():
    features = squad_features([example(" London ", 15)], TOKENIZER, max_seq_length=32, doc_stride=8,
                              max_query_length=8)
    assert TOKENIZER.convert_ids_to_tokens([features.input_ids[0, features.start_positions[0]]]) == ["london"]
    assert features.start_positions[0] == features.end_positions[0]


def test_improve_answer_span_finds_the_answers_own_pieces_within_its_words():
    pieces = ["born", "in", "(", "18", "##15", ")", "."]
    assert improve_answer_span(pieces, 2, 6, ["18", "##15"]) == (3, 4)
    assert improve_answer_span(pieces, 2, 6, ["19", "##15"]) == (2, 6)  # not there: the words' span stays


def test_the_max_context_window_is_run_squads_example():
    # run_squad.py's comment: "the man went to the store and bought a gallon of milk", windows of 5 words at
    # 0, 3 and 6. "bought" (word 7) has 4 words left and 0 right in window 1, 1 left and 3 right in window 2:
    # min(4, 0) = 0 < min(1, 3) = 1, so window 2 gives it the most context.
    best = best_window_of_each_piece(np.array([0, 3, 6]), np.array([5, 5, 5]), 11)
    assert best[7] == 2
    # "to" (word 3): min(3, 1) in window 0 beats min(0, 4) in window 1; "the" (word 4): min(4, 0) loses to min(1, 3)
    assert best.tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2]


@given(words=st.lists(st.sampled_from(WORDS[:5] + WORDS[9:13]), min_size=1, max_size=30), data=st.data(),
       max_seq_length=st.integers(9, 24), doc_stride=st.integers(1, 8))
def test_every_window_that_holds_the_answer_spells_it_and_each_piece_has_one_best_window(words, data, max_seq_length,
                                                                                         doc_stride):
    first = data.draw(st.integers(0, len(words) - 1))
    last = data.draw(st.integers(first, min(first + 2, len(words) - 1)))
    context = " ".join(words)
    start = len(" ".join(words[:first])) + (first > 0)
    answer = " ".join(words[first:last + 1])
    features = squad_features([example(answer, start, context, "where was ada born")], TOKENIZER, max_seq_length,
                              doc_stride, max_query_length=4)
    pieces = TOKENIZER.tokenize(context)
    in_context = features.token_to_piece >= 0  # (S, T)
    assert features.is_real.sum(axis=1).max() <= max_seq_length
    assert (features.input_ids[in_context] == np.array(TOKENIZER.convert_tokens_to_ids(pieces))[
        features.token_to_piece[in_context]]).all()
    assert sorted(set(features.token_to_piece[in_context])) == list(range(len(pieces)))  # every piece is seen
    best_count = np.bincount(features.token_to_piece[features.is_max_context], minlength=len(pieces))
    assert (best_count == 1).all()
    holding = np.flatnonzero(features.start_positions > 0)
    room = max_seq_length - 4 - 3
    # windows start every min(room, doc_stride) pieces, so an answer of up to room - stride + 1 pieces lies
    # whole in one of them; a longer one may straddle two (run_squad.py then points that window at [CLS])
    assert len(holding) > 0 or last - first + 1 > room - min(room, doc_stride) + 1
    for row in holding:
        spelled = features.input_ids[row, features.start_positions[row]:features.end_positions[row] + 1]
        assert TOKENIZER.convert_ids_to_tokens(spelled) == TOKENIZER.tokenize(answer)


def test_window_starts_end_at_the_last_piece_and_a_context_too_short_to_fill_one_still_has_one():
    assert window_starts(10, room=4, doc_stride=3)[0].tolist() == [0, 3, 6]
    assert window_starts(10, room=4, doc_stride=3)[1].tolist() == [4, 4, 4]
    assert [array.tolist() for array in window_starts(0, room=4, doc_stride=3)] == [[0], [0]]


def test_no_room_for_the_context_is_a_clear_error():
    with pytest.raises(ValueError, match="max_seq_length=10 leaves no room for the context after a question of up "
                                         "to max_query_length=8 pieces"):
        squad_features([example("1815", 24)], TOKENIZER, max_seq_length=10, max_query_length=8)
