"""Reductions over axes: sum, mean, max, var, each with `keepdims` as in NumPy.

The backward of a reduction spreads each output gradient back over the input
elements it was computed from: `expand_back` re-inserts the reduced axes and
broadcasts.
"""

import math

import numpy as np

from .tensor import make_result


def normalize_axes(axis, ndim):
    """`axis` (None, an int or a tuple, negatives allowed) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for one in axes:
        if not -ndim <= one < ndim:
            raise ValueError(f"axis {one} is out of range for a tensor with {ndim} axes")
    return tuple(sorted(one % ndim for one in axes))


def expand_back(grad, axes, keepdims, shape, xp):
    """Broadcast the gradient of a reduction over `axes` back to the input's `shape`."""
    if not keepdims:
        grad = grad.reshape([1 if axis in axes else size for axis, size in enumerate(shape)])
    return xp.broadcast_to(grad, shape)


def count(shape, axes):
    """How many elements each reduction over `axes` combines."""
    return math.prod(shape[axis] for axis in axes)


def sum(x, axis=None, keepdims=False):
    axes = normalize_axes(axis, x.ndim)

    def backward(grad):  # d sum(x) = 1 for every summed element: dx = grad, broadcast back
        return (expand_back(grad, axes, keepdims, x.shape, x.xp),)

    return make_result(x.data.sum(axis=axes, keepdims=keepdims), "sum", (x,), backward)


def mean(x, axis=None, keepdims=False):
    axes = normalize_axes(axis, x.ndim)
    n = count(x.shape, axes)

    def backward(grad):  # d mean(x) = 1/n for every averaged element
        return (expand_back(grad / n, axes, keepdims, x.shape, x.xp),)

    return make_result(x.data.mean(axis=axes, keepdims=keepdims), "mean", (x,), backward)


def max(x, axis=None, keepdims=False):
    """The largest element over `axis`. Its gradient goes to the maximum; when several elements
    tie for it, they share the gradient equally (as torch.amax)."""
    axes = normalize_axes(axis, x.ndim)
    out = x.data.max(axis=axes, keepdims=True)

    def backward(grad):  # d max(x) = dx at the argmax (split among ties), 0 elsewhere
        is_max = x.data == out
        ties = is_max.sum(axis=axes, keepdims=True).astype(grad.dtype)  # an int64 count would make float64
        share = expand_back(grad, axes, keepdims, x.shape, x.xp) / ties
        return (share * is_max,)

    return make_result(out if keepdims else out.squeeze(axes), "max", (x,), backward)


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance over `axis`: mean((x - mean(x))^2) * n / (n - ddof). ddof=0 (NumPy's default) is
    the biased variance layer norm uses; ddof=1 is the unbiased one (torch.var's default)."""
    axes = normalize_axes(axis, x.ndim)
    n = count(x.shape, axes)
    centered = x.data - x.data.mean(axis=axes, keepdims=True)
    out = (centered * centered).sum(axis=axes, keepdims=keepdims) / (n - ddof)

    def backward(grad):  # d var(x) = 2 (x - mean(x)) / (n - ddof) dx  (the mean's own gradient sums to 0)
        return (expand_back(grad, axes, keepdims, x.shape, x.xp) * centered * (2 / (n - ddof)),)

    return make_result(out, "var", (x,), backward)
