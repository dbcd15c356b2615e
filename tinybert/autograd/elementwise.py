"""Element-wise functions: each output element depends on one input element only.

Each is written so that inputs of magnitude 1e4 give finite values and gradients
(except exp itself, whose true value overflows, and log and sqrt, which need
positive inputs).
"""

import math

from .erf import normal_cdf
from .tensor import make_result

SQRT_2 = math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


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


def gelu(x, approximate="none"):
    """GELU(x) = x * Phi(x), Phi the standard normal CDF (Hendrycks and Gimpel, 2016).

    approximate="none" is the exact erf form BERT uses: Phi(x) = (1 + erf(x / sqrt 2)) / 2.
    approximate="tanh" is GPT-2's: (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2 in place of Phi."""
    if approximate == "tanh":
        return _gelu_tanh(x)
    if approximate != "none":
        raise ValueError(f"gelu approximate={approximate!r}: use 'none' (erf, as BERT) or 'tanh'")
    xp, data = x.xp, x.data
    cdf = normal_cdf(data)

    def backward(grad):  # d x Phi(x) = (Phi(x) + x phi(x)) dx, phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
        return (grad * (cdf + data * INV_SQRT_2PI * xp.exp(-0.5 * data * data)),)

    return make_result(data * cdf, "gelu", (x,), backward)


def _gelu_tanh(x):
    data = x.data
    tanh_inner = x.xp.tanh(SQRT_2_OVER_PI * (data + 0.044715 * data * data * data))
    half_one_plus_tanh = 0.5 * (1 + tanh_inner)

    def backward(grad):  # d: 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2), t = tanh(inner)
        slope = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * data * data)
        return (grad * (half_one_plus_tanh + 0.5 * data * (1 - tanh_inner * tanh_inner) * slope),)

    return make_result(data * half_one_plus_tanh, "gelu_tanh", (x,), backward)
