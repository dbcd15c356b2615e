"""Adam's flat groups (tinybert/optim/flat.py): one update over every parameter of a group, and the same
numbers as the update parameter by parameter, whatever replaces the arrays in between."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import host, on_device
from strategies import shapes
from tinybert import autograd as ag
from tinybert import nn
from tinybert.autograd import Tensor
from tinybert.optim import Adam, AdamW, clip_grad_norm, optimizers, parameter_groups


def model(seed=0):
    ag.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 3))


def backward(net, seed):
    """A loss of `net` on a batch drawn with `seed`, backpropagated: every parameter gets a gradient."""
    inputs = np.random.default_rng(seed).standard_normal((5, 4))
    (net(Tensor(inputs, dtype=net.parameters()[0].dtype)) ** 2).mean().backward()


def train(net, optimizer, steps, one_by_one=False, max_norm=1.0):
    """`steps` steps of clipping and `optimizer`; one_by_one moves every gradient out of its flat buffer
    first, so that the optimizer updates parameter by parameter."""
    for step in range(steps):
        optimizer.zero_grad()
        backward(net, step)
        if one_by_one:
            for parameter in net.parameters():
                parameter.grad = parameter.grad.copy()
        optimizer.clip_grad_norm(max_norm)
        optimizer.step()


def weights(net):
    return {name: host(parameter.data) for name, parameter in net.named_parameters()}


def assert_same_weights(first, second):
    for name, values in weights(first).items():
        np.testing.assert_array_equal(values, weights(second)[name], err_msg=name)


def test_parameters_become_views_of_one_flat_array_with_their_values_kept():
    net = model()
    before = weights(net)
    optimizer = AdamW(parameter_groups(net, 0.01))
    for group, flat in zip(optimizer.param_groups, optimizer.flat_groups):
        assert sum(parameter.size for parameter in group["params"]) == flat.arrays["data"].size
        assert all(parameter.data.base is not None for parameter in group["params"])
    for name, values in weights(net).items():
        np.testing.assert_array_equal(values, before[name])


def test_the_backward_writes_each_gradient_into_the_flat_gradient():
    net = model()
    optimizer = AdamW(net.parameters())
    backward(net, 0)
    flat = optimizer.flat_groups[0]
    assert all(parameter.grad is flat.views["grad"][index] for index, parameter in enumerate(flat.parameters))
    np.testing.assert_array_equal(host(flat.arrays["grad"]),
                                  np.concatenate([host(parameter.grad).ravel() for parameter in flat.parameters]))


@settings(max_examples=10, deadline=None)
@given(max_norm=st.sampled_from([0.05, 100.0]), weight_decay=st.sampled_from([0.0, 0.1]),
       make=st.sampled_from([Adam, AdamW]))
def test_a_flat_update_gives_the_same_numbers_as_parameter_by_parameter(max_norm, weight_decay, make):
    flat_net, one_by_one_net = model(), model()
    train(flat_net, make(parameter_groups(flat_net, weight_decay), lr=0.01), 3, max_norm=max_norm)
    train(one_by_one_net, make(parameter_groups(one_by_one_net, weight_decay), lr=0.01), 3, one_by_one=True,
          max_norm=max_norm)
    if max_norm > 1:  # never clipped: both multiply by exactly 1, so every bit agrees
        assert_same_weights(flat_net, one_by_one_net)
    else:  # the norm's dot products add in another order: the clipping factor may differ in its last bit
        for name, values in weights(flat_net).items():
            np.testing.assert_allclose(values, weights(one_by_one_net)[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_one_update_call_a_group_and_one_gradient_array_a_group(monkeypatch):
    net = model()
    optimizer = AdamW(parameter_groups(net, 0.01))
    calls = []
    monkeypatch.setattr(optimizers, "adam_update", lambda *args, **kwargs: calls.append(args[0].size))
    backward(net, 0)
    assert [array.size for array in optimizer.gradients()] == [flat.arrays["grad"].size
                                                               for flat in optimizer.flat_groups]
    optimizer.step()
    assert calls == [flat.arrays["data"].size for flat in optimizer.flat_groups]


def test_the_optimizers_clipping_is_clip_grad_norm_of_its_parameters():
    net, other = model(), model()
    optimizer = AdamW(net.parameters())
    AdamW(other.parameters())
    backward(net, 0)
    backward(other, 0)
    norm = optimizer.clip_grad_norm(0.1)
    other_norm = clip_grad_norm(other.parameters(), 0.1)
    np.testing.assert_allclose(float(norm), float(other_norm), rtol=1e-6)
    for parameter, other_parameter in zip(net.parameters(), other.parameters()):
        np.testing.assert_allclose(host(parameter.grad), host(other_parameter.grad), rtol=1e-5, atol=1e-9)


def test_a_parameter_without_gradient_makes_its_group_step_one_by_one_and_stays_as_it_was():
    net = model()
    optimizer = AdamW(net.parameters(), weight_decay=0.1)
    backward(net, 0)
    untouched = net.parameters()[0]
    untouched.grad = None
    before = host(untouched.data).copy()
    optimizer.step()
    np.testing.assert_array_equal(host(untouched.data), before)
    assert untouched not in optimizer.state
    assert all(parameter in optimizer.state for parameter in net.parameters()[1:])


def test_gradients_of_two_backwards_add_up_in_the_flat_gradient():
    net, reference = model(), model()
    optimizer = AdamW(net.parameters())
    backward(net, 0)
    backward(net, 1)
    backward(reference, 0)
    first = [host(parameter.grad).copy() for parameter in reference.parameters()]
    reference.zero_grad()
    backward(reference, 1)
    flat = optimizer.flat_groups[0]
    for index, parameter in enumerate(net.parameters()):
        assert parameter.grad is flat.views["grad"][index]
        np.testing.assert_allclose(host(parameter.grad), first[index] + host(reference.parameters()[index].grad),
                                   rtol=1e-6, atol=1e-7)


def test_a_model_cast_after_the_optimizer_was_made_is_laid_out_again():
    cast_after, cast_before = model(), model().to(np.float64)
    optimizer = AdamW(cast_after.parameters(), lr=0.01)
    cast_after.to(np.float64)  # new arrays: the parameters are no longer views of the float32 group
    reference = AdamW(cast_before.parameters(), lr=0.01)
    backward(cast_after, 0)
    # the float32 flat gradient left behind is no place for a float64 gradient: it would round it
    assert all(parameter.grad.dtype == np.float64 for parameter in cast_after.parameters())
    cast_after.zero_grad()
    train(cast_after, optimizer, 3)
    train(cast_before, reference, 3)
    assert optimizer.flat_groups[0].arrays["data"].dtype == np.float64
    assert all(parameter.data is optimizer.flat_groups[0].views["data"][index]
               for index, parameter in enumerate(cast_after.parameters()))
    assert_same_weights(cast_after, cast_before)


def test_a_group_that_can_no_longer_be_flat_leaves_no_buffer_behind():
    net = model()
    optimizer = AdamW(net.parameters(), lr=0.01)
    net.parameters()[0].data = net.parameters()[0].data.astype(np.float64)  # one dtype no longer
    net.parameters()[0].grad = net.parameters()[0].xp.zeros(net.parameters()[0].shape)
    optimizer.step()
    assert optimizer.flat_groups[0] is None
    assert all(parameter.grad_buffer is None for parameter in net.parameters())


def test_a_run_resumed_from_state_dicts_goes_on_exactly_as_the_run_that_never_stopped():
    net, resumed_net = model(), model(seed=1)
    optimizer = AdamW(parameter_groups(net, 0.01), lr=0.01)
    train(net, optimizer, 2)
    resumed_net.load_state_dict(net.state_dict())
    resumed = AdamW(parameter_groups(resumed_net, 0.01), lr=0.01)
    resumed.load_state_dict(optimizer.state_dict())  # new arrays in its state: the groups are laid out again
    for step in (2, 3):
        for each_net, each_optimizer in ((net, optimizer), (resumed_net, resumed)):
            each_optimizer.zero_grad()
            backward(each_net, step)
            each_optimizer.clip_grad_norm(1.0)
            each_optimizer.step()
    assert_same_weights(net, resumed_net)
    assert all(flat.intact(resumed.state) for flat in resumed.flat_groups)


@given(parameter_shapes=st.lists(shapes(min_dims=1), min_size=1, max_size=5))
def test_any_shapes_fit_one_flat_array_each_at_its_own_stretch(parameter_shapes):
    generator = np.random.default_rng(0)
    parameters = [nn.Parameter(generator.standard_normal(shape)) for shape in parameter_shapes]
    before = [host(parameter.data).copy() for parameter in parameters]
    flat = AdamW(parameters).flat_groups[0]
    for index, parameter in enumerate(parameters):
        np.testing.assert_array_equal(host(parameter.data), before[index])
        parameter.grad = parameter.grad_buffer
        parameter.grad[...] = on_device(np.full(parameter.shape, index, dtype=np.float32))
    np.testing.assert_array_equal(host(flat.arrays["data"]), np.concatenate([values.ravel() for values in before]))
    np.testing.assert_array_equal(host(flat.arrays["grad"]),
                                  np.repeat(np.arange(len(parameters)), [parameter.size for parameter in parameters]))
