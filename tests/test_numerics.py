"""Inputs a learner's run can reach: huge logits, saturated activations, float32's own precision."""

import math

import numpy as np
import pytest

from devices import host
import tinybert.autograd as ag
from tinybert.autograd import Tensor
from tinybert.autograd.erf import normal_cdf

HUGE = np.array([[-1e4, -30.0, 0.0, 30.0, 1e4]])

SATURATING_OPS = {
    "sigmoid": ag.sigmoid,
    "tanh": ag.tanh,
    "gelu": ag.gelu,
    "gelu tanh": lambda x: ag.gelu(x, approximate="tanh"),
    "softmax": ag.softmax,
    "log_softmax": ag.log_softmax,
    "layer_norm": ag.layer_norm,
    "cross_entropy": lambda x: ag.cross_entropy(x, np.array([4])),
    "cross_entropy to the smallest logit": lambda x: ag.cross_entropy(x, np.array([0])),
    "binary_cross_entropy_with_logits": lambda x: ag.binary_cross_entropy_with_logits(x, np.ones_like(HUGE)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SATURATING_OPS)
def test_inputs_of_magnitude_1e4_give_finite_values_and_gradients(name, dtype):
    x = Tensor(HUGE, requires_grad=True, dtype=dtype)
    out = SATURATING_OPS[name](x)
    out.backward(np.ones(out.shape))
    assert np.all(np.isfinite(out.numpy())), out
    assert np.all(np.isfinite(x.grad)), x.grad


def test_sigmoid_and_log_softmax_keep_their_limits_exactly():
    x = Tensor(HUGE, dtype=np.float64)
    np.testing.assert_array_equal(ag.sigmoid(x).numpy()[0, [0, 4]], [0.0, 1.0])
    assert ag.log_softmax(x).numpy()[0, 0] == -2e4


def test_float32_normal_cdf_is_within_float32_rounding_of_the_exact_one():
    grid = np.linspace(-8, 8, 20_001).astype(np.float32)
    exact = np.array([(1 + math.erf(value / math.sqrt(2))) / 2 for value in grid.astype(np.float64)])
    assert np.abs(normal_cdf(grid) - exact).max() < 3e-7  # the formula's 1.5e-7, plus float32's rounding


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normal_cdf_has_its_known_values_and_symmetry(dtype):
    points = np.array([0.0, 0.5, 1.0, 2.0, 5.0], dtype=dtype)
    known = [0.5, 0.6914624612740131, 0.8413447460685429, 0.9772498680518208, 0.9999997133484281]
    tolerance = 3e-7 if dtype == np.float32 else 1e-15
    np.testing.assert_allclose(normal_cdf(points), known, atol=tolerance)
    np.testing.assert_allclose(normal_cdf(-points), 1 - normal_cdf(points), atol=tolerance)


def test_sigmoid_keeps_its_relative_accuracy_far_into_the_negative_tail():
    x = np.array([-30.0, -17.0, -5.0, 0.0, 5.0], dtype=np.float32)
    exact = 1 / (1 + np.exp(-x.astype(np.float64)))
    np.testing.assert_allclose(ag.sigmoid(Tensor(x)).numpy(), exact, rtol=1e-6)
    loss = ag.binary_cross_entropy(ag.sigmoid(Tensor([-20.0])), Tensor([1.0]))
    np.testing.assert_allclose(loss.item(), 20.0, rtol=1e-6)


def test_float32_gelu_and_its_gradient_agree_with_the_float64_ones():
    # 200,000 points: the float32 GELU works in blocks of 64K, so this crosses block boundaries;
    # the transpose makes the input non-contiguous, as a permuted activation would be
    grid = np.linspace(-8, 8, 200_000).reshape(400, 500).T
    results = {}
    for dtype in (np.float32, np.float64):
        x = Tensor(grid, requires_grad=True, dtype=dtype)
        out = ag.gelu(x)
        out.backward(np.ones(out.shape))
        results[dtype] = out.numpy(), host(x.grad)
    np.testing.assert_allclose(results[np.float32][0], results[np.float64][0], atol=2e-6)
    np.testing.assert_allclose(results[np.float32][1], results[np.float64][1], atol=2e-6)


def test_binary_cross_entropy_of_certain_wrong_answers_is_large_but_finite():
    loss = ag.binary_cross_entropy(Tensor([0.0, 1.0], requires_grad=True), Tensor([1.0, 0.0]), reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [100.0, 100.0])


def test_normal_cdf_keeps_the_shape_of_a_zero_dimensional_array():
    assert normal_cdf(np.array(0.0, dtype=np.float32)).shape == ()
    assert abs(float(normal_cdf(np.array(0.5, dtype=np.float32))) - 0.6914624612740131) < 3e-7


def test_linear_of_an_integer_input_stays_in_the_weights_float32():
    weight = Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    out = ag.linear(Tensor(np.array([[1, 2, 3]])), weight, Tensor(np.zeros(2, dtype=np.float32)))
    out.sum().backward()
    assert out.dtype == np.float32 and weight.grad.dtype == np.float32


def test_a_softmax_mask_wider_than_its_input_is_refused_in_the_forward():
    with pytest.raises(ValueError, match=r"mask of shape \(2, 1, 3, 3\) does not broadcast to the input's shape \(3, 3\)"):
        ag.softmax(Tensor(np.ones((3, 3))), mask=np.ones((2, 1, 3, 3), dtype=bool))
