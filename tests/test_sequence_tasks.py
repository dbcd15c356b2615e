"""The Transformer learns: a small one copies and reverses held-out sequences by greedy decoding."""

import numpy as np
import pytest

from tinybert.sequence_tasks import PAD, START, TaskSettings, copy_batch, reverse_batch, train


def small(task):
    return TaskSettings(task=task, length=6, vocab_size=8, batch_size=32, steps=1000, warmup=100,
                        model=dict(d_model=32, num_heads=2, d_ff=64, num_layers=1, dropout=0.0))


@pytest.mark.parametrize("task", ["copy", "reverse"])
def test_a_small_transformer_learns_the_task_to_99_percent_exact_match(task):
    _, accuracy = train(small(task))
    assert accuracy >= 0.99


def test_the_batches_start_with_start_then_hold_symbols_and_their_copy_or_reversal():
    source, target = copy_batch(np.random.default_rng(0), 4, 7, 11)
    assert (source[:, 0] == START).all() and (source[:, 1:] > START).all() and not (source == PAD).any()
    np.testing.assert_array_equal(target, source)
    source, target = reverse_batch(np.random.default_rng(0), 4, 7, 11)
    np.testing.assert_array_equal(target[:, 1:], source[:, 1:][:, ::-1])
    assert (target[:, 0] == START).all()


def test_an_unknown_task_is_named():
    with pytest.raises(ValueError, match="unknown task 'sort': use one of copy, reverse"):
        train(TaskSettings(task="sort"))
