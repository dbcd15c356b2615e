"""Cross-check: attention equals PyTorch's in float64, value and gradients, on hypothesis-drawn sizes:
MultiHeadAttention against torch.nn.MultiheadAttention holding the same weights, and
scaled_dot_product_attention against torch.nn.functional.scaled_dot_product_attention.

Boolean masks mean opposite things in torch's MultiheadAttention:
  ours                                  True = may attend (keep)
  MultiheadAttention key_padding_mask   True = ignore this key     -> pass ~is_real
  MultiheadAttention attn_mask (bool)   True = not allowed         -> pass ~causal_mask(T)
  scaled_dot_product_attention (bool)   True = takes part          -> pass ours as it is
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from test_attention import batches, head_counts, head_sizes, lengths, random_attention, seeds
from devices import host
from tinybert.autograd import Tensor
from tinybert.models.attention import causal_mask, padding_mask, scaled_dot_product_attention

torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need the parity extra: pip install -e \".[parity]\"")
F = torch.nn.functional

TORCH_VERSION = tuple(int(part) for part in torch.__version__.split("+")[0].split(".")[:2])


def assert_close(ours, theirs, what):
    np.testing.assert_allclose(host(ours), theirs, rtol=1e-6, atol=1e-6, err_msg=what)


def torch_twin(attention):
    """torch.nn.MultiheadAttention holding `attention`'s weights. torch stacks the q, k and v weights
    in in_proj_weight (3 d_model, d_model) and computes x W^T; ours computes x W with W (d_model, d_model),
    so each weight goes in transposed."""
    d_model = attention.q.weight.shape[0]
    twin = torch.nn.MultiheadAttention(d_model, attention.num_heads, batch_first=True, dtype=torch.float64)
    projections = (attention.q, attention.k, attention.v)
    with torch.no_grad():
        twin.in_proj_weight.copy_(torch.tensor(np.concatenate([layer.weight.numpy().T for layer in projections])))
        twin.in_proj_bias.copy_(torch.tensor(np.concatenate([layer.bias.numpy() for layer in projections])))
        twin.out_proj.weight.copy_(torch.tensor(attention.out.weight.numpy().T))
        twin.out_proj.bias.copy_(torch.tensor(attention.out.bias.numpy()))
    return twin


def torch_gradients_as_ours(twin):
    """torch's parameter gradients, named and shaped as ours: in_proj split in three, weights transposed."""
    weights, biases = twin.in_proj_weight.grad.numpy(), twin.in_proj_bias.grad.numpy()
    d_model = biases.shape[0] // 3
    gradients = {"out.weight": twin.out_proj.weight.grad.numpy().T, "out.bias": twin.out_proj.bias.grad.numpy()}
    for number, name in enumerate("qkv"):
        rows = slice(number * d_model, (number + 1) * d_model)
        gradients[f"{name}.weight"], gradients[f"{name}.bias"] = weights[rows].T, biases[rows]
    return gradients


MASK_CASES = {  # (cross-attention, key padding, causal)
    "self-attention": (False, False, False),
    "self-attention, key padding": (False, True, False),
    "self-attention, causal": (False, False, True),
    "self-attention, causal and key padding": (False, True, True),
    "cross-attention, key padding": (True, True, False),
}


@pytest.mark.parametrize("case", MASK_CASES, ids=str)
@given(batch=batches, queries=lengths, keys=lengths, num_heads=head_counts, d_head=head_sizes, seed=seeds,
       data=st.data())
def test_multi_head_attention_equals_torch_multihead_attention(
        case, batch, queries, keys, num_heads, d_head, seed, data):
    cross, padded, causal = MASK_CASES[case]
    input_lengths = [queries, keys] if cross else [queries]  # self-attention: the queries are the keys
    keys = input_lengths[-1]
    real_lengths = data.draw(st.lists(st.integers(1, keys), min_size=batch, max_size=batch), label="real lengths")
    is_real = np.arange(keys) < np.array(real_lengths)[:, None]  # (B, S): padding after the real tokens
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((batch, length, num_heads * d_head)) for length in input_lengths]

    attention = random_attention(num_heads, d_head, seed)
    twin = torch_twin(attention)
    ours = [Tensor(array, requires_grad=True, dtype=np.float64) for array in arrays]
    theirs = [torch.tensor(array, requires_grad=True) for array in arrays]
    mask = padding_mask(is_real) if padded else None  # (B, 1, 1, S)
    if causal:
        mask = causal_mask(queries) if mask is None else causal_mask(queries) & mask  # (T, T) or (B, 1, T, T)

    out = attention(*ours, mask=mask)
    theirs_query, theirs_key_value = theirs[0], theirs[-1]
    expected, expected_weights = twin(
        theirs_query, theirs_key_value, theirs_key_value,
        key_padding_mask=torch.tensor(~is_real) if padded else None,
        attn_mask=torch.tensor(~causal_mask(queries)) if causal else None,
        average_attn_weights=False)
    assert_close(out.numpy(), expected.detach().numpy(), "output")
    assert_close(attention.attention_weights.numpy(), expected_weights.detach().numpy(), "attention weights")

    cotangent = rng.standard_normal(out.shape)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    for number, (mine, reference) in enumerate(zip(ours, theirs)):
        assert_close(mine.grad, reference.grad.numpy(), f"gradient of input {number}")
    reference_gradients = torch_gradients_as_ours(twin)
    for name, parameter in attention.named_parameters():
        assert_close(parameter.grad, reference_gradients[name], f"gradient of {name}")


def check_against_torch_sdpa(q, k, v, mask):
    """Our scaled_dot_product_attention and torch's on the same arrays: value and the gradients of q, k, v."""
    ours = [Tensor(array, requires_grad=True, dtype=np.float64) for array in (q, k, v)]
    theirs = [torch.tensor(array, requires_grad=True) for array in (q, k, v)]
    out, _ = scaled_dot_product_attention(*ours, mask=mask)
    expected = F.scaled_dot_product_attention(*theirs, attn_mask=torch.tensor(mask))
    assert_close(out.numpy(), expected.detach().numpy(), "output")
    cotangent = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    for name, mine, reference in zip("qkv", ours, theirs):
        assert_close(mine.grad, reference.grad.numpy(), f"gradient of {name}")


@st.composite
def sdpa_inputs(draw):
    """q (B, nh, T, d), k (B, nh, S, d), v (B, nh, S, dv) and a boolean mask (B, 1, T, S) broadcast over heads."""
    batch, heads, queries, keys = draw(batches), draw(head_counts), draw(lengths), draw(lengths)
    d, dv = draw(head_sizes), draw(head_sizes)
    rng = np.random.default_rng(draw(seeds))
    q, k, v = (rng.standard_normal((batch, heads, length, dim))
               for length, dim in ((queries, d), (keys, d), (keys, dv)))
    return q, k, v, draw(hnp.arrays(bool, (batch, 1, queries, keys)))


@given(sdpa_inputs())
def test_scaled_dot_product_attention_equals_torch_with_a_boolean_mask(inputs):
    q, k, v, mask = inputs
    mask = mask.copy()
    mask[..., 0] |= ~mask.any(axis=-1)  # every query keeps a key here; the next test covers queries with none
    check_against_torch_sdpa(q, k, v, mask)


@pytest.mark.skipif(TORCH_VERSION < (2, 5), reason="torch gives NaN for a fully masked row before 2.5, 0 since")
@given(sdpa_inputs())
def test_scaled_dot_product_attention_equals_torch_on_queries_with_every_key_masked(inputs):
    q, k, v, mask = inputs
    mask = mask.copy()
    mask[..., 0, :] = False  # the first query of every batch element sees no key
    check_against_torch_sdpa(q, k, v, mask)
