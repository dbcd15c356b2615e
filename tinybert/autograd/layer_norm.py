"""Layer normalisation (Ba, Kiros and Hinton, 2016), fused: one op with a hand-derived backward.

Over the last axis: y = (x - mean) / sqrt(var + eps) * weight + bias, with the biased
variance and eps inside the root, as PyTorch, Hugging Face and BERT compute it.
Forward and backward run over blocks of rows, on every core (parallel.py).
"""

from functools import partial

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


def layer_norm(x, weight=None, bias=None, eps=1e-5):
    """Normalise each row of x (..., H) to mean 0 and variance 1, then scale and shift by
    weight (H,) and bias (H,) when given."""
    parents = check_compatible("layer_norm", *(tensor for tensor in (x, weight, bias) if tensor is not None))
    xp = x.xp
    data = xp.ascontiguousarray(x.data)
    norm = xp.empty_like(data)                                    # (..., H)
    rstd = xp.empty(data.shape[:-1] + (1,), dtype=data.dtype)     # (..., 1)
    parallel.for_each_block(partial(normalise_rows, eps=eps), data, norm, rstd)
    if weight is None:
        out = norm if bias is None else norm + bias.data
    else:
        out = norm * weight.data
        if bias is not None:
            out += bias.data
    rows = (-1, x.shape[-1])  # every axis but the last is a row

    def backward(grad):
        # The backward keeps norm and rstd from the forward: recomputing them would cost two passes.
        grad = xp.ascontiguousarray(grad)
        grad_x = xp.empty_like(grad)
        parallel.for_each_block(partial(layer_norm_backward_rows, weight=None if weight is None else weight.data),
                                grad, norm, rstd, grad_x)
        grads = [grad_x]
        if weight is not None:
            grads.append((grad * norm).reshape(rows).sum(axis=0))  # dweight = sum over rows of dy * norm
        if bias is not None:
            grads.append(grad.reshape(rows).sum(axis=0))  # dbias = sum over rows of dy
        return grads

    return make_result(out, "layer_norm", parents, backward)
