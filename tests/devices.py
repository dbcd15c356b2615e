"""Two helpers so that one test runs on the CPU, on a GPU (TINYBERT_DEVICE=cuda) and on the pretend GPU
(--device-double): tests compute their expected values in NumPy, on the host, and move arrays across
only through these, explicitly, as CuPy demands."""

import sys

import pytest

from tinybert.autograd import backend

not_on_the_pretend_gpu = pytest.mark.skipif(
    type(sys.modules.get("cupy")).__name__ == "PretendCuPy",
    reason="runs a fresh Python process, where the pretend GPU of --device-double does not exist")


def run_to_run_tolerance():
    """How far two runs of one computation may differ, relatively: 0 on the CPU, where they agree bit for
    bit; 1e-5 on a GPU, where atomic adds (an embedding's backward) and cuBLAS's choice of algorithm may
    sum in another order, and so round differently, from one run to the next."""
    return 0.0 if backend.default_device() == "cpu" else 1e-5


def host(array):
    """A NumPy array with the values of `array` (a tensor's data or grad), wherever it lives."""
    return backend.to_numpy(array)


def on_device(values, dtype=None):
    """A copy of `values` (NumPy, or anything array-like) as an array on the default device."""
    return backend.module_for_device(backend.default_device()).array(values, dtype=dtype)
