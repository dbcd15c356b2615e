"""Ops that choose elements: embedding lookup, where, masked_fill."""

from . import backend
from .arithmetic import operands, sum_to_shape
from .tensor import Tensor, as_array, make_result


def embedding(weight, ids):
    """Row lookup: weight (V, H), ids (...) of integers in [0, V) -> (..., H).

    The backward adds each output row's gradient into the row it came from; an id that
    appears twice gets both gradients added (a scatter-add, not an assignment)."""
    ids = as_array(ids.data if isinstance(ids, Tensor) else ids, device=weight.device)
    vocab_size = weight.shape[0]
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding ids must be integers, not {ids.dtype}")
    bad = backend.first_out_of_range(ids, 0, vocab_size)
    if bad is not None:
        raise IndexError(f"id {bad} is outside the embedding table of {vocab_size} rows: ids must lie in "
                         f"0..{vocab_size - 1} (were the ids made with another vocabulary?)")

    def backward(grad):  # d weight[ids]: dweight[v] = sum of grad over the positions where ids == v
        return (backend.sum_rows_by_id(ids.reshape(-1), grad.reshape(-1, weight.shape[-1]), vocab_size),)  # (V, H)

    return make_result(weight.data[ids], "embedding", (weight,), backward)


def where(condition, a, b):
    """a where `condition` is True, else b (broadcast together, as numpy.where)."""
    a, b = operands("where", a, b)
    condition = as_array(condition.data if isinstance(condition, Tensor) else condition, device=a.device)
    if condition.dtype != bool:
        raise TypeError(f"where needs a boolean condition, not {condition.dtype}: "
                        "turn a 0/1 mask into one with a comparison on its array, e.g. mask_array == 1")
    xp = a.xp

    def backward(grad):  # da = grad where condition, db = grad elsewhere
        zero = xp.zeros((), dtype=grad.dtype)
        return (sum_to_shape(xp.where(condition, grad, zero), a.shape),
                sum_to_shape(xp.where(condition, zero, grad), b.shape))

    return make_result(xp.where(condition, a.data, b.data), "where", (a, b), backward)


def masked_fill(x, mask, value):
    """x with `value` wherever `mask` is True; those positions get no gradient."""
    return where(mask, value, x)
