"""The core of scaled dot-product attention as one op (Vaswani et al. 2017, equation 1):

    S = Q K^T / sqrt(d),  P = softmax(S) over the keys (masked keys at 0),  P' = dropout(P),  O = P' V

Written with the engine's small ops, these steps keep four float (..., T, S) arrays for the backward
(Q K^T, the scaled scores, the weights, the dropped weights) and dropout's boolean mask; fused, the op
keeps the weights and that mask (a byte per weight), and its backward runs the chain rule through all
four steps at once, from the top:

    dV  = P'^T dO                          (..., S, dv)
    dP' = dO V^T                           (..., T, S)
    dP  = dP' * keep / (1 - p)             through dropout
    dS  = P * (dP - rowsum(dP * P))        through the softmax; a masked key has P = 0, so dS = 0
    dQ  = dS K / sqrt(d),  dK = dS^T Q / sqrt(d)

tinybert/models/attention.py explains what attention is for; `tinybert explain attention` shows the
same backward step by step, checked against this op.
"""

import math

from . import backend
from .arithmetic import sum_to_shape
from .dropout import drop, keep_mask
from .softmax import softmax_backward, softmax_last_axis
from .tensor import Tensor, check_compatible, make_result


def attention(q, k, v, mask=None, dropout=0.0, training=False, generator=None):
    """softmax(q k^T / sqrt(d), masked) with dropout, times v.

    q (..., T, d), k (..., S, d), v (..., S, dv); mask None or boolean, True = the query may attend to
    the key, broadcast to (..., T, S). A query whose keys are all masked gets weights 0 and output 0.
    Returns the output (..., T, dv) and the weights (..., T, S) before dropout, as a tensor without
    history, for looking at, not differentiating: its array is the one the backward reads, so copy it
    before changing it."""
    q, k, v = check_compatible("attention", q, k, v)
    if q.dtype.kind != "f":
        raise TypeError(f"attention needs floating q, k and v, not {q.dtype}: convert them with .to(np.float32)")
    if not 0 <= dropout <= 1:
        raise ValueError(f"attention dropout must lie in [0, 1], not {dropout}")
    xp = q.xp
    if mask is not None:
        mask = xp.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"attention masks are boolean, True = may attend, not {mask.dtype}")
    scale = q.dtype.type(1 / math.sqrt(q.shape[-1]))
    weights = (q.data * scale) @ k.data.swapaxes(-1, -2)  # (..., T, S) the scores, a softmax in place below
    if mask is not None:
        xp.copyto(weights, -xp.inf, where=~mask)  # a masked score is -inf, so exp gives it exactly 0
    softmax_last_axis(weights)  # (..., T, S)
    keep = None
    if training and dropout > 0:
        keep = keep_mask(weights.shape, dropout, weights.dtype, generator or backend.generator(q.device))

    def dropped(array):  # (..., T, S) through the dropout this call drew; the identity without it
        return array if keep is None else drop(array, keep, dropout)

    def backward(grad):  # grad: dO (..., T, dv); the steps of the module docstring
        grad_v = dropped(weights).swapaxes(-1, -2) @ grad                     # (..., S, dv)
        grad_scores = softmax_backward(weights, dropped(grad @ v.data.swapaxes(-1, -2)))  # (..., T, S)
        grad_scores *= scale
        grad_q = grad_scores @ k.data                                         # (..., T, d)
        grad_k = grad_scores.swapaxes(-1, -2) @ q.data                        # (..., S, d)
        return sum_to_shape(grad_q, q.shape), sum_to_shape(grad_k, k.shape), sum_to_shape(grad_v, v.shape)

    output = make_result(dropped(weights) @ v.data, "attention", (q, k, v), backward)  # (..., T, dv)
    return output, Tensor(weights, dtype=weights.dtype, device=q.device)
