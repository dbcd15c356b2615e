"""The commands that show what happens inside: `info`, `gradcheck`, `explain` (backprop through one op,
step by step), `graph` (the computation graph) and `attention` (where each head looks)."""

import platform
import shutil
import subprocess
from pathlib import Path

import click
import numpy as np

from .. import __version__
from .. import autograd as ag
from ..attention_maps import attention_maps, draw_map, legend
from ..autograd import backend
from ..checkpoint import CheckpointError, load_checkpoint, write_atomically
from ..lessons import LESSONS, as_markdown, as_text, score_lesson
from ..lessons.graphs import GRAPHS
from ..models.attention_scores import SCORES
from ..nn import StateDictError
from ..plots import PlotError, attention_png
from .base import InputError, main, make_room_for, reported_as_input_errors


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
    from ..gradient_tour import run_tour

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
