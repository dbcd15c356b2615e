"""The Module base and the basic layers: names, state dicts, modes, initialisation, gradients."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import host, on_device
from strategies import arrays, away_from_zero
from tinybert import autograd as ag
from tinybert.autograd import Tensor, gradcheck
from tinybert.nn import (GELU, Dropout, Embedding, FeedForward, LayerNorm, Linear, Module, ModuleList, Parameter,
                         Sequential, StateDictError, initial_weight)


class Block(Module):
    def __init__(self):
        self.attn = Sequential(Linear(4, 4), LayerNorm(4))
        self.layers = ModuleList([Linear(4, 4, bias=False) for _ in range(2)])
        self.scale = Parameter(np.ones(4, dtype=np.float32))


def test_parameters_have_stable_dotted_names_own_first_then_each_child_in_order():
    assert [name for name, _ in Block().named_parameters()] == [  # the order PyTorch gives too
        "scale", "attn.0.weight", "attn.0.bias", "attn.1.weight", "attn.1.bias",
        "layers.0.weight", "layers.1.weight"]


def test_a_shared_parameter_is_listed_once_under_its_first_name():
    model = Sequential(Embedding(5, 3), Linear(3, 5))
    model[1].weight = model[0].weight  # not a tied shape, but the same object twice
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "1.bias"]


def test_state_dict_round_trip_copies_values_in_place():
    source, target = Block(), Block()
    target.load_state_dict(source.state_dict())
    for (name, mine), (_, theirs) in zip(target.named_parameters(), source.named_parameters()):
        np.testing.assert_array_equal(host(mine.data), host(theirs.data), err_msg=name)
    state = source.state_dict()
    state["scale"][:] = 7.0
    assert host(source.scale.data)[0] == 1.0  # the state dict holds copies


def test_a_strict_state_dict_names_the_missing_the_unexpected_and_the_misshapen_entry():
    state = Block().state_dict()
    model = Block()
    with pytest.raises(StateDictError, match="no entry 'scale'"):
        model.load_state_dict({name: value for name, value in state.items() if name != "scale"})
    with pytest.raises(StateDictError, match="entry 'extra.weight' that Block does not have"):
        model.load_state_dict({**state, "extra.weight": np.zeros(2)})
    with pytest.raises(StateDictError, match=r"entry 'scale' has shape \(5,\), but the model's parameter has shape \(4,\)"):
        model.load_state_dict({**state, "scale": np.zeros(5)})
    model.load_state_dict({"scale": np.full(4, 2.0), "extra": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(host(model.scale.data), np.full(4, 2.0))


def test_train_and_eval_reach_every_module_and_switch_dropout():
    model = Sequential(Linear(3, 3), Dropout(0.5))
    x = Tensor(np.ones((8, 3)))
    assert model.eval() is model and not model[1].training
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    model.train()
    assert all(module.training for _, module in model.named_modules())
    assert (model[1](x).numpy() == 0).any()


def test_zero_grad_clears_every_parameter():
    model = Block()
    (model.attn(Tensor(np.ones((2, 4)))).sum() + model.scale.sum()).backward()
    assert all(parameter.grad is not None for parameter in [model.attn[0].weight, model.scale])
    model.zero_grad()
    assert all(parameter.grad is None for parameter in model.parameters())


def test_module_list_indexes_iterates_and_counts():
    layers = ModuleList([Linear(2, 2), Linear(2, 3)])
    assert len(layers) == 2 and layers[-1].weight.shape == (2, 3)
    assert [layer.weight.shape[1] for layer in layers] == [2, 3]


def test_to_float64_casts_every_parameter_in_place():
    model = Block()
    scale = model.scale
    model.to(np.float64)
    assert model.scale is scale and all(parameter.dtype == np.float64 for parameter in model.parameters())


def test_bert_initialisation_is_normal_with_std_0_02_and_zero_biases():
    layer = Linear(256, 512)
    assert abs(layer.weight.data.std() - 0.02) < 0.001 and abs(layer.weight.data.mean()) < 0.001
    assert not layer.bias.data.any()


def test_xavier_initialisation_stays_within_its_bound_and_fills_it():
    weight = initial_weight((300, 200), "xavier")
    limit = np.sqrt(6 / 500)
    assert np.abs(weight).max() <= limit and np.abs(weight).max() > 0.99 * limit
    assert abs(weight.var() - limit ** 2 / 3) < 0.05 * limit ** 2 / 3


def test_initialisation_repeats_after_manual_seed_and_names_an_unknown_scheme():
    ag.manual_seed(3)
    first = Linear(4, 4).weight.numpy()
    ag.manual_seed(3)
    np.testing.assert_array_equal(Linear(4, 4).weight.numpy(), first)
    with pytest.raises(ValueError, match="unknown initialisation 'he'"):
        Linear(2, 2, init="he")


def check_layer(layer, x):
    """Finite differences against the layer's gradients for its input and every parameter: the
    parameters themselves are passed to gradcheck, which perturbs them in place."""
    layer.to(np.float64).eval()
    return gradcheck(lambda x, *parameters: layer(x), x, *layer.parameters())


LAYERS = {
    "linear": lambda width: Linear(width, 3),
    "linear without bias, xavier": lambda width: Linear(width, 2, bias=False, init="xavier"),
    "layer norm": lambda width: LayerNorm(width),
    "feed-forward, gelu": lambda width: FeedForward(width, 5),
    "feed-forward, relu": lambda width: FeedForward(width, 5, activation="relu"),
    "gelu, tanh form": lambda width: GELU(approximate="tanh"),
    "dropout (in eval, the identity)": lambda width: Dropout(0.5),
}


@pytest.mark.parametrize("name", LAYERS)
@given(data=st.data())
def test_layer_gradients_match_finite_differences(name, data):
    ag.manual_seed(data.draw(st.integers(0, 2**16), label="seed"))
    width = data.draw(st.integers(2, 4), label="width")
    leading = data.draw(st.sampled_from([(3,), (2, 3), (1, 2, 2)]), label="leading shape")
    layer = LAYERS[name](width)
    for parameter in layer.parameters():  # off the zeros and ones they start from: no relu kink at a zero bias
        parameter.data += on_device(data.draw(arrays(parameter.shape, away_from_zero(0.05, 0.5)), label="offset"),
                                    dtype=np.float32)
    x = Tensor(data.draw(arrays(leading + (width,)), label="x"), requires_grad=True, dtype=np.float64)
    assert check_layer(layer, x)


@given(data=st.data())
def test_embedding_gradient_matches_finite_differences(data):
    ag.manual_seed(data.draw(st.integers(0, 2**16), label="seed"))
    table = Embedding(5, 3).to(np.float64)
    ids = np.array(data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=6), label="ids"))
    assert gradcheck(lambda weight: table(ids), table.weight)
