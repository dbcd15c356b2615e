"""Ops that move elements around without changing them: reshape, transpose, permute,
indexing, concatenate, stack. Each backward moves the gradient back the same way.
"""

import numpy as np

from . import backend
from .tensor import Tensor, check_compatible, make_result


def reshape(x, shape):
    """The same elements in a new shape (one axis may be -1)."""

    def backward(grad):  # reshaping moves no element: dx = grad reshaped back
        return (grad.reshape(x.shape),)

    return make_result(x.data.reshape(shape), "reshape", (x,), backward)


def transpose(x, axis1=-2, axis2=-1):
    """Swap two axes; by default the last two, so `k.transpose()` is K^T for a batch of matrices."""

    def backward(grad):  # swapping is its own inverse
        return (grad.swapaxes(axis1, axis2),)

    return make_result(x.data.swapaxes(axis1, axis2), "transpose", (x,), backward)


def permute(x, axes):
    """Reorder all axes: permute(x, (0, 2, 1, 3)) turns (B, T, nh, hs) into (B, nh, T, hs)."""
    axes = tuple(axis % x.ndim for axis in axes)  # (-1, 0, 1) -> (2, 0, 1)
    inverse = tuple(int(axis) for axis in np.argsort(axes))

    def backward(grad):  # undo the permutation with its inverse
        return (grad.transpose(inverse),)

    return make_result(x.data.transpose(axes), "permute", (x,), backward)


def axes_taken(part):
    """How many axes of the indexed tensor one part of an index walks over."""
    if part is None:
        return 0
    if hasattr(part, "dtype") and part.dtype == bool:
        return part.ndim
    return 1


def check_index(index, shape):
    """Raise IndexError for an integer index outside `shape` (NumPy does too; CuPy silently wraps)."""
    parts = index if isinstance(index, tuple) else (index,)
    axis = 0
    for part in parts:
        if part is Ellipsis:
            axis += len(shape) - sum(axes_taken(other) for other in parts if other is not Ellipsis)
            continue
        if hasattr(part, "dtype") and part.dtype.kind in "iu" and axis < len(shape):
            bad = backend.first_out_of_range(part, -shape[axis], shape[axis])
            if bad is not None:
                raise IndexError(f"index {bad} is out of range for axis {axis} of size {shape[axis]}")
        axis += axes_taken(part)


def as_index_array(part, xp):
    """One part of an index with tensors and lists turned into arrays; ints, slices, None and ... as they are."""
    if isinstance(part, Tensor):
        return part.data
    if isinstance(part, list):
        return xp.asarray(part)
    return part


def is_basic(index):
    """True for an index of ints, slices, None and ... only: it never picks one element twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(part is None or part is Ellipsis or isinstance(part, (int, slice)) for part in parts)


def getitem(x, index):
    """x[index] with NumPy's rules: ints, slices, None, ..., integer and boolean arrays (or lists)."""
    if isinstance(index, tuple):
        index = tuple(as_index_array(part, x.xp) for part in index)
    else:
        index = as_index_array(index, x.xp)
    check_index(index, x.shape)

    def backward(grad):  # each picked element gets its gradient back; picked twice, it gets the sum
        full = x.xp.zeros_like(x.data)
        if is_basic(index):
            full[index] = grad
        else:
            backend.scatter_add(full, index, grad)
        return (full,)

    return make_result(x.data[index], "getitem", (x,), backward)


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis."""
    tensors = check_compatible("concatenate", *tensors)
    xp = tensors[0].xp
    ends = np.cumsum([tensor.shape[axis] for tensor in tensors])[:-1]

    def backward(grad):  # each input gets its own slice of the gradient back
        return tuple(xp.split(grad, ends.tolist(), axis=axis))

    return make_result(xp.concatenate([tensor.data for tensor in tensors], axis=axis), "concatenate", tensors, backward)


def stack(tensors, axis=0):
    """Join same-shaped tensors along a new axis."""
    tensors = check_compatible("stack", *tensors)
    xp = tensors[0].xp

    def backward(grad):  # input i gets the gradient at position i of the new axis
        return tuple(xp.take(grad, i, axis=axis) for i in range(len(tensors)))

    return make_result(xp.stack([tensor.data for tensor in tensors], axis=axis), "stack", tensors, backward)
