"""Pretrain a tiny BERT from Python: what `tinybert pretrain --tiny` does, in the library's own calls.

    python examples/04_pretrain_tiny_bert.py           # about 3 minutes on 2 CPU cores
    python examples/04_pretrain_tiny_bert.py --fast    # 20 steps: the pipeline, not the learning

start_run holds out every 10th document, trains a WordPiece vocabulary, tokenizes, draws sentence
pairs and masks, and builds the model; train takes the steps; evaluate scores the held-out pairs.
"""

from dataclasses import replace

import click

from tinybert.pretraining import PretrainSettings, evaluate, fill_mask, start_run, train
from tinybert.text.python_reference import python_reference_documents


@click.command()
@click.option("--fast", is_flag=True, help="20 steps and a smaller vocabulary: seconds, to see it run.")
def main(fast):
    settings = PretrainSettings()  # the --tiny run: 1,900 steps of batch 32, sequences of 64 tokens
    if fast:
        settings = replace(settings, steps=20, warmup_steps=5, vocab_size=500, eval_batches=2)
    run = start_run(settings, python_reference_documents())
    click.echo(f"vocabulary {run.tokenizer.vocab_size} tokens; "
               f"{sum(parameter.size for parameter in run.model.parameters()):,} parameters")

    def report(metrics):
        if metrics["step"] % max(1, settings.steps // 10) == 0:
            click.echo(f"step {metrics['step']:5d}  loss {metrics['loss']:.3f}  mlm accuracy {metrics['mlm_accuracy']:.3f}")

    train(run, settings.steps, report)
    results = evaluate(run)
    click.echo(f"held-out masked-LM accuracy {results['held_out_mlm_accuracy']:.3f} "
               f"(always {results['baseline_token']!r}: {results['baseline_mlm_accuracy']:.3f}), "
               f"next-sentence accuracy {results['held_out_nsp_accuracy']:.3f}")
    for token, probability in fill_mask(run.model, run.tokenizer, "the [MASK] statement is executed", 3)[0]:
        click.echo(f"  the [MASK] statement is executed -> {token} {probability:.2f}")


if __name__ == "__main__":
    main()
