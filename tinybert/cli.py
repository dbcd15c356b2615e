"""The `tinybert` command line. It parses, prints and exits; the work happens elsewhere."""

import platform

import click
import numpy as np

from . import __version__
from .autograd import backend


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
