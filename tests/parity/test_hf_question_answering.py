"""Cross-check: tinybert's BertForQuestionAnswering equals Hugging Face's holding the same weights, in
float64: the start and end logits, the loss and the gradient of every parameter.

Two differences are by design. Hugging Face's question-answering BERT has no pooler; ours keeps the
pretrained one, unused, so it gets no gradient. And ours scores padding PADDING_LOGIT so that no answer can
start or end there, where Hugging Face leaves padding its computed scores: on a padded batch its logits are
compared at the real tokens, and its loss is taken from its logits with padding masked the same way."""

import numpy as np
import pytest

from devices import host
from float64_models import float64_model
from test_bert import micro_config
from test_hf_bert import hugging_face_config
from test_squad_model import question_batch
from tinybert.hf_checkpoint import hf_name, linear_weight_names
from tinybert.models.question_answering import PADDING_LOGIT, BertForQuestionAnswering

torch = pytest.importorskip(
    "torch", reason="the PyTorch cross-checks need the parity extra: pip install -e \".[parity]\"")
transformers = pytest.importorskip(
    "transformers", reason="the Hugging Face cross-checks need the parity extra: pip install -e \".[parity]\"")


def models():
    """Ours and Hugging Face's BertForQuestionAnswering with the same weights."""
    config = micro_config(num_layers=2)
    ours = float64_model(BertForQuestionAnswering(config), seed=0)
    theirs = transformers.BertForQuestionAnswering(
        transformers.BertConfig(**hugging_face_config(config, "bert").to_dict())).double().eval()
    transposed = linear_weight_names(ours)
    state = {hf_name(name): torch.as_tensor(array.T if name in transposed else array)
             for name, array in ours.state_dict().items()}
    missing, unexpected = theirs.load_state_dict(state, strict=False)
    assert all(name.startswith("bert.pooler.") for name in unexpected), unexpected
    assert all(name.endswith(("position_ids", "token_type_ids")) for name in missing), missing
    return ours, theirs, transposed


@pytest.mark.parametrize("padded", [False, True])
def test_logits_loss_and_every_gradient_equal_hugging_face(padded):
    ours, theirs, transposed = models()
    rng = np.random.default_rng(0)
    inputs, starts, ends = question_batch(rng)
    if not padded:
        inputs["input_ids"][1, -2:] = rng.integers(1, 12, size=2)
        inputs["attention_mask"] = inputs["input_ids"] != 0
    start_logits, end_logits = ours(**inputs)
    loss = ours.loss(start_logits, end_logits, starts, ends)
    loss.backward()

    output = theirs(input_ids=torch.as_tensor(inputs["input_ids"]),
                    token_type_ids=torch.as_tensor(inputs["segment_ids"]),
                    attention_mask=torch.as_tensor(inputs["attention_mask"].astype(np.int64)),
                    start_positions=torch.as_tensor(starts), end_positions=torch.as_tensor(ends))
    is_real = torch.as_tensor(inputs["attention_mask"])
    their_start, their_end = (logits.masked_fill(~is_real, PADDING_LOGIT) for logits in (output.start_logits,
                                                                                          output.end_logits))
    their_loss = (torch.nn.functional.cross_entropy(their_start, torch.as_tensor(starts))
                  + torch.nn.functional.cross_entropy(their_end, torch.as_tensor(ends))) / 2
    if not padded:  # without padding, Hugging Face's own loss is the one we match
        np.testing.assert_allclose(their_loss.item(), output.loss.item(), rtol=1e-12)
    their_loss.backward()
    real = inputs["attention_mask"]
    np.testing.assert_allclose(start_logits.numpy()[real], output.start_logits.detach().numpy()[real], rtol=1e-10)
    np.testing.assert_allclose(end_logits.numpy()[real], output.end_logits.detach().numpy()[real], rtol=1e-10)
    np.testing.assert_allclose(loss.item(), their_loss.item(), rtol=1e-10)

    their_grads = {name: parameter.grad.numpy() for name, parameter in theirs.named_parameters()}
    for name, parameter in ours.named_parameters():
        if name.startswith("bert.pooler."):
            assert parameter.grad is None  # the answer never reads the pooled vector
            continue
        expected = their_grads[hf_name(name)]
        np.testing.assert_allclose(host(parameter.grad), expected.T if name in transposed else expected, atol=1e-9,
                                   err_msg=name)
