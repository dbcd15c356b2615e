"""Element-wise functions: each output element depends on one input element only.

Each is written so that inputs of magnitude 1e4 give finite values and gradients
(except exp itself, whose true value overflows, and log and sqrt, which need
positive inputs).
"""

from .tensor import make_result


def exp(x):
    out = x.xp.exp(x.data)

    def backward(grad):  # d exp(x) = exp(x) dx
        return (grad * out,)

    return make_result(out, "exp", (x,), backward)


def log(x):
    def backward(grad):  # d log(x) = dx / x
        return (grad / x.data,)

    return make_result(x.xp.log(x.data), "log", (x,), backward)


def sqrt(x):
    out = x.xp.sqrt(x.data)

    def backward(grad):  # d sqrt(x) = dx / (2 sqrt(x))
        return (grad * 0.5 / out,)

    return make_result(out, "sqrt", (x,), backward)


def tanh(x):
    out = x.xp.tanh(x.data)

    def backward(grad):  # d tanh(x) = (1 - tanh(x)^2) dx
        return (grad * (1 - out * out),)

    return make_result(out, "tanh", (x,), backward)


def sigmoid_array(data, xp):
    """1 / (1 + exp(-x)) on an array, accurate at both ends: with e = exp(-|x|) <= 1 (no overflow),
    1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0 (so sigmoid(-30) is 9.4e-14, not 0)."""
    small = xp.exp(-xp.abs(data))
    return xp.where(data >= 0, 1, small) / (1 + small)


def sigmoid(x):
    """1 / (1 + exp(-x)), the logistic function."""
    out = sigmoid_array(x.data, x.xp)

    def backward(grad):  # d sigmoid(x) = sigmoid(x) (1 - sigmoid(x)) dx
        return (grad * out * (1 - out),)

    return make_result(out, "sigmoid", (x,), backward)


def relu(x):
    def backward(grad):  # d max(x, 0) = dx where x > 0, else 0
        return (grad * (x.data > 0),)

    return make_result(x.xp.maximum(x.data, 0), "relu", (x,), backward)
