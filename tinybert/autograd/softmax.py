"""softmax and log_softmax, fused: one op each with a hand-derived backward.

Both subtract the row maximum first: softmax(x) = softmax(x - c) for any constant c,
and with c = max(x) every exponent is <= 0, so exp never overflows (inputs of 1e4 are fine).

The softmax works over the last axis in blocks of rows (parallel.py), each block's max, exp, sum
and divide done while it sits in a core's cache; attention and cross-entropy use the same blocks.
On a GPU the softmax and its backward are one kernel each (SOFTMAX_CUDA), a block of threads a row.
"""

import numpy as np

from . import backend, parallel
from .tensor import make_result


def softmax_rows_in_place(scores, row_max, row_total):
    """For one block of rows, scores (rows, S): scores -> softmax(scores), in place; row_max and
    row_total (rows, 1) receive each row's max and sum(exp(scores - max)), so that
    log softmax(scores) = scores - max - log(total). A row of -inf (every entry left out) becomes 0."""
    xp = backend.array_module(scores)
    scores.max(axis=-1, keepdims=True, out=row_max)
    row_max[row_max == -xp.inf] = 0  # a row left out entirely: exp(-inf - 0) = 0 everywhere
    scores -= row_max
    xp.exp(scores, out=scores)
    scores.sum(axis=-1, keepdims=True, out=row_total)  # >= 1 unless the whole row is left out
    scores /= xp.where(row_total == 0, 1, row_total)


# softmax_rows_in_place and softmax_backward_rows, one row a block of threads (backend.row_kernel)
SOFTMAX_CUDA = r"""
extern "C" __global__ void softmax_forward(T* scores, const int S, T* row_max, T* row_total) {
    const long long start = (long long)blockIdx.x * S;  // this block's row
    T largest = scores[start];  // a start that is no larger than the row's largest
    for (int i = threadIdx.x; i < S; i += blockDim.x) largest = larger(largest, scores[start + i]);
    largest = block_reduce(largest, true);
    if (isinf(largest) && largest < 0) largest = 0;  // a row left out entirely: exp(-inf - 0) = 0 everywhere
    T total = 0;
    for (int i = threadIdx.x; i < S; i += blockDim.x) {
        scores[start + i] = exp(scores[start + i] - largest);
        total += scores[start + i];
    }
    total = block_reduce(total, false);
    for (int i = threadIdx.x; i < S; i += blockDim.x) scores[start + i] /= total == 0 ? 1 : total;
    if (threadIdx.x == 0) {
        row_max[blockIdx.x] = largest;
        row_total[blockIdx.x] = total;
    }
}

extern "C" __global__ void softmax_backward(const T* probabilities, const T* grad, const int S, T* grad_scores) {
    const long long start = (long long)blockIdx.x * S;
    T dot = 0;
    for (int i = threadIdx.x; i < S; i += blockDim.x) dot += grad[start + i] * probabilities[start + i];
    dot = block_reduce(dot, false);
    for (int i = threadIdx.x; i < S; i += blockDim.x)
        grad_scores[start + i] = probabilities[start + i] * (grad[start + i] - dot);
}
"""


def softmax_last_axis(scores):
    """softmax over the last axis of a C-contiguous float array, in place, block by block.
    Returns each row's (max, total), both (..., 1), as softmax_rows_in_place defines them."""
    xp = backend.array_module(scores)
    row_max = xp.empty(scores.shape[:-1] + (1,), dtype=scores.dtype)    # (..., 1)
    row_total = xp.empty_like(row_max)                                  # (..., 1)
    kernel = backend.row_kernel(xp, "softmax_forward", SOFTMAX_CUDA, scores.dtype)
    if kernel is not None:
        S = scores.shape[-1]
        kernel(row_max.size, S, scores, np.int32(S), row_max, row_total)
    else:
        parallel.for_each_block(softmax_rows_in_place, scores, row_max, row_total)
    return row_max, row_total


def softmax_backward_rows(probabilities, grad, grad_scores):
    """For one block of rows: grad_scores = y * (dy - sum(dy * y)), y the softmax, dy its gradient."""
    xp = backend.array_module(probabilities)
    xp.multiply(grad, probabilities, out=grad_scores)
    xp.subtract(grad, grad_scores.sum(axis=-1, keepdims=True), out=grad_scores)
    grad_scores *= probabilities


def softmax_backward(probabilities, grad):
    """The gradient of the scores from that of their softmax over the last axis, block by block."""
    xp = backend.array_module(grad)
    probabilities, grad = xp.ascontiguousarray(probabilities), xp.ascontiguousarray(grad)
    grad_scores = xp.empty_like(grad)
    kernel = backend.row_kernel(xp, "softmax_backward", SOFTMAX_CUDA, grad.dtype)
    if kernel is not None:
        S = grad.shape[-1]
        kernel(grad.size // max(S, 1), S, probabilities, grad, np.int32(S), grad_scores)
    else:
        parallel.for_each_block(softmax_backward_rows, probabilities, grad, grad_scores)
    return grad_scores


def softmax(x, axis=-1, mask=None):
    """exp(x) / sum(exp(x)) along `axis`: each row becomes a probability distribution.

    mask: None, or a boolean array that broadcasts to x's shape, False at the entries to leave out.
    A left-out entry gets probability exactly 0 (its score counts as -inf), and a row with every
    entry left out gets all 0 (where exp would give 0 / 0), so no gradient flows through it."""
    xp = x.xp
    if mask is None:
        scores = x.data.copy()  # C-contiguous, made a softmax in place below
    else:
        mask = xp.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"softmax masks are boolean, False = leave out, not {mask.dtype}")
        if np.broadcast_shapes(mask.shape, x.shape) != x.shape:  # a wider mask would widen the output
            raise ValueError(f"a softmax mask of shape {mask.shape} does not broadcast to the input's shape {x.shape}")
        scores = xp.ascontiguousarray(xp.where(mask, x.data, -xp.inf))
    scores = xp.ascontiguousarray(xp.moveaxis(scores, axis, -1))  # the softmax axis last (a view when it is)
    softmax_last_axis(scores)
    out = xp.moveaxis(scores, -1, axis)

    def backward(grad):  # d softmax: dx = y * (dy - sum(dy * y, axis)); left-out entries have y = 0, so dx = 0
        return (xp.moveaxis(softmax_backward(scores, xp.moveaxis(grad, axis, -1)), -1, axis),)

    return make_result(out, "softmax", (x,), backward)


def log_softmax_array(data, xp, axis=-1):
    """x - log(sum(exp(x))) on an array, computed from x - max(x): no softmax is formed on the way,
    so a probability that would underflow to 0 still gets its finite log (-2e4, not -inf)."""
    shifted = data - data.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def log_softmax(x, axis=-1):
    """log(softmax(x)) along `axis`, computed without taking the log of a softmax."""
    xp = x.xp
    out = log_softmax_array(x.data, xp, axis)

    def backward(grad):  # d log_softmax: dx = dy - softmax(x) * sum(dy, axis)
        return (grad - xp.exp(out) * grad.sum(axis=axis, keepdims=True),)

    return make_result(out, "log_softmax", (x,), backward)
