"""Exact match and F1, as the official SQuAD scripts compute them (evaluate-v1.1.py, evaluate-v2.0.py).

Both compare normalized texts: lower case, punctuation removed, the articles a/an/the removed, runs of
whitespace made one space. Exact match is 1 when the normalized texts are equal; F1 is the harmonic
mean of precision and recall over their words, each word counted as often as both texts share it. A
question scores the best of its gold answers; the totals are percentages over all questions.

v2.0 differs in two ways. An unanswerable question's only gold answer is "" (no answer), and only an
empty prediction matches it. And a text with no words left after normalizing scores F1 1 against
another such text (v1.1 gives 0: no shared words). v2.0 also reports answerable (HasAns_) and
unanswerable (NoAns_) questions apart, each group where it has questions. A question without a
prediction scores 0, as evaluate-v1.1.py counts it (evaluate-v2.0.py leaves it out of its totals);
tinybert always predicts every question.
"""

import re
import string
from collections import Counter

from .reader import version_of

ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text):
    """"The  Eiffel-Tower!" -> "eiffeltower": lower case, no punctuation, no articles, single spaces."""
    text = "".join(char for char in text.lower() if char not in PUNCTUATION)
    return " ".join(ARTICLES.sub(" ", text).split())


def exact_match(prediction, truth):
    return float(normalize_answer(prediction) == normalize_answer(truth))


def f1_v1(prediction, truth):
    """Word-level F1 of two texts, as evaluate-v1.1.py: 0 when they share no word."""
    predicted, true = normalize_answer(prediction).split(), normalize_answer(truth).split()
    shared = sum((Counter(predicted) & Counter(true)).values())
    if shared == 0:
        return 0.0
    precision, recall = shared / len(predicted), shared / len(true)
    return 2 * precision * recall / (precision + recall)


def f1_v2(prediction, truth):
    """evaluate-v2.0.py's F1: as f1_v1, except that when either text has no words the score is 1 if
    neither has any, else 0 ("" against "" is a correct "no answer")."""
    predicted, true = normalize_answer(prediction).split(), normalize_answer(truth).split()
    if not predicted or not true:
        return float(predicted == true)
    return f1_v1(prediction, truth)


def gold_answers(example, version):
    """The texts a prediction is compared with: the answers; in v2.0 only those that normalize to some
    text, and "" when none is left (an unanswerable question)."""
    if version == "v1.1":
        return list(example.answers)
    return [answer for answer in example.answers if normalize_answer(answer)] or [""]


def percentages(exact, f1, prefix=""):
    total = len(exact)
    return {f"{prefix}exact": 100 * sum(exact) / total if total else 0.0,
            f"{prefix}f1": 100 * sum(f1) / total if total else 0.0, f"{prefix}total": total}


def score_answers(examples, predictions, version=None):
    """{"exact_match", "f1", "total", "scoring"} in percent over the examples, from `predictions`
    {question id: answer text}. version "v1.1" or "v2.0"; None picks "v2.0" when some question is
    unanswerable. v2.0 adds HasAns_exact, HasAns_f1, HasAns_total where some question is answerable, and
    NoAns_exact, NoAns_f1, NoAns_total where some is not (as evaluate-v2.0.py)."""
    version = version or version_of(examples)
    if version not in ("v1.1", "v2.0"):
        raise ValueError(f"unknown SQuAD version {version!r}: score with 'v1.1' or 'v2.0'")
    unanswerable = next((example.id for example in examples if example.is_impossible), None)
    if version == "v1.1" and unanswerable is not None:
        raise ValueError(f"question {unanswerable!r} is unanswerable, which SQuAD v1.1 scoring cannot score: "
                         "score with version 'v2.0'")
    f1_score = f1_v1 if version == "v1.1" else f1_v2
    exact, f1 = [], []
    for example in examples:
        prediction = predictions.get(example.id)
        golds = gold_answers(example, version)
        exact.append(0.0 if prediction is None else max(exact_match(prediction, gold) for gold in golds))
        f1.append(0.0 if prediction is None else max(f1_score(prediction, gold) for gold in golds))
    result = percentages(exact, f1)
    result = {"exact_match": result["exact"], "f1": result["f1"], "total": result["total"], "scoring": version}
    if version == "v2.0":
        for prefix, answerable in (("HasAns_", True), ("NoAns_", False)):
            rows = [row for row, example in enumerate(examples) if example.is_impossible != answerable]
            if rows:
                result.update(percentages([exact[row] for row in rows], [f1[row] for row in rows], prefix))
    return result
