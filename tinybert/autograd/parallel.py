"""Elementwise work on every CPU core, in blocks of rows that stay in the cache.

A matrix product in NumPy runs on every core (BLAS starts its own threads), but every other step,
x * y or np.exp(x), runs on one: on a 2-core machine the softmax, layer norm and GELU of a training
step leave half of it idle. NumPy lets go of Python's global interpreter lock inside its loops, so
Python threads that each take a part of an array do compute at the same time. `for_each_block`
cuts arrays into blocks of whole rows (the last axis kept whole, as a softmax or a layer norm
needs) and hands the blocks to a pool of one thread per core. A block of about 256K numbers (1 MB
of float32) and its temporaries also stay in the processor's caches (mostly its shared last level)
while a function runs its many small steps over it, where whole arrays would stream through memory
once per step.

Every block is computed by the same function on the same numbers whichever thread takes it, so the
results do not depend on the threads' timing. Arrays smaller than a block, and arrays on a GPU
(already parallel), are handed to the function whole.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

BLOCK_SIZE = 1 << 18  # numbers per block: on 2 cores, 2^17 to 2^18 measured fastest for GELU and softmax

_pool = None


def thread_count():
    """The cores this process may run on (os.cpu_count() counts the whole machine's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _thread_pool():
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=thread_count(), thread_name_prefix="tinybert-block")
    return _pool


def for_each_block(function, *arrays):
    """Call function(*blocks) on matching blocks of rows of `arrays`, in parallel, and return nothing.

    Every array has the same leading axes (..., and any last axis): an array (..., H) is seen as rows
    of H numbers, and the function gets the same rows of each, as (rows, H) views. It writes its
    results into blocks of the arrays it was given (outputs made beforehand with np.empty_like).
    Arrays that are not C-contiguous (whose blocks of rows would be copies, not views) go whole."""
    first = arrays[0]
    if (type(first) is not np.ndarray or first.size <= BLOCK_SIZE
            or not all(array.flags.c_contiguous for array in arrays)):  # rows of a strided array are no views
        function(*arrays)
        return
    row_count = first.size // max(first.shape[-1], 1) if first.ndim else 1
    matrices = [array.reshape(row_count, -1) for array in arrays]  # (rows, H) views
    rows_per_block = max(1, BLOCK_SIZE // max(first.shape[-1], 1))
    starts = range(0, row_count, rows_per_block)
    # list() waits for every block and raises the first exception a block raised
    list(_thread_pool().map(lambda start: function(*(matrix[start:start + rows_per_block] for matrix in matrices)),
                            starts))
