"""hypothesis strategies for op inputs: shapes (broadcasting pairs and size-1 axes included) and
bounded float64 values, kept away from the places where an op has no derivative."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_SIDE = 4


def shapes(min_dims=0, max_dims=3, min_side=1):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=MAX_SIDE)


def floats(low=-3.0, high=3.0):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


def away_from_zero(low=0.1, high=3.0):
    """Values with |x| >= low: no kink of relu, no pole of 1/x."""
    return st.one_of(floats(low, high), floats(-high, -low))


def arrays(shape, elements=None):
    return hnp.arrays(np.float64, shape, elements=elements if elements is not None else floats())


def distinct_arrays(shape, spacing=0.07):
    """Values at least `spacing` apart, so max has no ties within a finite-difference step."""
    return hnp.arrays(np.int64, shape, elements=st.integers(-40, 40), unique=True).map(lambda integers: integers * spacing)


@st.composite
def broadcast_pair(draw, elements=None, other_elements=None):
    """Two arrays whose shapes broadcast together, e.g. (3, 1, 4) and (2, 4)."""
    shape_a, shape_b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=MAX_SIDE)).input_shapes
    return draw(arrays(shape_a, elements)), draw(arrays(shape_b, other_elements if other_elements is not None else elements))


@st.composite
def axis_and_keepdims(draw, ndim):
    """An axis argument for a reduction (None, an int, negative included, or a tuple) and keepdims."""
    if ndim == 0:
        return None, draw(st.booleans())
    choice = draw(st.sampled_from(["none", "int", "tuple"]))
    if choice == "none":
        axis = None
    elif choice == "int":
        axis = draw(st.integers(-ndim, ndim - 1))
    else:
        axis = tuple(draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)))
    return axis, draw(st.booleans())


@st.composite
def matmul_pair(draw):
    """Operands in each form matmul must handle: (B, T, H) @ (H, O), (B, T, H) @ (B, H, S),
    broadcast batches (1, T, H) @ (B, H, S), vectors on either side of matrices and batches, and
    vector @ vector."""
    n, k, m, batch = (draw(st.integers(1, MAX_SIDE)) for _ in range(4))
    form = draw(st.sampled_from(["batched_by_matrix", "batched", "broadcast_batch", "matrix_vector",
                                 "vector_matrix", "vector_vector", "matrix_matrix", "batched_by_vector",
                                 "vector_by_batched"]))
    shape_a, shape_b = {
        "batched_by_matrix": ((batch, n, k), (k, m)),
        "batched": ((batch, n, k), (batch, k, m)),
        "broadcast_batch": ((1, n, k), (batch, k, m)),
        "matrix_vector": ((n, k), (k,)),
        "vector_matrix": ((k,), (k, m)),
        "vector_vector": ((k,), (k,)),
        "matrix_matrix": ((n, k), (k, m)),
        "batched_by_vector": ((batch, n, k), (k,)),
        "vector_by_batched": ((k,), (batch, k, m)),
    }[form]
    return draw(arrays(shape_a)), draw(arrays(shape_b))
