"""Fine-tune a pretrained BERT to classify sentence pairs, from Python: what `tinybert finetune` does.

    python examples/05_finetune.py --model tinybert-pretrained     # a checkpoint of tinybert pretrain
    python examples/05_finetune.py --fast                          # pretrains a micro model first: seconds

The task is generated: is the animal of the second sentence the one the first names? Only the pair as
a whole tells, so the classifier has to compare the two sentences through attention.
"""

import tempfile
from dataclasses import replace
from pathlib import Path

import click
import numpy as np

from tinybert.checkpoint import load_checkpoint
from tinybert.finetuning import FinetuneSettings, start_finetune, train_classifier
from tinybert.pretraining import PretrainSettings, save_run, start_run, train
from tinybert.text.labelled_tsv import LabelledTexts

ANIMALS = ["cat", "dog", "bird", "fish", "horse", "mouse"]
PLACES = ["garden", "kitchen", "river", "forest", "house", "field"]


def animal_pairs(count, seed):
    """Labelled pairs: "1" when both sentences name the same animal."""
    rng = np.random.default_rng(seed)
    labels, first, second = [], [], []
    for _ in range(count):
        animal, same = rng.choice(ANIMALS), rng.random() < 0.5
        other = animal if same else rng.choice([name for name in ANIMALS if name != animal])
        labels.append(str(int(same)))
        first.append(f"the {animal} sleeps in the {rng.choice(PLACES)} every day.")
        second.append(f"the {other} is in the {rng.choice(PLACES)}.")
    return LabelledTexts(labels, first, second)


def micro_pretrained(directory):
    """A micro BERT pretrained for 200 steps on sentences about the same animals and places."""
    rng = np.random.default_rng(0)
    documents = [[f"the {rng.choice(ANIMALS)} sleeps in the {rng.choice(PLACES)} every day." for _ in range(5)]
                 for _ in range(12)]
    run = start_run(PretrainSettings(vocab_size=80, max_seq_length=24, batch_size=4, steps=200, warmup_steps=1),
                    documents)
    train(run, run.settings.steps)
    save_run(run, directory)
    return directory


@click.command()
@click.option("--model", "model_directory", type=click.Path(file_okay=False), default=None,
              help="A pretrained checkpoint [default: pretrain a micro model first].")
@click.option("--fast", is_flag=True, help="2 epochs over 300 pairs: seconds, to see it run.")
def main(model_directory, fast):
    with tempfile.TemporaryDirectory() as scratch:
        pretrained, tokenizer, _, _ = load_checkpoint(model_directory or micro_pretrained(Path(scratch) / "micro"))
    settings = FinetuneSettings(epochs=8, learning_rate=5e-4, batch_size=16, max_seq_length=32)
    train_pairs = animal_pairs(1000, seed=0)
    if fast:
        settings, train_pairs = replace(settings, epochs=2), animal_pairs(300, seed=0)
    run = start_finetune(pretrained, tokenizer, train_pairs, {"dev": animal_pairs(100, seed=1)}, settings)

    def report(metrics):
        if "dev" in metrics:
            click.echo(f"epoch {metrics['dev']['epoch']}: dev accuracy {metrics['dev']['scores']['accuracy']:.3f}")

    history = train_classifier(run, report)
    click.echo(f"best dev accuracy {max(result['scores']['accuracy'] for result in history):.3f} "
               "(always one label: about 0.5)")


if __name__ == "__main__":
    main()
