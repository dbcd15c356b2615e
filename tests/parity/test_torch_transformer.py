"""Cross-check: tinybert's LayerNorm and the Transformer's encoder and decoder layers equal PyTorch's
(torch.nn.LayerNorm, TransformerEncoderLayer, TransformerDecoderLayer) holding the same weights, in
float64, outputs and gradients, post-LN and pre-LN, with padding and causal masks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from float64_models import float64_model
from test_torch_attention import assert_close, torch_gradients_as_ours, torch_twin
from tinybert import autograd as ag
from tinybert.autograd import Tensor
from tinybert.models.attention import causal_mask, padding_mask
from tinybert.models.transformer import DecoderLayer, EncoderLayer, TransformerConfig
from tinybert.nn import LayerNorm

torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need the parity extra: pip install -e \".[parity]\"")


def as_torch(array):
    return torch.tensor(np.asarray(array), dtype=torch.float64)


def copy_linear(ours, theirs):
    """Ours computes x W (W is (in, out)), torch x W^T: the weight goes in transposed."""
    with torch.no_grad():
        theirs.weight.copy_(as_torch(ours.weight.numpy().T))
        theirs.bias.copy_(as_torch(ours.bias.numpy()))


def copy_norm(ours, theirs):
    with torch.no_grad():
        theirs.weight.copy_(as_torch(ours.weight.numpy()))
        theirs.bias.copy_(as_torch(ours.bias.numpy()))


def copy_layer(ours, theirs, attention_pairs, norm_pairs):
    """Copy every weight of our encoder or decoder layer into torch's twin layer."""
    for mine, name in attention_pairs:
        getattr(theirs, name).load_state_dict(torch_twin(mine).state_dict())
    copy_linear(ours.feed_forward.up, theirs.linear1)
    copy_linear(ours.feed_forward.down, theirs.linear2)
    for mine, name in norm_pairs:
        copy_norm(mine, getattr(theirs, name))


def assert_same_gradients(ours, theirs, attention_pairs, norm_pairs):
    for mine, name in attention_pairs:
        reference = torch_gradients_as_ours(getattr(theirs, name))
        for parameter_name, parameter in mine.named_parameters():
            assert_close(parameter.grad, reference[parameter_name], f"{name}.{parameter_name}")
    for mine, name in [(ours.feed_forward.up, "linear1"), (ours.feed_forward.down, "linear2")]:
        assert_close(mine.weight.grad, getattr(theirs, name).weight.grad.numpy().T, f"{name}.weight")
        assert_close(mine.bias.grad, getattr(theirs, name).bias.grad.numpy(), f"{name}.bias")
    for mine, name in norm_pairs:
        assert_close(mine.weight.grad, getattr(theirs, name).weight.grad.numpy(), f"{name}.weight")
        assert_close(mine.bias.grad, getattr(theirs, name).bias.grad.numpy(), f"{name}.bias")


def config(norm_first, d_model=8, num_heads=2):
    return TransformerConfig(source_vocab_size=5, target_vocab_size=5, d_model=d_model, num_heads=num_heads, d_ff=12,
                             num_layers=1, dropout=0.0, norm_first=norm_first)


@given(seed=st.integers(0, 2**16), width=st.integers(2, 8), eps=st.sampled_from([1e-5, 1e-12]))
def test_layer_norm_module_equals_torch(seed, width, eps):
    ours = float64_model(LayerNorm(width, eps=eps), seed)
    theirs = torch.nn.LayerNorm(width, eps=eps, dtype=torch.float64)
    copy_norm(ours, theirs)
    values = np.random.default_rng(seed).standard_normal((3, 2, width))
    x, x_torch = Tensor(values, requires_grad=True, dtype=np.float64), as_torch(values).requires_grad_()
    cotangent = np.random.default_rng(seed + 1).standard_normal(values.shape)
    out, expected = ours(x), theirs(x_torch)
    assert_close(out.numpy(), expected.detach().numpy(), "value")
    out.backward(cotangent)
    expected.backward(as_torch(cotangent))
    assert_close(x.grad, x_torch.grad.numpy(), "input gradient")
    assert_close(ours.weight.grad, theirs.weight.grad.numpy(), "weight gradient")
    assert_close(ours.bias.grad, theirs.bias.grad.numpy(), "bias gradient")


@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), norm_first=st.booleans(), length=st.integers(2, 5))
def test_encoder_layer_equals_torch_with_key_padding(seed, norm_first, length):
    ag.manual_seed(seed)
    ours = float64_model(EncoderLayer(config(norm_first)), seed)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, dropout=0.0, activation="relu",
                                              batch_first=True, norm_first=norm_first, dtype=torch.float64)
    attention_pairs, norm_pairs = [(ours.self_attn, "self_attn")], [(ours.norm1, "norm1"), (ours.norm2, "norm2")]
    copy_layer(ours, theirs, attention_pairs, norm_pairs)
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((2, length, 8))
    is_real = np.ones((2, length), dtype=bool)
    is_real[1, -1] = False
    x, x_torch = Tensor(values, requires_grad=True, dtype=np.float64), as_torch(values).requires_grad_()
    out = ours(x, padding_mask(is_real))
    expected = theirs(x_torch, src_key_padding_mask=torch.tensor(~is_real))
    assert_close(out.numpy(), expected.detach().numpy(), "output")
    cotangent = rng.standard_normal(out.shape)
    out.backward(cotangent)
    expected.backward(as_torch(cotangent))
    assert_close(x.grad, x_torch.grad.numpy(), "input gradient")
    assert_same_gradients(ours, theirs, attention_pairs, norm_pairs)


@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), norm_first=st.booleans(), target_length=st.integers(1, 4),
       source_length=st.integers(2, 5))
def test_decoder_layer_equals_torch_with_causal_and_source_padding_masks(seed, norm_first, target_length,
                                                                         source_length):
    ag.manual_seed(seed)
    ours = float64_model(DecoderLayer(config(norm_first)), seed)
    theirs = torch.nn.TransformerDecoderLayer(8, 2, dim_feedforward=12, dropout=0.0, activation="relu",
                                              batch_first=True, norm_first=norm_first, dtype=torch.float64)
    attention_pairs = [(ours.self_attn, "self_attn"), (ours.cross_attn, "multihead_attn")]
    norm_pairs = [(ours.norm1, "norm1"), (ours.norm2, "norm2"), (ours.norm3, "norm3")]
    copy_layer(ours, theirs, attention_pairs, norm_pairs)
    rng = np.random.default_rng(seed)
    target_values, memory_values = rng.standard_normal((2, target_length, 8)), rng.standard_normal((2, source_length, 8))
    source_is_real = np.ones((2, source_length), dtype=bool)
    source_is_real[0, -1] = False
    y, memory = (Tensor(values, requires_grad=True, dtype=np.float64) for values in (target_values, memory_values))
    y_torch, memory_torch = (as_torch(values).requires_grad_() for values in (target_values, memory_values))
    out = ours(y, memory, causal_mask(target_length), padding_mask(source_is_real))
    expected = theirs(y_torch, memory_torch, tgt_mask=torch.tensor(~causal_mask(target_length)),
                      memory_key_padding_mask=torch.tensor(~source_is_real))
    assert_close(out.numpy(), expected.detach().numpy(), "output")
    cotangent = rng.standard_normal(out.shape)
    out.backward(cotangent)
    expected.backward(as_torch(cotangent))
    assert_close(y.grad, y_torch.grad.numpy(), "target input gradient")
    assert_close(memory.grad, memory_torch.grad.numpy(), "memory gradient")
    assert_same_gradients(ours, theirs, attention_pairs, norm_pairs)
