"""The affine map of a layer, x W + b, as one op.

One op instead of a matmul and then an add: the leading axes of x are folded into one (N, I) matrix
for a single BLAS call, and the bias is added into the product in place, with no second (N, O) array.
"""

from . import backend
from .tensor import check_compatible, make_result


def linear(x, weight, bias=None):
    """x @ weight + bias: x (..., I), weight (I, O), bias (O,) or None -> (..., O)."""
    parents = check_compatible("linear", *(tensor for tensor in (x, weight, bias) if tensor is not None))
    x, weight, bias = parents if bias is not None else (*parents, None)  # one dtype and device for all
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[0]:
        raise ValueError(f"linear needs x (..., I) and a weight (I, O); got x {x.shape} and weight {weight.shape}")
    if bias is not None and bias.shape != weight.shape[1:]:
        raise ValueError(f"linear's bias must have shape ({weight.shape[1]},), one per output, not {bias.shape}")
    rows = x.data.reshape(-1, x.shape[-1])  # (N, I): every leading axis folded into the rows
    out = rows @ weight.data  # (N, O)
    if bias is not None:
        out += bias.data

    def backward(grad):  # d(x W + b): dx = dy W^T, dW = x^T dy, db = dy summed over the rows
        grad_rows = grad.reshape(-1, weight.shape[1])  # (N, O)
        grads = [(grad_rows @ weight.data.T).reshape(x.shape), rows.T @ grad_rows]  # (..., I), (I, O)
        if bias is not None:
            grads.append(backend.sum_rows(grad_rows))  # (O,)
        return grads

    return make_result(out.reshape(x.shape[:-1] + weight.shape[1:]), "linear", parents, backward)  # (..., O)
