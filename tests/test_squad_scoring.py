"""Exact match and F1 as the official SQuAD v1.1 and v2.0 scripts compute them, on cases worked by hand."""

import pytest

from tinybert.squad.reader import SquadExample
from tinybert.squad.scoring import exact_match, f1_v1, f1_v2, normalize_answer, score_answers


def test_normalize_lowercases_and_removes_punctuation_articles_and_extra_space():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("  An apple, a pear and THE plum ") == "apple pear and plum"
    assert normalize_answer("theatre") == "theatre"  # "the" only as a whole word


def test_f1_counts_shared_words_with_their_multiplicity():
    # prediction "in the city of Paris" -> in city of paris (4 words); truth "Paris city" -> paris city (2)
    # shared: paris, city = 2; precision 2/4, recall 2/2; F1 = 2 * 0.5 * 1 / (0.5 + 1) = 2/3
    assert f1_v1("in the city of Paris", "Paris city") == pytest.approx(2 / 3)
    # "a a b" -> b ("a" is an article); truth "b b" -> b b: shared 1 (b is once in the prediction)
    # precision 1/1, recall 1/2, F1 = 2 * 1 * 0.5 / 1.5 = 2/3
    assert f1_v1("a a b", "b b") == pytest.approx(2 / 3)
    assert f1_v1("London", "Paris") == 0.0
    assert exact_match("the London.", "london") == 1.0 and exact_match("London, UK", "London") == 0.0


def test_empty_texts_score_zero_in_v1_and_match_each_other_in_v2():
    assert f1_v1("", "") == 0.0 and f1_v1("the", "a") == 0.0  # v1.1: no shared word, F1 0
    assert f1_v2("", "") == 1.0 and f1_v2("the", "") == 1.0  # v2.0: "no answer" against "no answer"
    assert f1_v2("", "Paris") == 0.0 and f1_v2("Paris", "") == 0.0


ANSWERABLE = [SquadExample("a1", "?", "c", ("Paris", "the city of Paris"), (0, 0)),
              SquadExample("a2", "?", "c", ("1815",), (0,))]
UNANSWERABLE = [SquadExample("n1", "?", "c", is_impossible=True), SquadExample("n2", "?", "c", is_impossible=True)]


def test_v1_scores_the_best_gold_answer_and_a_missing_prediction_as_zero():
    # a1: "city of Paris" vs "Paris": F1 2 * (1/3) * 1 / (4/3) = 0.5; vs "the city of Paris" -> exact, 1
    # a2: no prediction: 0. exact = (1 + 0) / 2 = 50 %, F1 = (1 + 0) / 2 = 50 %
    assert score_answers(ANSWERABLE, {"a1": "city of Paris"}) == {"exact_match": 50.0, "f1": 50.0, "total": 2,
                                                                  "scoring": "v1.1"}
    # a1: "Paris 1815" vs "Paris": precision 1/2, recall 1, F1 2/3; a2: "1815 AD" vs "1815": F1 2/3
    assert score_answers(ANSWERABLE, {"a1": "Paris 1815", "a2": "1815 AD"})["f1"] == pytest.approx(100 * 2 / 3)


def test_v2_scores_unanswerable_questions_by_an_empty_prediction_and_reports_the_split():
    examples = ANSWERABLE + UNANSWERABLE
    predictions = {"a1": "Paris", "a2": "", "n1": "", "n2": "London"}
    # HasAns: a1 exact 1, a2 "" against "1815" 0 -> 50 %; NoAns: n1 1, n2 0 -> 50 %; overall 2 of 4 -> 50 %
    assert score_answers(examples, predictions) == {
        "exact_match": 50.0, "f1": 50.0, "total": 4, "scoring": "v2.0",
        "HasAns_exact": 50.0, "HasAns_f1": 50.0, "HasAns_total": 2,
        "NoAns_exact": 50.0, "NoAns_f1": 50.0, "NoAns_total": 2}
    # the answerable questions alone, scored as v1.1: a1 right, a2 wrong
    assert score_answers(ANSWERABLE, predictions, "v1.1")["exact_match"] == 50.0


def test_v2_drops_gold_answers_that_normalize_to_nothing():
    example = SquadExample("t", "?", "the", ("the",), (0,))
    # v2.0: the gold "the" normalizes to "" and is dropped, leaving [""]: an empty prediction is right
    assert score_answers([example], {"t": ""}, "v2.0")["exact_match"] == 100.0
    assert score_answers([example], {"t": "the"}, "v1.1") == {"exact_match": 100.0, "f1": 0.0, "total": 1,
                                                              "scoring": "v1.1"}  # v1.1: equal, but no shared word


def test_v2_reports_only_the_groups_that_have_questions_as_evaluate_v2_does():
    answerable_only = score_answers(ANSWERABLE, {"a1": "Paris", "a2": "1815"}, "v2.0")
    assert answerable_only["HasAns_total"] == 2 and not any(key.startswith("NoAns_") for key in answerable_only)
    unanswerable_only = score_answers(UNANSWERABLE, {"n1": "", "n2": ""})
    assert unanswerable_only["NoAns_exact"] == 100.0 and not any(key.startswith("HasAns_") for key in unanswerable_only)


def test_an_unknown_version_or_an_unanswerable_question_in_v1_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown SQuAD version 'v3'"):
        score_answers(ANSWERABLE, {}, "v3")
    with pytest.raises(ValueError, match="question 'n1' is unanswerable, which SQuAD v1.1 scoring cannot score: "
                                         "score with version 'v2.0'"):
        score_answers(ANSWERABLE + UNANSWERABLE, {}, "v1.1")
