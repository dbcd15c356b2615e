"""Cross-check: tinybert's BertForSequenceClassification equals Hugging Face's holding the same weights,
in float64, on a padded batch of sentence pairs: the logits, and the gradient of every parameter."""

import numpy as np
import pytest

from float64_models import float64_model
from test_bert import micro_config, pretraining_batch
from test_hf_bert import hugging_face_config
from devices import host
from tinybert import autograd as ag
from tinybert.hf_checkpoint import hf_name, linear_weight_names
from tinybert.models.bert import BertForSequenceClassification

torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need the parity extra: pip install -e \".[parity]\"")
transformers = pytest.importorskip(
    "transformers", reason="the Hugging Face cross-checks need the parity extra: pip install -e \".[parity]\"")


def test_logits_and_every_gradient_equal_hugging_face():
    config = micro_config(num_layers=2)
    ours = float64_model(BertForSequenceClassification(config, num_labels=3), seed=0)
    theirs = transformers.BertForSequenceClassification(
        transformers.BertConfig(**hugging_face_config(config, "bert").to_dict(), num_labels=3)).double().eval()
    transposed = linear_weight_names(ours)
    state = {hf_name(name): torch.as_tensor(array.T if name in transposed else array)
             for name, array in ours.state_dict().items()}
    missing, unexpected = theirs.load_state_dict(state, strict=False)
    assert not unexpected and all(name.endswith(("position_ids", "token_type_ids")) for name in missing), missing

    inputs = pretraining_batch(np.random.default_rng(0))[0]
    labels = np.array([2, 0])
    loss = ag.cross_entropy(ours(inputs["input_ids"], inputs["segment_ids"], inputs["attention_mask"]), labels)
    loss.backward()
    output = theirs(input_ids=torch.as_tensor(inputs["input_ids"]), token_type_ids=torch.as_tensor(inputs["segment_ids"]),
                    attention_mask=torch.as_tensor(inputs["attention_mask"]), labels=torch.as_tensor(labels))
    output.loss.backward()
    np.testing.assert_allclose(loss.item(), output.loss.item(), rtol=1e-10)
    their_grads = {name: parameter.grad.numpy() for name, parameter in theirs.named_parameters()}
    for name, parameter in ours.named_parameters():
        expected = their_grads[hf_name(name)]
        np.testing.assert_allclose(host(parameter.grad), expected.T if name in transposed else expected, atol=1e-9,
                                   err_msg=name)
