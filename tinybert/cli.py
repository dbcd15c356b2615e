"""The `tinybert` command line. It parses, prints and exits; the work happens elsewhere."""

import contextlib
import json
import math
import platform
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import click
import numpy as np

from . import __version__
from . import autograd as ag
from .autograd import allocator, backend
from .checkpoint import CheckpointError, gpt_model, load_checkpoint, save_checkpoint, write_atomically
from .attention_maps import attention_maps, draw_map, legend
from .finetuning import (FinetuneSettings, finish, load_classifier, positive_label, predict, resume_finetune, save_best,
                         save_progress, start_finetune, train_classifier)
from .hf_checkpoint import HuggingFaceError, read_hf_bert, write_hf_bert
from .lessons import LESSONS, as_markdown, as_text, score_lesson
from .lessons.graphs import GRAPHS
from .models.attention_scores import SCORES
from .models.config import PRESETS
from .nn import StateDictError
from .plots import PlotError, attention_png, training_curves_png
from .generation import generate
from .pretraining import (OBJECTIVES, TINY_RUN_STEPS, PretrainSettings, TrainingDiverged, evaluate, fill_mask, fill_mask_examples,
                          initial_loss_expected, resume_run, save_run, split_documents, start_run, train)
from .safetensors_io import SafetensorsError
from .sentence_embeddings import cosine_similarities, sentence_embeddings
from .text.corpus import read_corpus_file
from .text.labelled_tsv import read_labelled_tsv
from .text.python_reference import python_reference_documents

PRESET_NAMES = sorted(PRESETS)


class TinybertGroup(click.Group):
    """Runs a command; a device that cannot be used ends it with one line and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except backend.DeviceError as error:
            click.echo(f"tinybert: error: {error}", err=True)
            ctx.exit(2)


@click.group(cls=TinybertGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tinybert")
def main():
    """tinybert: attention, the Transformer and BERT, built line by line on a small NumPy autograd."""
    allocator.keep_freed_memory()


@main.command()
def info():
    """Show the versions and devices tinybert sees."""
    click.echo(f"tinybert {__version__}, Python {platform.python_version()}, NumPy {np.__version__}")
    try:
        backend.module_for_device("cuda")
        gpu = "available"
    except backend.DeviceError as error:
        gpu = f"not available ({error})"
    click.echo(f"default device: {backend.default_device()} (set TINYBERT_DEVICE=cpu or cuda to change it)")
    click.echo(f"cuda: {gpu}")


@main.command()
@click.option("--seed", default=0, show_default=True, help="Seed for the random inputs and cotangents.")
def gradcheck(seed):
    """Check the engine's gradients against finite differences on small whole computations.

    Each computation runs forward in float64, back-propagates a random cotangent, and compares
    the gradient of every input element with a central difference (f(x+eps) - f(x-eps)) / 2 eps."""
    from .gradient_tour import run_tour

    backend.module_for_device(backend.default_device())  # a device that cannot be used fails here, first
    all_passed = True
    click.echo(f"{'computation':<58} {'elements':>8} {'max |analytic - numeric|':>25}  result")
    for description, comparison in run_tour(seed):
        all_passed &= comparison.passed
        verdict = "pass" if comparison.passed else (
            f"FAIL at input {comparison.input_number} {comparison.index}: "
            f"analytic {comparison.analytic:.6g}, numeric {comparison.numeric:.6g}")
        click.echo(f"{description:<58} {comparison.elements:>8} {comparison.max_difference:>25.2e}  {verdict}")
    if not all_passed:
        raise SystemExit(1)


def device_option(command):
    """--device cpu|cuda: where the command's tensors live (default: TINYBERT_DEVICE, else cpu)."""
    def choose(ctx, parameter, device):
        backend.set_default_device(device)  # a GPU that cannot be used fails here, as one line
        ctx.call_on_close(lambda: backend.set_default_device(None))  # for this command only
        return device

    return click.option("--device", type=click.Choice(backend.DEVICES), default=None, expose_value=False,
                        callback=choose, help="Where to compute: cpu or cuda [default: TINYBERT_DEVICE, else cpu]."
                        )(command)


class RunError(click.ClickException):
    """A run that cannot go on: one line on stderr, exit code 1."""

    def show(self, file=None):
        click.echo(f"tinybert: error: {self.message}", err=True)


class InputError(RunError):
    """Bad input from the user: one line on stderr, exit code 2."""

    exit_code = 2


@contextlib.contextmanager
def reported_as(kinds, error_class):
    """Turn the given errors into one-line errors of `error_class` (an InputError or a RunError)."""
    try:
        yield
    except kinds as error:
        raise error_class(str(error)) from None


def make_room_for(path, directory=False):
    """Make the directory `path` (or, for a file, its folder) before any work, so that a path that cannot
    be written is one InputError at the start, not a traceback at the end."""
    folder = Path(path) if directory else Path(path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot write {path}: {folder} cannot be made a directory ({error.strerror.lower()}): "
                         "choose another place") from None


def check_out_holds(out, task):
    """An --out directory that already holds a checkpoint of the other kind (a pretrained model where a
    classifier is to go, or the reverse) is refused: writing there would destroy it."""
    config = Path(out) / "config.json"
    if not config.is_file():
        return
    try:
        holds = json.loads(config.read_text()).get("settings", {}).get("task", "pretraining")
    except (ValueError, AttributeError):
        return  # not a config tinybert wrote; load_checkpoint would say so where it matters
    if holds != task:
        raise InputError(f"{out} holds a {'fine-tuned classifier' if holds == 'classification' else 'pretrained model'}"
                         f", which this would overwrite: choose another --out")


def reported_as_input_errors(*kinds):
    """Turn the given errors, caused by what the user passed, into one-line InputErrors."""
    return reported_as(kinds, InputError)


def progress_text(metrics):
    if metrics is None:
        return ""
    if "perplexity" in metrics:
        return f"loss {metrics['loss']:.3f}  perplexity {metrics['perplexity']:.1f}  {metrics['tokens_per_second']:,.0f} tokens/s"
    return (f"loss {metrics['loss']:.3f}  mlm acc {metrics['mlm_accuracy']:.3f}  nsp acc {metrics['nsp_accuracy']:.2f}  "
            f"{metrics['tokens_per_second']:,.0f} tokens/s")


def overflow_reported_by_the_loss_check():
    """Silence NumPy's overflow warnings while training: a run that overflows ends in a loss of NaN or
    infinity, which stops it with one line naming the step, and the warnings would only print before it."""
    return np.errstate(over="ignore", invalid="ignore")


class Interrupted(Exception):
    """Ctrl-C was pressed: the step in progress finished, and the run stops after it."""


@contextlib.contextmanager
def stop_at_ctrl_c():
    """Within the block, Ctrl-C (SIGINT) only asks the run to stop: it yields a function that says whether
    it was pressed, so the run can finish its step and save. A second Ctrl-C stops at once, as usual."""
    asked = []

    def ask(signal_number, frame):
        asked.append(True)
        signal.signal(signal.SIGINT, previous)  # the next Ctrl-C is the usual KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, ask)
    try:
        yield lambda: bool(asked)
    finally:
        signal.signal(signal.SIGINT, previous)


@main.command()
@click.option("--tiny", is_flag=True, help="The quick run: the built-in corpus, the tiny preset, about 3 minutes.")
@click.option("--objective", type=click.Choice(OBJECTIVES), default=PretrainSettings.objective, show_default=True,
              help="mlm: BERT's masked LM and next sentence; clm: a left-to-right GPT that predicts the next token.")
@click.option("--corpus", type=click.Path(dir_okay=False), default=None,
              help="A text file in google-research/bert's format: one sentence per line, a blank line between "
                   "documents. Default: the Python language reference that ships with CPython.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="The checkpoint directory to write [default: tinybert-pretrained, or the --resume directory].")
@click.option("--preset", type=click.Choice(PRESET_NAMES), default="tiny", show_default=True)
@click.option("--vocab-size", default=PretrainSettings.vocab_size, show_default=True)
@click.option("--seq-length", "max_seq_length", default=PretrainSettings.max_seq_length, show_default=True)
@click.option("--batch-size", default=PretrainSettings.batch_size, show_default=True)
@click.option("--steps", type=int, default=None,
              help=f"Training steps in all [default: {TINY_RUN_STEPS['mlm']}, or {TINY_RUN_STEPS['clm']} with "
                   "--objective clm; with --resume, the checkpoint's own total].")
@click.option("--save-every", type=click.IntRange(min=1), default=500, show_default=True,
              help="Write the checkpoint every this many steps too.")
@click.option("--lr", "learning_rate", default=PretrainSettings.learning_rate, show_default=True)
@click.option("--warmup", "warmup_steps", default=PretrainSettings.warmup_steps, show_default=True)
@click.option("--seed", default=PretrainSettings.seed, show_default=True)
@click.option("--resume", type=click.Path(file_okay=False), default=None,
              help="A checkpoint directory to go on from (its settings are kept; --steps sets the new total).")
@device_option
def pretrain(tiny, corpus, out, resume, save_every, **options):
    """Pretrain BERT (masked LM + next sentence prediction), or a GPT (--objective clm), and save a checkpoint.

    tinybert pretrain --tiny trains a WordPiece vocabulary and a tiny BERT (2 layers, hidden 128,
    2 heads) on the built-in corpus, then prints its held-out masked-LM accuracy next to the
    most-frequent-token baseline, and a few fill-in-the-blank examples."""
    del tiny  # the defaults are the tiny run; the flag says so on the command line
    out = out or resume or "tinybert-pretrained"
    check_out_holds(out, "pretraining")
    with reported_as_input_errors(OSError, ValueError):
        documents = read_corpus_file(corpus) if corpus else python_reference_documents()
    with reported_as_input_errors(CheckpointError, StateDictError, OSError, ValueError):
        if resume:  # the checkpoint's settings go on; only --steps may change
            run = resume_run(resume, documents, options["steps"])
        else:
            run = start_run(PretrainSettings(**{name: value for name, value in options.items() if value is not None}),
                            documents)
    if resume:
        check_resumed_settings(run.settings, options)
    make_room_for(out, directory=True)
    describe_run(run, documents, corpus)
    metrics_path = Path(out) / "metrics.jsonl"
    remaining = run.settings.steps - run.step
    on_terminal = sys.stdout.isatty()
    # a fresh run starts a fresh log; a resumed one adds to it
    with open(metrics_path, "a" if resume else "w") as log, click.progressbar(
            length=remaining, label="pretraining", item_show_func=progress_text) as bar, \
            stop_at_ctrl_c() as stop_asked, overflow_reported_by_the_loss_check():
        def on_step(metrics):
            log.write(json.dumps(metrics) + "\n")
            bar.update(1, metrics)
            if not on_terminal and metrics["step"] % 100 == 0:  # no bar is drawn into a log: a line now and then
                click.echo(f"step {metrics['step']}/{run.settings.steps}  {progress_text(metrics)}")
            if metrics["step"] % save_every == 0 or stop_asked():  # so an interrupted run can be resumed
                log.flush()
                save_run(run, out)
            if stop_asked():
                raise Interrupted

        try:
            train(run, remaining, on_step)
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
    with open(metrics_path, "a") as log:
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


def describe_run(run, documents, corpus):
    parameters = sum(parameter.size for parameter in run.model.parameters())
    sentences = sum(len(document) for document in documents)
    click.echo(f"corpus: {corpus or 'the Python language reference (built in)'}, {len(documents)} documents, "
               f"{sentences} sentences; every {run.settings.held_out_every}th document held out")
    vocabulary = run.tokenizer.vocab_size
    if run.settings.objective == "clm":
        click.echo(f"model: {run.settings.preset} GPT, {parameters:,} parameters, vocabulary {vocabulary}; "
                   f"the loss starts near ln({vocabulary}) = {math.log(vocabulary):.2f}")
        return
    click.echo(f"model: {run.settings.preset} BERT, {parameters:,} parameters, vocabulary {vocabulary}; "
               f"the loss starts near ln({vocabulary}) + ln(2) = {initial_loss_expected(vocabulary):.2f}")


def report_results(run, results, documents, out):
    if run.settings.objective == "clm":
        return report_gpt_results(run, results, documents, out)
    click.echo(f"held-out masked-LM accuracy {results['held_out_mlm_accuracy']:.3f}  (always guessing "
               f"{results['baseline_token']!r}: {results['baseline_mlm_accuracy']:.3f});  "
               f"next-sentence accuracy {results['held_out_nsp_accuracy']:.3f}  (chance: 0.5)")
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
@click.argument("lesson", type=click.Choice(list(LESSONS)))
@click.option("--tokens", default=3, show_default=True, type=click.IntRange(1, 8), help="Rows: tokens, or examples.")
@click.option("--dim", default=4, show_default=True, type=click.IntRange(1, 8), help="Columns: features, or classes.")
@click.option("--seed", default=0, show_default=True, help="Seed for the random inputs and the arriving gradient.")
@click.option("--causal", is_flag=True, help="attention: mask the keys after each query, as a decoder does.")
@click.option("--heads", default=1, show_default=True, type=click.IntRange(1, 8),
              help="attention: split the dim columns into this many heads.")
@click.option("--projections", is_flag=True,
              help="attention: start from X with Q = X W_Q, K = X W_K, V = X W_V, and end with Y = O W_O.")
@click.option("--score", type=click.Choice(SCORES), default=None,
              help="attention: a score of the attention family (dot, general, additive, ...) instead of the "
                   "Transformer's scaled dot product with its heads and projections.")
@click.option("--format", "output_format", type=click.Choice(["text", "markdown"]), default="text", show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the lesson to this file (a handout with --format markdown) instead of the screen.")
def explain(lesson, tokens, dim, seed, causal, heads, projections, score, output_format, out_path):
    """Take LESSON apart on tiny numbers: the forward pass step by step, then the backward, each gradient
    by its formula, by the engine and by finite differences, with the largest difference and a pass mark."""
    if out_path:
        make_room_for(out_path)
    attention_options = {"causal": causal, "heads": heads, "projections": projections}
    if lesson != "attention" and (causal or heads > 1 or projections or score):
        raise InputError("--causal, --heads, --projections and --score are for the attention lesson")
    if score and (causal or heads > 1 or projections):
        raise InputError("--score takes a single query-key-value attention: leave out --causal, --heads and --projections")
    with reported_as_input_errors(ValueError):
        if score:
            taught = score_lesson(score, tokens=tokens, dim=dim, seed=seed)
        else:
            taught = LESSONS[lesson](tokens=tokens, dim=dim, seed=seed, **(attention_options if lesson == "attention" else {}))
    text = (as_markdown if output_format == "markdown" else as_text)(taught)
    if out_path:
        write_atomically(out_path, lambda temporary: Path(temporary).write_text(text))
        click.echo(f"wrote the {lesson} lesson to {out_path}")
    else:
        click.echo(text, nl=False)
    if not taught.passed:
        raise SystemExit(1)


@main.command()
@click.argument("what", type=click.Choice(list(GRAPHS)))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="FILE.dot for the DOT text; FILE.svg or FILE.png to draw it with Graphviz's dot program.")
def graph(what, out_path):
    """Write the computation graph of WHAT (multi-head attention, or a one-layer BERT's pretraining loss):
    a box per op with its output's shape, an ellipse per parameter with its dotted name."""
    out_path = Path(out_path)
    if out_path.suffix.lower() not in (".dot", ".svg", ".png"):
        raise InputError(f"{out_path} ends in neither .dot, .svg nor .png: name the file for the format you want")
    make_room_for(out_path)
    result, names = GRAPHS[what]()
    dot_text = ag.to_dot(result, names)
    program = shutil.which("dot")
    if out_path.suffix.lower() == ".dot" or program is None:
        written = out_path.with_suffix(".dot")
        write_atomically(written, lambda temporary: Path(temporary).write_text(dot_text))
        if written != out_path:
            click.echo(f"note: Graphviz's dot program is not installed, so nothing was drawn: the graph is in {written} "
                       f"as DOT text (with Graphviz: dot -T{out_path.suffix[1:]} {written} -o {out_path})", err=True)
    else:
        write_atomically(out_path, lambda temporary: subprocess.run(
            [program, f"-T{out_path.suffix[1:].lower()}", "-o", temporary], input=dot_text, text=True, check=True))
        written = out_path
    click.echo(f"wrote the graph of {what} ({dot_text.count(' -> ')} edges) to {written}")


@main.command("import-hf")
@click.argument("source", type=click.Path(file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="The tinybert checkpoint directory to write.")
def import_hf(source, out):
    """Read a Hugging Face BERT directory (config.json, model.safetensors, vocab.txt) into a tinybert checkpoint."""
    with reported_as_input_errors(HuggingFaceError, SafetensorsError, StateDictError, OSError, ValueError):
        model, tokenizer, missing = read_hf_bert(source)
    save_checkpoint(out, model, tokenizer, {"lowercase": tokenizer.basic_tokenizer.lowercase},
                    trainer_state={"imported_from": source})
    parameters = sum(parameter.size for parameter in model.parameters())
    click.echo(f"imported {source}: BERT with {model.config.num_layers} layers, hidden size {model.config.hidden_size}, "
               f"{model.config.num_heads} heads, {parameters:,} parameters, vocabulary {tokenizer.vocab_size:,}")
    if missing:
        click.echo(f"note: the checkpoint has no {', '.join(sorted({name.split('.')[0] for name in missing}))} "
                   "weights (a bare encoder): those prediction heads start from fresh random weights (embed and attention "
                   "do not use them)", err=True)
    click.echo(f"saved the checkpoint to {out}/ (try: tinybert embed --model {out} --similarity \"a sentence\" "
               "\"another sentence\")")


@main.command("export-hf")
@click.argument("model_directory", type=click.Path(file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="The Hugging Face directory to write (config.json, model.safetensors, vocab.txt).")
def export_hf(model_directory, out):
    """Write a tinybert checkpoint as a Hugging Face BERT directory, which
    transformers.BertForPreTraining.from_pretrained(OUT) loads: the road to PyTorch's tools."""
    with reported_as_input_errors(CheckpointError, StateDictError, OSError):
        model, tokenizer, _, _ = load_checkpoint(model_directory)
    make_room_for(out, directory=True)
    with reported_as_input_errors(HuggingFaceError):
        write_hf_bert(model, tokenizer, out)
    click.echo(f"wrote {out}/ (config.json, model.safetensors, vocab.txt, tokenizer_config.json); in Python: "
               f"transformers.BertForPreTraining.from_pretrained({str(out)!r})")

@main.command("attention")
@click.option("--model", "model_directory", required=True, type=click.Path(file_okay=False),
              help="A tinybert checkpoint directory (from tinybert pretrain or tinybert import-hf).")
@click.option("--layer", type=click.IntRange(min=1), default=None, help="Only this layer (from 1) [default: all].")
@click.option("--head", type=click.IntRange(min=1), default=None, help="Only this head (from 1) [default: all].")
@click.option("--png", "png_path", type=click.Path(dir_okay=False), default=None,
              help="Also draw the maps as heat maps in this PNG file (needs matplotlib: the plot extra).")
@click.argument("text")
def attention_command(model_directory, layer, head, png_path, text):
    """Show where each head of each layer looks when the model reads TEXT: a shaded grid per head,
    the query tokens down the side and the keys across the top."""
    if png_path:
        make_room_for(png_path)
    with reported_as_input_errors(CheckpointError, StateDictError, OSError):
        model, tokenizer, _, _ = load_checkpoint(model_directory)
    tokens, maps = attention_maps(model, tokenizer, text)  # (layers, heads, T, T)
    layers, heads = maps.shape[:2]
    for number, count, what in ((layer, layers, "--layer"), (head, heads, "--head")):
        if number is not None and number > count:
            raise InputError(f"{what} {number} does not exist: the model has {count} (numbered from 1)")
    chosen = {(number, head_number): maps[number - 1, head_number - 1]
              for number in ([layer] if layer else range(1, layers + 1))
              for head_number in ([head] if head else range(1, heads + 1))}
    click.echo(legend())
    for (number, head_number), weights in chosen.items():
        click.echo("\n" + draw_map(tokens, weights, f"layer {number}, head {head_number}"))
    if png_path:
        with reported_as_input_errors(PlotError):
            write_atomically(png_path, lambda temporary: attention_png(tokens, chosen, temporary))
        click.echo(f"\ndrew {len(chosen)} maps in {png_path}")


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


@main.command()
@click.option("--model", "model_directory", required=True, type=click.Path(file_okay=False),
              help="A tinybert checkpoint directory (from tinybert pretrain or tinybert import-hf).")
@click.option("--similarity", is_flag=True, help="Print the cosine similarity of every pair instead of the vectors.")
@click.argument("sentences", nargs=-1, required=True)
def embed(model_directory, similarity, sentences):
    """Sentence embeddings: the mean of the final hidden states over each sentence's tokens, scaled to length 1
    (as sentence-transformers does for all-MiniLM-L6-v2). Prints one JSON line per sentence, or with
    --similarity the matrix of cosine similarities."""
    with reported_as_input_errors(CheckpointError, StateDictError, OSError):
        model, tokenizer, _, _ = load_checkpoint(model_directory)
    vectors = sentence_embeddings(model, tokenizer, list(sentences))
    if not similarity:
        for sentence, vector in zip(sentences, vectors):
            click.echo(json.dumps({"sentence": sentence, "embedding": [round(float(value), 6) for value in vector]}))
        return
    matrix = cosine_similarities(vectors)
    for number, sentence in enumerate(sentences, start=1):
        click.echo(f"{number}. {sentence}")
    click.echo("     " + "".join(f"{number:>7}" for number in range(1, len(sentences) + 1)))
    for number, row in enumerate(matrix, start=1):
        click.echo(f"{number:>4} " + "".join(f"{value:>7.3f}" for value in row))


@main.command()
@click.option("--model", "model_directory", type=click.Path(file_okay=False),
              help="A pretrained checkpoint directory (from tinybert pretrain or tinybert import-hf).")
@click.option("--train", "train_path", required=True, type=click.Path(dir_okay=False),
              help="Labelled examples: GLUE's MRPC or RTE TSV, or label<TAB>text[<TAB>text_b] per line.")
@click.option("--dev", "dev_path", required=True, type=click.Path(dir_okay=False),
              help="Held-out examples, same layout.")
@click.option("--out", type=click.Path(file_okay=False), help="The directory for the best model.")
@click.option("--epochs", default=FinetuneSettings.epochs, show_default=True, type=click.IntRange(min=1))
@click.option("--lr", "learning_rate", default=FinetuneSettings.learning_rate, show_default=True)
@click.option("--warmup", "warmup_fraction", default=FinetuneSettings.warmup_fraction, show_default=True,
              type=click.FloatRange(0, 1), help="The fraction of all steps spent warming up.")
@click.option("--batch-size", default=FinetuneSettings.batch_size, show_default=True, type=click.IntRange(min=1))
@click.option("--seq-length", "max_seq_length", default=FinetuneSettings.max_seq_length, show_default=True,
              type=click.IntRange(min=3))
@click.option("--seed", default=FinetuneSettings.seed, show_default=True)
@click.option("--resume", type=click.Path(file_okay=False), default=None,
              help="The --out directory of a stopped run, to go on with (with its own settings and the same files).")
@device_option
def finetune(model_directory, train_path, dev_path, out, resume, **options):
    """Fine-tune a pretrained BERT to label sentences or sentence pairs; report dev accuracy and F1 after
    every epoch and save the best epoch's model. Ctrl-C saves the run, and --resume goes on with it."""
    if resume and (model_directory or out):
        raise InputError("--resume goes on in the run's own directory with its own model: leave out --model and --out")
    if not resume and not (model_directory and out):
        raise InputError("give the pretrained model (--model) and the directory to write (--out), or --resume")
    out = resume or out
    if not resume:
        check_out_holds(out, "classification")
    with reported_as_input_errors(CheckpointError, StateDictError, OSError, ValueError):
        train_examples, dev_examples = read_labelled_tsv(train_path), read_labelled_tsv(dev_path)
        if resume:
            run = resume_finetune(resume, train_examples, dev_examples)
        else:
            pretrained, tokenizer, _, _ = load_checkpoint(model_directory)
            run = start_finetune(pretrained, tokenizer, train_examples, dev_examples, FinetuneSettings(**options))
    make_room_for(out, directory=True)
    metrics_path = Path(out) / "metrics.jsonl"
    with open(metrics_path, "a" if resume else "w") as log, stop_at_ctrl_c() as stop_asked, \
            overflow_reported_by_the_loss_check():
        def on_step(metrics):
            log.write(json.dumps(metrics) + "\n")
            if "dev" in metrics:
                report_epoch(metrics["dev"])
                if metrics["dev"]["best"]:
                    save_best(run, out)
            if "dev" in metrics or stop_asked():  # an epoch's end, or Ctrl-C: keep what resuming needs
                log.flush()
                save_progress(run, out)
            if stop_asked():
                raise Interrupted

        try:
            train_classifier(run, on_step)
        except Interrupted:
            click.echo(f"interrupted: saved the run at step {run.step} of {run.total_steps} to {out}/; go on with "
                       f"tinybert finetune --resume {out} --train {train_path} --dev {dev_path}", err=True)
            raise SystemExit(130) from None
        except TrainingDiverged as error:
            kept = (f"; the best epoch so far is saved in {out}/" if run.history else
                    "; no epoch had finished, so no model was saved")
            raise RunError(f"{error}{kept}") from None
    finish(out)
    best = max(run.history, key=lambda result: result["dev_accuracy"])
    click.echo(f"best: epoch {best['epoch']}, dev accuracy {best['dev_accuracy']:.3f}, dev F1 {best['dev_f1']:.3f} "
               f"(F1 of label {positive_label(run.labels)!r}); saved to {out}/")


def report_epoch(result):
    click.echo(f"epoch {result['epoch']}: dev accuracy {result['dev_accuracy']:.3f}  dev F1 {result['dev_f1']:.3f}  "
               f"(last training loss {result['train_loss']:.3f})")


@main.command("predict")
@click.option("--model", "model_directory", required=True, type=click.Path(file_okay=False),
              help="A fine-tuned model directory (from tinybert finetune).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the predictions here (one label per line) instead of to the screen.")
@click.option("--unlabelled", is_flag=True,
              help="DATA_PATH has no labels: text[<TAB>text_b] lines, or GLUE's test files as they come.")
@click.argument("data_path", type=click.Path(dir_okay=False))
def predict_command(model_directory, out_path, unlabelled, data_path):
    """Label every example of DATA_PATH (the layouts finetune reads) and report the accuracy against its
    labels; with --unlabelled, label examples that have none."""
    if out_path:
        make_room_for(out_path)
    with reported_as_input_errors(CheckpointError, StateDictError, OSError, ValueError):
        model, tokenizer, labels, settings = load_classifier(model_directory)
        examples = read_labelled_tsv(data_path, labelled=not unlabelled)
    predicted = [labels[number] for number in predict(model, tokenizer, examples, settings["max_seq_length"])]
    text = "".join(f"{label}\n" for label in predicted)
    if out_path:
        write_atomically(out_path, lambda temporary: Path(temporary).write_text(text))
    else:
        click.echo(text, nl=False)
    if unlabelled:
        click.echo(f"labelled {len(predicted)} examples", err=True)
        return
    accuracy = sum(guess == truth for guess, truth in zip(predicted, examples.labels)) / len(predicted)
    click.echo(f"accuracy {accuracy:.3f} on {len(predicted)} examples", err=True)
