"""tinybert's CUDA row kernels run on the CPU, so that their source is tested where there is no GPU.

A row kernel (backend.row_kernel) is plain C++ apart from a few CUDA words. Define those words for the
CPU, compile the source with a C++20 compiler, and run each block of threads as that many threads of
the CPU that meet at a barrier wherever the kernel says __syncthreads():

    __global__, __device__   nothing: ordinary functions
    __shared__               static: one variable for all the threads of the block (blocks run one by one)
    threadIdx                thread_local: each thread its own number
    blockIdx, blockDim       globals, set before a block's threads start

`EmulatedRawKernel(code, name)` takes the arguments CuPy's RawKernel takes and is called the same way,
kernel((blocks,), (threads,), arguments), on the pretend GPU's arrays (tests/device_double.py), so the
ops' own code launches it. Slow (a thread of the CPU for every thread of every block), so only for
small arrays. It checks the arithmetic and the indexing, and that the threads wait where they must for
these inputs; a missing __syncthreads() would show only now and then, as a race does on a GPU too.
"""

import ctypes
import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

CUDA_FOR_THE_CPU = r"""
#include <barrier>
#include <cmath>
#include <thread>
#include <vector>
using std::exp; using std::isinf; using std::sqrt;
struct Dim { unsigned x; };
thread_local Dim threadIdx;
Dim blockIdx, blockDim;
std::barrier<>* block_barrier;
#define __global__
#define __device__
#define __shared__ static
#define __syncthreads() block_barrier->arrive_and_wait()
"""

# launch_NAME(blocks, threads, the kernel's parameters): every block in turn, its threads side by side
LAUNCH = r"""
extern "C" void launch_%(name)s(int blocks, int threads, %(parameters)s) {
    blockDim.x = threads;
    for (int block = 0; block < blocks; block++) {
        blockIdx.x = block;
        std::barrier<> barrier(threads);
        block_barrier = &barrier;
        std::vector<std::thread> running;
        for (int t = 0; t < threads; t++) running.emplace_back([=] { threadIdx.x = t; %(name)s(%(arguments)s); });
        for (std::thread& thread : running) thread.join();
    }
}
"""

SCALARS = {"int": ctypes.c_int, "float": ctypes.c_float, "double": ctypes.c_double}
C_DTYPES = {"int": np.int32, "float": np.float32, "double": np.float64}
_build_folder = Path(tempfile.mkdtemp(prefix="tinybert-cuda-emulator-"))


def compiler():
    """The C++ compiler's name if one is found that builds C++20 with <barrier> (g++ 11 or clang++ 14 on), else None."""
    for name in ("g++", "clang++"):
        if shutil.which(name):
            try:
                build(name, "#include <barrier>\nint probe() { return 0; }\n")
                return name
            except CompileError:
                continue
    return None


def build(compiler_name, source):
    """`source` compiled into a shared library (kept by its hash); a CompileError if the compiler refuses it."""
    library = _build_folder / f"{hashlib.sha1(source.encode()).hexdigest()[:16]}.so"
    if not library.exists():
        cpp = library.with_suffix(".cpp")
        cpp.write_text(source)
        done = subprocess.run([compiler_name, "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", "-o", str(library),
                               str(cpp)], capture_output=True, text=True)
        if done.returncode != 0:
            raise CompileError(f"{compiler_name} refused {cpp}:\n{done.stderr}")
    return ctypes.CDLL(str(library))


class CompileError(RuntimeError):
    """The C++ compiler refused a source."""


class EmulatedRawKernel:
    """CuPy's RawKernel(code, name), compiled for the CPU."""

    def __init__(self, code, name, compiler_name="g++"):
        self.name = name
        element = re.search(r"typedef (\w+) T;", code).group(1)  # what backend.row_kernel puts first
        signature = re.search(rf'__global__ void {name}\(([^)]*)\)', code).group(1)
        parameters = [parameter.strip() for parameter in signature.split(",")]
        # each parameter's C type, T read as `element`: "const T* x" -> "float", "const int H" -> "int"
        self.types = [" ".join(parameter.replace("*", " ").split()[:-1]).replace("const", "").strip()
                      for parameter in parameters]
        self.types = [element if kind == "T" else kind for kind in self.types]
        self.pointers = ["*" in parameter for parameter in parameters]
        names = [parameter.replace("*", " ").split()[-1] for parameter in parameters]
        library = build(compiler_name, CUDA_FOR_THE_CPU + code + LAUNCH % {
            "name": name, "parameters": ", ".join(parameters), "arguments": ", ".join(names)})
        self.launch = getattr(library, f"launch_{name}")

    def __call__(self, grid, block, arguments):
        if len(arguments) != len(self.types):
            raise TypeError(f"{self.name} takes {len(self.types)} arguments, not {len(arguments)}")
        if grid[0] < 1 or not 1 <= block[0] <= 1024:  # as CUDA: "invalid configuration argument"
            raise ValueError(f"{self.name}: a launch needs 1 or more blocks of 1 to 1024 threads, not {grid} x {block}")
        values = [self.as_c(*parameter) for parameter in zip(arguments, self.types, self.pointers)]
        self.launch(ctypes.c_int(grid[0]), ctypes.c_int(block[0]), *values)

    def as_c(self, argument, c_type, is_pointer):
        """`argument` as ctypes passes it: an array as its address, a number as its C type; each checked
        against the kernel's parameter, as the GPU cannot (it would read the wrong bytes)."""
        value = argument.array if is_pointer else argument  # the pretend GPU's array: NumPy inside
        if not isinstance(value, (np.ndarray, np.generic)) or value.dtype != C_DTYPES[c_type]:
            raise TypeError(f"{self.name} takes {c_type}{'*' if is_pointer else ''} where it got {argument!r}")
        if not is_pointer:
            return SCALARS[c_type](value.item())
        if not value.flags.c_contiguous:
            raise ValueError(f"{self.name} got an array that is not C-contiguous: a kernel reads it as rows")
        return ctypes.c_void_p(value.ctypes.data)
