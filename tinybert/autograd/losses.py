"""Loss functions, each with `reduction` "mean" (the default), "sum" or "none".

Each fused loss computes one loss per element with its own hand-derived backward;
`reduce` then averages or sums them with the ordinary ops, so a weighted sum of
losses such as `ce_a + ce_b + 30 * mse` back-propagates like any other expression.
"""

from . import backend, reductions
from .arithmetic import operands
from .elementwise import sigmoid_array
from .softmax import softmax_last_axis
from .tensor import Tensor, as_array, make_result

REDUCTIONS = ("mean", "sum", "none")


def reduce(losses, reduction, count=None):
    """Average (over `count` elements, by default all), sum, or keep the per-element losses. count may be a
    0-d array where the losses are: the mean is then taken there, with no wait for the count on the host."""
    if reduction == "none":
        return losses
    total = reductions.sum(losses)
    if reduction == "sum":
        return total
    if count is None:
        return total * (1 / max(losses.size, 1))
    return total * (1 / losses.xp.maximum(count, 1)).astype(losses.dtype)


def check_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction={reduction!r} is not one of {', '.join(REDUCTIONS)}")


def cross_entropy(logits, targets, ignore_index=-100, reduction="mean"):
    """-log softmax(logits)[target] for logits (..., C) and integer targets (...).

    Positions whose target is `ignore_index` add nothing: loss 0, gradient exactly 0, and they do
    not count in the mean. When every position is ignored the mean is 0 (not 0/0 = NaN).
    ignore_index=None ignores nothing: every target must then be a class."""
    check_reduction(reduction)
    xp, num_classes = logits.xp, logits.shape[-1]
    targets = as_array(targets.data if isinstance(targets, Tensor) else targets, device=logits.device)
    if targets.shape != logits.shape[:-1]:
        raise ValueError(f"cross_entropy got logits {logits.shape} and targets {targets.shape}: "
                         "targets need the shape of logits without the last (class) axis")
    scores = logits.data.reshape(-1, num_classes)                         # (N, C)
    flat_targets = targets.reshape(-1)                                    # (N,)
    if ignore_index is None:
        counted = xp.ones(flat_targets.shape, dtype=bool)                 # (N,)
    else:
        counted = flat_targets != ignore_index                            # (N,)
    picked = xp.where(counted, flat_targets, 0)                           # (N,) a safe index at ignored rows
    if backend.first_out_of_range(picked, 0, num_classes) is not None:
        skip = f" (or ignore_index={ignore_index} for positions to skip)" if ignore_index is not None else ""
        raise IndexError(f"a target lies outside 0..{num_classes - 1}: targets are class indices{skip}")
    rows = xp.arange(picked.shape[0])
    picked_scores = scores[rows, picked]                                  # (N,) z[t]
    probabilities = scores.copy()                                         # (N, C), a softmax in place:
    row_max, row_total = softmax_last_axis(probabilities)                 # (N, 1), (N, 1)
    # -log softmax(z)[t] = log(sum(exp(z - max))) - (z[t] - max): no log of a probability that underflowed
    # where, not * counted: an ignored row may hold anything, inf too, and inf - inf times 0 is NaN
    losses = xp.where(counted, xp.log(row_total[:, 0]) - (picked_scores - row_max[:, 0]), 0)  # (N,)

    def backward(grad):  # d -log softmax(z)[t]: dz = softmax(z) - onehot(t), zero at ignored rows
        row_grad = grad.reshape(-1) * counted                             # (N,)
        grad_scores = probabilities * row_grad[:, None]                   # (N, C)
        grad_scores[rows, picked] -= row_grad
        grad_scores[~counted] = 0                                         # exactly 0 there, whatever they held
        return (grad_scores.reshape(logits.shape),)

    per_position = make_result(losses.reshape(targets.shape), "cross_entropy", (logits,), backward)
    return reduce(per_position, reduction, count=counted.sum())


def mse_loss(prediction, target, reduction="mean"):
    """(prediction - target)^2, element by element."""
    check_reduction(reduction)
    prediction, target = operands("mse_loss", prediction, target)
    if prediction.shape != target.shape:
        raise ValueError(f"mse_loss got prediction {prediction.shape} and target {target.shape}: give them one shape")
    difference = prediction - target
    return reduce(difference * difference, reduction)


def clamped_log(values, xp):
    """log(values), never below -100; log(0) gives -100 without computing -inf on the way."""
    positive = values > 0
    return xp.where(positive, xp.maximum(xp.log(xp.where(positive, values, 1)), -100), -100)


def binary_cross_entropy(probabilities, target, reduction="mean"):
    """-(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1]. Each log is clamped at -100,
    as PyTorch does, so p = 0 or 1 gives a large finite loss, not inf."""
    check_reduction(reduction)
    probabilities, target = operands("binary_cross_entropy", probabilities, target)
    xp, p, y = probabilities.xp, probabilities.data, target.data
    log_p, log_not_p = clamped_log(p, xp), clamped_log(1 - p, xp)

    def backward(grad):  # dp = (p - y) / (p (1 - p)),  dy = log(1 - p) - log(p)
        return (grad * (p - y) / xp.maximum(p * (1 - p), 1e-12), grad * (log_not_p - log_p))

    losses = make_result(-(y * log_p + (1 - y) * log_not_p), "binary_cross_entropy", (probabilities, target), backward)
    return reduce(losses, reduction)


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """binary_cross_entropy(sigmoid(x), y), computed as max(x, 0) - x y + log(1 + exp(-|x|)),
    which stays finite for any x: the loss never takes the log of a sigmoid that rounded to 0 or 1,
    and exp only ever sees -|x| <= 0."""
    check_reduction(reduction)
    logits, target = operands("binary_cross_entropy_with_logits", logits, target)
    xp, x, y = logits.xp, logits.data, target.data

    def backward(grad):  # dx = sigmoid(x) - y,  dy = -x
        return (grad * (sigmoid_array(x, xp) - y), grad * -x)

    losses = make_result(xp.maximum(x, 0) - x * y + xp.log1p(xp.exp(-xp.abs(x))),
                         "binary_cross_entropy_with_logits", (logits, target), backward)
    return reduce(losses, reduction)
