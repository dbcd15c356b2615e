"""Check a backward against the definition of the derivative.

For a function f with output y, draw a random cotangent R of y's shape and compare
  analytic:  the engine's gradient of L = sum(f(x) * R) with respect to each input element
  numeric:   (L(x + eps) - L(x - eps)) / (2 eps), moving one element at a time (central differences)
A random R, never all ones: sum(softmax(x)) is 1 whatever x is, so a plain sum would hide a
wrong softmax backward.
"""

from dataclasses import dataclass

import numpy as np

from . import backend
from .tensor import Tensor, no_grad


class GradcheckError(AssertionError):
    """The analytic and numeric gradients disagree; the message names the worst element."""


@dataclass
class GradientComparison:
    """The element whose analytic gradient strays furthest beyond the tolerance."""

    input_number: int          # which of the inputs it belongs to
    index: tuple               # where in that input
    analytic: float            # the engine's gradient there
    numeric: float             # the central-difference estimate there
    excess: float              # |analytic - numeric| - (atol + rtol |numeric|): > 0 means a failure
    max_difference: float      # the largest |analytic - numeric| over all checked elements
    elements: int              # how many elements were checked

    @property
    def passed(self):
        return self.excess <= 0


def compare_gradients(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-4, seed=0):
    """Compare fn's backward with central differences for every input that requires a gradient.

    Inputs that require gradients must be float64: float32's rounding (1e-7) divided by eps would
    swamp the comparison. Their `.grad` is overwritten."""
    checked = [number for number, tensor in enumerate(inputs) if isinstance(tensor, Tensor) and tensor.requires_grad]
    if not checked:
        raise ValueError("gradcheck needs at least one input with requires_grad=True")
    for number in checked:
        if inputs[number].dtype != np.float64:
            raise TypeError(f"gradcheck needs float64 inputs, got {inputs[number].dtype}: create them with dtype=np.float64")
        inputs[number].zero_grad()

    output = fn(*inputs)
    cotangent = output.xp.asarray(np.random.default_rng(seed).standard_normal(output.shape))
    output.backward(cotangent)

    def loss():
        with no_grad():
            return float((fn(*inputs).data * cotangent).sum())

    worst, max_difference, elements = None, 0.0, 0
    for number in checked:
        tensor = inputs[number]
        analytic = backend.to_numpy(tensor.grad) if tensor.grad is not None else np.zeros(tensor.shape)
        for index in np.ndindex(tensor.shape):
            original = tensor.data[index].item()
            tensor.data[index] = original + eps
            above = loss()
            tensor.data[index] = original - eps
            below = loss()
            tensor.data[index] = original
            numeric = (above - below) / (2 * eps)
            difference = abs(analytic[index] - numeric)
            excess = difference - (atol + rtol * abs(numeric))
            excess = excess if np.isfinite(excess) else np.inf  # a NaN or inf gradient is always the worst
            max_difference, elements = max(max_difference, difference), elements + 1
            if worst is None or excess > worst.excess:
                worst = GradientComparison(number, index, float(analytic[index]), numeric, excess, 0.0, 0)
    if worst is None:
        raise ValueError("gradcheck found no element to check: give inputs with at least one element")
    worst.max_difference, worst.elements = max_difference, elements
    return worst


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-4, seed=0):
    """True when fn's backward matches central differences on every element of every input that
    requires a gradient; otherwise GradcheckError naming the worst element."""
    worst = compare_gradients(fn, *inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
    if not worst.passed:
        raise GradcheckError(
            f"gradient of input {worst.input_number} at index {worst.index}: analytic {worst.analytic:.8g}, "
            f"numeric {worst.numeric:.8g} (atol {atol}, rtol {rtol}). If the input sits on a kink (relu at 0, "
            "a tie for max), finite differences are meaningless there: draw inputs away from kinks "
            "rather than loosening the tolerance.")
    return True
