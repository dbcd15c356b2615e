"""The basic layers: Linear, Embedding, LayerNorm, Dropout, GELU, ReLU, FeedForward."""

from functools import partial

import numpy as np

from .. import autograd as ag
from .init import initial_weight
from .module import Module, Parameter


class Linear(Module):
    """y = x W + b, with W of shape (in_features, out_features): the papers' x W, no transpose."""

    def __init__(self, in_features, out_features, bias=True, init="bert"):
        self.weight = Parameter(initial_weight((in_features, out_features), init))
        self.bias = Parameter(np.zeros(out_features, dtype=np.float32)) if bias else None

    def forward(self, x):  # (..., in_features) -> (..., out_features)
        return ag.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.weight.shape[0]}, out_features={self.weight.shape[1]}, bias={self.bias is not None}"


class Embedding(Module):
    """A table of vectors, one row per id: ids (...) -> vectors (..., dim)."""

    def __init__(self, num_embeddings, dim, init="bert"):
        self.weight = Parameter(initial_weight((num_embeddings, dim), init))

    def forward(self, ids):
        return ag.embedding(self.weight, ids)

    def extra_repr(self):
        return f"num_embeddings={self.weight.shape[0]}, dim={self.weight.shape[1]}"


class LayerNorm(Module):
    """Normalise the last axis to mean 0 and variance 1, then scale by `weight` (ones at first) and
    shift by `bias` (zeros). BERT uses eps=1e-12; PyTorch's default is 1e-5."""

    def __init__(self, dim, eps=1e-5):
        self.weight = Parameter(np.ones(dim, dtype=np.float32))
        self.bias = Parameter(np.zeros(dim, dtype=np.float32))
        self.eps = eps

    def forward(self, x):  # (..., dim) -> (..., dim)
        return ag.layer_norm(x, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"dim={self.weight.shape[0]}, eps={self.eps}"


class Dropout(Module):
    """Zero each element with probability p in training (scaling the rest by 1 / (1 - p)); the identity in eval."""

    def __init__(self, p=0.1):
        self.p = p

    def forward(self, x):
        return ag.dropout(x, self.p, training=self.training)

    def extra_repr(self):
        return f"p={self.p}"


class GELU(Module):
    """x * Phi(x); approximate="none" is BERT's exact erf form, "tanh" GPT-2's approximation."""

    def __init__(self, approximate="none"):
        self.approximate = approximate

    def forward(self, x):
        return ag.gelu(x, self.approximate)


class ReLU(Module):
    """max(x, 0), the Transformer paper's activation."""

    def forward(self, x):
        return ag.relu(x)


ACTIVATIONS = {"gelu": GELU, "gelu_tanh": partial(GELU, "tanh"), "relu": ReLU}  # gelu_tanh: GPT-2's


class FeedForward(Module):
    """The position-wise feed-forward network (Vaswani et al. 2017, section 3.3), applied to each
    position alone: FFN(x) = activation(x W1 + b1) W2 + b2, widening d_model to d_ff and back.

    up is W1, b1 (d_model -> d_ff); down is W2, b2 (d_ff -> d_model). The paper uses ReLU, BERT GELU."""

    def __init__(self, d_model, d_ff, dropout=0.1, activation="gelu", init="bert"):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}: use one of {', '.join(ACTIVATIONS)}")
        self.up = Linear(d_model, d_ff, init=init)
        self.activation = ACTIVATIONS[activation]()
        self.dropout = Dropout(dropout)
        self.down = Linear(d_ff, d_model, init=init)

    def forward(self, x):  # (B, T, d_model) -> (B, T, d_ff) -> (B, T, d_model)
        return self.down(self.dropout(self.activation(self.up(x))))
