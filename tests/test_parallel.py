"""Elementwise work in blocks of rows on every core (tinybert/autograd/parallel.py): the same numbers
as one pass over the whole array, whatever the block size, and errors that reach the caller."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from tinybert import autograd as ag
from tinybert.autograd import parallel

from devices import host, on_device


def forward_and_gradients(op, arrays):
    """op's output and the gradients of its inputs for a fixed upstream gradient, as host arrays."""
    tensors = [ag.Tensor(on_device(array), requires_grad=True) for array in arrays]
    out = op(*tensors)
    out.backward(on_device(np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)))
    return [host(out.data)] + [host(tensor.grad) for tensor in tensors]


def attention_in_training(q, k, v):
    mask = q.xp.asarray(np.random.default_rng(2).random((4, 1, 48, 40)) < 0.8)
    return ag.attention(q, k, v, mask, dropout=0.3, training=True, generator=q.xp.random.default_rng(3))[0]


def seeded_dropout(x):
    return ag.dropout(x, 0.3, generator=x.xp.random.default_rng(4))


OPS = {
    "gelu": (ag.gelu, [(60, 50)]),
    "softmax": (ag.softmax, [(6, 50, 40)]),
    "layer_norm": (ag.layer_norm, [(60, 50), (50,), (50,)]),
    "dropout": (seeded_dropout, [(60, 50)]),
    "cross_entropy": (lambda logits: ag.cross_entropy(logits, np.arange(60) % 50, reduction="none"), [(60, 50)]),
    "attention": (attention_in_training, [(4, 3, 48, 8), (4, 3, 40, 8), (4, 3, 40, 8)]),
}


@pytest.mark.parametrize("name", OPS)
def test_blocks_of_rows_give_the_numbers_of_one_whole_pass(name, monkeypatch):
    op, shapes = OPS[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    monkeypatch.setattr(parallel, "BLOCK_SIZE", 10 ** 9)  # one block: the whole array
    whole = forward_and_gradients(op, arrays)
    monkeypatch.setattr(parallel, "BLOCK_SIZE", 200)  # a few rows a block, many blocks
    blocked = forward_and_gradients(op, arrays)
    for expected, got in zip(whole, blocked):
        np.testing.assert_array_equal(got, expected)


def test_blocks_are_shared_among_threads_and_cover_every_row_once(monkeypatch):
    monkeypatch.setattr(parallel, "BLOCK_SIZE", 64)
    seen, threads = [], set()

    def record(rows, out):
        seen.append(rows[:, 0].copy())
        threads.add(threading.current_thread().name)
        out[...] = rows * 2

    rows = np.arange(1000 * 16, dtype=np.float32).reshape(1000, 16)
    out = np.empty_like(rows)
    parallel.for_each_block(record, rows, out)
    np.testing.assert_array_equal(out, rows * 2)
    np.testing.assert_array_equal(np.sort(np.concatenate(seen)), rows[:, 0])  # each row once
    assert len(seen) == 1000 // 4  # 64 numbers a block: 4 rows of 16
    assert all(name.startswith("tinybert-block") for name in threads)


def test_an_error_in_a_block_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(parallel, "BLOCK_SIZE", 64)

    def fail_on_negative(rows):
        if (rows < 0).any():
            raise ValueError("a negative row")

    rows = np.ones((100, 16), dtype=np.float32)
    rows[77] = -1
    with pytest.raises(ValueError, match="a negative row"):
        parallel.for_each_block(fail_on_negative, rows)


def test_a_strided_array_goes_whole_so_that_writes_land_in_it(monkeypatch):
    monkeypatch.setattr(parallel, "BLOCK_SIZE", 64)
    calls = []

    def double(rows, out):
        calls.append(rows.shape)
        out[...] = rows * 2

    rows = np.arange(1600, dtype=np.float32).reshape(100, 16)
    out = np.zeros((16, 100), dtype=np.float32).T  # (100, 16), a transposed view
    parallel.for_each_block(double, rows, out)
    np.testing.assert_array_equal(out, rows * 2)
    assert calls == [(100, 16)]


@pytest.mark.parametrize("already_set", [None, "9"])
def test_importing_tinybert_shortens_openblas_spin_unless_the_environment_chose(already_set):
    environment = {name: value for name, value in os.environ.items() if name != "OPENBLAS_THREAD_TIMEOUT"}
    if already_set is not None:
        environment["OPENBLAS_THREAD_TIMEOUT"] = already_set
    program = "import tinybert, os; print(os.environ['OPENBLAS_THREAD_TIMEOUT'])"
    completed = subprocess.run([sys.executable, "-c", program], env=environment, capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == (already_set or "14")
