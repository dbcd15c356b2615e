"""`tinybert pretrain` (BERT, its ALBERT and RoBERTa options, or a GPT), and what reads a pretrained
model back: `fill-mask`, `generate` and `plot`."""

import functools
import json
import math
import sys
from pathlib import Path

import click

from ..checkpoint import CheckpointError, gpt_model, load_checkpoint, write_atomically
from ..generation import generate
from ..hub_data import WIKITEXT, load_wikitext
from ..models.config import PRESETS
from ..nn import StateDictError
from ..plots import PlotError, training_curves_png
from ..pretraining import (BUILT_IN_CORPUS, MASKINGS, OBJECTIVES, SENTENCE_TASKS, TINY_RUN_STEPS, PretrainSettings,
                           TrainingDiverged, evaluate, fill_mask, fill_mask_examples, initial_loss_expected,
                           resume_run, save_run, split_documents, start_run, train)
from ..text.corpus import read_corpus_file
from ..text.python_reference import python_reference_documents
from .base import (InputError, Interrupted, RunError, check_out_holds, device_option, main, make_room_for,
                   reported_as_input_errors, train_with_a_log)


PRESET_NAMES = sorted(PRESETS)


@main.command()
@click.option("--tiny", is_flag=True, help="The quick run: the built-in corpus, the tiny preset, about 3 minutes.")
@click.option("--objective", type=click.Choice(OBJECTIVES), default=PretrainSettings.objective, show_default=True,
              help="mlm: BERT's masked LM and next sentence; clm: a left-to-right GPT that predicts the next token.")
@click.option("--corpus", type=click.Path(dir_okay=False), default=None,
              help="A text file in google-research/bert's format: one sentence per line, a blank line between "
                   "documents; or wikitext-2 or wikitext-103 through Hugging Face datasets (the data extra). "
                   f"Default: {BUILT_IN_CORPUS}, the Python language reference that ships with CPython. With "
                   "--resume: the run's own, which it recorded.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="The checkpoint directory to write [default: tinybert-pretrained, or the --resume directory].")
@click.option("--preset", type=click.Choice(PRESET_NAMES), default="tiny", show_default=True)
@click.option("--vocab-size", default=PretrainSettings.vocab_size, show_default=True)
@click.option("--seq-length", "max_seq_length", default=PretrainSettings.max_seq_length, show_default=True)
@click.option("--batch-size", default=PretrainSettings.batch_size, show_default=True)
@click.option("--accumulate", type=click.IntRange(min=1), default=PretrainSettings.accumulate, show_default=True,
              help="Add up the gradients of this many batches before each optimizer step: an effective batch of "
                   "--batch-size x N for the memory of one (a step then takes N times as long).")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help=f"Optimizer steps in all [default: {TINY_RUN_STEPS['mlm']}, or {TINY_RUN_STEPS['clm']} with "
                   "--objective clm; with --resume, the checkpoint's own total].")
@click.option("--sentence-task", type=click.Choice(SENTENCE_TASKS), default=PretrainSettings.sentence_task,
              show_default=True,
              help="What BERT learns beside the masked LM. nsp: does sentence B follow A, or come from another "
                   "document (BERT)? sop: are A and B in order, or swapped (ALBERT)? none: no sentence task, and each "
                   "input is full sentences packed up to --seq-length, running on from one document into the next "
                   "with a [SEP] between them (RoBERTa's FULL-SENTENCES).")
@click.option("--masking", type=click.Choice(MASKINGS), default=PretrainSettings.masking, show_default=True,
              help="dynamic: a fresh mask each time an example comes round again (RoBERTa); static: each example "
                   "masked once before training and shown so every time (BERT's create_pretraining_data, with "
                   "one masked copy where BERT made 10).")
@click.option("--embedding-size", type=click.IntRange(min=1), default=None,
              help="ALBERT's factorised embeddings: tables this wide, projected up to the hidden size "
                   "[default: the hidden size].")
@click.option("--share-layers", is_flag=True, default=PretrainSettings.share_layers,
              help="ALBERT's cross-layer sharing: one layer's weights at every depth.")
@click.option("--save-every", type=click.IntRange(min=1), default=500, show_default=True,
              help="Write the checkpoint every this many steps too.")
@click.option("--lr", "learning_rate", default=PretrainSettings.learning_rate, show_default=True)
@click.option("--warmup", "warmup_steps", default=PretrainSettings.warmup_steps, show_default=True,
              type=click.IntRange(min=0))
@click.option("--seed", default=PretrainSettings.seed, show_default=True)
@click.option("--resume", type=click.Path(file_okay=False), default=None,
              help="A checkpoint directory to go on from (its settings and corpus are kept; --steps sets the new "
                   "total).")
@device_option
def pretrain(tiny, corpus, out, resume, save_every, **options):
    """Pretrain BERT (masked LM + next sentence prediction), or a GPT (--objective clm), and save a checkpoint.

    tinybert pretrain --tiny trains a WordPiece vocabulary and a tiny BERT (2 layers, hidden 128,
    2 heads) on the built-in corpus, then prints its held-out masked-LM accuracy next to the
    most-frequent-token baseline, and a few fill-in-the-blank examples.

    \b
    ALBERT-style:  --sentence-task sop --embedding-size 64 --share-layers
    RoBERTa-style: --sentence-task none --masking dynamic [--accumulate 2]"""
    del tiny  # the defaults are the tiny run; the flag says so on the command line
    out = out or resume or "tinybert-pretrained"
    check_out_holds(out, "pretraining")
    with reported_as_input_errors(CheckpointError, StateDictError, OSError, ValueError):
        if resume:  # the checkpoint's settings go on, its corpus among them; only --steps may change
            run, documents = resume_run(resume, pretraining_documents, options["steps"],
                                        corpus_name(corpus) if corpus else None)
        else:
            settings = PretrainSettings(corpus=corpus_name(corpus or BUILT_IN_CORPUS),
                                        **{name: value for name, value in options.items() if value is not None})
            documents = pretraining_documents(settings.corpus)
            run = start_run(settings, documents)
    if resume:
        check_resumed_settings(run.settings, options)
    make_room_for(out, directory=True)
    describe_run(run, documents)
    remaining = run.settings.steps - run.step
    on_terminal = sys.stdout.isatty()
    show = functools.partial(progress_text, sentence_task=run.settings.sentence_task)
    with click.progressbar(length=remaining, label="pretraining", item_show_func=show) as bar:
        def show_progress(metrics):
            bar.update(1, metrics)
            if not on_terminal and metrics["step"] % 100 == 0:  # no bar is drawn into a log: a line now and then
                click.echo(f"step {metrics['step']}/{run.settings.steps}  {show(metrics)}")

        try:  # saved every --save-every steps and at Ctrl-C, so that a stopped run can be resumed
            train_with_a_log(lambda pretraining_run, on_step: train(pretraining_run, remaining, on_step), run, out,
                             save_progress=save_run, resumed=bool(resume), show=show_progress, save_every=save_every)
        except Interrupted:
            click.echo(f"\ninterrupted: saved the run at step {run.step} to {out}/; go on with "
                       f"tinybert pretrain --resume {out} --out {out}", err=True)
            raise SystemExit(130) from None  # 128 + SIGINT, the shell's code for a run stopped by Ctrl-C
        except TrainingDiverged as error:
            saved = Path(out) / "trainer_state.json"
            kept = (f"; the checkpoint in {out}/ (step {json.loads(saved.read_text())['step']}) is untouched"
                    if saved.is_file() else "")
            raise RunError(f"{error}{kept}") from None
    results = evaluate(run)
    with open(Path(out) / "metrics.jsonl", "a") as log:
        log.write(json.dumps(results) + "\n")
    save_run(run, out)
    report_results(run, results, documents, out)


def check_resumed_settings(settings, options):
    """A setting given on the command line that differs from the resumed checkpoint's would be ignored: refuse it."""
    context = click.get_current_context()
    flags = {parameter.name: parameter.opts[0] for parameter in context.command.params}
    differing = [f"{flags[name]} {value} (the run's is {getattr(settings, name)})" for name, value in options.items()
                 if name != "steps" and context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
                 and value != getattr(settings, name)]
    if differing:
        raise InputError(f"{', '.join(differing)}: a resumed run keeps its checkpoint's settings; only --steps may "
                         "change")


def corpus_name(corpus):
    """How a run records --corpus: WikiText or the built-in corpus by name, where no file has that name; a
    file by its absolute path, so that a run resumed from another folder still finds it."""
    if corpus in (*WIKITEXT, BUILT_IN_CORPUS) and not Path(corpus).exists():
        return corpus
    return str(Path(corpus).resolve())


def pretraining_documents(corpus):
    """The documents of a corpus named as corpus_name names it: the built-in one, WikiText through
    datasets, or a text file."""
    if corpus == BUILT_IN_CORPUS:
        return python_reference_documents()
    if corpus in WIKITEXT:
        return load_wikitext(corpus)
    return read_corpus_file(corpus)


def describe_run(run, documents):
    """The corpus, the model and the data; for a fresh run, the loss it should start near (uniform guesses)."""
    settings = run.settings
    parameters = sum(parameter.size for parameter in run.model.parameters())
    sentences = sum(len(document) for document in documents)
    corpus = "the Python language reference (built in)" if settings.corpus == BUILT_IN_CORPUS else settings.corpus
    click.echo(f"corpus: {corpus}, {len(documents)} documents, {sentences} sentences; every "
               f"{settings.held_out_every}th document held out")
    vocabulary = run.tokenizer.vocab_size
    if settings.objective == "clm":
        model, starts_near = f"{settings.preset} GPT", f"ln({vocabulary}) = {math.log(vocabulary):.2f}"
    else:
        albert = "".join([f", embeddings {settings.embedding_size} wide" if settings.embedding_size else "",
                          ", one layer shared by every depth" if settings.share_layers else ""])
        plus_sentence_task = "" if settings.sentence_task == "none" else " + ln(2)"
        model = f"{settings.preset} BERT{albert}"
        starts_near = (f"ln({vocabulary}){plus_sentence_task} = "
                       f"{initial_loss_expected(vocabulary, settings.sentence_task):.2f}")
    start = (f"the loss starts near {starts_near}" if run.step == 0 else  # a resumed run has long left it
             f"resumed at step {run.step} of {settings.steps}")
    click.echo(f"model: {model}, {parameters:,} parameters, vocabulary {vocabulary}; {start}")
    if settings.objective == "clm":
        return
    inputs = {"nsp": "sentence pairs for next-sentence prediction", "sop": "sentence pairs for sentence-order "
              "prediction", "none": "full sentences packed across documents, no sentence task"}[settings.sentence_task]
    accumulated = f" x {settings.accumulate} accumulated" if settings.accumulate > 1 else ""
    click.echo(f"data: {inputs}, {settings.masking} masking; batches of {settings.batch_size}{accumulated} a step")


def progress_text(metrics, sentence_task="nsp"):
    """One step's numbers for the progress bar; the sentence head's accuracy is named by its task (nsp, sop)."""
    if metrics is None:
        return ""
    if "perplexity" in metrics:
        return f"loss {metrics['loss']:.3f}  perplexity {metrics['perplexity']:.1f}  {metrics['tokens_per_second']:,.0f} tokens/s"
    sentence_task = f"{sentence_task} acc {metrics['nsp_accuracy']:.2f}  " if "nsp_accuracy" in metrics else ""
    return (f"loss {metrics['loss']:.3f}  mlm acc {metrics['mlm_accuracy']:.3f}  {sentence_task}"
            f"{metrics['tokens_per_second']:,.0f} tokens/s")


def report_results(run, results, documents, out):
    if run.settings.objective == "clm":
        return report_gpt_results(run, results, documents, out)
    task_name = "sentence-order" if run.settings.sentence_task == "sop" else "next-sentence"
    sentence_task = (f";  {task_name} accuracy {results['held_out_nsp_accuracy']:.3f}  (chance: 0.5)"
                     if "held_out_nsp_accuracy" in results else "")
    click.echo(f"held-out masked-LM accuracy {results['held_out_mlm_accuracy']:.3f}  (always guessing "
               f"{results['baseline_token']!r}: {results['baseline_mlm_accuracy']:.3f}){sentence_task}")
    if results["held_out_mlm_accuracy"] < results["baseline_mlm_accuracy"] + 0.02:
        click.echo("warning: the model does little better than always guessing the most frequent token: it has "
                   "plateaued there. Train longer (--steps) or with another learning rate (--lr).", err=True)
    _, held_out_documents = split_documents(documents, run.settings.held_out_every)
    for text, truth in fill_mask_examples(run.tokenizer, held_out_documents):
        guesses = ", ".join(f"{token} {probability:.2f}" for token, probability in fill_mask(run.model, run.tokenizer, text, 3)[0])
        click.echo(f"  {text}\n    -> {guesses}   (the text had: {truth})")
    click.echo(f"saved the checkpoint to {out}/ (try: tinybert fill-mask --model {out} \"the [MASK] statement\")")


def report_gpt_results(run, results, documents, out):
    click.echo(f"held-out perplexity {results['held_out_perplexity']:.1f}  (a model of the tokens' frequencies "
               f"alone: {results['unigram_perplexity']:.1f})")
    _, held_out_documents = split_documents(documents, run.settings.held_out_every)
    for document in held_out_documents[:3]:
        start = " ".join(document[0].split()[:4])
        click.echo(f"  {start} ...\n    -> {generate(run.model, run.tokenizer, start, 12, temperature=0)}")
    click.echo(f"saved the checkpoint to {out}/ (try: tinybert generate --model {out} \"the return statement\")")


@main.command("fill-mask")
@click.option("--model", "model_directory", required=True, type=click.Path(file_okay=False),
              help="A checkpoint directory written by tinybert pretrain.")
@click.option("--top-k", default=5, show_default=True)
@click.argument("text")
def fill_mask_command(model_directory, top_k, text):
    """Show the model's top guesses for each [MASK] in TEXT."""
    with reported_as_input_errors(CheckpointError, StateDictError, OSError):
        model, tokenizer, _, _ = load_checkpoint(model_directory)
    with reported_as_input_errors(ValueError):
        predictions = fill_mask(model, tokenizer, text, top_k)
    for number, guesses in enumerate(predictions, start=1):
        click.echo(f"[MASK] {number}: " + "   ".join(f"{token} {probability:.3f}" for token, probability in guesses))


@main.command("generate")
@click.option("--model", "model_directory", required=True, type=click.Path(file_okay=False),
              help="A checkpoint directory written by tinybert pretrain --objective clm.")
@click.option("--max-new-tokens", default=20, show_default=True, type=click.IntRange(min=0))
@click.option("--temperature", default=1.0, show_default=True, type=click.FloatRange(min=0),
              help="Below 1 sharpens the next token's distribution, above 1 flattens it; 0 takes the most likely.")
@click.option("--top-k", type=click.IntRange(min=1), default=None, help="Draw among the k most likely tokens only.")
@click.option("--seed", default=0, show_default=True)
@click.argument("prompt")
def generate_command(model_directory, max_new_tokens, temperature, top_k, seed, prompt):
    """Continue PROMPT with a left-to-right model, one sampled token at a time."""
    with reported_as_input_errors(CheckpointError, StateDictError, OSError):
        model, tokenizer, _, _ = load_checkpoint(model_directory, gpt_model)
    with reported_as_input_errors(ValueError):
        click.echo(generate(model, tokenizer, prompt, max_new_tokens, temperature, top_k, seed))


@main.command()
@click.argument("model_directory", type=click.Path(file_okay=False))
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="The PNG file to write [default: MODEL_DIRECTORY/training.png].")
def plot(model_directory, out_path):
    """Draw a run's training curves (loss, masked-LM and next-sentence accuracy, learning rate) from the
    metrics.jsonl that tinybert pretrain wrote into MODEL_DIRECTORY (needs matplotlib: the plot extra)."""
    metrics = Path(model_directory) / "metrics.jsonl"
    out_path = out_path or str(Path(model_directory) / "training.png")
    if not metrics.is_file():
        raise InputError(f"{model_directory} has no metrics.jsonl: plot the --out directory of tinybert pretrain")
    with reported_as_input_errors(OSError, ValueError):
        records = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
        if not any("loss" in record for record in records):
            raise ValueError(f"{metrics} holds no training steps: plot a directory a run has trained into")
    make_room_for(out_path)
    with reported_as_input_errors(PlotError):
        write_atomically(out_path, lambda temporary: training_curves_png(records, temporary))
    click.echo(f"drew {sum('loss' in record for record in records)} steps in {out_path}")
