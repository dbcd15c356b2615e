"""The optimizers, schedules and clipping against their closed forms, written out here in NumPy."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import host, on_device
from strategies import arrays, shapes
from tinybert import nn
from tinybert.autograd import Tensor, mse_loss
from tinybert.optim import (SGD, Adam, AdamW, LRScheduler, clip_grad_norm, inverse_square_root, linear_warmup_decay,
                            parameter_groups)
from tinybert.optim.clipping import CLIP_EPS

learning_rates = st.floats(1e-4, 1.0)
momenta = st.floats(0.0, 0.99)
betas = st.tuples(st.floats(0.0, 0.99), st.floats(0.0, 0.999))
epsilons = st.floats(1e-10, 1e-4)
weight_decays = st.floats(0.0, 0.5)


@st.composite
def same_shape_arrays(draw, count):
    """`count` float64 arrays of one drawn shape: a parameter's starting values and its gradients."""
    shape = draw(shapes(min_dims=1))
    return [draw(arrays(shape)) for _ in range(count)]


def parameter(values, grad=None):
    """A float64 parameter holding a copy of `values`, with `grad` as if backward had left it there."""
    result = nn.Parameter(np.array(values), dtype=np.float64)
    result.grad = None if grad is None else on_device(grad, dtype=np.float64)
    return result


def assert_close(actual, expected):
    np.testing.assert_allclose(host(actual), expected, rtol=1e-10, atol=1e-12)


# ---- the updates, one closed form each --------------------------------------------------------------

@given(values=same_shape_arrays(2), lr=learning_rates, betas=betas, eps=epsilons, weight_decay=weight_decays)
def test_one_adamw_step_is_decay_then_lr_times_g_over_abs_g(values, lr, betas, eps, weight_decay):
    start, grad = values
    weight = parameter(start, grad)
    AdamW([weight], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay).step()
    # after one step the bias-corrected averages are m_hat = g and v_hat = g^2, whatever the betas
    assert_close(weight.data, start * (1 - lr * weight_decay) - lr * grad / (np.abs(grad) + eps))


@given(values=same_shape_arrays(2), lr=learning_rates, betas=betas, eps=epsilons, weight_decay=weight_decays)
def test_one_adam_step_adds_l2_to_the_gradient_before_scaling(values, lr, betas, eps, weight_decay):
    start, grad = values
    weight = parameter(start, grad)
    Adam([weight], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay).step()
    l2_grad = grad + weight_decay * start
    assert_close(weight.data, start - lr * l2_grad / (np.abs(l2_grad) + eps))


def test_adam_l2_and_adamw_decay_differ_where_the_gradient_is_zero():
    start = np.array([-2.0, 0.5, 3.0])
    adam_weight, adamw_weight = parameter(start, np.zeros(3)), parameter(start, np.zeros(3))
    Adam([adam_weight], lr=0.1, weight_decay=0.01).step()
    AdamW([adamw_weight], lr=0.1, weight_decay=0.01).step()
    # Adam divides the L2 term by its own size: every weight moves a whole lr toward 0 (up to eps), however small
    np.testing.assert_allclose(host(adam_weight.data), start - 0.1 * np.sign(start), rtol=1e-5)
    # AdamW shrinks every weight by the same factor 1 - lr * wd
    assert_close(adamw_weight.data, start * (1 - 0.1 * 0.01))


@given(values=same_shape_arrays(3), lr=learning_rates, betas=betas)
def test_adam_and_adamw_agree_without_weight_decay(values, lr, betas):
    start, first_grad, second_grad = values
    adam_weight, adamw_weight = parameter(start), parameter(start)
    adam = Adam([adam_weight], lr=lr, betas=betas)
    adamw = AdamW([adamw_weight], lr=lr, betas=betas, weight_decay=0.0)
    for grad in (first_grad, second_grad):
        adam_weight.grad, adamw_weight.grad = on_device(grad), on_device(grad)
        adam.step()
        adamw.step()
    np.testing.assert_array_equal(host(adam_weight.data), host(adamw_weight.data))


@given(values=same_shape_arrays(3), lr=learning_rates, momentum=momenta)
def test_two_sgd_momentum_steps_add_the_first_gradient_twice(values, lr, momentum):
    start, first_grad, second_grad = values
    weight = parameter(start)
    optimizer = SGD([weight], lr=lr, momentum=momentum)
    for grad in (first_grad, second_grad):
        weight.grad = on_device(grad)
        optimizer.step()
    # v1 = g1, v2 = mu g1 + g2: p2 = p0 - lr v1 - lr v2
    assert_close(weight.data, start - lr * ((1 + momentum) * first_grad + second_grad))


@given(values=same_shape_arrays(2), lr=learning_rates, weight_decay=weight_decays)
def test_sgd_weight_decay_is_l2_in_the_gradient(values, lr, weight_decay):
    start, grad = values
    weight = parameter(start, grad)
    SGD([weight], lr=lr, momentum=0.9, weight_decay=weight_decay).step()
    assert_close(weight.data, start - lr * (grad + weight_decay * start))


# ---- what every optimizer does -----------------------------------------------------------------------

OPTIMIZERS = {
    "SGD": lambda params: SGD(params, lr=0.1, momentum=0.9),
    "Adam": lambda params: Adam(params, lr=0.05),
    "AdamW": lambda params: AdamW(params, lr=0.05, weight_decay=1e-4),
}


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_an_optimizer_fits_a_linear_layer_to_a_linear_target(make_optimizer):
    generator = np.random.default_rng(0)
    inputs = generator.standard_normal((64, 3)).astype(np.float32)
    targets = inputs @ generator.standard_normal((3, 2)).astype(np.float32) + np.float32(0.5)
    layer = nn.Linear(3, 2)
    optimizer = make_optimizer(layer.parameters())
    losses = []
    for _ in range(300):
        optimizer.zero_grad()
        loss = mse_loss(layer(Tensor(inputs)), Tensor(targets))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-3 * losses[0]


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_float32_parameters_and_state_stay_float32(make_optimizer):
    weight = nn.Parameter(np.ones((2, 3), dtype=np.float32))
    optimizer = make_optimizer([weight])
    optimizer.param_groups[0]["lr"] = np.float64(0.01)  # as a careless schedule might set it
    for _ in range(3):
        weight.grad = on_device(np.full((2, 3), 0.5, dtype=np.float32))
        optimizer.step()
    assert weight.dtype == np.float32
    buffers = [value for value in optimizer.state[weight].values() if hasattr(value, "dtype")]  # not the step count
    assert buffers and all(buffer.dtype == np.float32 for buffer in buffers)


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_a_state_dict_is_a_snapshot_that_later_steps_leave_alone(make_optimizer):
    weight = parameter([1.0, 2.0], [0.5, -0.5])
    optimizer = make_optimizer([weight])
    optimizer.step()
    saved = optimizer.state_dict()
    kept = {name: array.copy() for name, array in saved.items()}
    optimizer.step()  # the optimizer updates its buffers in place
    assert saved and all(np.array_equal(saved[name], kept[name]) for name in saved)
    assert any(not np.array_equal(array, kept[name]) for name, array in optimizer.state_dict().items())


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_step_leaves_a_parameter_without_gradient_alone(make_optimizer):
    with_grad, without_grad = parameter([1.0, 2.0], [0.5, 0.5]), parameter([1.0, 2.0])
    optimizer = make_optimizer([with_grad, without_grad])
    optimizer.step()
    np.testing.assert_array_equal(host(without_grad.data), [1.0, 2.0])
    assert without_grad not in optimizer.state
    assert not np.array_equal(host(with_grad.data), [1.0, 2.0])


def test_zero_grad_clears_every_gradient():
    weights = [parameter([1.0], [2.0]), parameter([3.0], [4.0])]
    optimizer = SGD([{"params": weights[:1]}, {"params": weights[1:]}], lr=0.1)
    optimizer.zero_grad()
    assert [weight.grad for weight in weights] == [None, None]


def test_a_group_overrides_the_optimizers_defaults():
    slow, fast = parameter([1.0], [1.0]), parameter([1.0], [1.0])
    SGD([{"params": [slow]}, {"params": [fast], "lr": 0.5}], lr=0.1).step()
    assert_close(slow.data, [0.9])
    assert_close(fast.data, [0.5])


# ---- parameter groups ------------------------------------------------------------------------------

def small_model():
    return nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))


def test_biases_and_layer_norm_weights_are_in_the_no_decay_group():
    decay, no_decay = parameter_groups(small_model(), weight_decay=0.01)
    assert decay["names"] == ["0.weight", "2.weight"]
    assert no_decay["names"] == ["0.bias", "1.weight", "1.bias", "2.bias"]
    assert (decay["weight_decay"], no_decay["weight_decay"]) == (0.01, 0.0)


def test_adamw_on_parameter_groups_shrinks_only_the_linear_weights():
    model = small_model()
    before = model.state_dict()
    for weight in model.parameters():
        weight.grad = weight.xp.zeros_like(weight.data)  # no gradient: only the decay can move a weight
    AdamW(parameter_groups(model, weight_decay=0.1), lr=0.5).step()
    changed = [name for name, values in model.state_dict().items() if not np.array_equal(values, before[name])]
    assert changed == ["0.weight", "2.weight"]


# ---- schedules -------------------------------------------------------------------------------------

def test_linear_warmup_decay_at_its_landmarks():
    multiplier = lambda step: linear_warmup_decay(step, warmup_steps=10, total_steps=110)  # noqa: E731
    assert multiplier(0) == 0.0  # warmup starts from nothing
    assert multiplier(5) == 0.5
    assert multiplier(10) == 1.0  # the peak, at the end of warmup
    assert multiplier(60) == 0.5
    assert multiplier(110) == 0.0  # the end of training
    assert multiplier(200) == 0.0  # and it stays there


@given(warmup_steps=st.integers(0, 50), decay_steps=st.integers(1, 50))
def test_linear_warmup_decay_rises_to_one_then_falls_to_zero(warmup_steps, decay_steps):
    total_steps = warmup_steps + decay_steps
    values = [linear_warmup_decay(step, warmup_steps, total_steps) for step in range(total_steps + 1)]
    assert values[warmup_steps] == 1.0 and values[total_steps] == 0.0
    assert values[:warmup_steps + 1] == sorted(values[:warmup_steps + 1])
    assert values[warmup_steps:] == sorted(values[warmup_steps:], reverse=True)


@given(d_model=st.sampled_from([64, 512]), warmup_steps=st.integers(1, 4000), factor=st.floats(0.5, 2.0))
def test_inverse_square_root_peaks_at_the_end_of_warmup(d_model, warmup_steps, factor):
    rate = lambda step: inverse_square_root(step, d_model, warmup_steps, factor)  # noqa: E731
    peak = factor / np.sqrt(d_model) / np.sqrt(warmup_steps)
    assert rate(warmup_steps) == pytest.approx(peak, rel=1e-12)
    assert max(rate(warmup_steps - 1), rate(warmup_steps + 1)) <= rate(warmup_steps)
    assert rate(4 * warmup_steps) == pytest.approx(peak / 2, rel=1e-12)  # 1 / sqrt(step) after the peak
    assert rate(0) == rate(1) == pytest.approx(peak / warmup_steps, rel=1e-12)  # step 0 counts as step 1


def test_the_scheduler_sets_each_groups_lr_from_its_own_start():
    optimizer = SGD([{"params": [parameter([0.0])]}, {"params": [parameter([0.0])], "lr": 0.01}], lr=0.1)
    scheduler = LRScheduler(optimizer, lambda step: 0.5 ** step)
    lrs = [[group["lr"] for group in optimizer.param_groups]]
    for _ in range(2):
        scheduler.step()
        lrs.append([group["lr"] for group in optimizer.param_groups])
    np.testing.assert_allclose(lrs, [[0.1, 0.01], [0.05, 0.005], [0.025, 0.0025]], rtol=1e-15)


def test_the_first_optimizer_step_uses_the_schedules_step_zero():
    weight = parameter([1.0], [1.0])
    optimizer = SGD([weight], lr=0.1)
    LRScheduler(optimizer, lambda step: linear_warmup_decay(step, warmup_steps=2, total_steps=4))
    optimizer.step()
    assert_close(weight.data, [1.0])  # warmup starts at 0: the first step does not move


# ---- clipping --------------------------------------------------------------------------------------

@given(data=st.data(), max_norm=st.floats(0.1, 10.0))
def test_clipping_bounds_the_global_norm_and_keeps_the_direction(data, max_norm):
    grads = [data.draw(arrays(shape)) for shape in data.draw(st.lists(shapes(), min_size=1, max_size=3))]
    weights = [parameter(np.zeros(grad.shape), grad) for grad in grads]
    norm_before = np.sqrt(sum(np.sum(grad ** 2) for grad in grads))
    returned = clip_grad_norm(weights, max_norm)
    assert float(returned) == pytest.approx(norm_before, rel=1e-12)
    norm_after = np.sqrt(sum(np.sum(host(weight.grad) ** 2) for weight in weights))
    assert norm_after <= max_norm
    if norm_before + CLIP_EPS <= max_norm:  # multiplied by exactly 1: unchanged
        assert all(np.array_equal(host(weight.grad), grad) for weight, grad in zip(weights, grads))
    else:
        for weight, grad in zip(weights, grads):
            # atol: a subnormal gradient (5e-324) may round to 0 or to itself, scaled in another order
            np.testing.assert_allclose(host(weight.grad), grad * max_norm / norm_before, rtol=1e-5, atol=1e-300)


def test_clipping_zero_gradients_gives_zero_not_nan():
    weight = parameter([1.0, 2.0], [0.0, 0.0])
    assert float(clip_grad_norm([weight, parameter([3.0])], max_norm=1.0)) == 0.0
    np.testing.assert_array_equal(host(weight.grad), [0.0, 0.0])


def test_clipping_keeps_float32_gradients_float32():
    weight = nn.Parameter(np.ones(3, dtype=np.float32))
    weight.grad = on_device(np.full(3, 10.0, dtype=np.float32))
    clip_grad_norm([weight], max_norm=1.0)
    assert weight.grad.dtype == np.float32


@pytest.mark.parametrize("grad_value", [10.0, 0.01])  # clipped, and left as it is
def test_clipping_and_an_adamw_step_never_make_the_host_wait_for_the_device(pretend_gpu, grad_value):
    weights = [nn.Parameter(np.ones(shape, dtype=np.float32), device="cuda") for shape in [(4, 3), (3,)]]
    for weight in weights:
        weight.grad = pretend_gpu.cupy.full(weight.shape, grad_value, dtype=np.float32)
    optimizer = AdamW(weights, lr=0.1)
    reads_before = pretend_gpu.DeviceArray.host_reads
    norm = clip_grad_norm(weights, max_norm=1.0)
    optimizer.step()
    assert pretend_gpu.DeviceArray.host_reads == reads_before  # no float(), bool() or .get() on the way
    assert float(norm) == pytest.approx(grad_value * np.sqrt(15), rel=1e-6)
    assert pretend_gpu.DeviceArray.host_reads == reads_before + 1  # the counter does count a read


# ---- bad arguments ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda: AdamW([parameter([1.0])], lr=-1e-3), r"lr=-0\.001 is negative: lr must be 0 or more"),
    (lambda: Adam([parameter([1.0])], betas=(0.9, 1.0)), r"betas=\(0\.9, 1\.0\) must be two decay rates in \[0, 1\)"),
    (lambda: SGD([parameter([1.0])], lr=0.1, momentum=1.5), r"momentum=1\.5 is outside \[0, 1\)"),
    (lambda: AdamW([{"params": [parameter([1.0])], "weight_decy": 0.1}]),
     r"unknown key 'weight_decy' in a parameter group of AdamW: use params, names, lr"),
    (lambda: AdamW([]), "got no parameters: pass model.parameters()"),
    (lambda: SGD([small_model()], lr=0.1), "got a Sequential where a Parameter belongs: pass model.parameters()"),
    (lambda weight=parameter([1.0]): SGD([{"params": [weight]}, {"params": [weight]}], lr=0.1),
     "SGD got a parameter twice: give each parameter to one group"),
    (lambda: SGD(parameter([1.0, 2.0]), lr=0.1), r"got one tensor, not a list of them: pass \[weight\]"),
    (lambda: SGD([parameter([1.0]) * 2], lr=0.1), "got a Tensor where a Parameter belongs"),
    (lambda: linear_warmup_decay(0, warmup_steps=20, total_steps=10),
     r"warmup_steps=20 must lie in 0\.\.total_steps=10"),
    (lambda: inverse_square_root(1, d_model=512, warmup_steps=0), "warmup_steps=0 must be positive"),
    (lambda: clip_grad_norm([parameter([1.0], [1.0])], max_norm=0.0), "max_norm=0.0 must be positive"),
])
def test_a_bad_argument_is_one_clear_error(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()

