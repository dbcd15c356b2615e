"""BERT: finite-difference gradients of the whole pre-training loss (plain and with each ALBERT option),
the tied decoder, the masked-LM and NSP losses, padding, presets, config.json and shared layers."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from float64_models import float64_model
from devices import host
from tinybert import autograd as ag
from tinybert.autograd import gradcheck
from tinybert.models.bert import BertConfig, BertForPreTraining, BertModel
from tinybert.nn import Parameter

VOCAB, LENGTH = 12, 5
VARIANTS = {  # plain BERT and each ALBERT option (Lan et al. 2020, section 3.1)
    "bert": {},
    "factorised embeddings": dict(embedding_size=3),
    "shared layers": dict(share_layers=True, num_layers=2),
}


def micro_config(**overrides):
    sizes = dict(vocab_size=VOCAB, hidden_size=4, num_layers=1, num_heads=2, intermediate_size=6,
                 max_position_embeddings=8, hidden_dropout=0.0, attention_dropout=0.0)
    return BertConfig(**{**sizes, **overrides})


def pretraining_batch(rng):
    """Two sequences of LENGTH: the second ends in two padding tokens and has one real masked prediction
    and one padded one (label -100); next-sentence labels 0 (IsNext) and 1 (NotNext)."""
    input_ids = rng.integers(1, VOCAB, size=(2, LENGTH))  # 1..V-1: id 0 is padding
    input_ids[1, -2:] = 0
    attention_mask = (input_ids != 0).astype(np.int64)  # (B, T) 1 at real tokens
    segment_ids = np.array([[0, 0, 1, 1, 1], [0, 1, 1, 0, 0]])
    masked_positions = np.array([[1, 3], [2, 0]])  # (B, P): the second row's second slot is padding
    masked_labels = np.array([rng.integers(0, VOCAB, size=2), [rng.integers(0, VOCAB), -100]])
    return dict(input_ids=input_ids, segment_ids=segment_ids, attention_mask=attention_mask,
                masked_positions=masked_positions), masked_labels, np.array([0, 1])


def pretraining_losses(model, inputs, masked_labels, next_sentence_labels):
    """(total, mlm_loss, nsp_loss) of one batch."""
    return model.loss(*model(**inputs), masked_labels, next_sentence_labels)


def untie(model):
    """Give the masked-LM decoder its own copy of the word-embedding matrix; returns the copy."""
    copy = Parameter(model.masked_lm.decoder_weight.data, dtype=model.masked_lm.decoder_weight.dtype)
    model.masked_lm.decoder_weight = copy
    return copy


def parameter_count(model):
    return sum(parameter.size for parameter in model.parameters())


@pytest.mark.parametrize("variant", VARIANTS)
@settings(max_examples=4)  # each example checks ~300 parameters, two forward passes apiece
@given(seed=st.integers(0, 2**16))
def test_pretraining_loss_gradients_match_finite_differences(variant, seed):
    ag.manual_seed(seed)
    model = float64_model(BertForPreTraining(micro_config(**VARIANTS[variant])), seed)
    batch = pretraining_batch(np.random.default_rng(seed))
    assert gradcheck(lambda *parameters: pretraining_losses(model, *batch)[0], *model.parameters())


@pytest.mark.parametrize("embedding_size", [None, 3])
def test_the_decoder_is_the_word_embedding_matrix_itself_listed_once(embedding_size):
    model = BertForPreTraining(micro_config(embedding_size=embedding_size))
    embedding = model.bert.embeddings.word_embeddings.weight
    assert model.masked_lm.decoder_weight is embedding
    tied_count = parameter_count(model)
    untie(model)
    assert tied_count == parameter_count(model) - embedding.size  # V x E fewer than an untied decoder
    assert embedding.shape == (VOCAB, embedding_size or 4)


@pytest.mark.parametrize("embedding_size", [None, 3])
def test_the_tied_gradient_is_the_lookup_gradient_plus_the_decoder_gradient(embedding_size):
    ag.manual_seed(0)
    tied = float64_model(BertForPreTraining(micro_config(embedding_size=embedding_size)), 0)
    untied = float64_model(BertForPreTraining(micro_config(embedding_size=embedding_size)), 0)
    untied.load_state_dict(tied.state_dict())
    decoder_copy = untie(untied)
    batch = pretraining_batch(np.random.default_rng(0))
    pretraining_losses(tied, *batch)[0].backward()
    pretraining_losses(untied, *batch)[0].backward()
    lookup_gradient, decoder_gradient = host(untied.bert.embeddings.word_embeddings.weight.grad), host(decoder_copy.grad)
    assert np.abs(lookup_gradient).sum() > 0 and np.abs(decoder_gradient).sum() > 0
    np.testing.assert_allclose(host(tied.bert.embeddings.word_embeddings.weight.grad), lookup_gradient + decoder_gradient,
                               rtol=1e-12, atol=1e-15)


def test_the_masked_lm_head_sees_only_the_gathered_masked_positions():
    ag.manual_seed(0)
    model = float64_model(BertForPreTraining(micro_config()), 0)
    inputs, _, _ = pretraining_batch(np.random.default_rng(0))
    mlm_logits, _ = model(**inputs)
    sequence_output, _ = model.bert(inputs["input_ids"], inputs["segment_ids"], inputs["attention_mask"])
    every_position = model.masked_lm(sequence_output).numpy()  # (B, T, V)
    rows = np.arange(2)[:, None]
    assert mlm_logits.shape == (2, 2, VOCAB)
    np.testing.assert_allclose(mlm_logits.numpy(), every_position[rows, inputs["masked_positions"]], rtol=1e-12)


def test_the_masked_lm_loss_is_the_mean_over_real_predictions_only():
    ag.manual_seed(0)
    model = float64_model(BertForPreTraining(micro_config()), 0)
    inputs, masked_labels, next_sentence_labels = pretraining_batch(np.random.default_rng(0))
    mlm_logits, nsp_logits = model(**inputs)
    mlm_loss = model.loss(mlm_logits, nsp_logits, masked_labels, next_sentence_labels)[1]
    logits, real = mlm_logits.numpy(), masked_labels != -100
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_probs, np.where(real, masked_labels, 0)[..., None], -1)[..., 0][real].mean()
    np.testing.assert_allclose(mlm_loss.item(), expected, rtol=1e-12)  # 3 real predictions: not / 4

    moved = dict(inputs, masked_positions=np.array([[1, 3], [2, 4]]))  # the padded prediction looks elsewhere
    relabelled = np.array([masked_labels[0], [masked_labels[1, 0], -100]])
    np.testing.assert_allclose(pretraining_losses(model, moved, relabelled, next_sentence_labels)[1].item(),
                               mlm_loss.item(), rtol=1e-12)


def test_the_nsp_loss_learns_label_zero():
    ag.manual_seed(0)
    model = float64_model(BertForPreTraining(micro_config()), 0)
    inputs, masked_labels, _ = pretraining_batch(np.random.default_rng(0))
    is_next = np.array([0, 0])
    mlm_logits, nsp_logits = model(**inputs)
    nsp_loss = model.loss(mlm_logits, nsp_logits, masked_labels, is_next)[2]
    logits = nsp_logits.numpy()
    expected = np.mean(np.log(np.exp(logits).sum(-1)) - logits[:, 0])
    np.testing.assert_allclose(nsp_loss.item(), expected, rtol=1e-12)
    nsp_loss.backward()
    assert np.abs(model.next_sentence.weight.grad).sum() > 0


@pytest.mark.parametrize("variant", VARIANTS)
def test_appended_padding_never_changes_the_real_positions(variant):
    ag.manual_seed(0)
    model = float64_model(BertForPreTraining(micro_config(**VARIANTS[variant])), 0)
    input_ids = np.random.default_rng(0).integers(1, VOCAB, size=(2, 4))
    segment_ids, positions = np.array([[0, 0, 1, 1]] * 2), np.array([[0, 2], [1, 3]])
    padded_ids = np.concatenate([input_ids, np.zeros((2, 3), dtype=input_ids.dtype)], axis=1)
    padded_segments = np.concatenate([segment_ids, np.zeros((2, 3), dtype=int)], axis=1)
    short = model.bert(input_ids, segment_ids), model(input_ids, segment_ids, None, positions)
    long = (model.bert(padded_ids, padded_segments, padded_ids != 0),
            model(padded_ids, padded_segments, padded_ids != 0, positions))
    (short_sequence, short_pooled), short_heads = short
    (long_sequence, long_pooled), long_heads = long
    np.testing.assert_allclose(long_sequence.numpy()[:, :4], short_sequence.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(long_pooled.numpy(), short_pooled.numpy(), rtol=1e-10, atol=1e-12)
    for ours, reference in zip(long_heads, short_heads):
        np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, layers, hidden, heads, intermediate, millions", [
    ("tiny", 2, 128, 2, 512, 4.4), ("mini", 4, 256, 4, 1024, 11.3), ("small", 4, 512, 8, 2048, 29.1)])
def test_presets_have_google_research_berts_sizes(name, layers, hidden, heads, intermediate, millions):
    config = BertConfig.preset(name, vocab_size=30522)
    assert (config.num_layers, config.hidden_size, config.num_heads, config.intermediate_size) == (
        layers, hidden, heads, intermediate)
    assert round(parameter_count(BertForPreTraining(config)) / 1e6, 1) == millions  # as google-research/bert's README


def test_the_base_preset_is_bert_base_and_overrides_win():
    config = BertConfig.preset("base", vocab_size=30522, num_layers=3, share_layers=True)
    assert (config.num_layers, config.hidden_size, config.num_heads, config.intermediate_size) == (3, 768, 12, 3072)
    assert config.share_layers and config.vocab_size == 30522
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        BertConfig.preset("huge", vocab_size=10)


def test_config_survives_a_json_round_trip():
    config = BertConfig.preset("tiny", vocab_size=100, embedding_size=64, sentence_task="sop")
    assert BertConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_an_unknown_config_key_is_a_clear_error():
    values = dict(micro_config().to_dict(), hidden_act="gelu", num_hidden_layers=3)
    with pytest.raises(ValueError, match="hidden_act, num_hidden_layers"):
        BertConfig.from_dict(values)
    with pytest.raises(ValueError, match="unknown sentence_task 'mlm'"):
        micro_config(sentence_task="mlm")


def test_a_sequence_longer_than_max_position_embeddings_is_a_clear_error():
    model = BertModel(micro_config(max_position_embeddings=4))
    with pytest.raises(ValueError, match="5 tokens exceeds max_position_embeddings=4"):
        model(np.ones((1, 5), dtype=np.int64))


def test_shared_layers_are_one_layer_applied_at_every_depth():
    ag.manual_seed(0)
    shared = float64_model(BertModel(micro_config(share_layers=True, num_layers=3)), 0)
    layer = shared.encoder.layers[0]
    assert all(slot is layer for slot in shared.encoder.layers) and len(shared.encoder.layers) == 3
    assert parameter_count(shared) == parameter_count(BertModel(micro_config(num_layers=1)))
    assert not any(name.startswith("encoder.layers.1") for name, _ in shared.named_parameters())
    input_ids = np.random.default_rng(0).integers(1, VOCAB, size=(2, 4))
    x = shared.embeddings(input_ids, np.zeros_like(input_ids))
    for _ in range(3):
        x = layer(x, None)
    np.testing.assert_allclose(shared(input_ids)[0].numpy(), x.numpy(), rtol=1e-12)


def test_factorised_embeddings_are_projected_up_to_the_hidden_size():
    model = BertForPreTraining(micro_config(embedding_size=3))
    embeddings = model.bert.embeddings
    assert embeddings.word_embeddings.weight.shape == (VOCAB, 3) and embeddings.projection.weight.shape == (3, 4)
    assert model.masked_lm.transform.weight.shape == (4, 3)  # H -> E, then E -> V through the tied matrix
    assert BertForPreTraining(micro_config()).bert.embeddings.projection is None


def test_dropout_acts_in_training_only():
    ag.manual_seed(0)
    model = BertModel(micro_config(hidden_dropout=0.5, attention_dropout=0.5))
    input_ids = np.random.default_rng(0).integers(1, VOCAB, size=(2, 4))
    embedded = model.embeddings(input_ids, np.zeros_like(input_ids)).numpy()
    assert 0.3 < (embedded == 0).mean() < 0.7  # the embeddings' own dropout, before the encoder
    assert not np.allclose(model(input_ids)[0].numpy(), model(input_ids)[0].numpy())
    model.eval()
    np.testing.assert_array_equal(model(input_ids)[0].numpy(), model(input_ids)[0].numpy())


def test_initialisation_is_berts():
    ag.manual_seed(0)
    model = BertForPreTraining(BertConfig.preset("tiny", vocab_size=1000))
    for name, parameter in model.named_parameters():
        values = parameter.numpy()
        if "norm" in name and name.endswith("weight"):
            np.testing.assert_array_equal(values, 1, err_msg=name)
        elif name.endswith("bias"):
            np.testing.assert_array_equal(values, 0, err_msg=name)
        else:
            assert abs(values.std() - 0.02) < 0.004 and abs(values.mean()) < 0.004, name


@settings(max_examples=4)
@given(seed=st.integers(0, 2**16))
def test_sequence_classification_gradients_match_finite_differences(seed):
    from tinybert.models.bert import BertForSequenceClassification

    ag.manual_seed(seed)
    model = float64_model(BertForSequenceClassification(micro_config(), num_labels=3), seed)
    inputs = pretraining_batch(np.random.default_rng(seed))[0]  # padded: the second sequence ends in padding
    del inputs["masked_positions"]
    labels = np.array([0, 2])
    assert gradcheck(lambda *parameters: ag.cross_entropy(model(**inputs), labels), *model.parameters())
