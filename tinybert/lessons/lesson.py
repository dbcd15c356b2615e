"""A lesson: a computation taken apart step by step, forward then backward, every gradient proved.

A step shows a formula and the values it gives. A backward step also holds a GradientCheck: the
gradient by the step's formula (computed here with NumPy, as on a blackboard), the gradient the engine
computed (tinybert's backward), and a central-difference estimate of the same derivative. When all
three agree, the lesson has proved its own formula.

Every backward step differentiates one scalar, L = sum(output * dO), where dO is a fixed random
cotangent: the gradient of L with respect to the output is dO itself, so "dX" below always means
dL/dX. (A plain sum would hide mistakes: sum(softmax(x)) is 1 whatever x is.)
"""

from dataclasses import dataclass, field

import numpy as np

from ..autograd import backend

EPSILON = 1e-6     # the step of the central differences, in float64
TOLERANCE = 1e-6   # the largest difference that passes; float64 differences come out near 1e-10
ARRIVING_NOTE = ("A fixed random matrix, standing in for the gradient the layers above would send back: "
                 "L is the one number whose gradient it is.")


@dataclass
class GradientCheck:
    by_formula: np.ndarray  # the step's formula, in NumPy
    by_engine: np.ndarray   # tinybert's backward (copied to the host if it ran on a GPU)
    numeric: np.ndarray     # central differences of L

    def __post_init__(self):
        self.by_engine = backend.to_numpy(self.by_engine)

    @property
    def formula_difference(self):
        return float(np.max(np.abs(self.by_formula - self.by_engine), initial=0.0))

    @property
    def numeric_difference(self):
        return float(np.max(np.abs(self.by_engine - self.numeric), initial=0.0))

    @property
    def passed(self):
        return max(self.formula_difference, self.numeric_difference) <= TOLERANCE


@dataclass
class Step:
    title: str
    formula: str
    values: list = field(default_factory=list)  # (name, array) pairs to show
    check: GradientCheck | None = None
    note: str = ""


@dataclass
class Lesson:
    title: str
    introduction: str
    steps: list

    @property
    def passed(self):
        return all(step.check.passed for step in self.steps if step.check is not None)


def plural(count, noun):
    return f"{count} {noun}" + ("" if count == 1 else "s")


def softmax_rows(scores, mask=True):
    """softmax over the last axis in NumPy (for the finite differences), entries where mask is False left out."""
    scores = np.where(mask, scores, -np.inf)
    exponentials = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def numeric_gradient(function, x, cotangent):
    """dL/dx by central differences, L = sum(function(x) * cotangent), one element of x at a time."""
    x = np.array(x, dtype=np.float64)
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + EPSILON
        above = np.sum(function(x) * cotangent)
        x[index] = original - EPSILON
        below = np.sum(function(x) * cotangent)
        x[index] = original
        gradient[index] = (above - below) / (2 * EPSILON)
    return gradient


def gradient_step(title, formula, name, by_formula, by_engine, function, at, cotangent, note=""):
    """A backward step: `name` by its formula, checked against the engine and against central differences
    of `function` (the rest of the forward pass, from this value on) at `at`."""
    check = GradientCheck(by_formula, by_engine, numeric_gradient(function, at, cotangent))
    return Step(title, formula, [(name, by_formula)], check, note)
