"""The road past one machine: a tinybert BERT, exported with export-hf, continues pretraining in PyTorch
under torchrun with DistributedDataParallel (examples/10_ddp_continue_pretraining.py, two CPU processes on
gloo, talking over the loopback interface only), and tinybert import-hf reads the result back."""

import importlib.util
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from devices import not_on_the_pretend_gpu
from tinybert.checkpoint import load_checkpoint
from tinybert.cli import main
from tinybert.hf_checkpoint import read_hf_bert, write_hf_bert
from tinybert.optim import parameter_groups
from tinybert.pretraining import PretrainSettings, data_stream
from tinybert.text.corpus import read_corpus_file, tokenize_documents
from tinybert.text.pretraining_data import IGNORE_INDEX
from tinybert.text.python_reference import python_reference_documents

torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need the parity extra: pip install -e \".[parity]\"")
transformers = pytest.importorskip(
    "transformers", reason="the Hugging Face cross-checks need the parity extra: pip install -e \".[parity]\"")

pytestmark = not_on_the_pretend_gpu  # the example runs in fresh Python processes
EXAMPLE = Path(__file__).parent.parent.parent / "examples" / "10_ddp_continue_pretraining.py"
STEPS = 40  # about 7 s for two processes on 2 idle CPU cores; the mean of 5 logged losses falls 6.16 -> 5.66
LOSS_LINE = re.compile(r"^step +(\d+) +loss (\S+)$", re.MULTILINE)


def loopback_interface():
    """The loopback network interface's name (lo on Linux, lo0 on macOS): gloo talks over it and nothing else."""
    return next(name for _, name in socket.if_nameindex() if name.startswith("lo"))


def free_loopback_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_example(*arguments, launcher=(), python_code=None):
    """`python [launcher] EXAMPLE arguments`, with this checkout's tinybert; or `python -c python_code EXAMPLE
    arguments`."""
    environment = {**os.environ, "PYTHONPATH": str(EXAMPLE.parent.parent), "GLOO_SOCKET_IFNAME": loopback_interface(),
                   # on the CPUs, also on a machine with a GPU: two nccl ranks would need a GPU each
                   "CUDA_VISIBLE_DEVICES": "", "TINYBERT_DEVICE": "cpu"}
    command = ["-c", python_code, str(EXAMPLE)] if python_code else [*launcher, str(EXAMPLE)]
    return subprocess.run([sys.executable, *command, *arguments], capture_output=True, text=True, timeout=240,
                          env=environment)


def load_example():
    """The example as a module, to call its functions here."""
    spec = importlib.util.spec_from_file_location("ddp_continue_pretraining", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def logged_losses(stdout):
    """{step: loss} from the lines rank 0 prints."""
    return {int(step): float(loss) for step, loss in LOSS_LINE.findall(stdout)}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(the Hugging Face directory, the corpus): a tinybert BERT pretrained for 3 steps on 30 documents of the
    built-in corpus, so that there is much left to learn, then written by export-hf."""
    directory = tmp_path_factory.mktemp("handoff")
    corpus = directory / "corpus.txt"
    corpus.write_text("\n\n".join("\n".join(document) for document in python_reference_documents()[:30]) + "\n")
    runner = CliRunner()
    trained = runner.invoke(main, ["pretrain", "--corpus", str(corpus), "--out", str(directory / "tinybert"),
                                   "--steps", "3", "--warmup", "1", "--vocab-size", "300", "--batch-size", "4"])
    assert trained.exit_code == 0, trained.output
    written = runner.invoke(main, ["export-hf", str(directory / "tinybert"), "--out", str(directory / "hf")])
    assert written.exit_code == 0, written.output
    return directory / "hf", corpus


@pytest.fixture(scope="module")
def ddp_run(exported):
    """(what the run printed, the directory rank 0 saved): STEPS steps on two processes, 8 pairs each."""
    hf_directory, corpus = exported
    out = hf_directory.parent / "ddp"
    torchrun = ["-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
                "--master_port", str(free_loopback_port())]
    completed = run_example(str(hf_directory), "--out", str(out), "--corpus", str(corpus), "--steps", str(STEPS),
                            "--batch-size", "8", "--lr", "1e-3", "--warmup", "4", "--log-every", "1", launcher=torchrun)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return completed.stdout, out


def test_two_ranks_train_and_their_averaged_loss_goes_down(ddp_run):
    stdout, _ = ddp_run
    assert "world size 2 on cpu (gloo)" in stdout
    losses = logged_losses(stdout)
    assert sorted(losses) == list(range(1, STEPS + 1))
    first_five = np.mean([losses[step] for step in range(1, 6)])
    last_five = np.mean([losses[step] for step in range(STEPS - 4, STEPS + 1)])
    assert last_five < first_five - 0.25, (first_five, last_five)


def test_both_ranks_end_with_the_same_weights_bit_for_bit(ddp_run):
    stdout, _ = ddp_run
    fingerprints = re.search(r"^weights sha256, rank by rank: (.*)$", stdout, re.MULTILINE).group(1).split()
    assert len(fingerprints) == 2 and fingerprints[0] == fingerprints[1]


def test_tinybert_import_hf_reads_the_result_and_agrees_with_transformers(ddp_run, exported, tmp_path):
    _, out = ddp_run
    imported = CliRunner().invoke(main, ["import-hf", str(out), "--out", str(tmp_path / "back")])
    assert imported.exit_code == 0, imported.output
    model, tokenizer, _, _ = load_checkpoint(tmp_path / "back")
    start, start_tokenizer, _ = read_hf_bert(exported[0])
    assert tokenizer.tokens == start_tokenizer.tokens
    assert not np.array_equal(model.state_dict()["bert.embeddings.word_embeddings.weight"],
                              start.state_dict()["bert.embeddings.word_embeddings.weight"])  # it trained
    theirs = transformers.BertForPreTraining.from_pretrained(out, attn_implementation="eager").eval()
    rng = np.random.default_rng(0)
    input_ids = rng.integers(5, tokenizer.vocab_size, (2, 9))
    segment_ids = np.array([[0, 0, 0, 0, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 0, 0, 0]])
    is_real = np.array([[True] * 9, [True] * 6 + [False] * 3])
    model.eval()
    mlm_logits, nsp_logits = model(input_ids, segment_ids, is_real, np.tile(np.arange(9), (2, 1)))
    with torch.no_grad():
        expected = theirs(input_ids=torch.as_tensor(input_ids), token_type_ids=torch.as_tensor(segment_ids),
                          attention_mask=torch.as_tensor(is_real.astype(np.int64)))
    np.testing.assert_allclose(mlm_logits.numpy()[is_real], expected.prediction_logits.numpy()[is_real], atol=1e-4)
    np.testing.assert_allclose(nsp_logits.numpy(), expected.seq_relationship_logits.numpy(), atol=1e-4)


def test_hugging_faces_loss_on_a_tinybert_batch_is_tinyberts_loss(exported, tmp_path):
    hf_directory, corpus = exported
    ours, tokenizer, _ = read_hf_bert(hf_directory)
    rng = np.random.default_rng(0)
    for parameter in ours.parameters():  # far from the near-uniform start, where a misplaced label would hardly show
        parameter.data += parameter.xp.asarray(rng.normal(0, 0.1, parameter.shape).astype(parameter.dtype))
    write_hf_bert(ours, tokenizer, tmp_path)
    documents = tokenize_documents(read_corpus_file(corpus), tokenizer)
    # a batch with padding of both kinds (the corpus is the running Python's language reference, which
    # changes between Python versions, and with it which batch has them)
    batches = itertools.islice(data_stream(documents, tokenizer, PretrainSettings(batch_size=8), seed=2), 50)
    batch = next((batch for batch in batches
                  if not batch.attention_mask.all() and (batch.masked_labels == IGNORE_INDEX).any()), None)
    assert batch is not None, "none of 50 batches has both padded positions and padded masked positions"
    ours.eval()
    mlm_logits, nsp_logits = ours(batch.input_ids, batch.segment_ids, batch.attention_mask, batch.masked_positions)
    our_loss, _, _ = ours.loss(mlm_logits, nsp_logits, batch.masked_labels, batch.next_sentence_labels)
    theirs = transformers.BertForPreTraining.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        their_loss = theirs(**load_example().hugging_face_inputs(batch, torch.device("cpu"))).loss
    np.testing.assert_allclose(their_loss.item(), our_loss.numpy(), rtol=1e-5)


def test_adamw_leaves_the_same_weights_undecayed_as_tinybert_pretrain(exported):
    ours, _, _ = read_hf_bert(exported[0])
    theirs = transformers.BertForPreTraining.from_pretrained(exported[0])
    their_groups = load_example().decay_groups(theirs, weight_decay=0.01)
    our_groups = parameter_groups(ours, weight_decay=0.01)
    for their_group, our_group in zip(their_groups, our_groups, strict=True):
        assert their_group["weight_decay"] == our_group["weight_decay"]
        assert sorted(parameter.numel() for parameter in their_group["params"]) == \
            sorted(parameter.size for parameter in our_group["params"])


def test_one_process_without_torchrun_trains_and_saves(exported, tmp_path):
    hf_directory, corpus = exported
    completed = run_example(str(hf_directory), "--out", str(tmp_path / "single"), "--corpus", str(corpus),
                            "--steps", "2", "--warmup", "1", "--batch-size", "4", "--log-every", "1")
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert "world size 1 on cpu (gloo)" in completed.stdout
    assert sorted(logged_losses(completed.stdout)) == [1, 2]
    _, info = transformers.BertForPreTraining.from_pretrained(tmp_path / "single", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"], info


@pytest.mark.parametrize("package", ["torch", "transformers"])
def test_without_pytorch_or_transformers_the_example_says_what_to_install_and_exits_2(package):
    hide_the_package = (f"import runpy, sys; sys.modules[{package!r}] = None; "  # None: importing it fails
                        "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")
    completed = run_example("--help", python_code=hide_the_package)
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1
    assert f"{package} is not installed" in completed.stderr and "pip install" in completed.stderr
    assert completed.stdout == ""


def test_warmup_longer_than_the_run_is_one_line_and_exit_2(exported, tmp_path):
    completed = run_example(str(exported[0]), "--out", str(tmp_path / "never"), "--steps", "10", "--warmup", "50")
    assert completed.returncode == 2
    assert completed.stderr.startswith("error: warmup of 50 steps does not fit in 10 steps")
    assert completed.stderr.count("\n") == 1
    assert not (tmp_path / "never").exists()


def test_a_directory_without_config_json_is_one_line_and_exit_2(exported, tmp_path):
    shutil.copytree(exported[0], tmp_path / "hf")
    (tmp_path / "hf" / "config.json").unlink()
    completed = run_example(str(tmp_path / "hf"), "--out", str(tmp_path / "never"))
    assert completed.returncode == 2
    assert completed.stderr == (f"error: {tmp_path / 'hf'} has no config.json: give a directory that tinybert "
                                "export-hf wrote\n")
