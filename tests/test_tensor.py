"""The Tensor and backward(): accumulation, repeated backward, no_grad, deep graphs, dtypes."""

import numpy as np
import pytest

import tinybert.autograd as ag
from devices import host
from tinybert.autograd import DTypeError, GradientError, Tensor, gradcheck, no_grad


def float64(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True, dtype=np.float64)


def test_a_tensor_used_twice_gets_both_gradients():
    a = Tensor([1.0, -2.0], requires_grad=True)
    b = a + a
    c = b + b
    c.sum().backward()
    np.testing.assert_array_equal(host(a.grad), [4.0, 4.0])


def test_x_times_x_matches_finite_differences():
    x = float64(3, 2)
    assert gradcheck(lambda x: x * x, x)
    np.testing.assert_allclose(host(x.grad), 2 * host(x.data) * np.random.default_rng(0).standard_normal((3, 2)))


def test_a_weight_used_in_two_places_matches_finite_differences():
    weight, x = float64(3, 3, seed=1), float64(2, 3, seed=2)
    assert gradcheck(lambda weight, x: ((x @ weight).tanh() @ weight).sum(axis=0), weight, x)


def test_a_second_backward_adds_the_same_gradient_again_until_zero_grad():
    x = float64(4)
    loss = (x * x).sum()
    loss.backward()
    first = host(x.grad)
    loss.backward()
    np.testing.assert_allclose(host(x.grad), 2 * first)
    x.zero_grad()
    loss.backward()
    np.testing.assert_allclose(host(x.grad), first)


def test_a_broadcast_bias_gets_the_gradient_summed_back_to_its_shape():
    activations, bias = float64(2, 3, 4), float64(4, seed=3)
    (activations + bias).sum().backward()
    assert bias.grad.shape == (4,)
    np.testing.assert_allclose(host(bias.grad), np.full(4, 6.0))


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = float64(2, 3)
    with pytest.raises(GradientError, match=r"shape \(2, 3\) needs a gradient"):
        (x * 2).backward()


def test_backward_rejects_a_gradient_of_the_wrong_shape():
    x = float64(2, 3)
    with pytest.raises(GradientError, match="gradient of shape"):
        (x * 2).backward(np.ones((3, 2)))


def test_backward_on_a_tensor_without_history_is_a_clear_error():
    with pytest.raises(GradientError, match="requires_grad=True"):
        Tensor([1.0, 2.0]).sum().backward()


def test_no_grad_builds_no_graph_and_restores_grad_mode_after_an_error():
    x = float64(3)
    with no_grad():
        y = (x * 2).exp().sum()
    assert (y.requires_grad, y.parents, y.backward_fn) == (False, (), None)
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            raise ZeroDivisionError
    assert ag.is_grad_enabled()
    assert (x * 2).parents[0] is x


def test_nested_no_grad_restores_the_outer_mode():
    with no_grad():
        with no_grad():
            pass
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()


def test_detach_stops_the_gradient():
    x = float64(3)
    (x.detach() * x).sum().backward()
    np.testing.assert_allclose(host(x.grad), host(x.data))


def test_a_chain_of_ten_thousand_ops_back_propagates():
    x = Tensor([1.0], requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), [1.0001 ** 10_000], rtol=1e-9)


def test_each_result_knows_its_op_and_parents():
    a, b = float64(2, 3), float64(3, 4)
    product = a @ b
    assert product.op == "matmul" and product.parents == (a, b)
    assert ag.softmax(product).op == "softmax"
    assert a.op == "leaf" and a.is_leaf


def test_retain_grad_keeps_an_intermediate_gradient():
    x = float64(3)
    middle = (x * 3).retain_grad()
    (middle * middle).sum().backward()
    np.testing.assert_allclose(host(middle.grad), 2 * host(middle.data))


def test_python_and_numpy_floats_become_float32_and_integers_stay_integers():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.zeros(3)).dtype == np.float32
    assert Tensor(np.zeros(3), dtype=np.float64).dtype == np.float64
    assert Tensor([1, 2]).dtype.kind == "i"


def test_scalars_of_any_float_type_keep_a_float32_tensor_float32():
    x = Tensor([1.0, 2.0])
    for result in (x * 0.5, 0.5 * x, x * np.float64(0.5), np.float64(2.0) - x, x / 3, x.exp() * np.float64(1.5), x ** 2.5):
        assert result.dtype == np.float32


def test_mixing_float32_and_float64_tensors_is_a_clear_error():
    with pytest.raises(DTypeError, match="float32 and float64"):
        Tensor([1.0]) + Tensor([1.0], dtype=np.float64)
    with pytest.raises(DTypeError, match="layer_norm got float32 and float64"):
        ag.layer_norm(Tensor(np.ones((2, 3))), Tensor(np.ones(3), dtype=np.float64))


def test_integer_tensors_divide_into_float32_and_refuse_pow():
    assert (Tensor([1, 2]) / 2).dtype == np.float32
    assert (Tensor([1, 2]) / Tensor([2, 4])).dtype == np.float32
    assert (Tensor([1, 2]) * Tensor([0.5, 0.5])).dtype == np.float32
    with pytest.raises(TypeError, match=r"convert it first with \.to\(np\.float32\)"):
        Tensor([4, 9]) ** 0.5


def test_where_takes_two_numbers():
    np.testing.assert_array_equal(ag.where(np.array([True, False]), 0.0, 1.0).numpy(), [0.0, 1.0])


def test_a_numpy_array_on_the_left_gives_a_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    result = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(result, Tensor)
    result.sum().backward()
    np.testing.assert_array_equal(host(x.grad), [3.0, 4.0])


def test_pow_with_a_negative_base_and_an_integer_exponent():
    x = Tensor([-2.0, -0.5, 3.0], requires_grad=True, dtype=np.float64)
    y = x ** 3
    y.sum().backward()
    np.testing.assert_allclose(host(y.data), [-8.0, -0.125, 27.0])
    np.testing.assert_allclose(host(x.grad), 3 * host(x.data) ** 2)
    assert np.all(np.isfinite((x ** -2).numpy()))


def test_to_another_dtype_sends_the_gradient_back_in_the_original_dtype():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x.to(np.float64) * 3).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(host(x.grad), [3.0, 3.0])


def test_shape_methods_take_a_tuple_a_list_or_separate_numbers():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    for shape in [((3, 2),), ([3, 2],), (3, 2)]:
        assert x.reshape(*shape).shape == (3, 2)
    assert x.permute((1, 0)).shape == x.permute(1, 0).shape == (3, 2)
    assert x.sum(axis=np.int64(1)).shape == (2,)


def test_max_ties_share_the_gradient_equally():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])


def test_a_cast_to_an_integer_dtype_has_no_gradient():
    ids = Tensor([1.7, 2.2], requires_grad=True).to(np.int64)
    assert ids.dtype == np.int64 and not ids.requires_grad


def test_item_numpy_and_shape_properties():
    x = Tensor([[1.5, 2.0, 3.0]])
    assert (x.shape, x.ndim, x.size, x.device) == ((1, 3), 2, 3, ag.default_device())
    assert x[0, 1].item() == 2.0
    assert isinstance(x.numpy(), np.ndarray)
    with pytest.raises(ValueError, match="one element"):
        x.item()


def test_only_floating_tensors_can_require_gradients():
    with pytest.raises(GradientError, match="floating"):
        Tensor([1, 2], requires_grad=True)


def test_repr_names_dtype_and_op():
    text = repr(Tensor([1.0, 2.0], requires_grad=True) * 2)
    assert "dtype=float32" in text and "op='mul'" in text
