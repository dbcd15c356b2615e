"""From scores to answers: the best valid span over all windows, the rules a span must keep, the
SQuAD v2.0 null score and its threshold, and answers in the context's own characters."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinybert.squad.features import squad_features
from tinybert.squad.reader import SquadExample
from tinybert.squad.spans import best_span, choose_answer, final_text, null_score, pieces_text
from tinybert.text import BasicTokenizer, BertTokenizer, SPECIAL_TOKENS

# one window of 8 tokens: [CLS] q [SEP] then context pieces 0..3 in tokens 3..6, [SEP]
TOKEN_TO_PIECE = np.array([[-1, -1, -1, 0, 1, 2, 3, -1]])
EVERYWHERE = TOKEN_TO_PIECE >= 0


def scores(high):
    """(1, 8) scores of 0, with the given {token: score}."""
    row = np.zeros((1, 8))
    for token, score in high.items():
        row[0, token] = score
    return row


def test_the_best_span_is_the_highest_start_plus_end_with_the_end_not_before_the_start():
    start, end = scores({5: 4.0, 3: 3.0}), scores({4: 5.0, 6: 1.0})  # 5 + 4 would end before it starts
    assert best_span(start, end, TOKEN_TO_PIECE, EVERYWHERE, max_answer_length=30) == (8.0, 0, 1)


def test_a_span_never_starts_or_ends_outside_the_context_nor_runs_longer_than_max_answer_length():
    start, end = scores({1: 9.0, 3: 2.0}), scores({7: 9.0, 6: 3.0, 4: 1.0})  # the question, the [SEP]
    assert best_span(start, end, TOKEN_TO_PIECE, EVERYWHERE, max_answer_length=30) == (5.0, 0, 3)
    assert best_span(start, end, TOKEN_TO_PIECE, EVERYWHERE, max_answer_length=2) == (3.0, 0, 1)


def test_a_span_starts_only_where_its_window_gives_the_piece_the_most_context():
    start, end = scores({3: 4.0, 4: 1.0}), scores({5: 1.0})
    not_first = EVERYWHERE & (np.arange(8) != 3)
    assert best_span(start, end, TOKEN_TO_PIECE, not_first, max_answer_length=30) == (2.0, 1, 2)


def test_the_best_span_is_taken_over_all_windows():
    token_to_piece = np.array([[-1, 0, 1, -1], [-1, 1, 2, -1]])  # two windows sharing piece 1
    start, end = np.array([[0, 1.0, 0, 0], [0, 0, 2.0, 0]]), np.array([[0, 0, 1.0, 0], [0, 0, 3.0, 0]])
    assert best_span(start, end, token_to_piece, token_to_piece >= 0, max_answer_length=30) == (5.0, 2, 2)
    assert best_span(start, end, token_to_piece, np.zeros((2, 4), bool), max_answer_length=30) is None


@given(st.integers(0, 2**32 - 1))
def test_the_best_span_equals_a_search_of_every_pair(seed):
    rng = np.random.default_rng(seed)
    start, end = rng.standard_normal((3, 8)), rng.standard_normal((3, 8))
    token_to_piece = np.where(np.arange(8) >= 3, np.arange(8) - 3, -1)[None].repeat(3, 0)
    token_to_piece[:, -1] = -1
    is_max_context = (token_to_piece >= 0) & (rng.random((3, 8)) < 0.7)
    found = best_span(start, end, token_to_piece, is_max_context, max_answer_length=3)
    candidates = [(start[w, s] + end[w, e], token_to_piece[w, s], token_to_piece[w, e])
                  for w in range(3) for s in range(8) for e in range(s, min(s + 3, 8))
                  if token_to_piece[w, s] >= 0 and token_to_piece[w, e] >= 0 and is_max_context[w, s]]
    assert found == (max(candidates) if candidates else None)  # normal draws: no ties


def test_the_null_score_is_the_lowest_cls_score_over_the_windows():
    start, end = np.array([[1.0, 0], [0.5, 0]]), np.array([[2.0, 0], [0.5, 0]])
    assert null_score(start, end) == 1.0  # min(1 + 2, 0.5 + 0.5)


def test_pieces_text_joins_continuations():
    assert pieces_text(["born", "in", "18", "##15", "."]) == "born in 1815 ."


def test_final_text_gives_the_contexts_own_characters():
    basic = BasicTokenizer(lowercase=True)
    assert final_text("1815", "(1815).", basic) == "1815"
    assert final_text("rio de janeiro", "Rio  de\nJaneiro,", basic) == "Rio  de\nJaneiro"
    assert final_text("zurich", "Zürich.", basic) == "Zürich"  # accents are stripped only in the tokens
    assert final_text("paris", "London.", basic) == "London."  # not found: the words, whole, as run_squad.py


TOKENIZER = BertTokenizer(list(SPECIAL_TOKENS) + ["where", "was", "ada", "born", "in", "london", "(", ")", ".",
                                                  "18", "##15"])
CONTEXT = "Ada was born in London (1815)."


def answer_with(start_scores, end_scores, allow_no_answer, threshold=0.0):
    """choose_answer for one example "Where was Ada born?" over CONTEXT, with {token: score} scores."""
    example = SquadExample("q", "Where was Ada born?", CONTEXT, ("London",), (16,))
    features = squad_features([example], TOKENIZER, max_seq_length=20, max_query_length=8)
    T = features.input_ids.shape[1]
    start, end = np.zeros((1, T)), np.zeros((1, T))
    for token, score in start_scores.items():
        start[0, token] = score
    for token, score in end_scores.items():
        end[0, token] = score
    return choose_answer(start, end, features.token_to_piece, features.is_max_context, CONTEXT, features.contexts[0],
                         TOKENIZER.basic_tokenizer, max_answer_length=30, allow_no_answer=allow_no_answer,
                         null_score_threshold=threshold)


def test_choose_answer_maps_tokens_back_to_the_context_and_v2_weighs_the_null_score():
    # tokens: [CLS] where was ada born [UNK] [SEP] ada(7) was born in london(11) ((12) 18(13) ##15(14) )(15) .(16)
    assert answer_with({11: 3.0}, {11: 3.0}, allow_no_answer=False) == "London"
    assert answer_with({13: 3.0}, {14: 3.0}, allow_no_answer=False) == "1815"
    assert answer_with({0: 4.0, 11: 3.0}, {0: 4.0, 11: 3.0}, allow_no_answer=False) == "London"
    # null score 8 against the best span's 6: 8 - 6 = 2 > 0 gives "", but not above a threshold of 2
    assert answer_with({0: 4.0, 11: 3.0}, {0: 4.0, 11: 3.0}, allow_no_answer=True) == ""
    assert answer_with({0: 4.0, 11: 3.0}, {0: 4.0, 11: 3.0}, allow_no_answer=True, threshold=2.0) == "London"
