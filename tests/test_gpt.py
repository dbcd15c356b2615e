"""GPT, the left-to-right model (tinybert/models/gpt.py): no position sees a later token, the loss starts
near ln(V), and the whole model's gradients match finite differences."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import host
from test_attention import random_parameters
from tinybert import autograd as ag
from tinybert.models.gpt import GPT, GPTConfig


def micro_gpt(seed, vocab_size=7):
    config = GPTConfig(vocab_size=vocab_size, hidden_size=4, num_layers=2, num_heads=2, intermediate_size=8,
                       max_position_embeddings=6, dropout=0.0)
    return random_parameters(GPT(config), seed)


@settings(max_examples=20)
@given(length=st.integers(2, 6), position=st.integers(0, 4), seed=st.integers(0, 2 ** 16))
def test_no_position_sees_a_later_token(length, position, seed):
    position = min(position, length - 2)  # a position with at least one token after it
    model = micro_gpt(seed)
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 7, size=(2, length))
    changed = ids.copy()
    changed[:, position + 1:] = rng.integers(1, 7, size=(2, length - position - 1))  # every later token redrawn
    scores, changed_scores = model(ids), model(changed)
    np.testing.assert_array_equal(host(changed_scores.data)[:, :position + 1], host(scores.data)[:, :position + 1])

    model.zero_grad()
    cotangent = np.zeros(scores.shape)
    cotangent[:, position] = rng.standard_normal(cotangent[:, position].shape)
    model(ids).backward(cotangent)  # the gradient of position `position`'s scores only
    assert np.all(host(model.position_embeddings.weight.grad)[position + 1:] == 0.0)
    assert np.any(host(model.position_embeddings.weight.grad)[:position + 1] != 0.0)


def test_the_loss_starts_near_the_log_of_the_vocabulary_size():
    ag.manual_seed(0)
    model = GPT(GPTConfig.preset("tiny", vocab_size=1000, dropout=0.0))
    ids = np.random.default_rng(0).integers(1, 1000, size=(4, 32))
    loss = model.loss(model(ids), ids).item()
    # the scores start with a spread of about sqrt(128) * 0.02 = 0.23, which adds about 0.23^2 / 2 to ln(V)
    assert 0 < loss - math.log(1000) < 0.1, loss


def test_a_padded_next_token_is_left_out_of_the_loss():
    model = micro_gpt(seed=1)
    ids = np.array([[3, 4, 5, 0, 0]])  # pad_id 0 after three tokens: two next-token predictions count
    loss = model.loss(model(ids, attention_mask=ids != 0), ids)
    scores = host(model(ids[:, :3]).data)[0, :2]  # causal: the padding after changes none of these
    log_softmax = scores - np.log(np.exp(scores).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(loss.item(), -(log_softmax[0, 4] + log_softmax[1, 5]) / 2, rtol=1e-12)


@settings(max_examples=5)
@given(seed=st.integers(0, 2 ** 16))
def test_the_whole_model_has_gradients_that_match_finite_differences(seed):
    model = micro_gpt(seed)
    ids = np.random.default_rng(seed).integers(1, 7, size=(2, 5))
    assert ag.gradcheck(lambda *parameters: model.loss(model(ids), ids), *model.parameters())
