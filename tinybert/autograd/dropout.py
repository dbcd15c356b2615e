"""Inverted dropout (Srivastava et al., 2014): in training, zero each element with probability p
and scale the survivors by 1 / (1 - p), so the expected value is unchanged and evaluation
needs no rescaling; in evaluation, the identity."""

from . import backend
from .tensor import make_result


def dropout(x, p=0.1, training=True, generator=None):
    """Dropout with drop probability `p`. Random numbers come from `generator`, or the seeded
    generator of x's device (see `manual_seed`)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability must lie in [0, 1], not {p}")
    if not training or p == 0:
        return x
    generator = generator or backend.generator(x.device)
    keep = generator.random(x.shape, dtype=x.dtype) >= p
    scale = x.dtype.type(0 if p == 1 else 1 / (1 - p))
    mask = keep * scale  # (same shape as x): 0 for dropped elements, 1 / (1 - p) for kept ones

    def backward(grad):  # d (x * mask) = mask dx
        return (grad * mask,)

    return make_result(x.data * mask, "dropout", (x,), backward)
