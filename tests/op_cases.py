"""Every op of the engine, with a hypothesis strategy for its inputs.

A case draws (arrays, arguments): `arrays` are the float64 inputs that get gradients, `arguments`
everything else (axes, ids, masks). `call(*tensors, **arguments)` runs the tinybert op. The gradient
test, the dtype test and the PyTorch cross-check all run over this one list, and a test checks
that every op the engine exports is in it.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinybert.autograd as ag
from tinybert.autograd import backend
from strategies import (MAX_SIDE, arrays, away_from_zero, axis_and_keepdims, broadcast_pair, distinct_arrays,
                        floats, matmul_pair, shapes)


@dataclass(frozen=True)
class OpCase:
    name: str               # a unique id; the op it checks is `op` (or name up to the first "[")
    draw: st.SearchStrategy  # -> (tuple of float64 arrays, dict of other arguments)
    call: Callable          # (*tensors, **arguments) -> Tensor

    @property
    def op(self):
        return self.name.split("[")[0]


def arrays_only(strategy):
    """A case with array inputs and no other arguments, from a strategy of an array tuple."""
    return strategy.map(lambda drawn: (tuple(drawn), {}))


def one(elements=None):
    return arrays_only(shapes().flatmap(lambda shape: arrays(shape, elements)).map(lambda array: (array,)))


@st.composite
def reduction_input(draw, distinct=False, min_count=1):
    shape = draw(shapes(min_dims=1 if min_count > 1 else 0))
    axis, keepdims = draw(axis_and_keepdims(len(shape)))
    reduced = [size for axis_number, size in enumerate(shape)
               if axis is None or axis_number in ((axis % len(shape),) if isinstance(axis, int) else axis)]
    if int(np.prod(reduced)) < min_count:
        shape = tuple(max(size, 2) for size in shape) if shape else shape
    values = draw(distinct_arrays(shape) if distinct else arrays(shape))
    return (values,), {"axis": axis, "keepdims": keepdims}


@st.composite
def pow_input(draw):
    exponent = draw(st.sampled_from([2, 3, -1, -2, 0.5, 1.5, 4, 0, 1]))
    integer = float(exponent).is_integer()
    if integer and exponent > 0:
        elements = floats(-2, 2)             # a negative base with an integer exponent
    elif integer:
        elements = away_from_zero(0.3, 2)    # negative exponents: away from the pole at 0
    else:
        elements = floats(0.2, 2)            # fractional exponents need a positive base
    return (draw(arrays(draw(shapes()), elements)),), {"exponent": exponent}


@st.composite
def reshape_input(draw):
    shape = draw(shapes(min_dims=1))
    new_shape = tuple(draw(st.permutations(shape)))
    if draw(st.booleans()):
        new_shape = (-1,) + new_shape[1:]
    return (draw(arrays(shape)),), {"shape": new_shape}


@st.composite
def transpose_input(draw):
    shape = draw(shapes(min_dims=2))
    axis1, axis2 = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=2, max_size=2))
    return (draw(arrays(shape)),), {"axis1": axis1, "axis2": axis2}


@st.composite
def permute_input(draw):
    shape = draw(shapes(min_dims=1, max_dims=4))
    axes = [axis - len(shape) if draw(st.booleans()) else axis for axis in draw(st.permutations(range(len(shape))))]
    return (draw(arrays(shape)),), {"axes": tuple(axes)}  # negative axes too: (-1, 0, 1)


@st.composite
def slice_input(draw):
    shape = draw(shapes(min_dims=2, min_side=2))
    index = draw(st.sampled_from([(slice(1, None),), (0,), (slice(None), -1), (Ellipsis, slice(None, None, 2)),
                                  (slice(None, None, -1), None), (None, 1, slice(0, 1))]))
    return (draw(arrays(shape)),), {"index": index}


@st.composite
def integer_array_index_input(draw):
    """An integer array on any one axis, with slices before it; repeats included (picked twice,
    gradient twice), and sometimes no picks at all."""
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(0, len(shape) - 1))
    pick_shape = draw(st.sampled_from([(0,)]) | shapes(min_dims=1, max_dims=2))
    picks = draw(hnp.arrays(np.int64, pick_shape, elements=st.integers(-shape[axis], shape[axis] - 1)))
    return (draw(arrays(shape)),), {"index": (slice(None),) * axis + (picks,)}


@st.composite
def boolean_mask_input(draw):
    shape = draw(shapes(min_dims=1))
    return (draw(arrays(shape)),), {"index": draw(hnp.arrays(bool, shape))}


@st.composite
def join_input(draw, same_shape):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    count = draw(st.integers(1, 3))
    own_shapes = [shape if same_shape else shape[:axis % len(shape)] + (draw(st.integers(1, MAX_SIDE)),) + shape[axis % len(shape) + 1:]
                  for _ in range(count)]
    return tuple(draw(arrays(one_shape)) for one_shape in own_shapes), {"axis": axis}


@st.composite
def embedding_input(draw):
    vocab_size, hidden = draw(st.integers(1, 6)), draw(st.integers(1, MAX_SIDE))
    ids = draw(hnp.arrays(np.int64, draw(shapes(min_dims=1, max_dims=2)), elements=st.integers(0, vocab_size - 1)))
    return (draw(arrays((vocab_size, hidden))),), {"ids": ids}


@st.composite
def where_input(draw):
    a, b = draw(broadcast_pair())
    condition = draw(hnp.arrays(bool, np.broadcast_shapes(a.shape, b.shape)))
    return (a, b), {"condition": condition}


@st.composite
def masked_fill_input(draw):
    shape = draw(shapes())
    mask_shape = draw(hnp.broadcastable_shapes(shape, max_side=MAX_SIDE).filter(
        lambda candidate: np.broadcast_shapes(candidate, shape) == shape))
    return (draw(arrays(shape)),), {"mask": draw(hnp.arrays(bool, mask_shape)), "value": draw(floats(-5, 5))}


@st.composite
def axis_input(draw, elements=None):
    shape = draw(shapes(min_dims=1))
    return (draw(arrays(shape, elements)),), {"axis": draw(st.integers(-len(shape), len(shape) - 1))}


@st.composite
def linear_input(draw, bias):
    """x (..., I) with zero to two leading axes, a weight (I, O), and a bias (O,) when `bias`."""
    inputs, outputs = draw(st.integers(1, MAX_SIDE)), draw(st.integers(1, MAX_SIDE))
    x = draw(arrays(draw(shapes(max_dims=2)) + (inputs,)))
    weight = draw(arrays((inputs, outputs)))
    return ((x, weight, draw(arrays((outputs,)))) if bias else (x, weight)), {}


@st.composite
def masked_softmax_input(draw):
    """A softmax with a boolean mask that broadcasts to the input: rows left out entirely included."""
    (values,), arguments = draw(axis_input(floats(-5, 5)))
    mask_shape = draw(hnp.broadcastable_shapes(values.shape, max_side=MAX_SIDE).filter(
        lambda candidate: np.broadcast_shapes(candidate, values.shape) == values.shape))
    return (values,), dict(arguments, mask=draw(hnp.arrays(bool, mask_shape)))


@st.composite
def layer_norm_input(draw, affine):
    hidden = draw(st.integers(2, 6))
    shape = draw(shapes(max_dims=2)) + (hidden,)
    extra = (draw(arrays((hidden,))), draw(arrays((hidden,)))) if affine else ()
    return (draw(arrays(shape)),) + extra, {}


@st.composite
def dropout_input(draw):
    return (draw(arrays(draw(shapes(min_dims=1)))),), {"p": draw(st.sampled_from([0.0, 0.1, 0.5, 0.9])),
                                                       "seed": draw(st.integers(0, 2**16))}


@st.composite
def cross_entropy_input(draw, reduction):
    leading = draw(shapes(min_dims=1, max_dims=2))
    classes = draw(st.integers(1, 5))
    targets = draw(hnp.arrays(np.int64, leading, elements=st.integers(0, classes - 1) | st.just(-100)))
    return (draw(arrays(leading + (classes,), floats(-5, 5))),), {"targets": targets, "reduction": reduction}


@st.composite
def pair_same_shape(draw, first=None, second=None, reduction="mean"):
    shape = draw(shapes())
    return (draw(arrays(shape, first)), draw(arrays(shape, second))), {"reduction": reduction}


@st.composite
def attention_input(draw):
    """q (..., T, d), k (..., S, d), v (..., S, dv); a mask of True = may attend that broadcasts to the scores
    (..., T, S), queries with every key masked included; dropout in training, with a seed for its mask."""
    leading = draw(shapes(max_dims=2))
    queries, keys, d, dv = (draw(st.integers(1, MAX_SIDE)) for _ in range(4))
    q, k, v = (draw(arrays(leading + shape, floats(-2, 2))) for shape in ((queries, d), (keys, d), (keys, dv)))
    scores_shape = leading + (queries, keys)
    mask_shape = draw(hnp.broadcastable_shapes(scores_shape, max_side=MAX_SIDE).filter(
        lambda candidate: np.broadcast_shapes(candidate, scores_shape) == scores_shape))
    mask = draw(st.none() | hnp.arrays(bool, mask_shape))
    return (q, k, v), {"mask": mask, "p": draw(st.sampled_from([0.0, 0.5])), "seed": draw(st.integers(0, 2**16))}


def attention_call(q, k, v, mask, p, seed):  # the same seed every call: one dropout mask for every evaluation
    generator = backend.module_for_device(q.device).random.default_rng(seed)
    mask = None if mask is None else q.xp.asarray(mask)
    return ag.attention(q, k, v, mask, dropout=p, training=True, generator=generator)[0]


def dropout_call(x, p, seed):  # a generator of x's own device: its random numbers land where x is
    return ag.dropout(x, p, training=True, generator=backend.module_for_device(x.device).random.default_rng(seed))


REDUCTIONS = ("mean", "sum", "none")

CASES = [
    OpCase("add", arrays_only(broadcast_pair()), ag.add),
    OpCase("sub", arrays_only(broadcast_pair()), ag.sub),
    OpCase("mul", arrays_only(broadcast_pair()), ag.mul),
    OpCase("div", arrays_only(broadcast_pair(other_elements=away_from_zero(0.3))), ag.div),
    OpCase("neg", one(), ag.neg),
    OpCase("pow", pow_input(), ag.pow),
    OpCase("matmul", arrays_only(matmul_pair()), ag.matmul),
    OpCase("linear", linear_input(bias=True), ag.linear),
    OpCase("linear[no bias]", linear_input(bias=False), ag.linear),
    OpCase("exp", one(), ag.exp),
    OpCase("log", one(floats(0.1, 3)), ag.log),
    OpCase("sqrt", one(floats(0.1, 3)), ag.sqrt),
    OpCase("tanh", one(), ag.tanh),
    OpCase("sigmoid", one(floats(-6, 6)), ag.sigmoid),
    OpCase("relu", one(away_from_zero(0.01)), ag.relu),
    OpCase("gelu[erf]", one(floats(-5, 5)), ag.gelu),
    OpCase("gelu[tanh]", one(floats(-5, 5)), lambda x: ag.gelu(x, approximate="tanh")),
    OpCase("sum", reduction_input(), ag.sum),
    OpCase("mean", reduction_input(), ag.mean),
    OpCase("max", reduction_input(distinct=True), ag.max),
    OpCase("var", reduction_input(), ag.var),
    OpCase("var[ddof=1]", reduction_input(min_count=2), lambda x, axis, keepdims: ag.var(x, axis, keepdims, ddof=1)),
    OpCase("reshape", reshape_input(), ag.reshape),
    OpCase("transpose", transpose_input(), ag.transpose),
    OpCase("permute", permute_input(), ag.permute),
    OpCase("getitem[slices]", slice_input(), ag.getitem),
    OpCase("getitem[integer array]", integer_array_index_input(), ag.getitem),
    OpCase("getitem[boolean mask]", boolean_mask_input(), ag.getitem),
    OpCase("concatenate", join_input(same_shape=False), lambda *tensors, axis: ag.concatenate(tensors, axis)),
    OpCase("stack", join_input(same_shape=True), lambda *tensors, axis: ag.stack(tensors, axis)),
    OpCase("embedding", embedding_input(), ag.embedding),
    OpCase("where", where_input(), lambda a, b, condition: ag.where(condition, a, b)),
    OpCase("masked_fill", masked_fill_input(), ag.masked_fill),
    OpCase("softmax", axis_input(floats(-5, 5)), ag.softmax),
    OpCase("softmax[masked]", masked_softmax_input(), ag.softmax),
    OpCase("log_softmax", axis_input(floats(-5, 5)), ag.log_softmax),
    OpCase("layer_norm", layer_norm_input(affine=True), ag.layer_norm),
    OpCase("layer_norm[no affine]", layer_norm_input(affine=False), ag.layer_norm),
    OpCase("dropout", dropout_input(), dropout_call),
    OpCase("attention", attention_input(), attention_call),
    *[OpCase(f"cross_entropy[{reduction}]", cross_entropy_input(reduction), ag.cross_entropy) for reduction in REDUCTIONS],
    *[OpCase(f"mse_loss[{reduction}]", pair_same_shape(reduction=reduction), ag.mse_loss) for reduction in REDUCTIONS],
    *[OpCase(f"binary_cross_entropy[{reduction}]", pair_same_shape(floats(0.05, 0.95), floats(0, 1), reduction),
             ag.binary_cross_entropy) for reduction in REDUCTIONS],
    *[OpCase(f"binary_cross_entropy_with_logits[{reduction}]", pair_same_shape(floats(-5, 5), floats(0, 1), reduction),
             ag.binary_cross_entropy_with_logits) for reduction in REDUCTIONS],
]

CASES_BY_NAME = {case.name: case for case in CASES}
