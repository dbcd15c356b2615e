"""The family of attention scores (tinybert/models/attention_scores.py): every score's gradients against
finite differences, and the property that defines each one."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from devices import host, on_device
from test_attention import batches, gradcheck_inputs_and_parameters, lengths, random_parameters, random_tensor, seeds
from tinybert.autograd import Tensor
from tinybert.models.attention_scores import (SCORES, Attention, CosineScore, DotScore, GeneralScore, LocalAttention,
                                              make_score)

sizes = st.integers(1, 4)


def drawn_score(data, name, query_dim, key_dim, keys, seed):
    score = make_score(name, query_dim, key_dim, hidden_dim=data.draw(sizes, label="hidden_dim"),
                       max_keys=keys + data.draw(st.integers(0, 2), label="spare positions"))
    return random_parameters(score, seed)


@pytest.mark.parametrize("name", SCORES)
@given(batch=batches, queries=lengths, keys=lengths, query_dim=sizes, key_dim=sizes, value_dim=sizes, seed=seeds,
       data=st.data())
def test_attention_with_every_score_has_gradients_that_match_finite_differences(
        name, batch, queries, keys, query_dim, key_dim, value_dim, seed, data):
    if name in ("dot", "scaled-dot", "cosine"):
        key_dim = query_dim  # these compare queries and keys of one size
    rng = np.random.default_rng(seed)
    query, key_states = random_tensor(rng, batch, queries, query_dim), random_tensor(rng, batch, keys, key_dim)
    values = random_tensor(rng, batch, keys, value_dim)
    mask = data.draw(st.none() | hnp.arrays(bool, (batch, queries, keys)), label="mask")  # rows all False included
    attention = Attention(drawn_score(data, name, query_dim, key_dim, keys, seed))
    assert gradcheck_inputs_and_parameters(attention, lambda q, k, v: attention(q, k, v, mask)[0], query, key_states, values)


@pytest.mark.parametrize("name", SCORES)
@given(batch=batches, queries=lengths, keys=lengths, size=sizes, seed=seeds, data=st.data())
def test_every_score_gives_one_distribution_per_query_with_masked_keys_at_zero(name, batch, queries, keys, size, seed,
                                                                                data):
    rng = np.random.default_rng(seed)
    query, key_states, values = (random_tensor(rng, batch, length, size) for length in (queries, keys, keys))
    mask = data.draw(hnp.arrays(bool, (batch, queries, keys)), label="mask")
    attention = Attention(drawn_score(data, name, size, size, keys, seed))
    context, weights = attention(query, key_states, values, mask)
    weights = host(weights.data)
    assert context.shape == (batch, queries, size) and weights.shape == (batch, queries, keys)
    np.testing.assert_allclose(weights.sum(axis=-1)[mask.any(axis=-1)], 1.0, rtol=1e-12)
    assert np.all(weights[~mask] == 0.0)


def test_the_scaled_dot_score_is_the_dot_score_over_the_root_of_the_size():
    rng = np.random.default_rng(0)
    query, keys = random_tensor(rng, 2, 3, 9), random_tensor(rng, 2, 5, 9)
    np.testing.assert_allclose(host(make_score("scaled-dot", 9, 9)(query, keys).data) * 3.0,
                               host(DotScore()(query, keys).data), rtol=1e-12)


def test_the_general_score_with_the_identity_is_the_dot_score():
    rng = np.random.default_rng(1)
    query, keys = random_tensor(rng, 2, 3, 4), random_tensor(rng, 2, 5, 4)
    score = GeneralScore(4, 4).to(np.float64)
    score.key_projection.weight.data[...] = on_device(np.eye(4))
    np.testing.assert_allclose(host(score(query, keys).data), host(DotScore()(query, keys).data), rtol=1e-12)


def test_the_additive_score_is_v_tanh_of_w_q_plus_u_k():
    rng = np.random.default_rng(2)
    query, keys = rng.standard_normal((1, 2, 3)), rng.standard_normal((1, 4, 5))
    score = random_parameters(make_score("additive", 3, 5, hidden_dim=6), seed=3)
    W, U, v = (host(layer.weight.data) for layer in (score.query_projection, score.key_projection, score.readout))
    expected = np.array([[[(np.tanh(q @ W + k @ U) @ v).item() for k in keys[0]] for q in query[0]]])
    got = score(Tensor(on_device(query), dtype=np.float64), Tensor(on_device(keys), dtype=np.float64))
    np.testing.assert_allclose(host(got.data), expected, rtol=1e-12)


def test_the_cosine_score_compares_directions_only_and_stays_within_the_sharpness():
    rng = np.random.default_rng(4)
    query, keys = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    score = CosineScore(sharpness=2.5).to(np.float64)
    scores = host(score(Tensor(on_device(query), dtype=np.float64), Tensor(on_device(keys), dtype=np.float64)).data)
    lengths_changed = (Tensor(on_device(query * 7.0), dtype=np.float64), Tensor(on_device(keys * 0.1), dtype=np.float64))
    np.testing.assert_allclose(host(score(*lengths_changed).data), scores, rtol=1e-9)
    assert np.all(np.abs(scores) <= 2.5 + 1e-12)
    zero_query = Tensor(on_device(np.zeros((1, 1, 4))), dtype=np.float64, requires_grad=True)
    out = score(zero_query, Tensor(on_device(keys[:1]), dtype=np.float64))
    out.sum().backward()
    assert np.all(host(out.data) == 0.0) and np.all(np.isfinite(host(zero_query.grad)))


def test_the_location_score_reads_only_how_many_keys_there_are():
    rng = np.random.default_rng(5)
    query = Tensor(on_device(rng.standard_normal((2, 3, 4))), dtype=np.float64)
    score = random_parameters(make_score("location", 4, 6, max_keys=7), seed=6)
    some_keys, other_keys = (Tensor(on_device(rng.standard_normal((2, 5, 6))), dtype=np.float64) for _ in range(2))
    np.testing.assert_array_equal(host(score(query, some_keys).data), host(score(query, other_keys).data))
    with pytest.raises(ValueError, match="at most 7 keys got 8"):
        score(query, Tensor(on_device(np.zeros((2, 8, 6)))))


@pytest.mark.parametrize("arguments, message", [
    (("luong", 4, 4), "unknown attention score 'luong'"),
    (("dot", 4, 3), "one size, not 4 and 3"),
    (("location", 4, 4), "needs max_keys"),
])
def test_make_score_says_what_is_wrong(arguments, message):
    with pytest.raises(ValueError, match=message):
        make_score(*arguments)


@pytest.mark.parametrize("predictive", [False, True], ids=["local-m", "local-p"])
@given(batch=batches, queries=lengths, keys=lengths, size=sizes, half_width=st.integers(1, 3), seed=seeds, data=st.data())
def test_local_attention_gradients_match_finite_differences_and_weights_stay_in_the_window(
        predictive, batch, queries, keys, size, half_width, seed, data):
    rng = np.random.default_rng(seed)
    query, key_states, values = (random_tensor(rng, batch, length, size) for length in (queries, keys, keys))
    score = make_score(data.draw(st.sampled_from(["dot", "general"]), label="score"), size, size)
    attention = random_parameters(LocalAttention(score, half_width, predictive, query_dim=size, hidden_dim=3), seed)
    assert gradcheck_inputs_and_parameters(attention, lambda q, k, v: attention(q, k, v)[0], query, key_states, values)
    centre = attention.aligned_positions(query, keys).data  # (B or 1, T, 1)
    outside = np.abs(np.arange(keys) - host(centre)) > half_width  # (B or 1, T, S)
    weights = host(attention(query, key_states, values)[1].data)
    assert np.all(weights[np.broadcast_to(outside, weights.shape)] == 0.0)


def test_monotonic_local_attention_with_a_window_over_every_key_is_global_attention():
    rng = np.random.default_rng(7)
    query, keys, values = (random_tensor(rng, 2, length, 3) for length in (4, 5, 5))
    score = DotScore()
    local_context, local_weights = LocalAttention(score, half_width=9)(query, keys, values)
    context, weights = Attention(score)(query, keys, values)
    np.testing.assert_allclose(host(local_weights.data), host(weights.data), rtol=1e-12)
    np.testing.assert_allclose(host(local_context.data), host(context.data), rtol=1e-12)


def test_predictive_local_attention_weighs_the_window_by_a_gaussian_around_p_t():
    rng = np.random.default_rng(8)
    query, keys, values = (random_tensor(rng, 1, length, 3) for length in (2, 6, 6))
    attention = random_parameters(LocalAttention(DotScore(), 2, predictive=True, query_dim=3, hidden_dim=4), seed=9)
    centre = host(attention.aligned_positions(query, 6).data)  # (1, 2, 1), in [0, 5]
    assert np.all((centre >= 0) & (centre <= 5))
    scores = host(query.data) @ host(keys.data).transpose(0, 2, 1)  # (1, 2, 6)
    distance = np.arange(6) - centre
    in_window = np.abs(distance) <= 2
    softmax = np.where(in_window, np.exp(scores - scores.max()), 0)
    softmax /= softmax.sum(axis=-1, keepdims=True)
    expected = softmax * np.exp(-distance ** 2 / (2 * 1.0 ** 2))  # sigma = D / 2 = 1
    np.testing.assert_allclose(host(attention(query, keys, values)[1].data), expected, rtol=1e-12)


def test_padding_never_moves_predictive_local_attention():
    rng = np.random.default_rng(10)
    attention = random_parameters(LocalAttention(DotScore(), 2, predictive=True, query_dim=3, hidden_dim=4), seed=11)
    query, keys, values = (random_tensor(rng, 2, length, 3) for length in (4, 6, 6))
    is_real = np.arange(6) < np.array([[6], [3]])  # (B, S): the second sequence has 3 keys, then padding
    context, weights = attention(query, keys, values, mask=on_device(is_real[:, None, :]))  # (B, 1, S) mask
    alone_context, alone_weights = attention(query[1:], keys[1:, :3], values[1:, :3])  # its 3 keys, no padding
    np.testing.assert_allclose(host(context.data[1:]), host(alone_context.data), rtol=1e-12)
    np.testing.assert_allclose(host(weights.data[1:, :, :3]), host(alone_weights.data), rtol=1e-12)
    assert np.all(host(weights.data[1, :, 3:]) == 0.0)


def test_predictive_local_attention_needs_a_window_wider_than_one_key():
    with pytest.raises(ValueError, match="at least 1, not 0"):
        LocalAttention(DotScore(), 0, predictive=True, query_dim=3, hidden_dim=4)
