"""`tinybert finetune` (a labelled file, any GLUE task, or SQuAD: squad.py) and `tinybert predict`."""

from pathlib import Path

import click

from ..checkpoint import CheckpointError, load_checkpoint, saved_task
from ..finetuning import (FinetuneSettings, deciding_score, finish, load_classifier, predict, resume_finetune,
                          save_best, save_progress, start_finetune, train_classifier, truth_of)
from ..glue import TASKS, describe, positive_label, results_line, score_predictions, task_named
from ..hub_data import SQUAD as SQUAD_TASKS, load_glue
from ..nn import StateDictError
from ..pretraining import TrainingDiverged
from ..squad import SquadSettings
from ..text.labelled_tsv import read_labelled_tsv
from .base import (InputError, Interrupted, RunError, check_out_holds, device_option, main, make_room_for,
                   reported_as_input_errors, show_or_write, train_with_a_log)
from .squad import answer_questions, finetune_squad

SQUAD_OPTIONS = ("doc_stride", "max_query_length", "max_answer_length", "null_score_threshold")


def given_options(options, names):
    """The command-line flags (--doc-stride, ...) of those of `names` that the user gave (not None)."""
    flags = {parameter.name: parameter.opts[0] for parameter in click.get_current_context().command.params}
    return [flags[name] for name in names if options[name] is not None]


def default(name):
    """An option's default as --help shows it: the classifier's, and the question answerer's where it differs."""
    classifier, squad = getattr(FinetuneSettings, name, None), getattr(SquadSettings, name)
    if classifier is None:
        return f"[default: {squad}]"
    return f"[default: {classifier}" + ("]" if classifier == squad else f"; {squad} for squad]")


@main.command()
@click.option("--model", "model_directory", type=click.Path(file_okay=False),
              help="A pretrained checkpoint directory (from tinybert pretrain or tinybert import-hf).")
@click.option("--task", type=click.Choice([*TASKS, *SQUAD_TASKS]), default=None,
              help="A GLUE task, or squad (v1.1) or squad_v2 (question answering): its data through Hugging Face "
                   "datasets (the data extra) unless --train and --dev are given, and its metrics (STS-B: a "
                   "regression) [default: a labelled file, accuracy and F1].")
@click.option("--train", "train_path", type=click.Path(dir_okay=False),
              help="Labelled examples: GLUE's MRPC or RTE TSV, or label<TAB>text[<TAB>text_b] per line; with "
                   "--task squad, a SQuAD v1.1 or v2.0 JSON file.")
@click.option("--dev", "dev_path", type=click.Path(dir_okay=False),
              help="Held-out examples, same layout.")
@click.option("--out", type=click.Path(file_okay=False), help="The directory for the best model.")
@click.option("--epochs", type=click.IntRange(min=1), help=default("epochs"))
@click.option("--lr", "learning_rate", type=float, help=default("learning_rate"))
@click.option("--warmup", "warmup_fraction", type=click.FloatRange(0, 1),
              help="The fraction of all steps spent warming up " + default("warmup_fraction") + ".")
@click.option("--batch-size", type=click.IntRange(min=1), help=default("batch_size"))
@click.option("--seq-length", "max_seq_length", type=click.IntRange(min=3), help=default("max_seq_length"))
@click.option("--doc-stride", type=click.IntRange(min=1),
              help="squad: how far apart the windows of a long context start, in word pieces " + default("doc_stride"))
@click.option("--max-query-length", type=click.IntRange(min=1),
              help="squad: questions are cut to this many word pieces " + default("max_query_length"))
@click.option("--max-answer-length", type=click.IntRange(min=1),
              help="squad: the longest answer, in word pieces " + default("max_answer_length"))
@click.option("--null-threshold", "null_score_threshold", type=float,
              help="squad_v2: answer nothing when the no-answer score beats the best span's by more "
                   + default("null_score_threshold"))
@click.option("--seed", type=int, help=default("seed"))
@click.option("--resume", type=click.Path(file_okay=False), default=None,
              help="The --out directory of a stopped run, to go on with (with its own settings and the same files).")
@device_option
def finetune(model_directory, task, train_path, dev_path, out, resume, **options):
    """Fine-tune a pretrained BERT to label sentences or sentence pairs (or score them, for STS-B), or to
    answer questions (SQuAD); report the dev scores after every epoch and save the best epoch's model.
    Ctrl-C saves the run, and --resume goes on with it. The last line is the best epoch's results as a
    Markdown table row."""
    if resume and (model_directory or out):
        raise InputError("--resume goes on in the run's own directory with its own model: leave out --model and --out")
    settings_given = given_options(options, options)
    if resume and settings_given:
        raise InputError(f"{settings_given[0]} does not go with --resume: a resumed run keeps its own settings")
    if not resume and not (model_directory and out):
        raise InputError("give the pretrained model (--model) and the directory to write (--out), or --resume")
    if bool(train_path) != bool(dev_path) or not (train_path or task or resume):
        raise InputError("give both --train and --dev files, or --task with a GLUE task or squad / squad_v2 to load "
                         "them through datasets")
    if task in SQUAD_TASKS:
        if resume:
            raise InputError("a SQuAD run does not resume: run it again (its best epoch so far is saved in --out)")
        with reported_as_input_errors(ValueError):
            settings = SquadSettings(**with_defaults(options, SquadSettings))
        return finetune_squad(task, model_directory, train_path, dev_path, out, settings)
    squad_only = given_options(options, SQUAD_OPTIONS)
    if squad_only:
        raise InputError(f"{squad_only[0]} is for question answering: use it with --task squad or squad_v2")
    options = {name: value for name, value in options.items() if name not in SQUAD_OPTIONS}
    out = resume or out
    if not resume:
        check_out_holds(out, "classification")
    with reported_as_input_errors(CheckpointError, StateDictError, OSError, ValueError):
        if resume:
            run = resume_finetune(resume, lambda saved: finetune_data(saved.glue_task, train_path, dev_path))
        else:
            pretrained, tokenizer, _, _ = load_checkpoint(model_directory)
            run = start_finetune(pretrained, tokenizer, *finetune_data(task, train_path, dev_path),
                                 FinetuneSettings(**with_defaults(options, FinetuneSettings), glue_task=task,
                                                  pretrained_model=str(model_directory)))
    make_room_for(out, directory=True)
    try:
        train_with_a_log(train_classifier, run, out, report_epoch, save_best, save_progress, resumed=bool(resume))
    except Interrupted:
        click.echo(f"interrupted: saved the run at step {run.step} of {run.total_steps} to {out}/; go on with "
                   f"tinybert finetune --resume {out}" + (f" --train {train_path} --dev {dev_path}" if train_path else ""),
                   err=True)
        raise SystemExit(130) from None
    except TrainingDiverged as error:
        kept = (f"; the best epoch so far is saved in {out}/" if run.history else
                "; no epoch had finished, so no model was saved")
        raise RunError(f"{error}{kept}") from None
    finish(out)
    best = max(run.history, key=deciding_score)
    positive = "" if run.labels is None or "f1" not in run.settings.task.metrics else \
        f" (F1 of label {positive_label(run.labels)!r})"
    click.echo(f"best: epoch {best['epoch']}, {describe(best['scores'])}{positive}; saved to {out}/")
    data = run.settings.glue_task.upper() if run.settings.glue_task and not train_path else Path(train_path).name
    click.echo(results_line(data, best["scores"], run.settings.pretrained_model or out, best["epoch"],
                            run.settings.epochs))


def with_defaults(options, settings_class):
    """The options, those left out (None) given the settings class's defaults."""
    return {name: getattr(settings_class, name) if value is None else value for name, value in options.items()}


def finetune_data(glue_task, train_path, dev_path):
    """(training examples, {dev set name: examples}): from the files when given, else the GLUE task's own
    data through Hugging Face datasets."""
    if train_path:
        return read_labelled_tsv(train_path), {"dev": read_labelled_tsv(dev_path)}
    if glue_task is None:
        raise ValueError("this run was trained on files, not a GLUE task: resume it with its --train and --dev")
    return load_glue(task_named(glue_task))


def report_epoch(result):
    click.echo(f"epoch {result['epoch']}: {describe(result['scores'])}  (mean training loss {result['train_loss']:.3f})")


@main.command("predict")
@click.option("--model", "model_directory", required=True, type=click.Path(file_okay=False),
              help="A fine-tuned model directory (from tinybert finetune).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the predictions here (one label per line; for SQuAD, JSON) instead of to the screen.")
@click.option("--unlabelled", is_flag=True,
              help="DATA_PATH has no labels: text[<TAB>text_b] lines, or GLUE's test files as they come.")
@click.argument("data_path", type=click.Path(dir_okay=False))
def predict_command(model_directory, out_path, unlabelled, data_path):
    """Label every example of DATA_PATH (the layouts finetune reads; a regression's model writes numbers)
    and report the model's task's scores against its labels; with --unlabelled, label examples that have none.
    A question-answering model answers the questions of a SQuAD file, as the official {id: answer} JSON."""
    if out_path:
        make_room_for(out_path)
    if saved_task(model_directory) == "squad":
        return answer_questions(model_directory, out_path, data_path, unlabelled)
    with reported_as_input_errors(CheckpointError, StateDictError, OSError, ValueError):
        model, tokenizer, labels, settings = load_classifier(model_directory)
        examples = read_labelled_tsv(data_path, labelled=not unlabelled)
        truth = None if unlabelled else truth_of(examples, labels)
    if truth is not None and labels is not None and (truth == -1).all():
        raise InputError(f"none of the labels in {data_path} (the first: {examples.labels[0]!r}) is one the model "
                         f"knows ({', '.join(labels)}): if the file has no labels, give --unlabelled")
    predicted = predict(model, tokenizer, examples, settings["max_seq_length"])  # label numbers, or numbers
    show_or_write("".join(f"{value:.3f}\n" if labels is None else f"{labels[value]}\n" for value in predicted), out_path)
    if unlabelled:
        click.echo(f"labelled {len(predicted)} examples", err=True)
        return
    scores = score_predictions(task_named(settings.get("glue_task")), predicted, truth, labels)
    click.echo(f"{describe(scores)} on {len(predicted)} examples", err=True)


