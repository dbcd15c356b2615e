"""Lessons for the ops attention and BERT are built from: softmax, layer norm, cross-entropy, GELU.

Each runs the op in the engine on small random numbers, then takes its backward apart into the
formula a teacher would derive, proved against the engine and against central differences.
"""

import math

import numpy as np

from .. import autograd as ag
from .lesson import ARRIVING_NOTE, Lesson, Step, gradient_step, plural, softmax_rows


def engine_gradients(op, arrays, output_gradient):
    """The op's output and the engine's gradient of every input, for L = sum(op(*inputs) * dO)."""
    tensors = [ag.Tensor(array, requires_grad=True, dtype=np.float64) for array in arrays]
    output = op(*tensors)
    output.backward(output_gradient)
    return output.numpy(), [tensor.grad for tensor in tensors]


def softmax_lesson(tokens=3, dim=4, seed=0):
    rng = np.random.default_rng(seed)
    x, dy = rng.standard_normal((tokens, dim)).round(2), rng.standard_normal((tokens, dim)).round(2)
    y, (engine_dx,) = engine_gradients(ag.softmax, [x], dy)
    dx = y * (dy - (dy * y).sum(axis=-1, keepdims=True))
    return Lesson("Softmax", "y = softmax(x) = exp(x) / sum(exp(x)), along each row", [
        Step("inputs", f"x: ({tokens}, {dim})", [("x", x)], note=f"{plural(tokens, 'row')} of {plural(dim, 'score')}."),
        Step("forward", "y = exp(x - max(x)) / sum(exp(x - max(x)))", [("y", y)],
             note="Subtracting the row's maximum changes nothing in y and keeps exp from overflowing."),
        Step("the gradient that arrives", "dy = dL/dy, with L = sum(y * dy)", [("dy", dy)], note=ARRIVING_NOTE),
        gradient_step("backward", "dx = y * (dy - rowsum(dy * y))", "dx", dx, engine_dx, softmax_rows, x, dy,
                      note="∂y_i/∂x_j = y_i (delta_ij - y_j): the Jacobian diag(y) - y y^T, applied to each row "
                           "without forming it."),
    ])


def layernorm_lesson(tokens=3, dim=4, seed=0, eps=1e-5):
    rng = np.random.default_rng(seed)
    x, dy = rng.standard_normal((tokens, dim)).round(2), rng.standard_normal((tokens, dim)).round(2)
    weight, bias = (1 + 0.1 * rng.standard_normal(dim)).round(2), (0.1 * rng.standard_normal(dim)).round(2)
    y, (engine_dx, engine_dweight, engine_dbias) = engine_gradients(
        lambda x, weight, bias: ag.layer_norm(x, weight, bias, eps), [x, weight, bias], dy)
    mean = x.mean(axis=-1, keepdims=True)
    rstd = 1 / np.sqrt(((x - mean) ** 2).mean(axis=-1, keepdims=True) + eps)
    normalised = (x - mean) * rstd
    dnormalised = dy * weight
    dx = rstd * (dnormalised - dnormalised.mean(axis=-1, keepdims=True)
                 - normalised * (dnormalised * normalised).mean(axis=-1, keepdims=True))

    def forward(x, weight=weight, bias=bias):
        centred = x - x.mean(axis=-1, keepdims=True)
        return centred / np.sqrt((centred ** 2).mean(axis=-1, keepdims=True) + eps) * weight + bias

    return Lesson("Layer normalisation", "y = (x - mean(x)) / sqrt(var(x) + eps) * w + b, along each row "
                  "(Ba et al. 2016)", [
        Step("inputs", f"x: ({tokens}, {dim}), w and b: ({dim},)", [("x", x), ("w", weight), ("b", bias)],
             note=f"{plural(tokens, 'row')} of {plural(dim, 'feature')}, the scale w and the shift b."),
        Step("normalise", "x_hat = (x - mean(x)) * rstd, rstd = 1 / sqrt(var(x) + eps)", [("x_hat", normalised)],
             note=f"var(x) = mean((x - mean(x))^2), dividing by the row's length; eps = {eps:g}. Each row now has "
                  "mean 0 and variance 1 (up to eps)."),
        Step("scale and shift", "y = x_hat * w + b", [("y", y)]),
        Step("the gradient that arrives", "dy = dL/dy, with L = sum(y * dy)", [("dy", dy)], note=ARRIVING_NOTE),
        gradient_step("the shift's gradient", "db = sum over rows of dy", "db", dy.sum(axis=0), engine_dbias,
                      lambda bias: forward(x, weight, bias), bias, dy),
        gradient_step("the scale's gradient", "dw = sum over rows of dy * x_hat", "dw", (dy * normalised).sum(axis=0),
                      engine_dweight, lambda weight: forward(x, weight, bias), weight, dy),
        gradient_step("the input's gradient", "dx = rstd * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)), "
                      "dx_hat = dy * w", "dx", dx, engine_dx, forward, x, dy,
                      note="Three terms: the direct path, the path through the mean, the path through the variance."),
    ])


def cross_entropy_lesson(tokens=3, dim=4, seed=0):
    rng = np.random.default_rng(seed)
    logits, targets = rng.standard_normal((tokens, dim)).round(2), rng.integers(0, dim, size=tokens)
    loss, (engine_dlogits,) = engine_gradients(lambda logits: ag.cross_entropy(logits, targets), [logits], 1.0)
    probabilities = softmax_rows(logits)
    one_hot = np.eye(dim)[targets]
    dlogits = (probabilities - one_hot) / tokens

    def forward(logits):
        return -np.log(softmax_rows(logits)[np.arange(tokens), targets]).mean()

    return Lesson("Cross-entropy", "L = mean over rows of -log softmax(z)[t], the loss of both of BERT's heads", [
        Step("inputs", f"z: ({tokens}, {dim}), t: ({tokens},)", [("z", logits)],
             note=f"{plural(tokens, 'row')} of {plural(dim, 'class score')} z; each row's true class t = "
                  f"{targets.tolist()} (counted from 0)."),
        Step("probabilities", "p = softmax(z)", [("p", probabilities)]),
        Step("loss", "L = mean(-log p[t])", [("L", np.array([loss]))],
             note=f"Guessing uniformly would give ln({dim}) = {math.log(dim):.3f}."),
        gradient_step("backward", f"dz = (p - onehot(t)) / N, N = {tokens} rows", "dz", dlogits, engine_dlogits,
                      forward, logits, 1.0,
                      note="L is one number, so the gradient that arrives is dL/dL = 1. The 1/p that -log p brings "
                           "cancels the p in the softmax's Jacobian: the gradient is the probabilities minus the "
                           "truth, never a division by a tiny p."),
    ])


def normal_cdf(x):
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def gelu_lesson(tokens=3, dim=4, seed=0):
    rng = np.random.default_rng(seed)
    x, dy = (2 * rng.standard_normal((tokens, dim))).round(2), rng.standard_normal((tokens, dim)).round(2)
    y, (engine_dx,) = engine_gradients(ag.gelu, [x], dy)
    density = np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    dx = dy * (normal_cdf(x) + x * density)
    return Lesson("GELU", "GELU(x) = x * Phi(x), Phi the standard normal CDF (Hendrycks and Gimpel 2016)", [
        Step("inputs", f"x: ({tokens}, {dim})", [("x", x)]),
        Step("forward", "y = x * Phi(x), Phi(x) = (1 + erf(x / sqrt(2))) / 2", [("Phi(x)", normal_cdf(x)), ("y", y)],
             note="Like ReLU for large |x|, but smooth: a negative input is damped, not cut."),
        Step("the gradient that arrives", "dy = dL/dy, with L = sum(y * dy)", [("dy", dy)], note=ARRIVING_NOTE),
        gradient_step("backward", "dx = dy * (Phi(x) + x * phi(x)), phi the normal density", "dx", dx, engine_dx,
                      lambda x: x * normal_cdf(x), x, dy),
    ])
