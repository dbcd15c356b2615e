"""Cross-check: tinybert's BertForPreTraining equals Hugging Face's BertForPreTraining (and, with both
ALBERT options, AlbertForPreTraining) holding the same weights, in float64, on a padded batch: the
sequence and pooled outputs, the masked-LM logits at the masked positions, the sentence logits, the
losses, and the gradient of every parameter after backward of the total loss.

Hugging Face's weights are drawn by its own initialisation, nudged off their start (LayerNorm's ones
and zeros, zero biases), and copied into ours by the name maps below. A torch Linear stores W as
(out, in) and computes x W^T; ours stores (in, out) and computes x W: Linear weights go in transposed.
Hugging Face scores every position; ours only the masked ones, so its logits are gathered there, and
its labels are -100 everywhere else."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_bert import micro_config, pretraining_batch
from devices import host
from tinybert.hf_checkpoint import HF_TO_OURS
from tinybert.models.bert import BertForPreTraining

torch = pytest.importorskip(
    "torch", reason="the PyTorch cross-checks need the parity extra: pip install -e \".[parity]\"")
transformers = pytest.importorskip(
    "transformers", reason="the Hugging Face cross-checks need the parity extra: pip install -e \".[parity]\"")

BERT_NAMES = HF_TO_OURS  # (Hugging Face, ours): the map import-hf uses, checked here

ALBERT_NAMES = [
    ("albert.", "bert."), (".encoder.embedding_hidden_mapping_in.", ".embeddings.projection."),
    (".encoder.albert_layer_groups.0.albert_layers.0.", ".encoder.layers.0."),  # the one shared layer
    (".attention.query.", ".attention.q."), (".attention.key.", ".attention.k."),
    (".attention.value.", ".attention.v."), (".attention.dense.", ".attention.out."),
    (".attention.LayerNorm.", ".attention_norm."),
    (".ffn.", ".feed_forward.up."), (".ffn_output.", ".feed_forward.down."),
    (".full_layer_layer_norm.", ".output_norm."), ("bert.pooler.", "bert.pooler.dense."),
    ("predictions.dense.", "masked_lm.transform."), ("predictions.LayerNorm.", "masked_lm.layer_norm."),
    ("predictions.bias", "masked_lm.bias"), ("sop_classifier.classifier.", "next_sentence."),
    (".LayerNorm.", ".layer_norm."),
]


def hugging_face_config(config, family):
    """The Hugging Face config of the same sizes, dropout off, with the exact erf GELU."""
    sizes = dict(vocab_size=config.vocab_size, hidden_size=config.hidden_size, num_hidden_layers=config.num_layers,
                 num_attention_heads=config.num_heads, intermediate_size=config.intermediate_size,
                 max_position_embeddings=config.max_position_embeddings, type_vocab_size=config.type_vocab_size,
                 layer_norm_eps=config.layer_norm_eps, pad_token_id=config.pad_id, hidden_act="gelu",
                 hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, attn_implementation="eager")
    if family == "bert":
        return transformers.BertConfig(**sizes)
    return transformers.AlbertConfig(**sizes, embedding_size=config.embedding_width, classifier_dropout_prob=0.0)


def as_ours(model, names, of):
    """{our name: array} of `of(parameter)` for each of the Hugging Face model's parameters, renamed
    by `names` (tied ones appear once), Linear weights transposed to our (in, out)."""
    modules, arrays = dict(model.named_modules()), {}
    for name, parameter in model.named_parameters():
        array = of(parameter).detach().numpy()
        owner, _, kind = name.rpartition(".")
        if kind == "weight" and isinstance(modules[owner], torch.nn.Linear):
            array = array.T
        for theirs, ours in names:
            name = name.replace(theirs, ours)
        arrays[name] = array
    return arrays


FAMILIES = {  # our config, Hugging Face's class, its base model's attribute, its sentence label and logits
    "bert": (micro_config(num_layers=2), "BertForPreTraining", "bert", "next_sentence_label",
             "seq_relationship_logits", BERT_NAMES),
    "albert": (micro_config(num_layers=2, embedding_size=3, share_layers=True, sentence_task="sop"),
               "AlbertForPreTraining", "albert", "sentence_order_label", "sop_logits", ALBERT_NAMES),
}


@pytest.mark.parametrize("family", FAMILIES)
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16))
def test_pretraining_equals_hugging_face(family, seed):
    config, class_name, base, label_name, sentence_logits_name, names = FAMILIES[family]
    torch.manual_seed(seed)
    theirs = getattr(transformers, class_name)(hugging_face_config(config, family)).double().eval()
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for parameter in theirs.parameters():
            parameter.add_(torch.tensor(0.1 * rng.standard_normal(tuple(parameter.shape))))
    ours = BertForPreTraining(config).to(np.float64).eval()
    ours.load_state_dict(as_ours(theirs, names, of=lambda parameter: parameter))  # strict: every name maps
    assert sum(parameter.size for parameter in ours.parameters()) == sum(p.numel() for p in theirs.parameters())

    inputs, masked_labels, sentence_labels = pretraining_batch(rng)
    real = masked_labels != -100
    full_labels = np.full(inputs["input_ids"].shape, -100)  # (B, T): -100 but at the real masked positions
    full_labels[np.nonzero(real)[0], inputs["masked_positions"][real]] = masked_labels[real]
    torch_inputs = dict(input_ids=torch.tensor(inputs["input_ids"]), token_type_ids=torch.tensor(inputs["segment_ids"]),
                        attention_mask=torch.tensor(inputs["attention_mask"]))
    expected = theirs(**torch_inputs, labels=torch.tensor(full_labels), **{label_name: torch.tensor(sentence_labels)})
    expected_base = getattr(theirs, base)(**torch_inputs)

    sequence_output, pooled = ours.bert(inputs["input_ids"], inputs["segment_ids"], inputs["attention_mask"])
    mlm_logits, sentence_logits = ours(**inputs)
    total, mlm_loss, sentence_loss = ours.loss(mlm_logits, sentence_logits, masked_labels, sentence_labels)
    rows = np.arange(2)[:, None]
    expected_mlm_logits = expected.prediction_logits.detach().numpy()[rows, inputs["masked_positions"]]
    expected_sentence_logits = getattr(expected, sentence_logits_name)
    F = torch.nn.functional
    comparisons = {
        "sequence output": (sequence_output, expected_base.last_hidden_state),
        "pooled output": (pooled, expected_base.pooler_output),
        "masked-LM logits at the masked positions": (mlm_logits, expected_mlm_logits),
        "sentence logits": (sentence_logits, expected_sentence_logits),
        "total loss": (total, expected.loss),
        "masked-LM loss": (mlm_loss, F.cross_entropy(expected.prediction_logits.flatten(0, 1),
                                                     torch.tensor(full_labels).flatten())),
        "sentence loss": (sentence_loss, F.cross_entropy(expected_sentence_logits, torch.tensor(sentence_labels))),
    }
    for what, (value, reference) in comparisons.items():
        reference = reference.detach().numpy() if isinstance(reference, torch.Tensor) else reference
        np.testing.assert_allclose(value.numpy(), reference, rtol=1e-6, atol=1e-9, err_msg=what)

    total.backward()
    expected.loss.backward()
    expected_gradients = as_ours(theirs, names, of=lambda parameter: parameter.grad)
    for name, parameter in ours.named_parameters():
        np.testing.assert_allclose(host(parameter.grad), expected_gradients[name], rtol=1e-6, atol=1e-9,
                                   err_msg=f"gradient of {name}")
