"""Layer normalisation (Ba, Kiros and Hinton, 2016), fused: one op with a hand-derived backward.

Over the last axis: y = (x - mean) / sqrt(var + eps) * weight + bias, with the biased
variance and eps inside the root, as PyTorch, Hugging Face and BERT compute it.
Forward and backward run over blocks of rows, on every core (parallel.py); on a GPU each is one
kernel (LAYER_NORM_CUDA), a block of threads a row, where the NumPy steps would launch about ten.
"""

from functools import partial

import numpy as np

from . import backend, parallel
from .tensor import check_compatible, make_result


def normalise_rows(x, norm, rstd, eps):
    """For one block of rows x (rows, H): norm = (x - mean) * rstd, rstd = 1 / sqrt(var + eps) (rows, 1)."""
    xp = backend.array_module(x)
    xp.subtract(x, x.mean(axis=-1, keepdims=True), out=norm)  # centred, scaled in place below
    rstd[...] = 1 / xp.sqrt((norm * norm).mean(axis=-1, keepdims=True) + eps)
    norm *= rstd


def layer_norm_backward_rows(grad, norm, rstd, grad_x, weight):
    """For one block of rows: dnorm = dy * weight, dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm))."""
    grad_norm = grad if weight is None else grad * weight
    grad_x[...] = grad_norm - grad_norm.mean(axis=-1, keepdims=True)
    grad_x -= norm * (grad_norm * norm).mean(axis=-1, keepdims=True)
    grad_x *= rstd


# normalise_rows and layer_norm_backward_rows, one row a block of threads (backend.row_kernel)
LAYER_NORM_CUDA = r"""
extern "C" __global__ void layer_norm_forward(const T* x, const T* weight, const T* bias, const T eps, const int H,
                                              T* norm, T* rstd, T* out) {
    const long long start = (long long)blockIdx.x * H;  // this block's row
    T sum = 0;
    for (int i = threadIdx.x; i < H; i += blockDim.x) sum += x[start + i];
    const T mean = block_reduce(sum, false) / H;
    T square_sum = 0;
    for (int i = threadIdx.x; i < H; i += blockDim.x) {
        const T centred = x[start + i] - mean;
        square_sum += centred * centred;
    }
    const T row_rstd = 1 / sqrt(block_reduce(square_sum, false) / H + eps);
    for (int i = threadIdx.x; i < H; i += blockDim.x) {
        const T normalised = (x[start + i] - mean) * row_rstd;
        norm[start + i] = normalised;
        out[start + i] = normalised * weight[i] + bias[i];
    }
    if (threadIdx.x == 0) rstd[blockIdx.x] = row_rstd;
}

extern "C" __global__ void layer_norm_backward(const T* grad, const T* norm, const T* rstd, const T* weight,
                                               const int H, T* grad_x) {
    const long long start = (long long)blockIdx.x * H;
    T sum = 0, dot = 0;  // of dnorm = dy * weight, and of dnorm * norm
    for (int i = threadIdx.x; i < H; i += blockDim.x) {
        const T grad_norm = grad[start + i] * weight[i];
        sum += grad_norm;
        dot += grad_norm * norm[start + i];
    }
    const T mean = block_reduce(sum, false) / H, mean_dot = block_reduce(dot, false) / H;
    for (int i = threadIdx.x; i < H; i += blockDim.x)
        grad_x[start + i] = rstd[blockIdx.x] * (grad[start + i] * weight[i] - mean - norm[start + i] * mean_dot);
}
"""


def layer_norm(x, weight=None, bias=None, eps=1e-5):
    """Normalise each row of x (..., H) to mean 0 and variance 1, then scale and shift by
    weight (H,) and bias (H,) when given."""
    parents = check_compatible("layer_norm", *(tensor for tensor in (x, weight, bias) if tensor is not None))
    xp = x.xp
    data = xp.ascontiguousarray(x.data)
    norm = xp.empty_like(data)                                    # (..., H)
    rstd = xp.empty(data.shape[:-1] + (1,), dtype=data.dtype)     # (..., 1)
    forward = backend.row_kernel(xp, "layer_norm_forward", LAYER_NORM_CUDA, data.dtype)
    backward_rows = backend.row_kernel(xp, "layer_norm_backward", LAYER_NORM_CUDA, data.dtype)
    H, row_count = x.shape[-1], rstd.size
    scale = shift = None  # the kernels' weight and bias (H,), contiguous
    if forward is not None:  # a GPU: the kernels need a weight and a bias, so 1 and 0 stand in for missing ones
        scale = xp.ascontiguousarray(weight.data) if weight is not None else xp.ones(H, dtype=data.dtype)
        shift = xp.ascontiguousarray(bias.data) if bias is not None else xp.zeros(H, dtype=data.dtype)
        out = xp.empty_like(data)
        forward(row_count, H, data, scale, shift, data.dtype.type(eps), np.int32(H), norm, rstd, out)
    else:
        parallel.for_each_block(partial(normalise_rows, eps=eps), data, norm, rstd)
        if weight is None:
            out = norm if bias is None else norm + bias.data
        else:
            out = norm * weight.data
            if bias is not None:
                out += bias.data
    rows = (-1, H)  # every axis but the last is a row

    def backward(grad):
        # The backward keeps norm and rstd from the forward: recomputing them would cost two passes.
        grad = xp.ascontiguousarray(grad)
        grad_x = xp.empty_like(grad)
        if backward_rows is not None:
            backward_rows(row_count, H, grad, norm, rstd, scale, np.int32(H), grad_x)
        else:
            parallel.for_each_block(partial(layer_norm_backward_rows, weight=None if weight is None else weight.data),
                                    grad, norm, rstd, grad_x)
        grads = [grad_x]
        if weight is not None:
            grads.append(backend.sum_rows((grad * norm).reshape(rows)))  # dweight = sum over rows of dy * norm
        if bias is not None:
            grads.append(backend.sum_rows(grad.reshape(rows)))  # dbias = sum over rows of dy
        return grads

    return make_result(out, "layer_norm", parents, backward)
