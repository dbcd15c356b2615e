"""GPT: the left-to-right language model that the BERT paper sets itself against (Radford et al. 2018,
2019), on the same blocks as BERT.

BERT reads the whole sentence at once and learns to fill in blanks; GPT reads left to right and learns
to continue: at every position it predicts the next token from the tokens up to it, never after it (a
causal mask in every attention). So one sentence of T tokens is T - 1 training examples, and the model
can generate text, one sampled token at a time; but no position ever sees the words to its right, the
limitation BERT's section 1 names ("unidirectional") and its masked LM removes.

GPT-2's layout (Radford et al. 2019, section 2.3): learned positions; pre-LN blocks,
x = x + Attention(LayerNorm(x)) then x = x + FFN(LayerNorm(x)), with the tanh GELU; a last LayerNorm;
scores over the vocabulary from the token embedding matrix itself, transposed (tied, no bias). Left
out: GPT-2's smaller initial weights for the layers that feed the residual stream (scaled by 1/sqrt(N)).
"""

from dataclasses import dataclass

import numpy as np

from .. import autograd as ag
from ..nn import Dropout, Embedding, FeedForward, LayerNorm, Module, ModuleList
from .attention import MultiHeadAttention, causal_mask, padding_mask
from .config import ModelConfig
from .transformer import residual


@dataclass
class GPTConfig(ModelConfig):
    """The sizes of a GPT; the presets are BERT's (tiny, mini, small, base), so the two compare at one size.
    GPT-2 small is the base size with vocab_size 50257 and max_position_embeddings 1024."""

    vocab_size: int
    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    dropout: float = 0.1                # GPT-2's: on the embeddings, the attention weights, each sublayer's output
    layer_norm_eps: float = 1e-5
    pad_id: int = 0


class GPTBlock(Module):
    """x = x + Dropout(Attention(LayerNorm(x))) under a causal mask, then x = x + Dropout(FFN(LayerNorm(x)))."""

    def __init__(self, config):
        H = config.hidden_size
        self.attention_norm = LayerNorm(H, eps=config.layer_norm_eps)
        self.attention = MultiHeadAttention(H, config.num_heads, config.dropout, init="bert")
        self.feed_forward_norm = LayerNorm(H, eps=config.layer_norm_eps)
        self.feed_forward = FeedForward(H, config.intermediate_size, dropout=0.0, activation="gelu_tanh", init="bert")
        self.dropout = Dropout(config.dropout)

    def forward(self, x, mask):  # (B, T, H), mask broadcast to (B, heads, T, T) -> (B, T, H)
        x = residual(x, lambda h: self.attention(h, mask=mask), self.attention_norm, self.dropout, norm_first=True)
        return residual(x, self.feed_forward, self.feed_forward_norm, self.dropout, norm_first=True)


class GPT(Module):
    """Token ids in, scores for the next token at every position out."""

    def __init__(self, config):
        self.config = config
        self.token_embeddings = Embedding(config.vocab_size, config.hidden_size, init="bert")
        self.position_embeddings = Embedding(config.max_position_embeddings, config.hidden_size, init="bert")
        self.dropout = Dropout(config.dropout)
        self.blocks = ModuleList([GPTBlock(config) for _ in range(config.num_layers)])
        self.final_norm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, input_ids, attention_mask=None):
        """input_ids (B, T); attention_mask (B, T), 1 or True at real tokens and 0 at padding (None: none).
        Returns the scores (B, T, V): row t scores every candidate for token t + 1."""
        xp = ag.backend.array_module(input_ids)
        input_ids = xp.asarray(input_ids)
        T, max_positions = input_ids.shape[1], self.position_embeddings.weight.shape[0]
        if T > max_positions:
            raise ValueError(f"a sequence of {T} tokens exceeds max_position_embeddings={max_positions}: "
                             "shorten it, or build the model with a larger max_position_embeddings")
        mask = xp.asarray(causal_mask(T))  # (T, T): position t sees positions 0..t
        if attention_mask is not None:
            mask = mask & padding_mask(xp.asarray(attention_mask) != 0)  # (B, 1, T, T)
        x = self.dropout(self.token_embeddings(input_ids) + self.position_embeddings(xp.arange(T)))  # (B, T, H)
        for block in self.blocks:
            x = block(x, mask)
        x = self.final_norm(x)  # (B, T, H)
        return ag.linear(x, self.token_embeddings.weight.transpose())  # (B, T, H) @ (H, V): tied, no bias

    def loss(self, scores, input_ids):
        """The next-token cross-entropy: the scores at positions 0..T-2 against the tokens at 1..T-1,
        a padded next token (pad_id) left out. Its exp is the perplexity."""
        targets = np.array(ag.backend.to_numpy(input_ids))[:, 1:]  # (B, T - 1)
        targets[targets == self.config.pad_id] = -100
        return ag.cross_entropy(scores[:, :-1], scores.xp.asarray(targets), ignore_index=-100)

