"""The GRU and the RNN encoder-decoder with attention: gradients against finite differences (the
backward through time is the engine's), padding that changes nothing, and greedy decoding."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import host
from test_attention import gradcheck_inputs_and_parameters, random_parameters, random_tensor, seeds
from tinybert import autograd as ag
from tinybert.models.rnn import GRU, GRUCell
from tinybert.models.seq2seq import BOS_ID, EOS_ID, PAD_ID, AttentionEncoderDecoder

sizes = st.integers(1, 3)


def real_steps(data, batch, steps):
    """is_real (batch, steps): each sequence real for its first 1..steps steps, padding after."""
    lengths = data.draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch), label="lengths")
    return np.arange(steps)[None, :] < np.array(lengths)[:, None]


@given(batch=sizes, input_size=sizes, hidden_size=sizes, seed=seeds)
def test_a_gru_step_has_gradients_that_match_finite_differences(batch, input_size, hidden_size, seed):
    rng = np.random.default_rng(seed)
    cell = random_parameters(GRUCell(input_size, hidden_size), seed)
    x, h = random_tensor(rng, batch, input_size), random_tensor(rng, batch, hidden_size)
    assert gradcheck_inputs_and_parameters(cell, cell, x, h)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["one way", "both ways"])
@given(batch=sizes, steps=st.integers(1, 4), input_size=sizes, hidden_size=sizes, seed=seeds, data=st.data())
def test_backpropagation_through_time_matches_finite_differences(bidirectional, batch, steps, input_size, hidden_size,
                                                                 seed, data):
    rng = np.random.default_rng(seed)
    gru = random_parameters(GRU(input_size, hidden_size, bidirectional), seed)
    is_real = real_steps(data, batch, steps)

    def outputs_and_final(x):
        outputs, final = gru(x, is_real)
        return ag.concatenate([outputs.reshape(batch, -1), final], axis=-1)

    assert gradcheck_inputs_and_parameters(gru, outputs_and_final, random_tensor(rng, batch, steps, input_size))


@given(steps=st.integers(1, 4), padding=st.integers(1, 3), seed=seeds)
def test_padding_after_a_sequence_changes_none_of_its_states(steps, padding, seed):
    rng = np.random.default_rng(seed)
    gru = random_parameters(GRU(2, 3, bidirectional=True), seed)
    x = rng.standard_normal((1, steps, 2))
    padded = np.concatenate([x, rng.standard_normal((1, padding, 2))], axis=1)  # padding holds any numbers
    is_real = np.arange(steps + padding)[None, :] < steps
    outputs, final = gru(ag.Tensor(x, dtype=np.float64))
    padded_outputs, padded_final = gru(ag.Tensor(padded, dtype=np.float64), is_real)
    np.testing.assert_allclose(host(padded_outputs.data)[:, :steps], host(outputs.data), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(host(padded_final.data), host(final.data), rtol=1e-12, atol=1e-15)


def micro_model(score, seed):
    return random_parameters(AttentionEncoderDecoder(source_vocab=7, target_vocab=6, embedding_dim=2, hidden=1,
                                                     score=score, attention_dim=2, max_source_length=4), seed)


@pytest.mark.parametrize("score", ["additive", "general", "dot", None], ids=str)
@settings(max_examples=4)  # each example differentiates the whole model once per weight: slow
@given(seed=seeds)
def test_the_whole_encoder_decoder_has_gradients_that_match_finite_differences(score, seed):
    model = micro_model(score, seed)
    source_ids = np.array([[3, 4, 5, PAD_ID], [6, 3, 4, 5]])  # the first source is padded
    decoder_inputs, targets = np.array([[BOS_ID, 3], [BOS_ID, 4]]), np.array([[3, EOS_ID], [4, PAD_ID]])
    assert ag.gradcheck(lambda *parameters: model.loss(model(source_ids, decoder_inputs)[0], targets),
                        *model.parameters())


def test_attention_weights_leave_padding_out_and_sum_to_one():
    model = micro_model("additive", seed=1)
    source_ids = np.array([[3, 4, PAD_ID, PAD_ID], [6, 3, 4, 5]])
    _, weights = model(source_ids, np.array([[BOS_ID, 3, 4], [BOS_ID, 4, 5]]))
    weights = host(weights.data)  # (B, L, S)
    assert np.all(weights[0, :, 2:] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)


def test_greedy_decoding_feeds_back_its_own_best_token_and_pads_after_the_end():
    model = micro_model("additive", seed=2)
    source_ids = np.array([[3, 4, 5, PAD_ID], [6, 3, 4, 5]])
    ids, weights = model.greedy_decode(source_ids, max_length=5)
    assert ids.shape[0] == 2 and ids.shape[1] <= 5 and weights.shape == ids.shape + (4,)
    for row in ids:  # after EOS_ID, only PAD_ID
        ends = np.flatnonzero(row == EOS_ID)
        if ends.size:
            assert np.all(row[ends[0] + 1:] == PAD_ID)
    # teacher forcing with the decoded tokens as the inputs gives the same choices
    decoder_inputs = np.concatenate([np.full((2, 1), BOS_ID), ids[:, :-1]], axis=1)
    scores, _ = model(source_ids, np.where(decoder_inputs == PAD_ID, EOS_ID, decoder_inputs))
    chosen = host(scores.data).argmax(axis=-1)
    before_the_end = np.cumsum(ids == EOS_ID, axis=1) - (ids == EOS_ID) == 0  # up to and with the first EOS_ID
    np.testing.assert_array_equal(chosen[before_the_end], ids[before_the_end])
