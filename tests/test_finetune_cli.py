"""`tinybert finetune` and `tinybert predict`: a tiny pretrained model learns a generated pair task well
above chance; predictions are written; bad files are one line and exit code 2."""

import json
import os
import signal
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from devices import run_to_run_tolerance
from test_pretrain_cli import ANIMALS, PLACES, micro_corpus
from tinybert.cli import main


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
    pretrained = run("pretrain", "--corpus", corpus, "--out", directory / "pretrained", "--steps", 200,
                     "--vocab-size", 80, "--seq-length", 24, "--batch-size", 4, "--warmup", 1)
    assert pretrained.exit_code == 0, pretrained.output
    train, dev = same_animal_pairs(directory / "train.tsv", 0, 1000), same_animal_pairs(directory / "dev.tsv", 1, 100)
    result = run("finetune", "--model", directory / "pretrained", "--train", train, "--dev", dev,
                 "--out", directory / "model", "--epochs", 8, "--lr", 5e-4, "--batch-size", 16, "--seq-length", 32)
    return directory, dev, result


def test_finetuning_reaches_well_above_chance_and_reports_every_epoch(finetuned):
    directory, dev, result = finetuned
    assert result.exit_code == 0, result.output
    epochs = [line for line in result.stdout.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 8
    best = best_accuracy(result)
    majority = max(np.mean([line.split("\t")[0] == "1" for line in dev.read_text().splitlines()]), 0.5)
    # measured: 1.00 (seed 0; seeds 1, 2, 3 reach 1.00 too), against 0.56 by always one label.
    # A weaker start is not enough: after 30 pretraining steps and 400 examples, four seeds reached only 0.68-0.73
    assert best >= 0.9 > majority + 0.3, result.stdout


def test_predict_writes_one_label_per_example_with_the_dev_accuracy(finetuned, tmp_path):
    directory, dev, result = finetuned
    predicted = run("predict", "--model", directory / "model", "--out", tmp_path / "predictions.txt", dev)
    assert predicted.exit_code == 0, predicted.output
    labels = (tmp_path / "predictions.txt").read_text().splitlines()
    truth = [line.split("\t")[0] for line in dev.read_text().splitlines()]
    accuracy = np.mean([guess == label for guess, label in zip(labels, truth)])
    assert len(labels) == 100 and set(labels) <= {"0", "1"}
    assert predicted.stderr.startswith(f"accuracy {accuracy:.3f}  F1 ") and predicted.stderr.endswith(" on 100 examples\n")
    assert abs(accuracy - best_accuracy(result)) < 1e-9  # the saved model is the best epoch's


def test_predict_labels_a_file_without_labels_as_it_labels_the_same_texts_with_them(finetuned, tmp_path):
    directory, dev, _ = finetuned
    unlabelled = tmp_path / "test.tsv"
    unlabelled.write_text("".join(line.split("\t", 1)[1] + "\n" for line in dev.read_text().splitlines()))
    without = run("predict", "--model", directory / "model", "--unlabelled", unlabelled)
    with_labels = run("predict", "--model", directory / "model", dev)
    assert without.exit_code == 0 and with_labels.exit_code == 0, without.output
    assert without.stdout == with_labels.stdout and len(without.stdout.splitlines()) == 100
    assert without.stderr.strip() == "labelled 100 examples"
    forgot = run("predict", "--model", directory / "model", "--out", tmp_path / "labels.txt", unlabelled)
    assert forgot.exit_code == 2 and forgot.stderr.count("\n") == 1, forgot.output  # no accuracy made up of texts
    assert "is one the model knows (0, 1): if the file has no labels, give --unlabelled" in forgot.stderr
    assert not (tmp_path / "labels.txt").exists()


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


def best_accuracy(result):
    """The dev accuracy of the best epoch, from the line before the results row: "best: epoch 3, accuracy
    0.950  F1 0.952 (F1 of label '1'); saved to ..."."""
    return float(result.stdout.splitlines()[-2].split("accuracy ")[1].split(" ")[0])


def test_the_last_line_is_a_markdown_row_of_the_best_epochs_results(finetuned):
    directory, _, result = finetuned
    best_line, row = result.stdout.splitlines()[-2:]
    epoch = int(best_line.split("epoch ")[1].split(",")[0])
    accuracy, f1 = best_accuracy(result), float(best_line.split("F1 ")[1].split(" ")[0])
    assert row == (f"| train.tsv | accuracy/F1 | {100 * accuracy:.1f}/{100 * f1:.1f} | {directory / 'pretrained'}, "
                   f"dev, epoch {epoch} of 8 |")


def test_a_loss_that_becomes_nan_stops_finetuning_with_exit_code_one_and_saves_no_model(finetuned, tmp_path):
    directory, dev, _ = finetuned
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's overflow warnings must not print before the one line
        result = run("finetune", "--model", directory / "pretrained", "--train", dev, "--dev", dev, "--out",
                     tmp_path / "out", "--lr", 1e30, "--epochs", 2)  # steps of 1e30 overflow the weights at once
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines()[-1] == (
        "tinybert: error: the loss became nan at step 2 (epoch 1): fine-tuning stopped there. Try a lower learning "
        "rate (--lr); no epoch had finished, so no model was saved")
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["metrics.jsonl"]  # the steps that ran


def logged(directory):
    """From a run's metrics.jsonl: (step, epoch, whether an epoch ended) of every step, and its numbers:
    the loss, and at an epoch's end the dev accuracy and F1 and the epoch's mean training loss."""
    records = [json.loads(line) for line in (directory / "metrics.jsonl").read_text().splitlines()]
    steps = [(record["step"], record["epoch"], "dev" in record) for record in records]
    numbers = [value for record in records for value in [record["loss"]] + (
        [*record["dev"]["scores"].values(), record["dev"]["train_loss"]] if "dev" in record else [])]
    return steps, numbers


def assert_same_run(directory, expected_directory):
    """The same steps, with the same losses and dev scores (to run_to_run_tolerance), in both runs."""
    (steps, numbers), (expected_steps, expected_numbers) = logged(directory), logged(expected_directory)
    assert steps == expected_steps
    np.testing.assert_allclose(numbers, expected_numbers, rtol=run_to_run_tolerance())


def test_ctrl_c_saves_a_run_that_resumes_to_the_same_losses_as_one_never_stopped(finetuned, tmp_path, monkeypatch):
    import tinybert.finetuning as finetuning

    directory, dev, _ = finetuned
    train = same_animal_pairs(tmp_path / "train.tsv", 2, 40)  # 40 examples in batches of 16: 3 steps an epoch
    options = ["--train", train, "--dev", dev, "--epochs", 3, "--batch-size", 16, "--seq-length", 32, "--lr", 1e-3]
    whole = run("finetune", "--model", directory / "pretrained", "--out", tmp_path / "whole", *options)
    assert whole.exit_code == 0, whole.output
    assert not (tmp_path / "whole" / "in-progress").exists()  # a finished run needs nothing to resume

    honest_step = finetuning.finetune_step

    def step_then_ctrl_c_after_step_5(run_state):
        metrics = honest_step(run_state)
        if run_state.step == 5:
            os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C during step 5, in epoch 2
        return metrics

    monkeypatch.setattr(finetuning, "finetune_step", step_then_ctrl_c_after_step_5)
    split = tmp_path / "split"
    stopped = run("finetune", "--model", directory / "pretrained", "--out", split, *options)
    assert stopped.exit_code == 130, stopped.output
    assert stopped.stderr.startswith(f"interrupted: saved the run at step 5 of 9 to {split}/; go on with "
                                     f"tinybert finetune --resume {split} --train {train} --dev {dev}")
    assert (split / "model.npz").is_file()  # epoch 1's model, the best so far, is there already
    monkeypatch.setattr(finetuning, "finetune_step", honest_step)
    resumed = run("finetune", "--resume", split, "--train", train, "--dev", dev)
    assert resumed.exit_code == 0, resumed.output
    assert_same_run(split, tmp_path / "whole")  # steps 1..9 and the three epochs' dev results
    assert resumed.stdout.splitlines()[-2] == whole.stdout.splitlines()[-2].replace(str(tmp_path / "whole"), str(split))
    assert resumed.stdout.splitlines()[-1] == whole.stdout.splitlines()[-1]  # the results row names the pretrained model
    kept, expected = (np.load(path / "model.npz") for path in (split, tmp_path / "whole"))
    for name in expected.files:  # the best epoch's weights
        np.testing.assert_allclose(kept[name], expected[name], rtol=run_to_run_tolerance(), atol=run_to_run_tolerance())


@pytest.mark.parametrize("arguments, message", [
    (["--resume", "{out}", "--model", "{model}"], "leave out --model and --out"),
    (["--model", "{model}"], "give the pretrained model (--model) and the directory to write (--out), or --resume"),
    (["--resume", "{model}"], "holds no unfinished fine-tuning run (no in-progress/ in it)"),
    (["--model", "{model}", "--out", "{out}", "--null-threshold", "1.5"],
     "--null-threshold is for question answering: use it with --task squad or squad_v2"),
    (["--resume", "{model}", "--lr", "1e-3"], "--lr does not go with --resume: a resumed run keeps its own settings"),
])
def test_finetune_options_that_do_not_fit_together_are_one_line_and_exit_code_two(finetuned, tmp_path, arguments,
                                                                                 message):
    directory, dev, _ = finetuned
    arguments = [argument.format(out=tmp_path / "out", model=directory / "pretrained") for argument in arguments]
    result = run("finetune", "--train", dev, "--dev", dev, *arguments)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert message in result.stderr


def test_resuming_with_other_files_than_the_run_started_with_is_refused(finetuned, tmp_path, monkeypatch):
    import tinybert.finetuning as finetuning

    directory, dev, _ = finetuned
    train = same_animal_pairs(tmp_path / "train.tsv", 2, 40)
    honest_step = finetuning.finetune_step
    monkeypatch.setattr(finetuning, "finetune_step",
                        lambda state: (honest_step(state), os.kill(os.getpid(), signal.SIGINT))[0])
    stopped = run("finetune", "--model", directory / "pretrained", "--out", tmp_path / "out", "--train", train,
                  "--dev", dev, "--batch-size", 16, "--seq-length", 32)
    assert stopped.exit_code == 130, stopped.output
    resumed = run("finetune", "--resume", tmp_path / "out", "--train", dev, "--dev", dev)
    assert resumed.exit_code == 2, resumed.output
    assert ("the run started on 40 training examples labelled ['0', '1']; this training file has 100 labelled "
            "['0', '1']: resume with the run's own files") in resumed.stderr


def test_an_out_directory_holding_the_pretrained_model_is_refused_not_overwritten(finetuned):
    directory, dev, _ = finetuned
    before = (directory / "pretrained" / "model.npz").read_bytes()
    result = run("finetune", "--model", directory / "pretrained", "--train", dev, "--dev", dev,
                 "--out", directory / "pretrained")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "holds a pretrained model, which this would overwrite: choose another --out" in result.stderr
    assert (directory / "pretrained" / "model.npz").read_bytes() == before


@pytest.mark.parametrize("problem, message", [
    ("missing train file", "train.tsv does not exist, or is not a file"),
    ("one label", "the training file has only the label '1'"),
])
def test_training_files_that_cannot_train_a_classifier_are_one_clear_line(finetuned, tmp_path, problem, message):
    directory, dev, _ = finetuned
    train = tmp_path / "train.tsv"
    if problem == "one label":
        train.write_text("1\ta cat\ta cat\n1\ta dog\ta dog\n")
    result = run("finetune", "--model", directory / "pretrained", "--train", train, "--dev", dev, "--out", tmp_path / "o")
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_an_output_file_under_a_file_is_one_line_and_a_missing_folder_is_made(finetuned, tmp_path):
    directory, dev, _ = finetuned
    blocked = run("predict", "--model", directory / "model", "--out", dev / "predictions.txt", dev)
    assert blocked.exit_code == 2 and blocked.stderr.count("\n") == 1
    assert f"cannot write {dev / 'predictions.txt'}: {dev} cannot be made a directory" in blocked.stderr
    made = run("predict", "--model", directory / "model", "--out", tmp_path / "new" / "predictions.txt", dev)
    assert made.exit_code == 0 and len((tmp_path / "new" / "predictions.txt").read_text().splitlines()) == 100
