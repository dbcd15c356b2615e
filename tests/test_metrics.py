"""GLUE's metrics on cases small enough to count by hand, and their defining properties."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from tinybert import metrics


def test_accuracy_and_f1_on_hand_counted_cases():
    predicted, truth = [1, 1, 0, 0, 1], [1, 0, 0, 1, 1]
    assert metrics.accuracy(predicted, truth) == 0.6  # 3 of 5 right
    assert metrics.f1(predicted, truth, positive=1) == pytest.approx(4 / 6)  # TP 2, FP 1, FN 1: 2*2 / (2*2 + 1 + 1)
    assert metrics.f1(predicted, truth, positive=0) == pytest.approx(2 / 4)  # TP 1, FP 1, FN 1: 2 / (2 + 2)
    assert metrics.f1([0, 0, 0], [0, 0, 0], positive=1) == 0.0  # no positives at all: 0/0 is reported as 0


def test_matthews_on_hand_counted_cases():
    # TP 2, FP 1, FN 1, TN 1: (2*1 - 1*1) / sqrt(3 * 3 * 2 * 2) = 1/6
    assert metrics.matthews([1, 1, 0, 0, 1], [1, 0, 0, 1, 1], positive=1) == pytest.approx(1 / 6)
    assert metrics.matthews([1, 0, 1, 0], [1, 0, 1, 0], positive=1) == 1.0
    assert metrics.matthews([0, 1, 0, 1], [1, 0, 1, 0], positive=1) == -1.0
    assert metrics.matthews([1, 1, 1, 1], [1, 0, 1, 1], positive=1) == 0.0  # always one label: 0, not 0/0


def test_pearson_and_spearman_on_hand_computed_cases():
    # x - mean = [-1, 0, 1], y - mean = [-2, 0, 2] (y = 2x): r = 4 / sqrt(2 * 8) = 1
    assert metrics.pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    # x - mean = [-1, 0, 1], y - mean = [1, -1, 0]: sum of products -1 + 0 + 0 = -1, r = -1 / sqrt(2 * 2)
    assert metrics.pearson([1, 2, 3], [3, 1, 2]) == pytest.approx(-0.5)
    # y = x^3 is increasing but not a line: Spearman 1, Pearson below 1
    x = [1, 2, 3, 4]
    assert metrics.spearman(x, [value ** 3 for value in x]) == pytest.approx(1.0)
    assert metrics.pearson(x, [value ** 3 for value in x]) < 0.99
    assert math.isnan(metrics.pearson([2, 2, 2], [1, 2, 3]))  # a constant has no correlation


def test_ranks_share_the_mean_rank_among_ties():
    np.testing.assert_array_equal(metrics.ranks([10, 20, 20, 5]), [2, 3.5, 3.5, 1])
    np.testing.assert_array_equal(metrics.ranks([7, 7, 7]), [2, 2, 2])
    # Spearman with ties: ranks x [1, 2.5, 2.5, 4] and y [1, 2, 3, 4]; deviations [-1.5, 0, 0, 1.5] and
    # [-1.5, -0.5, 0.5, 1.5]: 4.5 / sqrt(4.5 * 5)
    assert metrics.spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(4.5 / math.sqrt(4.5 * 5))


@given(st.lists(st.integers(0, 2), min_size=2, max_size=30), st.integers(0, 10**6))
def test_ranks_are_a_permutation_of_1_to_n_when_values_are_distinct_and_keep_their_sum(values, seed):
    ranks = metrics.ranks(values)
    assert ranks.sum() == pytest.approx(len(values) * (len(values) + 1) / 2)  # ties keep the sum of the ranks
    distinct = np.random.default_rng(seed).permutation(len(values))
    np.testing.assert_array_equal(metrics.ranks(distinct), distinct + 1)


@given(st.lists(st.integers(-100, 100), min_size=3, max_size=30), st.floats(0.1, 10), st.floats(-5, 5))
def test_pearson_and_spearman_do_not_change_under_an_increasing_line(values, scale, shift):
    x = np.array(values, dtype=np.float64)  # whole numbers: a line keeps their ties and their order exactly
    assume(np.ptp(x) > 0)  # a constant list has no correlation
    y = np.random.default_rng(0).normal(size=len(x))
    assert metrics.pearson(scale * x + shift, y) == pytest.approx(metrics.pearson(x, y), abs=1e-9)
    assert metrics.spearman(scale * x + shift, y) == pytest.approx(metrics.spearman(x, y), abs=1e-9)


def test_score_names_every_metric_and_passes_the_positive_label_where_one_is_needed():
    assert metrics.score("f1", [1, 0], [1, 1], positive=1) == pytest.approx(2 / 3)
    assert metrics.score("accuracy", [1, 0], [1, 1]) == 0.5
    assert set(metrics.METRICS) == {"accuracy", "f1", "matthews", "pearson", "spearman"}
