"""The command line: what it prints, its exit codes, and `python -m tinybert`."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from tinybert.cli import main


def run(*arguments, env=None):
    return CliRunner().invoke(main, list(arguments), env=env)


def test_gradcheck_checks_every_computation_of_the_tour_and_passes():
    result = run("gradcheck")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("computation")
    assert len(lines) == 6 and all(line.endswith("pass") for line in lines[1:])


def test_info_names_the_default_device():
    result = run("info", env={"TINYBERT_DEVICE": "cpu"})
    assert result.exit_code == 0
    assert "default device: cpu" in result.output


def test_a_bad_device_is_one_line_on_stderr_and_exit_code_two():
    result = run("info", env={"TINYBERT_DEVICE": "tpu"})
    assert result.exit_code == 2
    assert result.stderr.strip() == ("tinybert: error: TINYBERT_DEVICE='tpu' is not a device: "
                                     "set it to 'cpu' or 'cuda'")
    assert "Traceback" not in result.output


def test_python_dash_m_tinybert_is_the_same_command():
    completed = subprocess.run([sys.executable, "-m", "tinybert", "--help"], capture_output=True, text=True, check=True)
    assert "Usage: tinybert" in completed.stdout and "gradcheck" in completed.stdout


def test_import_hf_from_a_directory_without_a_checkpoint_is_one_line_and_exit_code_two(tmp_path):
    result = run("import-hf", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"tinybert: error: {tmp_path} has no config.json: a Hugging Face BERT directory "
                                     "holds config.json, model.safetensors and vocab.txt")
    assert not (tmp_path / "out").exists()


def test_embed_without_a_checkpoint_is_one_line_and_exit_code_two(tmp_path):
    result = run("embed", "--model", str(tmp_path), "a sentence")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "is not a tinybert checkpoint" in result.stderr


def test_import_hf_refuses_a_pytorch_pickle_and_points_to_safetensors(tmp_path):
    for name in ("config.json", "vocab.txt", "pytorch_model.bin"):
        (tmp_path / name).write_text("{}")
    result = run("import-hf", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "pytorch_model.bin, a pickle" in result.stderr and "safe_serialization=True" in result.stderr
    assert not (tmp_path / "out").exists()


def test_import_hf_refuses_a_vocabulary_larger_than_the_embedding_table(tmp_path):
    from tinybert.hf_checkpoint import write_hf_bert
    from tinybert.models.bert import BertConfig, BertForPreTraining
    from tinybert.text import BertTokenizer

    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "cat"]
    model = BertForPreTraining(BertConfig(len(tokens), hidden_size=8, num_layers=1, num_heads=2, intermediate_size=16))
    write_hf_bert(model, BertTokenizer(tokens), tmp_path / "hf")
    with open(tmp_path / "hf" / "vocab.txt", "a") as vocab:
        vocab.write("dog\n")  # its id, 7, would be past the table's last row, 6
    result = run("import-hf", str(tmp_path / "hf"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "vocab.txt has 8 tokens, more than the model's vocab_size of 7" in result.stderr
    assert not (tmp_path / "out").exists()


def test_device_cuda_without_a_usable_gpu_is_one_line_and_exit_code_two(tmp_path):
    from tinybert.autograd import backend

    try:
        backend.module_for_device("cuda")
        pytest.skip("a GPU is usable here: the error is for machines without one")
    except backend.DeviceError:
        pass
    result = run("pretrain", "--device", "cuda", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert result.stderr.startswith("tinybert: error: device 'cuda' needs CuPy")
    assert not (tmp_path / "out").exists()


def test_the_device_option_outranks_tinybert_device(tmp_path):
    from test_pretrain_cli import MICRO, micro_corpus

    corpus = micro_corpus(tmp_path / "corpus.txt")
    result = run("pretrain", "--device", "cpu", "--corpus", str(corpus), "--out", str(tmp_path / "out"), "--steps", "2",
                 *MICRO, env={"TINYBERT_DEVICE": "tpu"})  # a device that does not exist: only --device can save it
    assert result.exit_code == 0, result.output
