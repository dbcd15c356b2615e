"""The Transformer: gradients of every layer and the whole model, and properties that fail if the
wiring is wrong (causality, padding, tied embeddings, pre- and post-LN)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from float64_models import float64_model
from tinybert import autograd as ag
from tinybert.autograd import Tensor, gradcheck
from tinybert.models.attention import causal_mask, padding_mask
from tinybert.models.transformer import (DecoderLayer, EncoderLayer, Transformer, TransformerConfig,
                                         sinusoidal_positions)


def tiny_config(**overrides):
    sizes = dict(source_vocab_size=7, target_vocab_size=6, d_model=4, num_heads=2, d_ff=6, num_layers=1,
                 dropout=0.0, max_length=16)
    return TransformerConfig(**{**sizes, **overrides})


def random_ids(rng, shape, vocab_size):
    return rng.integers(1, vocab_size, size=shape)  # 1..V-1: no padding (id 0)


@settings(max_examples=20)
@given(seed=st.integers(0, 2**16), norm_first=st.booleans(), length=st.integers(1, 3))
def test_encoder_layer_gradients_match_finite_differences(seed, norm_first, length):
    ag.manual_seed(seed)
    layer = float64_model(EncoderLayer(tiny_config(norm_first=norm_first)), seed)
    x = Tensor(np.random.default_rng(seed).standard_normal((2, length, 4)), requires_grad=True, dtype=np.float64)
    mask = padding_mask(np.array([[True] * length, [True] * (length - 1) + [False]]))
    assert gradcheck(lambda x, *parameters: layer(x, mask), x, *layer.parameters())


@settings(max_examples=20)
@given(seed=st.integers(0, 2**16), norm_first=st.booleans(), target_length=st.integers(1, 3))
def test_decoder_layer_gradients_match_finite_differences(seed, norm_first, target_length):
    ag.manual_seed(seed)
    layer = float64_model(DecoderLayer(tiny_config(norm_first=norm_first)), seed)
    rng = np.random.default_rng(seed)
    y = Tensor(rng.standard_normal((1, target_length, 4)), requires_grad=True, dtype=np.float64)
    memory = Tensor(rng.standard_normal((1, 3, 4)), requires_grad=True, dtype=np.float64)
    target_mask, source_mask = causal_mask(target_length), padding_mask(np.array([[True, True, False]]))
    assert gradcheck(lambda y, memory, *parameters: layer(y, memory, target_mask, source_mask),
                     y, memory, *layer.parameters())


@settings(max_examples=6)  # each example checks ~450 parameters, two forward passes apiece
@given(seed=st.integers(0, 2**16), norm_first=st.booleans(), positions=st.sampled_from(["sinusoidal", "learned"]),
       tie=st.booleans(), source_length=st.integers(1, 3), target_length=st.integers(1, 3))
def test_whole_transformer_gradients_match_finite_differences(seed, norm_first, positions, tie, source_length,
                                                              target_length):
    ag.manual_seed(seed)
    config = tiny_config(d_ff=4, source_vocab_size=5, target_vocab_size=5, norm_first=norm_first,
                         positions=positions, tie_target_embeddings=tie)
    model = float64_model(Transformer(config), seed)
    rng = np.random.default_rng(seed)
    source, target = random_ids(rng, (2, source_length), 5), random_ids(rng, (2, target_length), 5)
    assert gradcheck(lambda *parameters: model(source, target), *model.parameters())


def test_changing_a_later_target_token_never_changes_an_earlier_output():
    ag.manual_seed(0)
    model = Transformer(tiny_config()).eval()
    rng = np.random.default_rng(0)
    source, target = random_ids(rng, (2, 4), 7), random_ids(rng, (2, 5), 6)
    changed = target.copy()
    changed[:, 3:] = (changed[:, 3:] % 5) + 1
    before, after = model(source, target).numpy(), model(source, changed).numpy()
    np.testing.assert_array_equal(before[:, :3], after[:, :3])
    assert not np.allclose(before[:, 3:], after[:, 3:])


def test_source_padding_never_changes_the_output():
    ag.manual_seed(0)
    model = Transformer(tiny_config()).eval()
    rng = np.random.default_rng(1)
    source, target = random_ids(rng, (1, 3), 7), random_ids(rng, (1, 4), 6)
    padded = np.concatenate([source, np.zeros((1, 2), dtype=source.dtype)], axis=1)
    np.testing.assert_allclose(model(padded, target).numpy(), model(source, target).numpy(), atol=1e-6)


def test_tied_target_embeddings_are_one_matrix_with_both_gradients():
    ag.manual_seed(0)
    tied = Transformer(tiny_config(tie_target_embeddings=True))
    untied = Transformer(tiny_config())
    names = [name for name, _ in tied.named_parameters()]
    assert "generator.weight" not in names and "target_embed.tokens.weight" in names
    assert len(untied.parameters()) == len(tied.parameters()) + 2  # the generator's weight and bias
    embedding = tied.target_embed.tokens.weight
    rng = np.random.default_rng(0)
    logits = tied(random_ids(rng, (1, 3), 7), np.array([[1, 2]]))
    logits.backward(np.ones(logits.shape, dtype=np.float32))
    assert np.abs(embedding.grad[[0, 3, 4, 5]]).sum() > 0  # ids never looked up still get the output layer's gradient


def test_sinusoidal_positions_follow_the_formula():
    table = sinusoidal_positions(50, 6)
    position, pair = 17, 2
    angle = position / 10000 ** (2 * pair / 6)
    np.testing.assert_allclose(table[position, [2 * pair, 2 * pair + 1]], [np.sin(angle), np.cos(angle)], rtol=1e-6)
    assert sinusoidal_positions(4, 5).shape == (4, 5)


def test_a_sequence_longer_than_max_length_is_a_clear_error():
    model = Transformer(tiny_config(max_length=4))
    with pytest.raises(ValueError, match="longer than max_length=4"):
        model(np.ones((1, 5), dtype=np.int64), np.ones((1, 2), dtype=np.int64))


def test_greedy_decoding_writes_the_requested_length_after_the_start_token():
    ag.manual_seed(0)
    model = Transformer(tiny_config()).eval()
    written = model.greedy_decode(np.array([[1, 2, 3], [3, 2, 1]]), length=4, start_id=1)
    assert written.shape == (2, 5) and (written[:, 0] == 1).all()
