"""The scores GLUE reports, each in a few lines of NumPy on two arrays of the same length.

accuracy      the fraction of examples labelled right
f1            of one label (the positive class): 2 TP / (2 TP + FP + FN), the harmonic mean of precision and
              recall; MRPC and QQP, whose classes are unbalanced, report it beside accuracy
matthews      (TP TN - FP FN) / sqrt((TP + FP)(TP + FN)(TN + FP)(TN + FN)): a correlation between
              prediction and truth in [-1, 1], about 0 for a random guess and exactly 0 for always the
              same label, however unbalanced the classes (CoLA: 70% of its sentences are acceptable)
pearson       the correlation of two lists of numbers: how well a straight line relates them (STS-B)
spearman      Pearson's correlation of their ranks: how well any increasing curve relates them (STS-B)

Where a score's denominator is 0 (no positive example and none predicted for F1; a label never predicted
for Matthews) the score is 0.0, as scikit-learn and GLUE's own scripts give. Pearson and Spearman of a
constant list are NaN: no correlation is defined, and tinybert prints "nan" rather than a made-up number.
"""

import numpy as np


def accuracy(predicted, truth):
    return float(np.mean(np.asarray(predicted) == np.asarray(truth)))


def confusion_counts(predicted, truth, positive):
    """(TP, FP, FN, TN) of the label `positive` against every other label, as Python ints."""
    said, right = np.asarray(predicted) == positive, np.asarray(truth) == positive
    return (int(np.sum(said & right)), int(np.sum(said & ~right)), int(np.sum(~said & right)),
            int(np.sum(~said & ~right)))


def f1(predicted, truth, positive):
    true_positive, false_positive, false_negative, _ = confusion_counts(predicted, truth, positive)
    denominator = 2 * true_positive + false_positive + false_negative
    return 2 * true_positive / denominator if denominator else 0.0


def matthews(predicted, truth, positive):
    true_positive, false_positive, false_negative, true_negative = confusion_counts(predicted, truth, positive)
    denominator = ((true_positive + false_positive) * (true_positive + false_negative)
                   * (true_negative + false_positive) * (true_negative + false_negative))
    return (true_positive * true_negative - false_positive * false_negative) / denominator ** 0.5 if denominator else 0.0


def pearson(predicted, truth):
    """sum((x - mean x)(y - mean y)) / sqrt(sum((x - mean x)^2) sum((y - mean y)^2)), in float64."""
    x, y = np.asarray(predicted, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    x, y = x - x.mean(), y - y.mean()
    denominator = np.sqrt(np.sum(x * x) * np.sum(y * y))
    return float(np.sum(x * y) / denominator) if denominator > 0 else float("nan")


def ranks(values):
    """The rank of each value from 1, tied values sharing the mean of the ranks they span: [10, 20, 20, 5]
    gives [2, 3.5, 3.5, 1]."""
    _, which, counts = np.unique(np.asarray(values), return_inverse=True, return_counts=True)
    last_rank = np.cumsum(counts)                       # the highest rank each distinct value takes
    return (last_rank - (counts - 1) / 2)[which.reshape(-1)]  # the mean of ranks last-count+1 .. last


def spearman(predicted, truth):
    return pearson(ranks(predicted), ranks(truth))


METRICS = {  # name -> (function, whether it needs the positive label)
    "accuracy": (accuracy, False),
    "f1": (f1, True),
    "matthews": (matthews, True),
    "pearson": (pearson, False),
    "spearman": (spearman, False),
}


def score(metric, predicted, truth, positive=None):
    """One metric by name; `positive` is the label F1 and Matthews count as the positive class."""
    function, needs_positive = METRICS[metric]
    return function(predicted, truth, positive) if needs_positive else function(predicted, truth)
