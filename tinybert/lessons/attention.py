"""The attention lesson: Attention(Q, K, V) = softmax(Q K^T / sqrt(d)) V, forward and backward.

The backward, derived once by hand (each line is the chain rule through one forward line):
    O = A V                 dA = dO V^T              dV = A^T dO
    A = softmax(S)          dS = A * (dA - rowsum(dA * A))     (the softmax's Jacobian, row by row)
    S = Q K^T / sqrt(d)     dQ = dS K / sqrt(d)      dK = dS^T Q / sqrt(d)
With a causal mask the softmax ignores the scores above the diagonal: A is 0 there, and so is dS.
"""

import math

import numpy as np

from .. import autograd as ag
from ..models.attention import causal_mask
from .lesson import Lesson, Step, gradient_step, softmax_rows


def attention_lesson(tokens=3, dim=4, seed=0, causal=False):
    """The lesson for one attention over `tokens` tokens of `dim` dimensions, numbers drawn from `seed`."""
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((tokens, dim)).round(2) for _ in range(3))  # (T, d) each
    output_gradient = rng.standard_normal((tokens, dim)).round(2)                # dO (T, d)
    mask = causal_mask(tokens) if causal else np.ones((tokens, tokens), dtype=bool)  # (T, T)
    root = math.sqrt(dim)

    # forward, by the engine, keeping the intermediate gradients for the lesson
    Q, K, V = (ag.Tensor(array, requires_grad=True, dtype=np.float64) for array in (q, k, v))
    S = (Q @ K.transpose() / root).retain_grad()   # (T, T)
    A = ag.softmax(S, mask=mask).retain_grad()      # (T, T)
    O = A @ V                                       # (T, d)
    O.backward(output_gradient)
    s, a, o = S.numpy(), A.numpy(), O.numpy()

    # backward, by the formulas
    da = output_gradient @ v.T
    dv = a.T @ output_gradient
    ds = a * (da - (da * a).sum(axis=-1, keepdims=True))
    dq, dk = ds @ k / root, ds.T @ q / root

    def from_scores(scores):
        return softmax_rows(scores, mask) @ v

    def from_inputs(query, key, value):
        return softmax_rows(query @ key.T / root, mask) @ value

    masked_note = (" The entries above the diagonal are masked: A is 0 there, so dS is 0 there too - no "
                   "gradient reaches a score the softmax left out.") if causal else ""
    steps = [
        Step("inputs", f"Q, K, V: (T, d) = ({tokens}, {dim})", [("Q", q), ("K", k), ("V", v)],
             note=f"{tokens} tokens, each with a query, a key and a value of d = {dim} numbers."),
        Step("scores", "S = Q K^T / sqrt(d)", [("S", s)],
             note="Row i scores query i against every key; dividing by sqrt(d) keeps the scores near unit size."),
        Step("weights", "A = softmax(S), row by row" + (", keys after the query masked" if causal else ""),
             [("A", a)], note="Each row is a probability distribution over the keys: it sums to 1."),
        Step("output", "O = A V", [("O", o)], note="Row i is the average of the values, weighted by row i of A."),
        Step("the gradient that arrives", "dO = dL/dO, with L = sum(O * dO)", [("dO", output_gradient)]),
        gradient_step("the values' gradient", "dV = A^T dO", "dV", dv, V.grad, lambda value: a @ value, v,
                      output_gradient),
        gradient_step("the weights' gradient", "dA = dO V^T", "dA", da, A.grad, lambda weights: weights @ v, a,
                      output_gradient),
        gradient_step("through the softmax", "dS = A * (dA - rowsum(dA * A))", "dS", ds, S.grad, from_scores, s,
                      output_gradient, note="The softmax's Jacobian, diag(a) - a a^T, applied to each row." + masked_note),
        gradient_step("the queries' gradient", "dQ = dS K / sqrt(d)", "dQ", dq, Q.grad,
                      lambda query: from_inputs(query, k, v), q, output_gradient),
        gradient_step("the keys' gradient", "dK = dS^T Q / sqrt(d)", "dK", dk, K.grad,
                      lambda key: from_inputs(q, key, v), k, output_gradient),
    ]
    title = "Scaled dot-product attention" + (" with a causal mask" if causal else "")
    return Lesson(title, "Attention(Q, K, V) = softmax(Q K^T / sqrt(d)) V (Vaswani et al. 2017, equation 1)", steps)
