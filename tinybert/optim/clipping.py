"""Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ (and BERT's
tf.clip_by_global_norm with clip_norm=1.0): one bad batch cannot throw the weights far."""

from ..autograd import backend

CLIP_EPS = 1e-6  # torch's: the clipped norm lands just under max_norm, never over it by a rounding


def clip_grad_norm(parameters, max_norm):
    """Scale every gradient by one factor so that all of them together, as one long vector, have an L2
    norm of at most `max_norm`; gradients already that small are left as they are. Parameters whose grad
    is None are skipped. Returns the norm before clipping where the gradients are (a NumPy scalar, or a 0-d
    CuPy array), as torch returns a tensor: `float()` it to log it (0.0 when no parameter has a gradient).
    A norm of NaN or infinity makes every gradient NaN, as in torch: the loss check stops such a run."""
    return clip_gradients([parameter.grad for parameter in parameters if parameter.grad is not None], max_norm)


def clip_gradients(grads, max_norm):
    """clip_grad_norm on the gradient arrays `grads`, scaled in place (an optimizer's flat gradients, or
    each parameter's)."""
    if not max_norm > 0:
        raise ValueError(f"max_norm={max_norm!r} must be positive: it is the largest gradient norm allowed, "
                         "e.g. 1.0")
    if not grads:
        return 0.0
    xp = backend.array_module(grads[0])
    # ||g|| = sqrt(sum over all elements of g^2): each gradient's g . g as one dot product (no g * g array;
    # BLAS adds in the gradient's precision, plenty for a clipping threshold), added up on the device
    norm = xp.sqrt(xp.stack([xp.vdot(grad, grad) for grad in grads]).sum())
    # g = g * min(1, max_norm / (||g|| + eps)), computed where the gradients are: every gradient is
    # multiplied, by exactly 1 when it is small enough, because asking `norm > max_norm` in Python would
    # make the host wait for a GPU to finish the whole backward before it could queue the optimizer's work.
    # The factor is worked out in float64, then rounded once to each gradient's dtype.
    factor = xp.minimum(max_norm / (norm.astype(xp.float64) + CLIP_EPS), 1.0)
    factor_in = {dtype: factor.astype(dtype) for dtype in {grad.dtype for grad in grads}}
    for grad in grads:
        grad *= factor_in[grad.dtype]
    return norm
