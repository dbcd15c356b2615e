"""Attention: every query position takes a weighted average of the values, weighted by how well
its query matches each key.

Read it in this order:
  causal_mask, padding_mask            which keys a query may look at
  masked_softmax                       scores -> weights, with masked keys at exactly 0
  scaled_dot_product_attention         Vaswani et al. 2017, section 3.2.1, equation (1)
  MultiHeadAttention                   Vaswani et al. 2017, section 3.2.2
The rest of the family (Bahdanau's additive attention, Luong's scores, cosine) is in attention_scores.py.

Masks are boolean arrays, True = keep (the query may attend to that key), False = masked. They
broadcast to the scores' shape (..., T, S), T queries by S keys, and combine with `&`:
`causal_mask(T) & padding_mask(is_real)` is a decoder's mask over a padded batch. None means no mask.
"""

import math

import numpy as np

from .. import autograd as ag
from ..nn import Linear, Module


def causal_mask(length):
    """(T, T), True on and below the diagonal: position i may attend to positions 0..i, never to
    a later one, so a model trained to predict token i + 1 cannot read it."""
    return np.tril(np.ones((length, length), dtype=bool))  # (T, T)


def padding_mask(is_real):
    """A key padding mask from `is_real` (B, S), True at real tokens and False at padding.

    Returns (B, 1, 1, S): it masks keys (the last axis of the scores), so no query looks at padding;
    it never masks a whole query row. It broadcasts over heads (nh) and queries (T) in (B, nh, T, S)."""
    if is_real.dtype != bool:
        raise TypeError(f"padding_mask needs a boolean array, True at real tokens, not {is_real.dtype}: "
                        "from a 0/1 attention mask write attention_mask == 1, from token ids ids != pad_id")
    if is_real.ndim != 2:
        raise ValueError(f"padding_mask needs one row per batch element, (B, S), not shape {is_real.shape}")
    return is_real[:, None, None, :]  # (B, S) -> (B, 1, 1, S)


def masked_softmax(scores, mask):
    """softmax over the keys (the last axis) of `scores` (..., T, S), with masked keys at weight 0.

    A masked score counts as -inf (not a finite -1e4 added to it), so exp gives it exactly 0 weight.
    A query whose keys are all masked would have a row of -inf, and softmax of that is 0 / 0 = NaN;
    such a row gets weights 0 instead, so its output is 0 and every gradient through it is 0.
    The engine's softmax does both in one op (tinybert/autograd/softmax.py); check_mask says what
    went wrong in attention's terms."""
    if mask is None:
        return ag.softmax(scores, axis=-1)  # (..., T, S)
    return ag.softmax(scores, axis=-1, mask=check_mask(mask, scores.shape, scores.xp))  # (..., T, S)


def check_mask(mask, scores_shape, xp):
    """`mask` as a boolean array of module `xp`, once it is sure to fit scores of `scores_shape` (..., T, S).
    A key padding mask must be (B, 1, 1, S) (padding_mask makes it): a bare (B, S) mask broadcasts too
    when B equals T, but then lines up with the queries."""
    mask = xp.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"attention masks are boolean, True = may attend, not {mask.dtype}: "
                        "for an additive mask of 0 and -inf write mask == 0, for a 0/1 mask mask == 1")
    try:
        fits = np.broadcast_shapes(mask.shape, scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"a mask of shape {mask.shape} does not broadcast to the attention scores' shape "
                         f"{scores_shape}: a causal mask is (T, T), a key padding mask (B, 1, 1, S) "
                         "(see padding_mask)")
    return mask


def scaled_dot_product_attention(q, k, v, mask=None, dropout=0.0, training=False, fused=True):
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d)) V (Vaswani et al. 2017, equation 1).

    q (..., T, d), k (..., S, d), v (..., S, dv) -> output (..., T, dv) and weights (..., T, S).
    Dividing by sqrt(d) keeps the scores' variance near 1 whatever d is, so the softmax does not
    saturate into a one-hot row with vanishing gradients.

    mask: boolean, True = keep (the query may attend to that key), False = masked; broadcast to
    (..., T, S); None attends everywhere. A query whose keys are all masked gets weights 0 and
    output 0. In training, dropout zeroes weights with probability `dropout` (and scales the rest);
    the weights returned are those before dropout, so their rows sum to 1.

    fused=True runs the three steps below as one op, ag.attention, which keeps the weights and a
    byte per weight for the dropout (where the small ops keep four float arrays of the weights' size)
    and whose weights carry no gradient; fused=False runs them one small op at a time, for a graph
    of every step or a debugger. Both give the same numbers, to rounding (the fused op scales q
    before the product, the small ops the scores after it)."""
    if mask is not None:
        scores_shape = np.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (q.shape[-2], k.shape[-2])  # (..., T, S)
        mask = check_mask(mask, scores_shape, q.xp)
    if fused:
        return ag.attention(q, k, v, mask, dropout, training)  # (..., T, dv), (..., T, S)
    scores = q @ k.transpose() / math.sqrt(q.shape[-1])  # (..., T, d) @ (..., d, S) -> (..., T, S)
    weights = ag.softmax(scores, axis=-1, mask=mask)  # (..., T, S)
    output = ag.dropout(weights, dropout, training) @ v  # (..., T, S) @ (..., S, dv) -> (..., T, dv)
    return output, weights


class MultiHeadAttention(Module):
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O, head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)
    (Vaswani et al. 2017, section 3.2.2).

    Each of the nh heads attends in its own d_head = d_model / nh dimensions, so heads can look for
    different things (Clark et al. 2019 found BERT heads that follow syntax, others coreference), for
    about the cost of one attention over all d_model dimensions. The projections q, k, v hold all
    heads' W_i side by side: head i owns columns i * d_head .. (i + 1) * d_head - 1; `out` is W^O.
    After each call, `attention_weights` (B, nh, T, S) holds the weights for inspection."""

    def __init__(self, d_model, num_heads, dropout=0.0, init="bert", bias=True, fused=True):
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} does not split evenly into num_heads={num_heads}: each head gets "
                             "d_model / num_heads dimensions, so choose num_heads among the divisors of d_model")
        self.num_heads = num_heads
        self.d_head = d_model // num_heads
        self.attention_dropout = dropout  # the probability of dropping each attention weight in training
        self.fused = fused  # one attention op (scaled_dot_product_attention's fused=True), or its small ops
        self.q = Linear(d_model, d_model, bias=bias, init=init)
        self.k = Linear(d_model, d_model, bias=bias, init=init)
        self.v = Linear(d_model, d_model, bias=bias, init=init)
        self.out = Linear(d_model, d_model, bias=bias, init=init)
        self.attention_weights = None

    def split_heads(self, x):
        """(B, L, d_model) -> (B, nh, L, d_head), L being T for queries and S for keys and values."""
        B, L, _ = x.shape
        x = x.reshape(B, L, self.num_heads, self.d_head)  # (B, L, nh, d_head)
        return x.permute(0, 2, 1, 3)  # (B, nh, L, d_head)

    def merge_heads(self, x):
        """(B, nh, T, d_head) -> (B, T, d_model): the heads' outputs side by side, the Concat of the paper."""
        B, _, T, _ = x.shape
        x = x.permute(0, 2, 1, 3)  # (B, T, nh, d_head)
        return x.reshape(B, T, self.num_heads * self.d_head)  # (B, T, d_model)

    def forward(self, query, key_value=None, mask=None):
        """query (B, T, d_model); key_value (B, S, d_model) to attend to another sequence (cross-attention),
        or None to attend to `query` itself (self-attention); mask broadcastable to (B, nh, T, S).
        Returns (B, T, d_model)."""
        key_value = query if key_value is None else key_value
        q = self.split_heads(self.q(query))  # (B, nh, T, d_head)
        k = self.split_heads(self.k(key_value))  # (B, nh, S, d_head)
        v = self.split_heads(self.v(key_value))  # (B, nh, S, d_head)
        heads, self.attention_weights = scaled_dot_product_attention(
            q, k, v, mask, self.attention_dropout, self.training, self.fused)  # (B, nh, T, d_head), (B, nh, T, S)
        return self.out(self.merge_heads(heads))  # (B, T, d_model)

    def extra_repr(self):
        return f"d_model={self.num_heads * self.d_head}, num_heads={self.num_heads}, dropout={self.attention_dropout}"
