"""Cross-check: a tinybert BertForPreTraining written by write_hf_bert (tinybert export-hf) loads into
transformers.BertForPreTraining with every weight in place and gives the same MLM and NSP logits; and
what tinybert reads back (read_hf_bert, tinybert import-hf) is the model it wrote."""

import numpy as np
import pytest

from devices import on_device
from test_bert import micro_config
from tinybert.hf_checkpoint import read_hf_bert, write_hf_bert
from tinybert.models.bert import BertForPreTraining
from tinybert.text import BertTokenizer
from tinybert.text.vocab import SPECIAL_TOKENS

torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need the parity extra: pip install -e \".[parity]\"")
transformers = pytest.importorskip(
    "transformers", reason="the Hugging Face cross-checks need the parity extra: pip install -e \".[parity]\"")


@pytest.fixture
def exported(tmp_path):
    config = micro_config(num_layers=2)
    model = BertForPreTraining(config)
    rng = np.random.default_rng(0)
    for parameter in model.parameters():  # off their start, so that LayerNorm's ones and zero biases count too
        parameter.data += on_device(rng.normal(0, 0.05, parameter.shape), dtype=parameter.dtype)
    tokenizer = BertTokenizer(list(SPECIAL_TOKENS) + [f"w{number}" for number in range(config.vocab_size - 5)])
    write_hf_bert(model, tokenizer, tmp_path)
    return model, tokenizer, tmp_path


def test_hugging_face_loads_every_weight_and_gives_the_same_logits(exported):
    model, tokenizer, directory = exported
    theirs, info = transformers.BertForPreTraining.from_pretrained(directory, output_loading_info=True,
                                                                   attn_implementation="eager")
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    theirs.eval()
    rng = np.random.default_rng(1)
    input_ids = rng.integers(5, model.config.vocab_size, (2, 7))
    segment_ids = np.array([[0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1, 0]])
    is_real = np.array([[True] * 7, [True] * 5 + [False] * 2])
    positions = np.tile(np.arange(7), (2, 1))  # every position, as Hugging Face scores them
    model.eval()
    mlm_logits, nsp_logits = model(input_ids, segment_ids, is_real, positions)
    with torch.no_grad():
        output = theirs(input_ids=torch.as_tensor(input_ids), token_type_ids=torch.as_tensor(segment_ids),
                        attention_mask=torch.as_tensor(is_real.astype(np.int64)))
    np.testing.assert_allclose(mlm_logits.numpy()[is_real], output.prediction_logits.numpy()[is_real], atol=1e-4)
    np.testing.assert_allclose(nsp_logits.numpy(), output.seq_relationship_logits.numpy(), atol=1e-4)


def test_reading_back_an_export_gives_the_same_weights_and_vocabulary(exported):
    model, tokenizer, directory = exported
    again, tokens_again, missing = read_hf_bert(directory)
    assert missing == [] and tokens_again.tokens == tokenizer.tokens
    saved = model.state_dict()
    assert all(np.array_equal(array, saved[name]) for name, array in again.state_dict().items())


def test_export_hf_writes_a_directory_that_hugging_face_loads(tmp_path):
    from click.testing import CliRunner

    from tinybert.cli import main
    from tinybert.text.python_reference import python_reference_documents

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n\n".join("\n".join(document) for document in python_reference_documents()[:30]) + "\n")
    runner = CliRunner()
    trained = runner.invoke(main, ["pretrain", "--corpus", str(corpus), "--out", str(tmp_path / "run"), "--steps", "3",
                                   "--warmup", "1", "--vocab-size", "300", "--batch-size", "4"])
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(main, ["export-hf", str(tmp_path / "run"), "--out", str(tmp_path / "hf")])
    assert result.exit_code == 0, result.output
    _, info = transformers.BertForPreTraining.from_pretrained(tmp_path / "hf", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"], info
