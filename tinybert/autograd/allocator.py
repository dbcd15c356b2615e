"""Keep the memory NumPy frees, so that the next array of a training step reuses it.

A training step allocates and frees the same arrays of a few megabytes over and over. By default
glibc's malloc (the C library on Linux) gives freed memory back to the operating system and maps
fresh memory in for the next array, which costs a page fault for every 4 KB touched: at the tiny
BERT size about 3,000 faults, a tenth of the step. Raising two of its thresholds keeps that memory
in the process instead. PyTorch avoids the same cost with its own caching allocator.
"""

import ctypes
import sys

M_TRIM_THRESHOLD = -1  # give memory back to the OS once this much is free at the top of the heap
M_MMAP_THRESHOLD = -3  # serve blocks of at least this size with their own mmap (freed straight back)
MMAP_THRESHOLD = 32 << 20  # arrays up to 32 MB come from the heap and are reused; larger ones are mapped afresh
TRIM_THRESHOLD = 1 << 30   # keep up to 1 GB of freed memory for reuse


def keep_freed_memory():
    """Tell glibc's malloc to keep freed memory for reuse. A process-wide setting, so the command line
    calls it, not the library. Returns False where there is no glibc (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
