"""softmax and log_softmax, fused: one op each with a hand-derived backward.

Both subtract the row maximum first: softmax(x) = softmax(x - c) for any constant c,
and with c = max(x) every exponent is <= 0, so exp never overflows (inputs of 1e4 are fine).
"""

import numpy as np

from .tensor import make_result


def softmax(x, axis=-1, mask=None):
    """exp(x) / sum(exp(x)) along `axis`: each row becomes a probability distribution.

    mask: None, or a boolean array that broadcasts to x's shape, False at the entries to leave out.
    A left-out entry gets probability exactly 0 (its score counts as -inf), and a row with every
    entry left out gets all 0 (where exp would give 0 / 0), so no gradient flows through it."""
    xp = x.xp
    scores = x.data
    if mask is not None:
        mask = xp.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"softmax masks are boolean, False = leave out, not {mask.dtype}")
        if np.broadcast_shapes(mask.shape, x.shape) != x.shape:  # a wider mask would widen the output
            raise ValueError(f"a softmax mask of shape {mask.shape} does not broadcast to the input's shape {x.shape}")
        scores = xp.where(mask, scores, -xp.inf)
    row_max = scores.max(axis=axis, keepdims=True)
    if mask is not None:
        row_max = xp.where(row_max == -xp.inf, 0, row_max)  # a row left out entirely: exp(-inf) = 0 everywhere
    out = scores - row_max
    xp.exp(out, out=out)
    total = out.sum(axis=axis, keepdims=True)  # >= 1 unless the whole row is left out
    out /= xp.where(total == 0, 1, total) if mask is not None else total

    def backward(grad):  # d softmax: dx = y * (dy - sum(dy * y, axis)); left-out entries have y = 0, so dx = 0
        dx = grad - (grad * out).sum(axis=axis, keepdims=True)
        dx *= out
        return (dx,)

    return make_result(out, "softmax", (x,), backward)


def log_softmax_array(data, xp, axis=-1):
    """x - log(sum(exp(x))) on an array, computed from x - max(x): no softmax is formed on the way,
    so a probability that would underflow to 0 still gets its finite log (-2e4, not -inf)."""
    shifted = data - data.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def log_softmax(x, axis=-1):
    """log(softmax(x)) along `axis`, computed without taking the log of a softmax."""
    xp = x.xp
    out = log_softmax_array(x.data, xp, axis)

    def backward(grad):  # d log_softmax: dx = dy - softmax(x) * sum(dy, axis)
        return (grad - xp.exp(out) * grad.sum(axis=axis, keepdims=True),)

    return make_result(out, "log_softmax", (x,), backward)
