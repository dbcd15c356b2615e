"""Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ (and BERT's
tf.clip_by_global_norm with clip_norm=1.0): one bad batch cannot throw the weights far."""

from ..autograd import backend

CLIP_EPS = 1e-6  # torch's: the clipped norm lands just under max_norm, never over it by a rounding


def clip_grad_norm(parameters, max_norm):
    """Scale every gradient by one factor so that all of them together, as one long vector, have an L2
    norm of at most `max_norm`; gradients already that small are left untouched. Parameters whose grad
    is None are skipped. Returns the norm before clipping, as a Python float (worth logging)."""
    if not max_norm > 0:
        raise ValueError(f"max_norm={max_norm!r} must be positive: it is the largest gradient norm allowed, "
                         "e.g. 1.0")
    grads = [parameter.grad for parameter in parameters if parameter.grad is not None]
    if not grads:
        return 0.0
    xp = backend.array_module(grads[0])
    # ||g|| = sqrt(sum over all elements of g^2): each gradient's g . g as one dot product (no g * g array;
    # BLAS adds in the gradient's precision, plenty for a clipping threshold), added up on the device,
    # one number brought back
    norm = float(xp.sqrt(xp.stack([xp.vdot(grad, grad) for grad in grads]).sum()))
    if norm > max_norm:
        for grad in grads:
            grad *= max_norm / (norm + CLIP_EPS)  # g = g * max_norm / (||g|| + eps)
    return norm
