"""Where arrays live: NumPy on the CPU, CuPy on a GPU.

Every op asks its tensor for `x.xp`, the module that owns its array (found by
`array_module` here), and calls `xp.exp`, `xp.matmul`, ... through it, so one
piece of op code runs on both devices. The few things NumPy and CuPy do
differently (scatter-add, random generators, copying to the host, checking
indices) go through one helper each, here.

The default device is "cpu", or whatever the environment variable
TINYBERT_DEVICE names ("cpu" or "cuda"), or what set_default_device chose.
"""

import os

import numpy as np

DEVICES = ("cpu", "cuda")

INSTALL_CUPY_HINT = (
    "install CuPy for your CUDA (pip install -e \".[gpu]\" for CUDA 13, pip install -e \".[gpu-cuda12]\" "
    "for CUDA 12; nvidia-smi shows the version), or use device 'cpu'"
)


class DeviceError(RuntimeError):
    """A device was asked for that cannot be used, or two devices were mixed."""


def _import_cupy():
    """CuPy, or a DeviceError that says how to get it."""
    try:
        import cupy
    except ImportError:
        raise DeviceError(f"device 'cuda' needs CuPy, which is not installed: {INSTALL_CUPY_HINT}") from None
    try:
        gpu_count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as error:
        raise DeviceError(f"device 'cuda' found no usable GPU ({error}); use device 'cpu'") from None
    if gpu_count == 0:
        raise DeviceError("device 'cuda' found no GPU on this machine; use device 'cpu'")
    return cupy


def check_device(device):
    """Return `device` if it names a known device, else raise a clear error."""
    if device not in DEVICES:
        raise DeviceError(f"unknown device {device!r}: use 'cpu' or 'cuda'")
    return device


_chosen_device = None  # set by set_default_device (the command line's --device); it outranks TINYBERT_DEVICE


def set_default_device(device):
    """Send new tensors to `device` from now on, whatever TINYBERT_DEVICE says (None: let it decide again).
    A device that cannot be used is a DeviceError here, at once."""
    global _chosen_device
    if device is not None:
        module_for_device(device)
    _chosen_device = device


def default_device():
    """The device new tensors go to: the one set_default_device chose, else TINYBERT_DEVICE, else 'cpu'."""
    if _chosen_device is not None:
        return _chosen_device
    device = os.environ.get("TINYBERT_DEVICE", "cpu").strip().lower() or "cpu"
    if device not in DEVICES:
        raise DeviceError(f"TINYBERT_DEVICE={device!r} is not a device: set it to 'cpu' or 'cuda'")
    return device


def module_for_device(device):
    """The array module (numpy or cupy) that holds arrays on `device`."""
    if check_device(device) == "cuda":
        return _import_cupy()
    return np


def device_of(array):
    """'cuda' for an array in GPU memory (a CuPy array: it has __cuda_array_interface__), 'cpu' for anything else."""
    return "cuda" if hasattr(array, "__cuda_array_interface__") else "cpu"


def array_module(array):
    """The array module that owns `array`: cupy for a CuPy array, numpy otherwise."""
    return module_for_device(device_of(array))


def to_device(array, device):
    """Copy `array` to `device` (no copy when it is already there)."""
    if device_of(array) == check_device(device):
        return array
    if device == "cpu":
        return array.get()  # cupy -> numpy, an explicit copy to the host
    return module_for_device("cuda").asarray(array)


def to_numpy(array):
    """A NumPy array with the values of `array`, copied from the GPU if need be."""
    return to_device(array, "cpu")


def scatter_add(target, indices, values):
    """target[indices] += values, where repeated indices add up (unlike `target[indices] += values`)."""
    array_module(target).add.at(target, indices, values)


def sum_rows_by_id(ids, rows, count):
    """A (count, H) array whose row v is the sum of the rows of `rows` (N, H) with ids (N,) equal to v:
    the scatter-add an embedding's backward needs."""
    xp = array_module(rows)
    table = xp.zeros((count,) + rows.shape[1:], dtype=rows.dtype)  # (count, H)
    if xp is not np:
        xp.add.at(table, ids, rows)  # a GPU adds in parallel, with atomic adds
    elif ids.size:
        # np.add.at is slow; sorting brings equal ids together, and np.add.reduceat sums each run in one pass
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        run_starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])  # where each id's run begins
        table[sorted_ids[run_starts]] = np.add.reduceat(rows[order], run_starts, axis=0)
    return table


def sum_rows(rows):
    """The sum of the rows of `rows` (N, O): (O,), a bias's gradient. NumPy's sum over the first axis; on a
    GPU the product ones(N) @ rows, one matrix-vector product that reads the rows as they lie in memory,
    where CuPy's sum over the first axis reads down the columns, across memory."""
    xp = array_module(rows)
    if xp is np:
        return rows.sum(axis=0)
    return xp.ones(rows.shape[0], dtype=rows.dtype) @ rows


def first_out_of_range(indices, low, high):
    """A value of the integer array `indices` outside [low, high), the largest if any lies above, else the
    smallest; None when all lie inside.

    NumPy raises on an index out of range, but CuPy silently wraps it around, so tinybert checks
    every index array itself before using it: its min and max come back from a GPU together, in one
    read (each read back makes the host wait until the device has caught up)."""
    if indices.size == 0:
        return None
    smallest, largest = (int(value) for value in to_numpy(array_module(indices).stack((indices.min(), indices.max()))))
    if largest >= high:
        return largest
    return smallest if smallest < low else None


_generators = {}
_seed = 0  # seeded from the start, as in PyTorch, so two runs of one script draw the same numbers


def manual_seed(seed):
    """Seed the random generator of every device, so a run's random numbers (dropout masks) repeat exactly."""
    global _seed
    _seed = int(seed)
    _generators.clear()


def generator(device):
    """The seeded random generator of `device` (numpy's or cupy's `default_rng`)."""
    if device not in _generators:
        _generators[device] = module_for_device(device).random.default_rng(_seed)
    return _generators[device]


_kernels = {}


def elementwise_kernel(xp, name, in_params, out_params, operation):
    """CuPy's ElementwiseKernel: a whole elementwise formula, in CUDA C, as one GPU kernel (one pass over
    memory and one launch, where the same formula in array operations takes one of each per step).
    Compiled at its first use and kept. None where `xp` has no such kernels (NumPy, or the tests' pretend
    GPU): the caller then runs the formula's NumPy meaning, which sits beside each kernel."""
    if not hasattr(xp, "ElementwiseKernel"):
        return None
    if name not in _kernels:
        _kernels[name] = xp.ElementwiseKernel(in_params, out_params, operation, name)
    return _kernels[name]


MAX_ROW_THREADS = 256  # the most threads a row kernel's block has


def row_threads(length):
    """The threads of a row kernel's block for rows of `length` numbers: the power of two that covers a
    row (a warp of 32 at least, MAX_ROW_THREADS at most), as block_reduce's halving needs."""
    covering = 1 << max(length - 1, 0).bit_length()  # the smallest power of two >= length
    return min(MAX_ROW_THREADS, max(32, covering))


# A row kernel gives each row of an (N, H) array one block of threads: thread t takes the row's numbers
# t, t + threads, t + 2 threads, ..., and block_reduce combines the threads' partial results.
BLOCK_REDUCE = r"""
// the larger of a and b, NaN if either is NaN (as NumPy's max)
__device__ T larger(T a, T b) {
    return (a > b || a != a) ? a : b;
}

// every thread's `value` combined into one, their sum or (take_max) their largest, by halving: thread t
// takes in thread t + stride's value, for stride = threads / 2, ..., 2, 1
__device__ T block_reduce(T value, bool take_max) {
    __shared__ T values[%d];
    const int t = threadIdx.x;
    values[t] = value;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (t < stride) values[t] = take_max ? larger(values[t], values[t + stride]) : values[t] + values[t + stride];
        __syncthreads();
    }
    const T result = values[0];
    __syncthreads();  // every thread has read the result before the next call writes over it
    return result;
}
""" % MAX_ROW_THREADS

C_TYPES = {"float32": "float", "float64": "double"}


def row_kernel(xp, name, source, dtype):
    """CuPy's RawKernel `name` from CUDA C `source`, for arrays of `dtype` (float32 or float64, the `T` of
    the source), with block_reduce above it, compiled at its first use and kept. Returns
    launch(row_count, row_length, *arguments), which runs it with one block of row_threads(row_length)
    threads a row (and nothing for an empty array); None where `xp` has no such kernels (NumPy, or the
    tests' pretend GPU), or for another dtype: the caller then runs the NumPy meaning beside the source."""
    dtype = np.dtype(dtype).name
    if not hasattr(xp, "RawKernel") or dtype not in C_TYPES:
        return None
    key = (name, dtype)
    if key not in _kernels:
        _kernels[key] = xp.RawKernel(f"typedef {C_TYPES[dtype]} T;\n{BLOCK_REDUCE}\n{source}", name)
    kernel = _kernels[key]

    def launch(row_count, row_length, *arguments):
        if row_count * row_length:
            kernel((row_count,), (row_threads(row_length),), arguments)

    return launch
