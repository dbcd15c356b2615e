"""The family of attention scores: how well a query matches each key.

Every attention of the family does the same three things, and differs only in the first:
    scores  = score(query, keys)             (B, T, S)   one number for every query and key
    weights = masked_softmax(scores, mask)   (B, T, S)   each query's distribution over the keys
    context = weights @ values               (B, T, dv)  each query's weighted average of the values
`Attention(score)` is those three lines; each score below is a module whose forward(query, keys)
maps queries (B, T, dq) and keys (B, S, dk) to scores (B, T, S). In alphabetical order:

  AdditiveScore     v^T tanh(W q + U k)        Bahdanau, Cho and Bengio 2015 (Luong's "concat")
  CosineScore       beta q.k / (|q| |k|)       Graves, Wayne and Danihelka 2014 (content addressing)
  DotScore          q . k                      Luong, Pham and Manning 2015
  GeneralScore      q^T W k                    Luong, Pham and Manning 2015
  LocationScore     (W q)_s                    Luong, Pham and Manning 2015: the keys' content unused
  ScaledDotScore    q . k / sqrt(d)            Vaswani et al. 2017 (the Transformer's, and BERT's)

`SCORES` names them for the command line; `make_score(name, query_dim, key_dim, ...)` builds one.
`LocalAttention(score, D)` is Luong's local attention: only the keys within D of an aligned position.
The Transformer's multi-head attention (attention.py) is ScaledDotScore's, with heads and projections.
"""

import math

from .. import autograd as ag
from ..nn import Linear, Module, Parameter
from .attention import masked_softmax


class Attention(Module):
    """Attention with any score of the family: context = softmax(score(query, keys)) @ values."""

    def __init__(self, score):
        self.score = score

    def forward(self, query, keys, values, mask=None):
        """query (B, T, dq), keys (B, S, dk), values (B, S, dv) -> context (B, T, dv) and weights (B, T, S).
        mask: boolean, True = the query may attend to the key, broadcast to (B, T, S); a causal mask is
        (T, S), a key padding mask from is_real (B, S) is is_real[:, None, :], (B, 1, S)."""
        weights = masked_softmax(self.score(query, keys), mask)  # (B, T, S)
        return weights @ values, weights  # (B, T, S) @ (B, S, dv) -> (B, T, dv)


class DotScore(Module):
    """score(q, k) = q . k: Luong, Pham and Manning 2015 ("Effective Approaches to Attention-based Neural
    Machine Translation", section 3.1, "dot"). No weights; queries and keys need the same size."""

    def forward(self, query, keys):  # (B, T, d), (B, S, d) -> (B, T, S)
        return query @ keys.transpose()  # (B, T, d) @ (B, d, S)


class ScaledDotScore(Module):
    """score(q, k) = q . k / sqrt(d): Vaswani et al. 2017 ("Attention Is All You Need", section 3.2.1).
    For queries and keys of d independent unit-variance entries, q . k has variance d; the division
    brings it back to 1, so the softmax does not saturate as d grows."""

    def forward(self, query, keys):  # (B, T, d), (B, S, d) -> (B, T, S)
        return query @ keys.transpose() / math.sqrt(query.shape[-1])


class GeneralScore(Module):
    """score(q, k) = q^T W k: Luong, Pham and Manning 2015 (section 3.1, "general"). W is learned, so
    queries and keys may differ in size, and the match can weigh some directions more. Stored as a
    Linear from keys to queries, key_projection.weight (dk, dq) is W transposed: scores = Q (K W^T)^T."""

    def __init__(self, query_dim, key_dim, init="bert"):
        self.key_projection = Linear(key_dim, query_dim, bias=False, init=init)  # k -> W k

    def forward(self, query, keys):  # (B, T, dq), (B, S, dk) -> (B, T, S)
        return query @ self.key_projection(keys).transpose()  # (B, T, dq) @ (B, dq, S)


class AdditiveScore(Module):
    """score(q, k) = v^T tanh(W q + U k): Bahdanau, Cho and Bengio 2015 ("Neural Machine Translation by
    Jointly Learning to Align and Translate", section 3.1 and appendix A.1.2), Luong's "concat".

    A small network with one hidden layer of `hidden_dim` units scores every (query, key) pair: W and U
    map query and key into the hidden space, tanh mixes them, v reads off the score. Any sizes, any
    learned function, but every pair goes through the network ((B, T, S, hidden_dim) numbers), where a
    dot product costs one matrix product for all pairs. No biases, as in the paper."""

    def __init__(self, query_dim, key_dim, hidden_dim, init="bert"):
        self.query_projection = Linear(query_dim, hidden_dim, bias=False, init=init)  # W
        self.key_projection = Linear(key_dim, hidden_dim, bias=False, init=init)  # U
        self.readout = Linear(hidden_dim, 1, bias=False, init=init)  # v

    def forward(self, query, keys):  # (B, T, dq), (B, S, dk) -> (B, T, S)
        B, T, _ = query.shape
        S = keys.shape[1]
        projected_query = self.query_projection(query).reshape(B, T, 1, -1)  # (B, T, 1, hidden_dim)
        projected_keys = self.key_projection(keys).reshape(B, 1, S, -1)  # (B, 1, S, hidden_dim)
        hidden = ag.tanh(projected_query + projected_keys)  # (B, T, S, hidden_dim): every query with every key
        return self.readout(hidden).reshape(B, T, S)  # (B, T, S, 1) -> (B, T, S)

    def extra_repr(self):
        query_dim, hidden_dim = self.query_projection.weight.shape
        return f"query_dim={query_dim}, key_dim={self.key_projection.weight.shape[0]}, hidden_dim={hidden_dim}"


class CosineScore(Module):
    """score(q, k) = beta q . k / (|q| |k|): the content-based addressing of the Neural Turing Machine
    (Graves, Wayne and Danihelka 2014, section 3.3.1, equations 5 and 6). The cosine ignores lengths
    and compares directions only, so a score lies in [-beta, beta]; beta, the key strength, sharpens
    (beta > 1) or flattens the distribution. Here beta is one learned number, starting at `sharpness`;
    the NTM keeps beta positive, this one is free to change sign (then it would favour unlike keys).
    A tiny `eps` under each root keeps a zero vector's score at 0 instead of 0 / 0."""

    def __init__(self, sharpness=1.0, eps=1e-12):
        self.sharpness = Parameter([sharpness])  # beta, (1,)
        self.eps = eps

    def forward(self, query, keys):  # (B, T, d), (B, S, d) -> (B, T, S)
        query_length = ((query * query).sum(axis=-1, keepdims=True) + self.eps).sqrt()  # (B, T, 1)
        key_length = ((keys * keys).sum(axis=-1, keepdims=True) + self.eps).sqrt()  # (B, S, 1)
        cosine = (query / query_length) @ (keys / key_length).transpose()  # (B, T, S), each in [-1, 1]
        return self.sharpness * cosine


class LocationScore(Module):
    """score(q, k_s) = (W q)_s: Luong, Pham and Manning 2015 (section 3.1, "location"). The weights come
    from the query alone, one learned score per source position s: the model learns where to look, not
    what to look for. So W has a column for each position up to `max_keys`, and only the number of keys
    is read from `keys`."""

    def __init__(self, query_dim, max_keys, init="bert"):
        self.position_scores = Linear(query_dim, max_keys, bias=False, init=init)  # q -> W q, (max_keys,)

    def forward(self, query, keys):  # (B, T, dq), (B, S, dk) -> (B, T, S)
        S, max_keys = keys.shape[1], self.position_scores.weight.shape[1]
        if S > max_keys:
            raise ValueError(f"a location score built for at most {max_keys} keys got {S}: "
                             "build it with a larger max_keys")
        return self.position_scores(query)[:, :, :S]  # (B, T, max_keys) -> (B, T, S)


class LocalAttention(Module):
    """Luong, Pham and Manning 2015's local attention (section 3.2): each query attends only to the keys
    within D of an aligned source position p_t (2D + 1 of them when p_t is a whole number), where
    global attention (`Attention`) reads them all.

    monotonic (local-m): p_t = t, for sources and targets that run roughly in step.
    predictive (local-p): p_t = (S - 1) sigmoid(v_p^T tanh(W_p h_t)) (equation 9, with positions counted
    from 0, so that p_t lies among the keys 0 .. S - 1; S is the number of keys the mask lets the query
    read, so padding at the end never moves p_t), a position the model predicts from the query; the weights inside the window are then multiplied by a
    Gaussian around it, exp(-(s - p_t)^2 / (2 sigma^2)) with sigma = D / 2 (equation 10), so they no
    longer sum to 1 and the gradient reaches W_p and v_p through it. The window's edges are a mask:
    no gradient flows through where they fall.

    A query whose window holds no key (t >= S + D, monotonic) gets weights 0 and context 0."""

    def __init__(self, score, half_width, predictive=False, query_dim=None, hidden_dim=None, init="bert"):
        if half_width < (1 if predictive else 0):
            raise ValueError(f"a local window's half width D must be at least {1 if predictive else 0}, not {half_width}"
                             + (": the Gaussian's width D / 2 must not be 0" if predictive else ""))
        if predictive and (query_dim is None or hidden_dim is None):
            raise ValueError("predictive local attention needs query_dim and hidden_dim for its position network")
        self.score = score
        self.half_width = half_width  # D
        self.predictive = predictive
        if predictive:
            self.position_hidden = Linear(query_dim, hidden_dim, bias=False, init=init)  # W_p
            self.position_readout = Linear(hidden_dim, 1, bias=False, init=init)  # v_p

    def aligned_positions(self, query, key_counts):
        """p_t for every query, (B, T, 1) (predictive) or (1, T, 1) (monotonic). key_counts: S, the keys a
        query may read: a number, or an array that broadcasts to (B, T, 1)."""
        if not self.predictive:
            return ag.Tensor(query.xp.arange(query.shape[1])[:, None], dtype=query.dtype)[None]  # (1, T, 1): p_t = t
        hidden = ag.tanh(self.position_hidden(query))  # (B, T, hidden_dim)
        return ag.sigmoid(self.position_readout(hidden)) * (key_counts - 1)  # (B, T, 1), in [0, S - 1]

    def forward(self, query, keys, values, mask=None):
        """As Attention.forward: context (B, T, dv) and weights (B, T, S)."""
        xp, key_count = query.xp, keys.shape[1]
        # S for each query: every key, or those its mask row lets it read, (..., 1) as the mask's rows
        key_counts = key_count if mask is None else xp.asarray(mask).sum(axis=-1, keepdims=True).astype(query.dtype)
        centre = self.aligned_positions(query, key_counts)  # (B, T, 1)
        distance = ag.Tensor(xp.arange(key_count), dtype=query.dtype) - centre  # (B, T, S): s - p_t
        window = xp.abs(distance.data) <= self.half_width  # (B, T, S), True inside the window
        if mask is not None:
            window = window & xp.asarray(mask)
        weights = masked_softmax(self.score(query, keys), window)  # (B, T, S)
        if self.predictive:
            sigma = self.half_width / 2
            weights = weights * ag.exp(-(distance * distance) / (2 * sigma * sigma))  # the Gaussian around p_t
        return weights @ values, weights  # (B, T, dv), (B, T, S)

    def extra_repr(self):
        return f"half_width={self.half_width}, predictive={self.predictive}"


class AdditiveAttention(Attention):
    """Bahdanau's attention: Attention with AdditiveScore(query_dim, key_dim, hidden_dim)."""

    def __init__(self, query_dim, key_dim, hidden_dim, init="bert"):
        super().__init__(AdditiveScore(query_dim, key_dim, hidden_dim, init))


SCORES = ("additive", "cosine", "dot", "general", "location", "scaled-dot")


def make_score(name, query_dim, key_dim, hidden_dim=None, max_keys=None, init="bert"):
    """The score called `name` (one of SCORES) for queries of query_dim and keys of key_dim numbers.
    additive needs hidden_dim, location max_keys; dot, scaled-dot and cosine need query_dim == key_dim."""
    if name not in SCORES:
        raise ValueError(f"unknown attention score {name!r}: use one of {', '.join(SCORES)}")
    if name in ("dot", "scaled-dot", "cosine") and query_dim != key_dim:
        raise ValueError(f"the {name} score compares queries and keys of one size, not {query_dim} and {key_dim}: "
                         "use general or additive for different sizes")
    if name == "additive":
        return AdditiveScore(query_dim, key_dim, hidden_dim or query_dim, init)
    if name == "location":
        if max_keys is None:
            raise ValueError("the location score needs max_keys, the most keys it will see")
        return LocationScore(query_dim, max_keys, init)
    if name == "general":
        return GeneralScore(query_dim, key_dim, init)
    return {"dot": DotScore, "scaled-dot": ScaledDotScore, "cosine": CosineScore}[name]()
