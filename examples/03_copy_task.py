"""Train a small Transformer to copy (or reverse) random symbol sequences, then print its exact-match
accuracy with greedy decoding on 500 held-out sequences.

    python examples/03_copy_task.py               # the copy task of The Annotated Transformer
    python examples/03_copy_task.py --task reverse
    python examples/03_copy_task.py --fast     # a few seconds, to see it run

The model: 2 encoder and 2 decoder layers, d_model 64, 4 heads, d_ff 128, trained with Adam and the
paper's inverse-square-root schedule on 1,200 batches of 64 sequences of START + 9 symbols.
Measured on 2 CPU cores (seed 0, the full run of 1,200 steps plus the held-out decoding):
    copy       93.8% exact match, 28 s (99.3% of the symbols; seeds 1 and 2: 99.2% and 100.0% exact)
    reverse   100.0% exact match, 27 s
"""

import time

import click

from tinybert.sequence_tasks import TASKS, TaskSettings, train


@click.command()
@click.option("--task", type=click.Choice(sorted(TASKS)), default="copy", show_default=True)
@click.option("--steps", default=TaskSettings.steps, show_default=True, help="Training batches.")
@click.option("--seed", default=0, show_default=True)
@click.option("--fast", is_flag=True, help="30 steps only: checks that the example runs, learns little.")
def main(task, steps, seed, fast):
    steps = 30 if fast else steps
    started = time.perf_counter()

    def report(step, loss):
        click.echo(f"step {step:5d}   loss {loss:.4f}   {time.perf_counter() - started:5.1f} s")

    _, accuracy = train(TaskSettings(task=task, steps=steps, seed=seed), report)
    click.echo(f"{task}: exact-match accuracy on 500 held-out sequences {accuracy:.1%} "
               f"({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
