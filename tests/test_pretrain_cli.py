"""`tinybert pretrain` and `tinybert fill-mask` on a micro corpus: they train, save, resume, predict,
and turn bad input into one line and exit code 2."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from devices import run_to_run_tolerance
from tinybert.cli import main

ANIMALS = ["cat", "dog", "bird", "fish", "horse", "mouse"]
PLACES = ["garden", "kitchen", "river", "forest", "house", "field"]


def micro_corpus(path, documents=12, sentences=5):
    """Documents of short sentences in google-research/bert's format: a blank line between documents."""
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(documents):
        for _ in range(sentences):
            lines.append(f"the {rng.choice(ANIMALS)} sleeps in the {rng.choice(PLACES)} every day.")
        lines.append("")
    path.write_text("\n".join(lines))
    return path


MICRO = ["--vocab-size", "80", "--seq-length", "24", "--batch-size", "4", "--warmup", "1"]


def run(*arguments):
    return CliRunner().invoke(main, [str(argument) for argument in arguments])


def copy_of_trained(trained, destination):
    """A copy of the module's trained checkpoint, to damage or go on with without touching the original."""
    import shutil

    directory, _, _ = trained
    shutil.copytree(directory / "model", destination)
    return destination


def losses_by_step(directory):
    """(step, training loss) from a run's metrics.jsonl."""
    records = [json.loads(line) for line in (directory / "metrics.jsonl").read_text().splitlines()]
    return [(record["step"], record["loss"]) for record in records if "loss" in record]


def micro_pretrained(directory, steps):
    """A checkpoint pretrained for `steps` steps on the micro corpus, in directory / "model"."""
    result = run("pretrain", "--corpus", micro_corpus(directory / "corpus.txt"), "--out", directory / "model",
                 "--steps", steps, *MICRO)
    assert result.exit_code == 0, result.output
    return directory / "model"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pretrain")
    corpus = micro_corpus(directory / "corpus.txt")
    result = run("pretrain", "--corpus", corpus, "--out", directory / "model", "--steps", 3, *MICRO)
    return directory, corpus, result


def test_pretrain_trains_evaluates_and_saves_a_complete_checkpoint(trained):
    directory, _, result = trained
    assert result.exit_code == 0, result.output
    assert "held-out masked-LM accuracy" in result.output and "always guessing" in result.output
    for name in ["config.json", "vocab.txt", "model.npz", "optimizer.npz", "trainer_state.json", "metrics.jsonl"]:
        assert (directory / "model" / name).is_file(), name
    records = [json.loads(line) for line in (directory / "model" / "metrics.jsonl").read_text().splitlines()]
    assert [record["step"] for record in records] == [1, 2, 3, 3]
    assert {"loss", "mlm_accuracy", "nsp_accuracy", "learning_rate", "tokens_per_second"} <= set(records[0])
    assert "held_out_mlm_accuracy" in records[-1]
    assert json.loads((directory / "model" / "trainer_state.json").read_text())["step"] == 3
    np.load(directory / "model" / "model.npz", allow_pickle=False)  # plain arrays, no pickle


def test_fill_mask_reads_the_saved_model_and_prints_top_k_guesses(trained):
    directory, _, _ = trained
    result = run("fill-mask", "--model", directory / "model", "--top-k", 3, "the [MASK] sleeps in the garden .")
    assert result.exit_code == 0, result.output
    line = result.output.strip().splitlines()[0]
    assert line.startswith("[MASK] 1:") and len(line.split("   ")) == 3


def test_resume_goes_on_from_the_saved_step(trained, tmp_path):
    directory, corpus, _ = trained
    resumed = tmp_path / "resumed"
    result = run("pretrain", "--corpus", corpus, "--resume", directory / "model", "--out", resumed, "--steps", 5, *MICRO)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (resumed / "metrics.jsonl").read_text().splitlines()]
    assert [record["step"] for record in records] == [4, 5, 5]
    assert json.loads((resumed / "trainer_state.json").read_text())["step"] == 5


@pytest.mark.parametrize("arguments, message", [
    (["pretrain", "--corpus", "no-such-file.txt"], "no-such-file.txt"),
    (["pretrain", "--steps", "5", "--warmup", "10"], "warmup of 10 steps does not fit in 5 steps"),
    (["pretrain", "--steps", "-3", "--warmup", "0"], "Invalid value for '--steps': -3 is not in the range x>=1 (see "
                                                       "tinybert pretrain --help)"),
    (["pretrian"], "No such command 'pretrian'. Did you mean 'pretrain'? (see tinybert --help)"),
    (["--bogus"], "No such option '--bogus' (see tinybert --help)"),
    (["pretrain", "--resume", "no-such-checkpoint"], "is not a tinybert checkpoint"),
    (["fill-mask", "--model", "no-such-checkpoint", "a [MASK]"], "is not a tinybert checkpoint"),
])
def test_bad_input_is_one_line_and_exit_code_two(arguments, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*arguments)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_fill_mask_without_a_mask_says_where_to_write_one(trained):
    directory, _, _ = trained
    result = run("fill-mask", "--model", directory / "model", "no blank here")
    assert result.exit_code == 2 and "write [MASK] where the model should guess" in result.stderr


def test_fill_mask_on_a_text_longer_than_the_model_takes_says_so_in_one_line(trained):
    directory, _, _ = trained
    result = run("fill-mask", "--model", directory / "model", "the [MASK] " + "cat " * 600)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "a sequence of 604 tokens exceeds max_position_embeddings=512: truncate it" in result.stderr


def test_a_short_run_on_a_regular_corpus_beats_the_most_frequent_token_baseline(tmp_path):
    corpus = micro_corpus(tmp_path / "corpus.txt", documents=20)
    result = run("pretrain", "--corpus", corpus, "--out", tmp_path / "model", "--steps", 150, "--vocab-size", 80,
                 "--seq-length", 24, "--batch-size", 8, "--warmup", 10)
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("held-out masked-LM accuracy"))
    accuracy, baseline = float(line.split()[3]), float(line.split(":")[1].split(")")[0])
    assert accuracy > baseline + 0.1, line
    assert "warning" not in result.stderr


def test_a_model_that_learnt_nothing_gets_the_plateau_warning(tmp_path):
    corpus = micro_corpus(tmp_path / "corpus.txt")
    result = run("pretrain", "--corpus", corpus, "--out", tmp_path / "model", "--steps", 2, "--lr", 0, *MICRO)
    assert result.exit_code == 0, result.output
    assert "warning: the model does little better than always guessing the most frequent token" in result.stderr


def test_resuming_to_a_step_already_reached_is_refused(trained):
    directory, corpus, _ = trained
    for steps in (["--steps", 2], []):  # no --steps: the checkpoint's own total, 3, is reached already
        result = run("pretrain", "--corpus", corpus, "--resume", directory / "model", "--out", directory / "again", *steps)
        assert result.exit_code == 2 and "is at step 3 already: give --steps a larger total" in result.stderr


def test_a_fresh_run_into_the_same_directory_starts_a_fresh_log(tmp_path):
    corpus = micro_corpus(tmp_path / "corpus.txt")
    for _ in range(2):
        result = run("pretrain", "--corpus", corpus, "--out", tmp_path / "model", "--steps", 2, *MICRO)
        assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "model" / "metrics.jsonl").read_text().splitlines()]
    assert [record["step"] for record in records] == [1, 2, 2]


def test_a_loss_that_becomes_nan_stops_the_run_at_that_step_and_leaves_the_checkpoint_alone(tmp_path, monkeypatch):
    import tinybert.pretraining as pretraining

    calls, honest_forward = [], pretraining.forward

    def forward_that_diverges_at_step_4(model, batch, sentence_task):
        calls.append(1)
        mlm_logits, nsp_logits, mlm_loss, nsp_loss = honest_forward(model, batch, sentence_task)
        return mlm_logits, nsp_logits, mlm_loss * (float("nan") if len(calls) >= 4 else 1.0), nsp_loss

    monkeypatch.setattr(pretraining, "forward", forward_that_diverges_at_step_4)
    corpus = micro_corpus(tmp_path / "corpus.txt")
    result = run("pretrain", "--corpus", corpus, "--out", tmp_path / "model", "--steps", 6, "--save-every", 2, *MICRO)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
    assert result.stderr.startswith("tinybert: error: the loss became nan at step 4: the run stopped there.")
    assert f"the checkpoint in {tmp_path / 'model'}/ (step 2) is untouched" in result.stderr
    assert json.loads((tmp_path / "model" / "trainer_state.json").read_text())["step"] == 2


def test_ctrl_c_saves_a_run_that_resumes_to_the_same_losses_as_one_never_stopped(tmp_path, monkeypatch):
    import os
    import signal

    import tinybert.pretraining as pretraining

    corpus = micro_corpus(tmp_path / "corpus.txt")
    whole = run("pretrain", "--corpus", corpus, "--out", tmp_path / "whole", "--steps", 6, *MICRO)
    assert whole.exit_code == 0, whole.output

    honest_step = pretraining.train_step

    def step_then_ctrl_c_after_step_3(run_state):
        metrics = honest_step(run_state)
        if run_state.step == 3:
            os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C during step 3
        return metrics

    monkeypatch.setattr(pretraining, "train_step", step_then_ctrl_c_after_step_3)
    stopped = run("pretrain", "--corpus", corpus, "--out", tmp_path / "split", "--steps", 6, *MICRO)
    assert stopped.exit_code == 130, stopped.output
    assert f"interrupted: saved the run at step 3 to {tmp_path / 'split'}/" in stopped.stderr
    monkeypatch.setattr(pretraining, "train_step", honest_step)
    go_on_with = stopped.stderr.split("go on with ")[1].split()  # the command it prints, run as it is printed
    assert go_on_with[:2] == ["tinybert", "pretrain"] and "--corpus" not in go_on_with
    resumed = run(*go_on_with[1:])
    assert resumed.exit_code == 0, resumed.output
    assert f"corpus: {corpus}, 12 documents" in resumed.output  # the run's own corpus, not the built-in one

    (split_steps, split_losses), (whole_steps, whole_losses) = (zip(*losses_by_step(tmp_path / name))
                                                                for name in ("split", "whole"))
    assert split_steps == whole_steps == tuple(range(1, 7))
    np.testing.assert_allclose(split_losses, whole_losses, rtol=run_to_run_tolerance())  # loss for loss


def test_a_resumed_run_goes_on_with_the_corpus_it_recorded_even_from_another_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    micro_corpus(tmp_path / "corpus.txt")
    first = run("pretrain", "--corpus", "corpus.txt", "--out", "model", "--steps", 2, *MICRO)  # a relative path
    assert first.exit_code == 0, first.output
    saved = json.loads((tmp_path / "model" / "config.json").read_text())["settings"]
    assert saved["corpus"] == str(tmp_path / "corpus.txt")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    resumed = run("pretrain", "--resume", tmp_path / "model", "--steps", 4)
    assert resumed.exit_code == 0, resumed.output
    assert f"corpus: {tmp_path / 'corpus.txt'}, 12 documents" in resumed.output
    assert json.loads((tmp_path / "model" / "trainer_state.json").read_text())["step"] == 4
    (tmp_path / "corpus.txt").rename(tmp_path / "elsewhere" / "moved.txt")  # the file moves
    lost = run("pretrain", "--resume", tmp_path / "model", "--steps", 6)
    assert lost.exit_code == 2 and lost.stderr.count("\n") == 1, lost.output
    assert f"the run's corpus {tmp_path / 'corpus.txt'} is no longer there: put it back, or give its new place " \
           "with --corpus" in lost.stderr
    found = run("pretrain", "--resume", tmp_path / "model", "--steps", 6, "--corpus", "moved.txt")
    assert found.exit_code == 0, found.output
    saved = json.loads((tmp_path / "model" / "config.json").read_text())["settings"]
    assert saved["corpus"] == str(tmp_path / "elsewhere" / "moved.txt")  # recorded from now on


def test_a_fresh_run_records_the_built_in_corpus_by_a_name_that_corpus_takes_back(tmp_path, monkeypatch):
    import tinybert.cli.pretrain as pretrain_cli

    monkeypatch.setattr(pretrain_cli, "python_reference_documents",  # the built-in corpus, quicker to train on
                        lambda: pretrain_cli.read_corpus_file(micro_corpus(tmp_path / "corpus.txt")))
    for arguments in ([], ["--corpus", "python-reference"]):
        result = run("pretrain", "--out", tmp_path / "model", "--steps", 2, *arguments, *MICRO)
        assert result.exit_code == 0, result.output
        assert "corpus: the Python language reference (built in), 12 documents" in result.output
        saved = json.loads((tmp_path / "model" / "config.json").read_text())["settings"]
        assert saved["corpus"] == "python-reference"


def test_resuming_with_another_corpus_is_refused_in_one_line(trained, tmp_path):
    directory, corpus, _ = trained
    other = micro_corpus(tmp_path / "other.txt", documents=15)
    result = run("pretrain", "--corpus", other, "--resume", directory / "model", "--out", tmp_path / "again",
                 "--steps", 5)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert f"--corpus {other} (the run's is {corpus}): a resumed run goes on with its own corpus: leave out " \
           "--corpus" in result.stderr
    assert not (tmp_path / "again").exists()


def test_a_checkpoint_that_does_not_record_its_corpus_resumes_only_with_one_and_then_records_it(trained, tmp_path):
    _, corpus, _ = trained
    older = copy_of_trained(trained, tmp_path / "older")  # as saved before runs recorded their corpus
    config = json.loads((older / "config.json").read_text())
    del config["settings"]["corpus"]
    (older / "config.json").write_text(json.dumps(config))
    refused = run("pretrain", "--resume", older, "--steps", 4)
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1, refused.output
    assert f"{older} does not record which corpus it was trained on" in refused.stderr
    assert "give it with --corpus (--corpus python-reference for the built-in one)" in refused.stderr
    resumed = run("pretrain", "--corpus", corpus, "--resume", older, "--steps", 4)
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((older / "config.json").read_text())["settings"]["corpus"] == str(corpus)


def test_only_a_fresh_run_says_which_loss_it_starts_near(trained, tmp_path):
    directory, corpus, fresh = trained
    assert "the loss starts near ln(80) + ln(2) = " in fresh.output
    resumed = run("pretrain", "--resume", copy_of_trained(trained, tmp_path / "model"), "--steps", 5)
    assert resumed.exit_code == 0, resumed.output
    assert "resumed at step 3 of 5" in resumed.output and "starts near" not in resumed.output


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_a_damaged_weights_file_is_one_line_and_exit_code_two(trained, tmp_path, damage):
    copy = copy_of_trained(trained, tmp_path / "model")
    weights = copy / "model.npz"
    weights.write_bytes(weights.read_bytes()[:100] if damage == "truncate" else b"not a zip file at all")
    result = run("fill-mask", "--model", copy, "a [MASK]")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "model.npz is damaged and cannot be read" in result.stderr


def test_a_config_that_does_not_match_the_weights_is_one_line_and_exit_code_two(trained, tmp_path):
    copy = copy_of_trained(trained, tmp_path / "model")
    saved = json.loads((copy / "config.json").read_text())
    saved["model"]["hidden_size"] = 64
    (copy / "config.json").write_text(json.dumps(saved))
    result = run("fill-mask", "--model", copy, "a [MASK]")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "was it saved with another configuration?" in result.stderr


@pytest.mark.parametrize("content, message", [
    (b"", "has no sentences: it is empty"),
    (b"\x00\x01\x02binary\xff\xfe", "not UTF-8 text"),
    (b"one sentence.\nanother one.\n", "the corpus has 1 document: holding out every 10th for evaluation leaves 1 "
                                      "held out and 0 to train on"),
    (b"\n\n".join([b"a cat sleeps.\na dog runs."] * 10), "the corpus has 10 documents: holding out every 10th for "
     "evaluation leaves 1 held out and 9 to train on, and next-sentence prediction needs at least 2 in each: give "
     "at least 11 documents"),
    (b"\n\n".join([b"a cat sleeps.\na dog runs."] * 11), "sentence pairs, fewer than one batch of 32: give a larger corpus, or a smaller --batch-size"),
])
def test_a_corpus_that_cannot_be_trained_on_is_one_line_and_exit_code_two(tmp_path, content, message):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(content)
    result = run("pretrain", "--corpus", corpus, "--out", tmp_path / "model", "--steps", 2, "--warmup", 1)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert message in result.stderr
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("file, damage", [
    ("vocab.txt", lambda text: text.replace("[MASK]\n", "")),
    ("config.json", lambda text: text[:20]),
    ("trainer_state.json", lambda text: "{not json"),
    ("vocab.txt", lambda text: text + "zebra\n"),  # a token beyond the embedding table: ids it gets would not fit
])
def test_a_checkpoint_file_that_is_there_but_wrong_is_one_line_and_exit_code_two(trained, tmp_path, file, damage):
    copy = copy_of_trained(trained, tmp_path / "model")
    (copy / file).write_text(damage((copy / file).read_text()))
    result = run("fill-mask", "--model", copy, "a [MASK]")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "is a damaged checkpoint" in result.stderr


def test_resuming_writes_back_into_the_run_and_refuses_settings_it_would_ignore(trained, tmp_path):
    _, corpus, _ = trained
    run_directory = copy_of_trained(trained, tmp_path / "run")
    refused = run("pretrain", "--corpus", corpus, "--resume", run_directory, "--steps", 5, "--lr", 0.1)
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1
    assert "--lr 0.1 (the run's is 0.0025): a resumed run keeps its checkpoint's settings" in refused.stderr
    resumed = run("pretrain", "--corpus", corpus, "--resume", run_directory, "--steps", 4)
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((run_directory / "trainer_state.json").read_text())["step"] == 4  # no --out: the run's own


def test_a_log_without_a_terminal_gets_a_progress_line_every_100_steps(tmp_path):
    corpus = micro_corpus(tmp_path / "corpus.txt")
    result = run("pretrain", "--corpus", corpus, "--out", tmp_path / "model", "--steps", 100, *MICRO)
    assert result.exit_code == 0, result.output
    assert [line.split("  ")[0] for line in result.stdout.splitlines() if line.startswith("step ")] == ["step 100/100"]


def test_fill_mask_on_a_classifier_or_with_a_lowercase_mask_says_what_to_do(trained, tmp_path):
    directory, _, _ = trained
    lowercase = run("fill-mask", "--model", directory / "model", "the [mask] sleeps")
    assert lowercase.exit_code == 2 and "in capitals: [MASK], not [mask]" in lowercase.stderr
    classifier = copy_of_trained(trained, tmp_path / "classifier")  # marked as a classifier, as finetune writes it
    config = json.loads((classifier / "config.json").read_text())
    config["settings"].update(task="classification", labels=["0", "1"])
    (classifier / "config.json").write_text(json.dumps(config))
    result = run("fill-mask", "--model", classifier, "the [MASK] sleeps")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "holds a fine-tuned model (classification), not a pretrained model" in result.stderr


ROBERTA = ["--sentence-task", "none", "--masking", "static", "--accumulate", 2]


def test_a_roberta_style_run_saves_its_options_resumes_exactly_and_fills_masks(tmp_path):
    corpus = micro_corpus(tmp_path / "corpus.txt")
    whole = run("pretrain", "--corpus", corpus, "--out", tmp_path / "whole", "--steps", 4, *ROBERTA, *MICRO)
    assert whole.exit_code == 0, whole.output
    assert "data: full sentences packed across documents, no sentence task, static masking; batches of 4 x 2 " \
           "accumulated a step" in whole.output
    assert "the loss starts near ln(80) = 4.38" in whole.output and "next-sentence" not in whole.output
    records = [json.loads(line) for line in (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines()]
    assert not any(key.startswith(("nsp", "held_out_nsp")) for record in records for key in record)
    saved = json.loads((tmp_path / "whole" / "config.json").read_text())["settings"]
    assert (saved["sentence_task"], saved["masking"], saved["accumulate"]) == ("none", "static", 2)

    first = run("pretrain", "--corpus", corpus, "--out", tmp_path / "split", "--steps", 2, *ROBERTA, *MICRO)
    assert first.exit_code == 0, first.output
    refused = run("pretrain", "--corpus", corpus, "--resume", tmp_path / "split", "--steps", 4, "--sentence-task", "nsp")
    assert refused.exit_code == 2 and "--sentence-task nsp (the run's is none)" in refused.stderr
    resumed = run("pretrain", "--corpus", corpus, "--resume", tmp_path / "split", "--steps", 4)
    assert resumed.exit_code == 0, resumed.output
    (split_steps, split_losses), (whole_steps, whole_losses) = (zip(*losses_by_step(tmp_path / name))
                                                                for name in ("split", "whole"))
    assert split_steps == whole_steps == (1, 2, 3, 4)
    np.testing.assert_allclose(split_losses, whole_losses, rtol=run_to_run_tolerance())  # loss for loss

    filled = run("fill-mask", "--model", tmp_path / "whole", "the [MASK] sleeps in the garden .")
    assert filled.exit_code == 0 and filled.output.startswith("[MASK] 1:"), filled.output


def test_an_albert_style_run_shares_its_layers_and_factorises_its_embeddings(tmp_path):
    from tinybert.models.bert import BertConfig, BertForPreTraining

    corpus = micro_corpus(tmp_path / "corpus.txt")

    def parameters_reported(output):  # "model: tiny BERT, ..., 506,450 parameters, vocabulary 80; ..."
        line = next(line for line in output.splitlines() if line.startswith("model:"))
        return int(line.split(" parameters")[0].split()[-1].replace(",", ""))

    def parameters_of(**options):
        model = BertForPreTraining(BertConfig.preset("tiny", 80, max_position_embeddings=512, **options))
        return sum(parameter.size for parameter in model.parameters())

    bert = run("pretrain", "--corpus", corpus, "--out", tmp_path / "bert", "--steps", 2, *MICRO)
    albert = run("pretrain", "--corpus", corpus, "--out", tmp_path / "albert", "--steps", 2, "--sentence-task", "sop",
                 "--embedding-size", 16, "--share-layers", *MICRO)
    assert albert.exit_code == 0, albert.output
    assert "model: tiny BERT, embeddings 16 wide, one layer shared by every depth," in albert.output
    assert "sentence-order accuracy" in albert.output and ", vocabulary 80;" in albert.output
    config = json.loads((tmp_path / "albert" / "config.json").read_text())["model"]
    assert (config["embedding_size"], config["share_layers"], config["sentence_task"]) == (16, True, "sop")
    assert parameters_reported(bert.output) == parameters_of()
    assert parameters_reported(albert.output) == parameters_of(embedding_size=16, share_layers=True)
    assert parameters_reported(albert.output) < parameters_reported(bert.output) / 2


def test_albert_options_on_a_gpt_are_one_line_and_exit_code_two(tmp_path):
    result = run("pretrain", "--corpus", micro_corpus(tmp_path / "corpus.txt"), "--out", tmp_path / "model",
                 "--objective", "clm", "--share-layers", *MICRO)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "share_layers: BERT's settings, which a left-to-right GPT (objective clm) has no use for" in result.stderr
