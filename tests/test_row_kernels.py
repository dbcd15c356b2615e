"""The CUDA row kernels (layer norm's and the softmax's, each way) give the numbers of the NumPy code they
stand for. They run on the CPU here (tests/cuda_emulator.py), launched by the ops' own code on the pretend
GPU, so a GPU-less machine tests their source and the way the ops call them; on a GPU the whole suite
checks them again (TINYBERT_DEVICE=cuda)."""

from functools import partial

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cuda_emulator
from devices import host
from tinybert import autograd as ag
from tinybert.autograd import Tensor, backend

COMPILER = cuda_emulator.compiler()
pytestmark = pytest.mark.skipif(COMPILER is None, reason="runs the CUDA kernels as C++20 on the CPU, which needs "
                                                         "g++ 11 or clang++ 14 or newer")
TOLERANCE = {np.float32: 2e-5, np.float64: 1e-12}  # the kernels add in another order than NumPy
dtypes = st.sampled_from([np.float32, np.float64])
# the emulated GPU is set up once a test and serves all its examples alike
few_examples = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def emulated_gpu(pretend_gpu, monkeypatch):
    """The pretend GPU with CuPy's RawKernel: row kernels compiled for the CPU (and none kept from before).
    On the class: the pretend `cupy` module answers names it lacks through its class's __getattr__."""
    monkeypatch.setattr(type(pretend_gpu.cupy), "RawKernel", partial(cuda_emulator.EmulatedRawKernel,
                                                                      compiler_name=COMPILER), raising=False)
    return pretend_gpu


def on_both(values, dtype):
    """The same values as a CPU tensor and a pretend-GPU tensor, both requiring gradients."""
    return [Tensor(values, dtype=dtype, device=device, requires_grad=True) for device in ("cpu", "cuda")]


def assert_same(gpu_arrays, cpu_arrays, dtype):
    for gpu_array, cpu_array in zip(gpu_arrays, cpu_arrays, strict=True):
        np.testing.assert_allclose(host(gpu_array), cpu_array, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def kernels_used():
    """The row kernels compiled so far (kept by (name, dtype); elementwise kernels by name alone)."""
    return sorted({key[0] for key in backend._kernels if isinstance(key, tuple)})


@few_examples
@given(rows=st.integers(1, 3), width=st.integers(1, 300), dtype=dtypes, affine=st.booleans(), seed=st.integers(0, 99))
def test_layer_norm_kernels_give_the_numpy_numbers(emulated_gpu, rows, width, dtype, affine, seed):
    rng = np.random.default_rng(seed)
    x = on_both(rng.standard_normal((rows, width)) * 3 + 1, dtype)
    weight = on_both(rng.standard_normal(width), dtype) if affine else [None, None]
    bias = on_both(rng.standard_normal(width), dtype) if affine else [None, None]
    grad = rng.standard_normal((rows, width))
    results = []
    for on in (0, 1):  # [0]: the CPU's tensors, through the NumPy code; [1]: the pretend GPU's, through the kernels
        out = ag.layer_norm(x[on], weight[on], bias[on])
        (out * Tensor(grad, dtype=dtype, device=out.device)).sum().backward()
        results.append([out.data, x[on].grad] + ([weight[on].grad, bias[on].grad] if affine else []))
    assert_same(results[1], [host(array) for array in results[0]], dtype)
    assert kernels_used() == ["layer_norm_backward", "layer_norm_forward"]


@few_examples
@given(queries=st.integers(1, 4), keys=st.integers(1, 40), dtype=dtypes, seed=st.integers(0, 99))
def test_attentions_softmax_kernels_give_the_numpy_numbers_masked_rows_too(emulated_gpu, queries, keys, dtype, seed):
    rng = np.random.default_rng(seed)
    q, k, v = (on_both(rng.standard_normal((2, shape, 8)), dtype) for shape in (queries, keys, keys))
    mask = rng.random((2, queries, keys)) > 0.3
    mask[0, 0] = False  # a query that may attend to no key: weights 0 and output 0
    grad = rng.standard_normal((2, queries, 8))
    results = []
    for on in (0, 1):  # the CPU, then the pretend GPU
        out, weights = ag.attention(q[on], k[on], v[on], mask=q[on].xp.asarray(mask))
        (out * Tensor(grad, dtype=dtype, device=out.device)).sum().backward()
        results.append([out.data, weights.data, q[on].grad, k[on].grad, v[on].grad])
    assert_same(results[1], [host(array) for array in results[0]], dtype)
    assert kernels_used() == ["softmax_backward", "softmax_forward"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_over_rows_longer_than_a_block_and_the_softmax_along_the_first_axis(emulated_gpu, dtype):
    rng = np.random.default_rng(0)
    scores = on_both(rng.standard_normal((5, 700)) * 4, dtype)  # 700 classes: each of 256 threads takes 2 or 3
    targets = rng.integers(0, 700, 5)
    columns = on_both(rng.standard_normal((6, 3)), dtype)
    results = []
    for on in (0, 1):  # the CPU, then the pretend GPU
        loss = ag.cross_entropy(scores[on], scores[on].xp.asarray(targets))
        loss.backward()
        by_columns = ag.softmax(columns[on], axis=0)
        (by_columns * by_columns).sum().backward()
        results.append([loss.data, scores[on].grad, by_columns.data, columns[on].grad])
    assert_same(results[1], [host(array) for array in results[0]], dtype)


def test_an_empty_batch_launches_nothing_and_gives_empty_results(emulated_gpu):
    x = Tensor(np.zeros((0, 5)), device="cuda", requires_grad=True)
    out = ag.layer_norm(x) + ag.softmax(x)
    out.sum().backward()
    assert out.shape == (0, 5) and x.grad.shape == (0, 5)


def test_block_reduce_sums_and_takes_the_largest_with_nan_winning(emulated_gpu):
    source = r"""
extern "C" __global__ void reduce_rows(const T* x, const int H, T* sums, T* largest) {
    T sum = 0, most = x[(long long)blockIdx.x * H];
    for (int i = threadIdx.x; i < H; i += blockDim.x) {
        sum += x[(long long)blockIdx.x * H + i];
        most = larger(most, x[(long long)blockIdx.x * H + i]);
    }
    sum = block_reduce(sum, false);
    most = block_reduce(most, true);
    if (threadIdx.x == 0) { sums[blockIdx.x] = sum; largest[blockIdx.x] = most; }
}
"""
    kernel = backend.row_kernel(emulated_gpu.cupy, "reduce_rows", source, np.float64)
    x = np.random.default_rng(0).standard_normal((4, 1000))
    x[1, 999] = 50.0  # the largest in the last place a thread takes
    x[2, 500] = np.nan
    sums, largest = (emulated_gpu.cupy.empty(4) for _ in range(2))
    kernel(4, 1000, emulated_gpu.cupy.asarray(x), np.int32(1000), sums, largest)
    np.testing.assert_allclose(host(sums), x.sum(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(host(largest), x.max(axis=1))


def test_a_kernel_given_the_wrong_kind_of_argument_is_stopped_here_not_read_wrongly(emulated_gpu):
    from tinybert.autograd.softmax import SOFTMAX_CUDA

    kernel = backend.row_kernel(emulated_gpu.cupy, "softmax_forward", SOFTMAX_CUDA, np.float32)
    scores, row_stats = emulated_gpu.cupy.zeros((2, 3)), emulated_gpu.cupy.zeros(2)  # float64, not float32
    with pytest.raises(TypeError, match="takes float"):
        kernel(2, 3, scores, np.int32(3), row_stats, row_stats)
    with pytest.raises(TypeError, match="takes int"):
        kernel(2, 3, scores.astype(np.float32), 3, row_stats, row_stats)


@pytest.mark.parametrize("length, threads", [(1, 32), (32, 32), (33, 64), (128, 128), (129, 256), (768, 256)])
def test_a_row_gets_the_power_of_two_of_threads_that_covers_it_within_a_warp_and_256(length, threads):
    assert backend.row_threads(length) == threads
