"""`tinybert finetune --task squad` and `tinybert predict` on a question-answering model (the finetune and
predict commands, in finetune.py, hand SQuAD to these)."""

import json

import click

from ..checkpoint import CheckpointError, load_checkpoint
from ..glue import describe, results_line
from ..hub_data import load_squad
from ..nn import StateDictError
from ..pretraining import TrainingDiverged
from ..squad import (load_question_answerer, predict_answers, read_squad, save_squad, score_answers, start_squad,
                     train_squad)
from .base import (Interrupted, RunError, check_out_holds, make_room_for, reported_as_input_errors, show_or_write,
                   train_with_a_log)


def squad_scores(result):
    """A SQuAD result's exact match and F1 as fractions, as GLUE's scores are kept (the official script's are in %)."""
    return {"exact_match": result["exact_match"] / 100, "f1": result["f1"] / 100}


def report_squad_epoch(result):
    click.echo(f"epoch {result['epoch']}: {describe(squad_scores(result))}  (mean training loss {result['train_loss']:.3f})")


def finetune_squad(task, model_directory, train_path, dev_path, out, settings):
    """`tinybert finetune --task squad`: BertForQuestionAnswering, scored by exact match and F1 after every
    epoch, the best epoch's model saved to `out`."""
    check_out_holds(out, "squad")
    with reported_as_input_errors(CheckpointError, StateDictError, OSError, ValueError):
        pretrained, tokenizer, _, _ = load_checkpoint(model_directory)
        if train_path:
            train_examples, dev_examples = read_squad(train_path, "train"), read_squad(dev_path, "dev")
        else:
            train_examples, dev_examples, left_out = load_squad(task)
            if left_out:
                click.echo(f"note: left out {left_out} training questions whose answers are not at their answer_start, "
                           "as run_squad.py does", err=True)
        run = start_squad(pretrained, tokenizer, train_examples, dev_examples, settings)
    make_room_for(out, directory=True)
    try:
        train_with_a_log(train_squad, run, out, report_squad_epoch, save_squad)
    except Interrupted:
        click.echo(f"interrupted at step {run.step} of {run.total_steps}; the best epoch so far, if one has "
                   f"finished, is saved in {out}/", err=True)
        raise SystemExit(130) from None
    except TrainingDiverged as error:
        raise RunError(str(error)) from None
    best = max(run.history, key=lambda result: result["f1"])
    click.echo(f"best: epoch {best['epoch']}, {describe(squad_scores(best))} (SQuAD {best['scoring']} scoring); "
               f"saved to {out}/")
    click.echo(results_line(f"SQuAD {best['scoring']}", squad_scores(best), model_directory, best["epoch"],
                            settings.epochs))


def answer_questions(model_directory, out_path, data_path, unlabelled):
    """`tinybert predict` with a question-answering model: {question id: answer} as JSON, and the official
    exact match and F1 against the file's answers (unless `unlabelled`: questions without answers)."""
    with reported_as_input_errors(CheckpointError, StateDictError, OSError, ValueError):
        model, tokenizer, settings, trained_on = load_question_answerer(model_directory)
        examples = read_squad(data_path, "test" if unlabelled else "dev")
    answers = predict_answers(model, tokenizer, examples, settings, trained_on)
    show_or_write(json.dumps(answers, indent=1, ensure_ascii=False) + "\n", out_path)
    if unlabelled:
        click.echo(f"answered {len(examples)} questions", err=True)
        return
    scores = score_answers(examples, answers)
    click.echo(f"{describe(squad_scores(scores))} on {len(examples)} questions (SQuAD {scores['scoring']} scoring)",
               err=True)
