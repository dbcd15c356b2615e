"""gradcheck itself: it must catch a wrong backward, say where, and refuse inputs it cannot judge."""

import numpy as np
import pytest

import tinybert.autograd as ag
from tinybert.autograd import GradcheckError, Tensor, gradcheck
from tinybert.autograd.tensor import make_result


def softmax_with_zero_backward(x):
    """softmax whose backward returns zeros: right for sum(softmax(x)), which is constant, wrong otherwise."""
    out = ag.softmax(x).data
    return make_result(out, "bad_softmax", (x,), lambda grad: (np.zeros_like(grad),))


def test_a_random_cotangent_catches_a_backward_that_a_plain_sum_would_pass():
    x = Tensor(np.random.default_rng(0).standard_normal((2, 4)), requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda x: softmax_with_zero_backward(x).sum(), x)  # the blind spot of sum()
    with pytest.raises(GradcheckError, match=r"gradient of input 0 at index \(\d, \d\): analytic 0, numeric"):
        gradcheck(softmax_with_zero_backward, x)


def test_the_failure_message_names_the_kink_rule():
    x = Tensor([[0.0, 1.0]], requires_grad=True, dtype=np.float64)
    with pytest.raises(GradcheckError, match="kink"):
        gradcheck(ag.relu, x)


def test_gradcheck_needs_float64_inputs_that_require_gradients():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(ag.exp, Tensor([1.0], requires_grad=True))
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck(ag.exp, Tensor([1.0], dtype=np.float64))


def test_compare_gradients_counts_elements_and_reports_the_largest_difference():
    x, w = (Tensor(np.ones(shape), requires_grad=True, dtype=np.float64) for shape in [(2, 3), (3,)])
    comparison = ag.compare_gradients(lambda x, w: x @ w, x, w)
    assert comparison.passed and comparison.elements == 9
    assert 0 <= comparison.max_difference < 1e-8
