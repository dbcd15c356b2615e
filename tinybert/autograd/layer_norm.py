"""Layer normalisation (Ba, Kiros and Hinton, 2016), fused: one op with a hand-derived backward.

Over the last axis: y = (x - mean) / sqrt(var + eps) * weight + bias, with the biased
variance and eps inside the root, as PyTorch, Hugging Face and BERT compute it.
"""

from .tensor import check_compatible, make_result


def layer_norm(x, weight=None, bias=None, eps=1e-5):
    """Normalise each row of x (..., H) to mean 0 and variance 1, then scale and shift by
    weight (H,) and bias (H,) when given."""
    parents = check_compatible("layer_norm", *(tensor for tensor in (x, weight, bias) if tensor is not None))
    xp = x.xp
    norm = x.data - x.data.mean(axis=-1, keepdims=True)                   # (..., H) centred, scaled in place below
    rstd = 1 / xp.sqrt((norm * norm).mean(axis=-1, keepdims=True) + eps)  # (..., 1)
    norm *= rstd                                                          # (..., H)
    if weight is None:
        out = norm if bias is None else norm + bias.data
    else:
        out = norm * weight.data
        if bias is not None:
            out += bias.data
    rows = (-1, x.shape[-1])  # every axis but the last is a row

    def backward(grad):
        # The backward keeps norm and rstd from the forward: recomputing them would cost two passes.
        # dnorm = dy * weight;  dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm))
        grad_norm = grad if weight is None else grad * weight.data
        grad_x = grad_norm - grad_norm.mean(axis=-1, keepdims=True)
        grad_x -= norm * (grad_norm * norm).mean(axis=-1, keepdims=True)
        grad_x *= rstd
        grads = [grad_x]
        if weight is not None:
            grads.append((grad * norm).reshape(rows).sum(axis=0))  # dweight = sum over rows of dy * norm
        if bias is not None:
            grads.append(grad.reshape(rows).sum(axis=0))  # dbias = sum over rows of dy
        return grads

    return make_result(out, "layer_norm", parents, backward)
