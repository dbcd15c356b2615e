"""`tinybert finetune` and `tinybert predict`: a tiny pretrained model learns a generated pair task well
above chance; predictions are written; bad files are one line and exit code 2."""

import numpy as np
import pytest
from click.testing import CliRunner

from test_pretrain_cli import ANIMALS, PLACES, micro_corpus
from tinybert.cli import main
from tinybert.finetuning import scores


def run(*arguments):
    return CliRunner().invoke(main, [str(argument) for argument in arguments])


def same_animal_pairs(path, seed, count):
    """Label 1 when the second sentence names the animal of the first: only the pair as a whole tells."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(count):
        animal, same = rng.choice(ANIMALS), rng.random() < 0.5
        other = animal if same else rng.choice([name for name in ANIMALS if name != animal])
        lines.append(f"{int(same)}\tthe {animal} sleeps in the {rng.choice(PLACES)} every day.\t"
                     f"the {other} is in the {rng.choice(PLACES)}.")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory):
    directory = tmp_path_factory.mktemp("finetune")
    corpus = micro_corpus(directory / "corpus.txt")
    pretrained = run("pretrain", "--corpus", corpus, "--out", directory / "pretrained", "--steps", 30,
                     "--vocab-size", 80, "--seq-length", 24, "--batch-size", 4, "--warmup", 1)
    assert pretrained.exit_code == 0, pretrained.output
    train, dev = same_animal_pairs(directory / "train.tsv", 0, 400), same_animal_pairs(directory / "dev.tsv", 1, 100)
    result = run("finetune", "--model", directory / "pretrained", "--train", train, "--dev", dev,
                 "--out", directory / "model", "--epochs", 10, "--lr", 1e-3, "--batch-size", 16, "--seq-length", 32)
    return directory, dev, result


def test_finetuning_reaches_well_above_chance_and_reports_every_epoch(finetuned):
    directory, dev, result = finetuned
    assert result.exit_code == 0, result.output
    epochs = [line for line in result.stdout.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 10
    best = float(result.stdout.splitlines()[-1].split("dev accuracy ")[1].split(",")[0])
    majority = max(np.mean([line.split("\t")[0] == "1" for line in dev.read_text().splitlines()]), 0.5)
    assert best >= 0.8 > majority + 0.2, result.stdout  # measured: 0.92 on this task, against 0.57 by one label


def test_predict_writes_one_label_per_example_with_the_dev_accuracy(finetuned, tmp_path):
    directory, dev, result = finetuned
    predicted = run("predict", "--model", directory / "model", "--out", tmp_path / "predictions.txt", dev)
    assert predicted.exit_code == 0, predicted.output
    labels = (tmp_path / "predictions.txt").read_text().splitlines()
    truth = [line.split("\t")[0] for line in dev.read_text().splitlines()]
    accuracy = np.mean([guess == label for guess, label in zip(labels, truth)])
    assert len(labels) == 100 and set(labels) <= {"0", "1"}
    assert predicted.stderr.strip() == f"accuracy {accuracy:.3f} on 100 examples"
    best = float(result.stdout.splitlines()[-1].split("dev accuracy ")[1].split(",")[0])
    assert abs(accuracy - best) < 1e-9  # the saved model is the best epoch's


def test_a_malformed_row_is_one_line_naming_it_and_exit_code_two(finetuned, tmp_path):
    directory, dev, _ = finetuned
    bad = tmp_path / "bad.tsv"
    bad.write_text("1\ta cat\ta cat\n0\tonly one sentence\n")
    result = run("finetune", "--model", directory / "pretrained", "--train", bad, "--dev", dev, "--out", tmp_path / "out")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "bad.tsv, line 2: expected 3 tab-separated fields" in result.stderr
    assert not (tmp_path / "out").exists()


def test_predict_with_a_pretrained_model_says_to_finetune_first(finetuned):
    directory, dev, _ = finetuned
    result = run("predict", "--model", directory / "pretrained", dev)
    assert result.exit_code == 2 and "run tinybert finetune on it first" in result.stderr


def test_accuracy_and_f1_on_hand_counted_cases():
    predicted, truth = np.array([1, 1, 0, 0, 1]), np.array([1, 0, 0, 1, 1])
    accuracy, f1 = scores(predicted, truth, positive=1)  # TP 2, FP 1, FN 1: F1 = 2*2 / (3 + 3)
    assert accuracy == 0.6 and f1 == pytest.approx(4 / 6)
    assert scores(np.zeros(3, dtype=int), np.zeros(3, dtype=int), positive=1) == (1.0, 0.0)  # no positives at all


def test_a_loss_that_becomes_nan_stops_finetuning_with_exit_code_one_and_writes_nothing(finetuned, tmp_path):
    directory, dev, _ = finetuned
    result = run("finetune", "--model", directory / "pretrained", "--train", dev, "--dev", dev, "--out", tmp_path / "out",
                 "--lr", 1e30, "--epochs", 2)  # steps of 1e30 overflow the weights within the first epoch
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines()[-1] == ("tinybert: error: the loss became nan in epoch 1: fine-tuning "
                                                      "stopped, and nothing was saved. Try a lower learning rate (--lr)")
    assert not (tmp_path / "out").exists()
