"""Inverted dropout (Srivastava et al., 2014): in training, zero each element with probability p
and scale the survivors by 1 / (1 - p), so the expected value is unchanged and evaluation
needs no rescaling; in evaluation, the identity.

The op keeps only which elements survived, one byte each (a boolean array), not a float mask."""

from functools import partial

from . import backend, parallel
from .tensor import make_result


def keep_mask(shape, p, dtype, generator):
    """A boolean array of `shape`, True where an element survives dropout with probability 1 - p."""
    return generator.random(shape, dtype=dtype) >= p


def scale_kept_rows(x, keep, out, scale):
    """For one block of rows: out = x * keep * scale, the kept elements scaled and the dropped at 0."""
    backend.array_module(x).multiply(x, scale, out=out)
    out *= keep


# scale_kept_rows as one CuPy kernel, element by element, in one launch instead of two
DROP_KERNEL = ("T x, bool keep, T scale", "T out", "out = x * scale * (T)keep;")


def drop(x, keep, p):
    """x with the elements where `keep` is False set to 0 and the others scaled by 1 / (1 - p): a new array."""
    xp = backend.array_module(x)
    scale = x.dtype.type(0 if p == 1 else 1 / (1 - p))
    kernel = backend.elementwise_kernel(xp, "drop", *DROP_KERNEL)
    if kernel is not None:
        return kernel(x, keep, scale)
    x = xp.asarray(x, order="C")  # its blocks of rows must be views (a 0-d array stays 0-d)
    out = xp.empty_like(x)
    parallel.for_each_block(partial(scale_kept_rows, scale=scale), x, keep, out)
    return out


def dropout(x, p=0.1, training=True, generator=None):
    """Dropout with drop probability `p`. Random numbers come from `generator`, or the seeded
    generator of x's device (see `manual_seed`)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability must lie in [0, 1], not {p}")
    if not training or p == 0:
        return x
    keep = keep_mask(x.shape, p, x.dtype, generator or backend.generator(x.device))  # (same shape as x), bool

    def backward(grad):  # d (x * keep / (1 - p)) = keep / (1 - p) dx
        return (drop(grad, keep, p),)

    return make_result(drop(x.data, keep, p), "dropout", (x,), backward)
