"""Attention: gradients against finite differences in float64 (inputs and every parameter), and the
properties that make it attention: masks hide keys and only keys, causal attention never looks
ahead, padding changes nothing real, heads are independent attentions side by side."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from devices import on_device
from tinybert import autograd as ag
from tinybert.autograd import Tensor
from tinybert.models.attention import MultiHeadAttention, causal_mask, padding_mask, scaled_dot_product_attention
from tinybert.models.attention_scores import AdditiveAttention

batches = st.integers(1, 2)
lengths = st.integers(1, 4)
head_counts = st.integers(1, 2)
head_sizes = st.integers(1, 4)  # d_model = num_heads * d_head <= 8
seeds = st.integers(0, 2**32 - 1)


def random_tensor(rng, *shape):
    return Tensor(rng.standard_normal(shape), requires_grad=True, dtype=np.float64)


def random_parameters(module, seed):
    """`module` in float64 with every parameter, biases too, drawn from N(0, 0.5^2): no gradient is 0
    just because a bias started at 0."""
    rng = np.random.default_rng(seed)
    for parameter in module.to(np.float64).parameters():
        parameter.data[...] = on_device(rng.normal(0.0, 0.5, parameter.shape))
    return module


def random_attention(num_heads, d_head, seed):
    return random_parameters(MultiHeadAttention(num_heads * d_head, num_heads), seed)


def gradcheck_inputs_and_parameters(module, forward, *inputs):
    """gradcheck of forward(*inputs) against the inputs and every parameter of `module`: the parameters
    are handed to gradcheck as inputs too, so it perturbs them where the module reads them."""
    return ag.gradcheck(lambda *tensors: forward(*tensors[:len(inputs)]), *inputs, *module.parameters())


def numpy_softmax(scores):
    exps = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


def real_lengths(batch, length):
    """One real length per batch element, each at least 1: padding after the real tokens."""
    return st.lists(st.integers(1, length), min_size=batch, max_size=batch).map(np.array)


# ---- gradients --------------------------------------------------------------------------------

@given(batch=batches, queries=lengths, keys=lengths, d=head_sizes, dv=head_sizes, seed=seeds, data=st.data())
def test_scaled_dot_product_attention_gradients_match_finite_differences(batch, queries, keys, d, dv, seed, data):
    rng = np.random.default_rng(seed)
    q, k, v = (random_tensor(rng, batch, length, dim) for length, dim in ((queries, d), (keys, d), (keys, dv)))
    mask = data.draw(st.none() | hnp.arrays(bool, (batch, queries, keys)), label="mask")  # rows all False included
    assert ag.gradcheck(lambda q, k, v: scaled_dot_product_attention(q, k, v, mask)[0], q, k, v)


@given(batch=batches, queries=lengths, keys=lengths, d=head_sizes, dv=head_sizes, seed=seeds, data=st.data())
def test_the_fused_attention_op_gives_the_small_ops_numbers_and_gradients(batch, queries, keys, d, dv, seed, data):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((batch, length, dim)) for length, dim in ((queries, d), (keys, d), (keys, dv))]
    mask = data.draw(st.none() | hnp.arrays(bool, (batch, queries, keys)), label="mask")
    dropout = data.draw(st.sampled_from([0.0, 0.3]), label="dropout")
    upstream = rng.standard_normal((batch, queries, dv))
    results = []
    for fused in (True, False):
        ag.manual_seed(seed)  # one dropout mask for both: each draws it from the generator at the same point
        tensors = [Tensor(on_device(array), dtype=np.float64, requires_grad=True) for array in arrays]
        output, weights = scaled_dot_product_attention(*tensors, mask, dropout, training=True, fused=fused)
        output.backward(on_device(upstream))
        results.append([output.numpy(), weights.numpy()] + [tensor.grad for tensor in tensors])
    for fused_result, small_ops_result in zip(*results):
        np.testing.assert_allclose(ag.backend.to_numpy(fused_result), ag.backend.to_numpy(small_ops_result),
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cross", [False, True], ids=["self-attention", "cross-attention"])
@given(batch=batches, queries=lengths, keys=lengths, num_heads=head_counts, d_head=head_sizes, seed=seeds,
       data=st.data())
def test_multi_head_attention_gradients_of_inputs_and_every_parameter_match_finite_differences(
        cross, batch, queries, keys, num_heads, d_head, seed, data):
    rng = np.random.default_rng(seed)
    attention = random_attention(num_heads, d_head, seed)
    input_lengths = [queries, keys] if cross else [queries]  # self-attention: the queries are the keys
    keys = input_lengths[-1]
    inputs = [random_tensor(rng, batch, length, num_heads * d_head) for length in input_lengths]
    mask = data.draw(st.none() | hnp.arrays(bool, (batch, 1, queries, keys)), label="mask")
    assert gradcheck_inputs_and_parameters(attention, lambda *tensors: attention(*tensors, mask=mask), *inputs)


@given(batch=batches, queries=lengths, keys=lengths, dims=st.tuples(*[head_sizes] * 4), seed=seeds, data=st.data())
def test_additive_attention_gradients_of_inputs_and_every_parameter_match_finite_differences(
        batch, queries, keys, dims, seed, data):
    query_dim, key_dim, hidden_dim, value_dim = dims
    rng = np.random.default_rng(seed)
    attention = random_parameters(AdditiveAttention(query_dim, key_dim, hidden_dim), seed)
    inputs = (random_tensor(rng, batch, queries, query_dim), random_tensor(rng, batch, keys, key_dim),
              random_tensor(rng, batch, keys, value_dim))
    mask = data.draw(st.none() | hnp.arrays(bool, (batch, 1, keys)), label="mask")
    assert gradcheck_inputs_and_parameters(attention, lambda *tensors: attention(*tensors, mask=mask)[0], *inputs)


# ---- what attention computes ------------------------------------------------------------------

@given(batch=batches, length=lengths, num_heads=head_counts, d_head=head_sizes, seed=seeds)
def test_multi_head_attention_is_its_heads_computed_one_by_one_then_the_out_projection(
        batch, length, num_heads, d_head, seed):
    attention = random_attention(num_heads, d_head, seed)
    x = np.random.default_rng(seed).standard_normal((batch, length, num_heads * d_head))
    heads = []
    for head in range(num_heads):
        columns = slice(head * d_head, (head + 1) * d_head)  # head i owns these columns of q, k and v
        q, k, v = (x @ layer.weight.numpy()[:, columns] + layer.bias.numpy()[columns]
                   for layer in (attention.q, attention.k, attention.v))
        heads.append(numpy_softmax(q @ k.swapaxes(-1, -2) / np.sqrt(d_head)) @ v)
    expected = np.concatenate(heads, axis=-1) @ attention.out.weight.numpy() + attention.out.bias.numpy()
    np.testing.assert_allclose(attention(Tensor(x, dtype=np.float64)).numpy(), expected, rtol=1e-10, atol=1e-12)


@given(batch=batches, queries=lengths, keys=lengths, dims=st.tuples(*[head_sizes] * 4), seed=seeds, data=st.data())
def test_additive_attention_scores_are_v_tanh_of_w_query_plus_u_key(batch, queries, keys, dims, seed, data):
    query_dim, key_dim, hidden_dim, value_dim = dims
    rng = np.random.default_rng(seed)
    attention = random_parameters(AdditiveAttention(query_dim, key_dim, hidden_dim), seed)
    query, key, value = (rng.standard_normal((batch, length, dim))
                         for length, dim in ((queries, query_dim), (keys, key_dim), (keys, value_dim)))
    layers = (attention.score.query_projection, attention.score.key_projection, attention.score.readout)
    w, u, v = (layer.weight.numpy() for layer in layers)
    scores = (np.tanh((query @ w)[:, :, None, :] + (key @ u)[:, None, :, :]) @ v)[..., 0]  # (B, T, S)
    context, weights = attention(*(Tensor(array, dtype=np.float64) for array in (query, key, value)))
    np.testing.assert_allclose(weights.numpy(), numpy_softmax(scores), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(context.numpy(), numpy_softmax(scores) @ value, rtol=1e-10, atol=1e-12)


@given(batch=batches, length=lengths, num_heads=head_counts, d_head=head_sizes, seed=seeds, data=st.data())
def test_self_attention_without_positions_is_permutation_equivariant(batch, length, num_heads, d_head, seed, data):
    order = data.draw(st.permutations(range(length)), label="order")
    attention = random_attention(num_heads, d_head, seed)
    x = np.random.default_rng(seed).standard_normal((batch, length, num_heads * d_head))
    out = attention(Tensor(x, dtype=np.float64)).numpy()
    permuted_out = attention(Tensor(x[:, order], dtype=np.float64)).numpy()
    np.testing.assert_allclose(permuted_out, out[:, order], rtol=1e-10, atol=1e-12)


@given(batch=batches, queries=lengths, keys=lengths, seed=seeds, data=st.data())
def test_weights_rows_sum_to_one_where_any_key_is_kept_and_masked_keys_get_exactly_zero(
        batch, queries, keys, seed, data):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((batch, length, 3)) for length in (queries, keys, keys))
    mask = data.draw(hnp.arrays(bool, (batch, queries, keys)), label="mask")
    _, weights = scaled_dot_product_attention(*(Tensor(array, dtype=np.float64) for array in (q, k, v)), mask)
    weights = weights.numpy()
    any_kept = mask.any(axis=-1)
    np.testing.assert_allclose(weights.sum(axis=-1)[any_kept], 1.0, rtol=1e-12)
    assert np.all(weights[~mask] == 0.0)


def test_dropout_drops_attention_weights_in_training_only():
    rng = np.random.default_rng(0)
    q, k, v = (random_tensor(rng, 2, 4, 3) for _ in range(3))
    plain, plain_weights = scaled_dot_product_attention(q, k, v)
    evaluated, _ = scaled_dot_product_attention(q, k, v, dropout=0.5, training=False)
    everything_dropped, weights = scaled_dot_product_attention(q, k, v, dropout=1.0, training=True)
    np.testing.assert_array_equal(evaluated.numpy(), plain.numpy())
    np.testing.assert_array_equal(everything_dropped.numpy(), 0.0)
    np.testing.assert_array_equal(weights.numpy(), plain_weights.numpy())  # the weights returned are before dropout

    attention = MultiHeadAttention(8, 2, dropout=0.5)
    x = Tensor(rng.standard_normal((2, 4, 8)))
    trained = attention.train()(x).numpy()
    evaluated, evaluated_again = attention.eval()(x).numpy(), attention(x).numpy()
    assert not np.array_equal(trained, evaluated)
    np.testing.assert_array_equal(evaluated, evaluated_again)


def test_float32_inputs_give_float32_outputs_weights_and_gradients():
    rng = np.random.default_rng(0)
    attention = MultiHeadAttention(8, 2)
    x = Tensor(rng.standard_normal((2, 3, 8)), requires_grad=True)
    out = attention(x, mask=padding_mask(np.array([[True, True, False], [False, False, False]])))
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == attention.attention_weights.dtype == x.grad.dtype == np.float32
    assert all(parameter.grad.dtype == np.float32 for parameter in attention.parameters())


# ---- masks ------------------------------------------------------------------------------------

def test_causal_mask_lets_position_i_see_positions_0_to_i():
    positions = np.arange(5)
    np.testing.assert_array_equal(causal_mask(5), positions[None, :] <= positions[:, None])


@given(batch=batches, length=st.integers(2, 4), num_heads=head_counts, d_head=head_sizes, seed=seeds, data=st.data())
def test_causal_output_at_i_never_depends_on_tokens_after_i(batch, length, num_heads, d_head, seed, data):
    position = data.draw(st.integers(0, length - 2), label="position")
    rng = np.random.default_rng(seed)
    attention = random_attention(num_heads, d_head, seed)
    x = random_tensor(rng, batch, length, num_heads * d_head)
    changed = x.numpy().copy()
    changed[:, position + 1:] = rng.standard_normal(changed[:, position + 1:].shape)

    out = attention(x, mask=causal_mask(length))
    changed_out = attention(Tensor(changed, dtype=np.float64), mask=causal_mask(length))
    np.testing.assert_array_equal(changed_out.numpy()[:, :position + 1], out.numpy()[:, :position + 1])

    cotangent = np.zeros(out.shape)
    cotangent[:, position] = rng.standard_normal(cotangent[:, position].shape)  # the loss reads output i alone
    out.backward(cotangent)
    assert np.all(x.grad[:, position + 1:] == 0.0)
    assert np.any(x.grad[:, position] != 0.0)  # while token i itself counts


@given(batch=batches, length=lengths, num_heads=head_counts, d_head=head_sizes, seed=seeds, data=st.data())
def test_padded_positions_content_never_reaches_real_outputs(batch, length, num_heads, d_head, seed, data):
    real = np.arange(length) < data.draw(real_lengths(batch, length), label="real lengths")[:, None]  # (B, S)
    rng = np.random.default_rng(seed)
    attention = random_attention(num_heads, d_head, seed)
    x = rng.standard_normal((batch, length, num_heads * d_head))
    changed = np.where(real[..., None], x, 100 * rng.standard_normal(x.shape))
    out, changed_out = (attention(Tensor(inputs, dtype=np.float64), mask=padding_mask(real)).numpy()
                        for inputs in (x, changed))
    np.testing.assert_array_equal(changed_out[real], out[real])


@given(batch=batches, length=lengths, extra=st.integers(1, 3), num_heads=head_counts, d_head=head_sizes,
       seed=seeds, data=st.data())
def test_adding_padding_never_changes_real_outputs(batch, length, extra, num_heads, d_head, seed, data):
    real_length = data.draw(real_lengths(batch, length), label="real lengths")
    padded_length = length + extra
    real = np.arange(padded_length) < real_length[:, None]  # (B, S)
    rng = np.random.default_rng(seed)
    attention = random_attention(num_heads, d_head, seed)
    padded = rng.standard_normal((batch, padded_length, num_heads * d_head))
    padded_out = attention(Tensor(padded, dtype=np.float64), mask=padding_mask(real)).numpy()
    for element, count in enumerate(real_length):
        alone = attention(Tensor(padded[element:element + 1, :count], dtype=np.float64)).numpy()
        np.testing.assert_allclose(padded_out[element, :count], alone[0], rtol=1e-10, atol=1e-12)


def test_padding_mask_hides_padded_keys_from_every_query_and_masks_no_query_row():
    real = np.array([[True, True, True, False], [True, False, False, False]])
    mask = padding_mask(real)
    assert mask.shape == (2, 1, 1, 4)
    attention = MultiHeadAttention(8, 2)
    attention(Tensor(np.random.default_rng(0).standard_normal((2, 4, 8))), mask=mask)
    weights = attention.attention_weights.numpy()  # (B, nh, T, S)
    assert np.all(weights[~np.broadcast_to(mask, weights.shape)] == 0.0)  # padded keys, from every query row
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-6)  # padded queries still attend to real keys


def test_masked_keys_get_zero_weight_even_when_every_kept_score_is_below_minus_1e4():
    q = Tensor(np.array([[100.0]]), dtype=np.float64)  # (T=1, d=1)
    k = Tensor(np.array([[-1000.0], [5.0]]), dtype=np.float64)  # scores: -1e5 (kept), 500 (masked)
    v = Tensor(np.array([[1.0], [2.0]]), dtype=np.float64)
    out, weights = scaled_dot_product_attention(q, k, v, mask=np.array([[True, False]]))
    np.testing.assert_array_equal(weights.numpy(), [[1.0, 0.0]])  # a finite fill such as -1e4 would pick the masked key
    np.testing.assert_array_equal(out.numpy(), [[1.0]])


@pytest.mark.filterwarnings("error")  # not even an intermediate NaN: numpy warns on 0 / 0
def test_a_query_with_every_key_masked_gives_zero_output_and_finite_zero_gradients():
    rng = np.random.default_rng(0)
    q, k, v = (random_tensor(rng, 1, 3, 4) for _ in range(3))
    mask = np.array([[True, False, False], [False, False, False], [True, True, False]])  # query 1 sees nothing
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    out.backward(rng.standard_normal(out.shape))
    assert np.all(out.numpy()[0, 1] == 0.0) and np.all(weights.numpy()[0, 1] == 0.0)
    assert all(np.all(np.isfinite(tensor.grad)) for tensor in (q, k, v))
    assert np.all(q.grad[0, 1] == 0.0)


@pytest.mark.filterwarnings("error")
def test_a_batch_element_that_is_all_padding_gives_finite_outputs_and_gradients():
    attention = random_attention(2, 2, seed=0)
    x = random_tensor(np.random.default_rng(0), 2, 3, 4)
    out = attention(x, mask=padding_mask(np.array([[True, True, False], [False, False, False]])))
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(out.numpy()[1], np.broadcast_to(attention.out.bias.numpy(), (3, 4)))
    assert np.all(x.grad[1] == 0.0)
    assert all(np.all(np.isfinite(tensor.grad)) for tensor in [x, *attention.parameters()])


def test_additive_attention_takes_a_key_padding_mask_of_shape_batch_by_one_by_keys():
    rng = np.random.default_rng(0)
    attention = AdditiveAttention(query_dim=3, key_dim=5, hidden_dim=4)
    query, keys, values = (Tensor(rng.standard_normal(shape)) for shape in ((2, 3, 3), (2, 4, 5), (2, 4, 6)))
    real = np.array([[True, True, False, False], [False, False, False, False]])
    context, weights = attention(query, keys, values, mask=real[:, None, :])
    assert context.shape == (2, 3, 6) and weights.shape == (2, 3, 4)
    assert np.all(weights.numpy()[0][:, ~real[0]] == 0.0)
    np.testing.assert_allclose(weights.numpy()[0].sum(axis=-1), 1.0, rtol=1e-6)
    assert np.all(context.numpy()[1] == 0.0)


# ---- clear errors -----------------------------------------------------------------------------

def test_d_model_not_divisible_by_num_heads_is_a_clear_error():
    with pytest.raises(ValueError, match="d_model=10 does not split evenly into num_heads=4"):
        MultiHeadAttention(10, 4)


def test_a_mask_that_is_not_boolean_is_a_clear_error():
    x = Tensor(np.ones((1, 2, 4)))
    with pytest.raises(TypeError, match="True = may attend"):
        scaled_dot_product_attention(x, x, x, mask=np.array([[0.0, -np.inf], [0.0, 0.0]]))
    with pytest.raises(TypeError, match="attention_mask == 1"):
        padding_mask(np.array([[1, 1, 0]]))


def test_a_mask_of_the_wrong_shape_is_a_clear_error():
    x = Tensor(np.ones((1, 2, 4)))
    with pytest.raises(ValueError, match=r"does not broadcast to the attention scores' shape \(1, 2, 2\)"):
        scaled_dot_product_attention(x, x, x, mask=causal_mask(3))


def test_additive_attention_reads_a_two_dimensional_mask_as_queries_by_keys_even_when_batch_equals_length():
    rng = np.random.default_rng(0)
    attention = AdditiveAttention(query_dim=2, key_dim=2, hidden_dim=3)
    query, keys, values = (Tensor(rng.standard_normal((3, 3, 2))) for _ in range(3))
    _, weights = attention(query, keys, values, mask=causal_mask(3))
    for batch_element in weights.numpy():
        assert np.all(np.triu(batch_element, k=1) == 0.0) and np.all(batch_element[np.tril_indices(3)] > 0.0)
