"""softmax and log_softmax, fused: one op each with a hand-derived backward.

Both subtract the row maximum first: softmax(x) = softmax(x - c) for any constant c,
and with c = max(x) every exponent is <= 0, so exp never overflows (inputs of 1e4 are fine).
"""

from .tensor import make_result


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`: each row becomes a probability distribution."""
    xp = x.xp
    exps = xp.exp(x.data - x.data.max(axis=axis, keepdims=True))
    out = exps / exps.sum(axis=axis, keepdims=True)

    def backward(grad):  # d softmax: dx = y * (dy - sum(dy * y, axis))
        return (out * (grad - (grad * out).sum(axis=axis, keepdims=True)),)

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
