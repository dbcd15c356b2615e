"""A tour of the engine: small whole computations, each checked against finite differences.

`tinybert gradcheck` runs it. Every computation below is ordinary tinybert code; the check
back-propagates a random cotangent through it and compares every input's gradient with
central differences, element by element.
"""

import math

import numpy as np

from .autograd import (Tensor, binary_cross_entropy_with_logits, compare_gradients, cross_entropy, embedding,
                       gelu, layer_norm, mse_loss, relu, softmax)


def linear_tanh_mse(x, weight, bias, target):
    return mse_loss((x @ weight + bias).tanh(), target)


def perceptron_cross_entropy(x, hidden, output, labels):
    return cross_entropy(relu(x @ hidden) @ output, labels)


def attention_core(queries, keys, values):
    scores = queries @ keys.transpose() / math.sqrt(queries.shape[-1])  # (B, T, T)
    return softmax(scores) @ values                                        # (B, T, H)


def layer_norm_gelu(x, weight, bias):
    return gelu(layer_norm(x, weight, bias))


def embedding_logistic(table, ids, direction, labels):
    pooled = embedding(table, ids).mean(axis=1)  # (B, T, H) -> (B, H)
    return binary_cross_entropy_with_logits(pooled @ direction, labels)


def tour_cases(rng):
    """(description, function, inputs) for each computation; float64 inputs, the differentiable ones
    marked requires_grad."""

    def parameter(*shape):
        return Tensor(rng.standard_normal(shape), requires_grad=True, dtype=np.float64)

    def constant(array):
        return Tensor(array, dtype=np.float64) if np.asarray(array).dtype.kind == "f" else np.asarray(array)

    return [
        ("tanh(x W + b), mean squared error", linear_tanh_mse,
         (parameter(4, 3), parameter(3, 2), parameter(2), constant(rng.standard_normal((4, 2))))),
        ("relu perceptron, cross-entropy with an ignored label", perceptron_cross_entropy,
         (parameter(5, 4), parameter(4, 6), parameter(6, 3), constant([0, 2, -100, 1, 2]))),
        ("attention: softmax(Q K^T / sqrt(d)) V", attention_core,
         (parameter(2, 3, 4), parameter(2, 3, 4), parameter(2, 3, 4))),
        ("layer norm, then GELU", layer_norm_gelu,
         (parameter(3, 5), parameter(5), parameter(5))),
        ("embedding with repeated ids, mean pooling, logistic loss", embedding_logistic,
         (parameter(6, 4), constant([[1, 3, 1], [5, 5, 0]]), parameter(4), constant([1.0, 0.0]))),
    ]


def run_tour(seed=0):
    """Yield (description, GradientComparison) for every computation of the tour."""
    for description, function, inputs in tour_cases(np.random.default_rng(seed)):
        yield description, compare_gradients(function, *inputs, seed=seed)
