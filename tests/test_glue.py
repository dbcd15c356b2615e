"""GLUE through tinybert: each task's examples and metrics, STS-B as a regression, MNLI's two dev sets,
and the data through Hugging Face `datasets` (built here, never downloaded), with its errors."""

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from devices import not_on_the_pretend_gpu
from extras import needs_datasets
from tinybert.checkpoint import save_checkpoint
from tinybert.cli import main
from tinybert.glue import TASKS, labelled_texts, results_line, score_predictions
from tinybert.models.bert import BertConfig, BertForPreTraining
from tinybert.text import BertTokenizer, train_wordpiece_vocab

WORDS = ["cat", "dog", "fox", "owl", "good", "bad", "very", "the", "is", "a", "day", "sun", "rain"]


def run(*arguments):
    return CliRunner().invoke(main, [str(argument) for argument in arguments])


@pytest.fixture(scope="module")
def micro_model(tmp_path_factory):
    """A randomly initialised micro BERT and its vocabulary, saved as a pretrained checkpoint: the tasks
    below need no pretraining, only a model to start from."""
    directory = tmp_path_factory.mktemp("micro")
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(WORDS, size=6)) for _ in range(200)]
    tokenizer = BertTokenizer(train_wordpiece_vocab(texts, vocab_size=60))
    config = BertConfig(vocab_size=len(tokenizer.tokens), hidden_size=32, num_layers=1, num_heads=2,
                        intermediate_size=64, max_position_embeddings=32, hidden_dropout=0.0, attention_dropout=0.0)
    save_checkpoint(directory, BertForPreTraining(config), tokenizer, {"lowercase": True})
    return directory


def good_count_pairs(path, seed, count):
    """STS-B-like lines, score<TAB>a<TAB>b: the score is how many times "good" is in sentence a (0 to 4)."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(count):
        goods = int(rng.integers(0, 5))
        words = list(rng.choice(["cat", "dog", "fox", "sun", "rain"], size=6 - goods)) + ["good"] * goods
        lines.append(f"{goods:.1f}\t{' '.join(rng.permutation(words))}\tthe {rng.choice(WORDS)} is a {rng.choice(WORDS)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_glue_task_is_there_with_its_leaderboard_metrics():
    assert list(TASKS) == ["cola", "sst2", "mrpc", "qqp", "stsb", "mnli", "qnli", "rte", "wnli"]
    assert TASKS["cola"].metrics == ("matthews",) and TASKS["stsb"].metrics == ("pearson", "spearman")
    assert TASKS["mrpc"].metrics == TASKS["qqp"].metrics == ("f1", "accuracy")
    assert [name for _, name in TASKS["mnli"].dev_splits] == ["matched", "mismatched"]
    assert [name for name, task in TASKS.items() if task.regression] == ["stsb"]
    assert all(len(task.columns) in (1, 2) for task in TASKS.values())


def test_rows_as_datasets_gives_them_become_labelled_texts_as_glues_tsv_files_write_them():
    mrpc = labelled_texts(TASKS["mrpc"], {"sentence1": ["a", "b"], "sentence2": ["c", "d"], "label": [1, 0], "idx": [0, 1]})
    assert (mrpc.labels, mrpc.texts, mrpc.text_pairs) == (["1", "0"], ["a", "b"], ["c", "d"])
    rte = labelled_texts(TASKS["rte"], {"sentence1": ["a"], "sentence2": ["b"], "label": [1]},
                         label_names=["entailment", "not_entailment"])
    assert rte.labels == ["not_entailment"]  # RTE's TSV files write names
    sst2 = labelled_texts(TASKS["sst2"], {"sentence": ["fine", "awful"], "label": [1, 0]})
    assert sst2.text_pairs is None and sst2.labels == ["1", "0"]
    stsb = labelled_texts(TASKS["stsb"], {"sentence1": ["a"], "sentence2": ["b"], "label": [3.8]})
    assert stsb.labels == ["3.8"]


def test_each_task_scores_with_its_own_metrics():
    # CoLA: TP 1, FP 0, FN 1, TN 2 -> (1*2 - 0) / sqrt(1 * 2 * 2 * 3) = 2 / sqrt(12)
    assert score_predictions(TASKS["cola"], np.array([1, 0, 0, 0]), np.array([1, 1, 0, 0]), ["0", "1"]) == {
        "matthews": pytest.approx(2 / 12 ** 0.5)}
    # MRPC: F1 of label "1" (TP 1, FP 1, FN 0: 2/3), then accuracy (2 of 3)
    assert score_predictions(TASKS["mrpc"], np.array([1, 1, 0]), np.array([1, 0, 0]), ["0", "1"]) == {
        "f1": pytest.approx(2 / 3), "accuracy": pytest.approx(2 / 3)}
    assert score_predictions(TASKS["stsb"], np.array([0.5, 1.0, 4.0]), np.array([1.0, 2.0, 3.0])) == {
        "pearson": pytest.approx(np.corrcoef([0.5, 1.0, 4.0], [1.0, 2.0, 3.0])[0, 1]), "spearman": pytest.approx(1.0)}


def test_the_results_line_is_a_markdown_row_in_percent():
    assert results_line("MRPC", {"f1": 0.8712, "accuracy": 0.8123}, "models/tiny", 2, 3) == \
        "| MRPC | F1/accuracy | 87.1/81.2 | models/tiny, dev, epoch 2 of 3 |"


def test_stsb_is_a_regression_with_one_output_scored_by_pearson_and_spearman(micro_model, tmp_path):
    train, dev = good_count_pairs(tmp_path / "train.tsv", 0, 400), good_count_pairs(tmp_path / "dev.tsv", 1, 100)
    result = run("finetune", "--task", "stsb", "--model", micro_model, "--train", train, "--dev", dev,
                 "--out", tmp_path / "stsb", "--epochs", 4, "--lr", 1e-2, "--batch-size", 16, "--seq-length", 24)
    assert result.exit_code == 0, result.output
    best_line, row = result.stdout.splitlines()[-2:]
    pearson = float(best_line.split("Pearson ")[1].split(" ")[0])
    # measured: Pearson 0.99 (seed 0) from a random start; predicting the mean, or noise, gives about 0
    assert pearson > 0.9, result.stdout
    assert row.startswith("| train.tsv | Pearson/Spearman | ")
    predicted = run("predict", "--model", tmp_path / "stsb", dev)
    assert predicted.exit_code == 0, predicted.output
    values = np.array(predicted.stdout.split(), dtype=float)
    truth = np.array([line.split("\t")[0] for line in dev.read_text().splitlines()], dtype=float)
    assert len(values) == 100 and np.corrcoef(values, truth)[0, 1] == pytest.approx(pearson, abs=2e-3)
    assert predicted.stderr.startswith("Pearson ") and predicted.stderr.endswith(" on 100 examples\n")


def test_a_regression_label_that_is_no_number_is_one_line(micro_model, tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("3.0\ta b\tc d\nhigh\ta b\tc d\n")
    result = run("finetune", "--task", "stsb", "--model", micro_model, "--train", bad, "--dev", bad,
                 "--out", tmp_path / "out")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "a regression's labels are numbers (STS-B's: 0 to 5), and this is not: could not convert string to " \
           "float: 'high'" in result.stderr


def test_only_one_of_train_and_dev_is_one_line(micro_model, tmp_path):
    result = run("finetune", "--model", micro_model, "--train", tmp_path / "x.tsv", "--out", tmp_path / "out")
    assert result.exit_code == 2 and "give both --train and --dev files, or --task" in result.stderr


def test_without_the_data_extra_a_task_says_how_to_install_it(micro_model, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # import datasets now raises ImportError
    result = run("finetune", "--task", "rte", "--model", micro_model, "--out", tmp_path / "out")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "--task rte needs Hugging Face datasets, which is not installed: pip install -e \".[data]\"" in result.stderr


def glue_dict(datasets, rows_per_split, label_names):
    """A DatasetDict shaped as nyu-mll/glue's MNLI: premise, hypothesis, a ClassLabel."""
    features = datasets.Features({"premise": datasets.Value("string"), "hypothesis": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=label_names), "idx": datasets.Value("int32")})
    return datasets.DatasetDict({split: datasets.Dataset.from_dict({**rows, "idx": list(range(len(rows["label"])))},
                                                                   features=features)
                                 for split, rows in rows_per_split.items()})


def animal_entailment(rng, count):
    """Premise "the cat is good"; the hypothesis repeats it (0, entailment), speaks of the sun (1, neutral),
    or says the opposite (2, contradiction)."""
    animals, words = rng.choice(["cat", "dog", "fox", "owl"], size=count), rng.choice(["good", "bad"], size=count)
    labels = rng.integers(0, 3, size=count)
    opposite = {"good": "bad", "bad": "good"}
    hypotheses = [[f"the {animal} is {word}", f"the sun is {word}", f"the {animal} is {opposite[word]}"][label]
                  for animal, word, label in zip(animals, words, labels)]
    return {"premise": [f"the {animal} is {word}" for animal, word in zip(animals, words)], "hypothesis": hypotheses,
            "label": labels.tolist()}


def test_mnli_through_datasets_scores_matched_and_mismatched_and_picks_by_matched(micro_model, tmp_path, monkeypatch):
    datasets = needs_datasets()
    rng = np.random.default_rng(0)
    names = ["entailment", "neutral", "contradiction"]
    local = glue_dict(datasets, {"train": animal_entailment(rng, 300), "validation_matched": animal_entailment(rng, 60),
                                 "validation_mismatched": animal_entailment(rng, 50)}, names)
    asked = []
    monkeypatch.setattr(datasets, "load_dataset", lambda path, name: asked.append((path, name)) or local)
    result = run("finetune", "--task", "mnli", "--model", micro_model, "--out", tmp_path / "mnli", "--epochs", 2,
                 "--lr", 2e-3, "--batch-size", 16, "--seq-length", 16)
    assert result.exit_code == 0, result.output
    assert asked == [("nyu-mll/glue", "mnli")]
    epochs = [line for line in result.stdout.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 2 and all("matched accuracy " in line and "mismatched accuracy " in line for line in epochs)
    matched = [float(line.split("matched accuracy ")[1].split(" ")[0]) for line in epochs]
    best = int(result.stdout.splitlines()[-2].split("epoch ")[1].split(",")[0])
    assert matched[best - 1] == max(matched)
    assert result.stdout.splitlines()[-1].startswith("| MNLI | matched accuracy/mismatched accuracy | ")
    tsv = tmp_path / "dev.tsv"  # the model labels GLUE's own TSV layout with the names datasets gave
    tsv.write_text("index\tsentence1\tsentence2\tlabel\n0\tthe cat is good\tthe cat is good\tentailment\n")
    predicted = run("predict", "--model", tmp_path / "mnli", tsv)
    assert predicted.exit_code == 0 and predicted.stdout.strip() in names, predicted.output


@not_on_the_pretend_gpu  # a fresh Python process
def test_offline_with_nothing_cached_is_one_line_saying_how_to_get_the_data(micro_model, tmp_path):
    needs_datasets()
    offline = {**os.environ, "HF_HOME": str(tmp_path / "empty-cache"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
               "PYTHONPATH": str(Path(__file__).parent.parent)}
    result = subprocess.run([sys.executable, "-c", "from tinybert.cli import main; main()", "finetune", "--task", "mrpc",
                             "--model", str(micro_model), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, env=offline, timeout=120)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("tinybert: error: --task mrpc: nyu-mll/glue (mrpc) could not be downloaded, "
                                    "and is not in the datasets cache")
    assert "run once with a network, or use local files" in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_hubs_retry_warnings_without_a_network_leave_one_line(micro_model, tmp_path, monkeypatch):
    datasets = needs_datasets()

    def unreachable(path, name):  # what huggingface_hub does without a network: warn at each retry, then fail
        for retry in range(1, 6):
            logging.getLogger("huggingface_hub.utils._http").warning(f"Retrying in 1s [Retry {retry}/5].")
        raise ConnectionError(f"Couldn't reach '{path}' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", unreachable)
    result = run("finetune", "--task", "rte", "--model", micro_model, "--out", tmp_path / "out")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "nyu-mll/glue (rte) could not be downloaded" in result.stderr and "HF_HUB_OFFLINE=1" in result.stderr


def test_resuming_a_run_trained_on_files_without_them_says_to_give_them(micro_model, tmp_path, monkeypatch):
    import tinybert.finetuning as finetuning

    train, dev = good_count_pairs(tmp_path / "train.tsv", 0, 40), good_count_pairs(tmp_path / "dev.tsv", 1, 10)
    honest_step = finetuning.finetune_step
    monkeypatch.setattr(finetuning, "finetune_step",  # Ctrl-C during the first step
                        lambda state: (honest_step(state), os.kill(os.getpid(), signal.SIGINT))[0])
    stopped = run("finetune", "--model", micro_model, "--train", train, "--dev", dev, "--out", tmp_path / "run",
                  "--seq-length", 16)
    assert stopped.exit_code == 130, stopped.output
    monkeypatch.setattr(finetuning, "finetune_step", honest_step)
    result = run("finetune", "--resume", tmp_path / "run")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "this run was trained on files, not a GLUE task: resume it with its --train and --dev" in result.stderr
