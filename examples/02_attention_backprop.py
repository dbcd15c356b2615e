"""Backprop through attention, step by step: the lesson `tinybert explain attention` gives, from Python.

    python examples/02_attention_backprop.py            # 3 tokens of 4 numbers
    python examples/02_attention_backprop.py --causal   # with a decoder's mask
    python examples/02_attention_backprop.py --heads 2 --projections   # multi-head attention, whole

Each backward formula (dV = A^T dO, dA = dO V^T, dS = A * (dA - rowsum(dA * A)), dQ = dS K / sqrt(d),
dK = dS^T Q / sqrt(d)) is computed three ways: by the formula, by the engine, by finite differences.
tinybert/lessons/attention.py is the code to read next to this output.
"""

import click

from tinybert.lessons import LESSONS, as_text


@click.command()
@click.option("--tokens", default=3, show_default=True, type=click.IntRange(1, 8))
@click.option("--dim", default=4, show_default=True, type=click.IntRange(1, 8))
@click.option("--causal", is_flag=True)
@click.option("--heads", default=1, show_default=True, type=click.IntRange(1, 8))
@click.option("--projections", is_flag=True, help="From X through Q = X W_Q, ... to Y = O W_O.")
@click.option("--fast", is_flag=True, help="Accepted for uniformity with the other examples: this one is fast.")
def main(tokens, dim, causal, heads, projections, fast):
    if dim % heads:
        raise click.BadParameter(f"{heads} heads do not divide dim={dim}: choose a divisor", param_hint="--heads")
    lesson = LESSONS["attention"](tokens=tokens, dim=dim, seed=0, causal=causal, heads=heads, projections=projections)
    click.echo(as_text(lesson), nl=False)
    raise SystemExit(0 if lesson.passed else 1)


if __name__ == "__main__":
    main()
