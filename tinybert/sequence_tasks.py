"""Toy sequence tasks that prove the Transformer learns: copy a sequence, or reverse it.

The copy task is The Annotated Transformer's first example: random symbols, and the model must
write them back. Reversal needs more than copying position by position: output i must attend to
source position S - i. Both sequences start with START; the decoder reads target[:, :-1] and learns
to predict target[:, 1:] (teacher forcing), then writes sequences by greedy decoding.
"""

from dataclasses import dataclass, field

import numpy as np

from . import autograd as ag
from .models.transformer import Transformer, TransformerConfig
from .optim import Adam, LRScheduler, inverse_square_root

PAD, START = 0, 1  # symbols are 2 .. vocab_size - 1


def copy_batch(rng, batch_size, length, vocab_size):
    """(source, target), each (B, length): START then random symbols; the target is the source."""
    source = rng.integers(START + 1, vocab_size, size=(batch_size, length))
    source[:, 0] = START
    return source, source.copy()


def reverse_batch(rng, batch_size, length, vocab_size):
    """(source, target): START then random symbols; the target is START then those symbols reversed."""
    source, _ = copy_batch(rng, batch_size, length, vocab_size)
    target = source.copy()
    target[:, 1:] = source[:, :0:-1]
    return source, target


TASKS = {"copy": copy_batch, "reverse": reverse_batch}


@dataclass
class TaskSettings:
    task: str = "copy"
    length: int = 10          # START plus 9 symbols
    vocab_size: int = 11      # PAD, START and 9 symbols (The Annotated Transformer: 1 .. 10, 1 doubling as start)
    batch_size: int = 64
    steps: int = 1200
    warmup: int = 400
    learning_rate_factor: float = 1.0  # the inverse-square-root schedule's factor
    seed: int = 0
    model: dict = field(default_factory=lambda: dict(d_model=64, num_heads=4, d_ff=128, num_layers=2, dropout=0.0))


def exact_match(model, source, target):
    """The fraction of sequences that greedy decoding writes exactly right, every symbol."""
    model.eval()
    written = model.greedy_decode(source, length=target.shape[1] - 1, start_id=START)
    return float((written == target).all(axis=1).mean())


def train(settings, report=None):
    """Train a Transformer on the task; `report(step, loss)` is called every 100 steps.

    Returns the model and its exact-match accuracy on 500 held-out sequences (drawn from another
    generator than the training batches)."""
    if settings.task not in TASKS:
        raise ValueError(f"unknown task {settings.task!r}: use one of {', '.join(TASKS)}")
    make_batch = TASKS[settings.task]
    ag.manual_seed(settings.seed)
    config = TransformerConfig(source_vocab_size=settings.vocab_size, target_vocab_size=settings.vocab_size,
                               max_length=settings.length, pad_id=PAD, **settings.model)
    model = Transformer(config)
    optimizer = Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9)  # the paper's Adam settings
    scheduler = LRScheduler(optimizer, lambda step: inverse_square_root(step, config.d_model, settings.warmup,
                                                                        settings.learning_rate_factor))
    training_data = np.random.default_rng(settings.seed)
    model.train()
    for step in range(1, settings.steps + 1):
        source, target = make_batch(training_data, settings.batch_size, settings.length, settings.vocab_size)
        logits = model(source, target[:, :-1])                 # (B, length - 1, vocab)
        loss = ag.cross_entropy(logits, target[:, 1:], ignore_index=PAD)  # (no padding here, but never learn it)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if report and step % 100 == 0:
            report(step, loss.item())
    held_out = make_batch(np.random.default_rng(settings.seed + 1_000_003), 500, settings.length, settings.vocab_size)
    return model, exact_match(model, *held_out)
