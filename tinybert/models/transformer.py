"""The Transformer (Vaswani et al. 2017, "Attention Is All You Need"): an encoder reads the source
sequence, a decoder writes the target one token at a time, attending to the encoder's output.

Read in the paper's order: positional encodings (section 3.5), the encoder layer and the decoder
layer (3.1) built from attention (3.2) and the feed-forward network (3.3), then the whole model with
its embeddings (3.4) and greedy decoding.

Symbols: B batch, S source length, T target length, d_model the width of every layer.
Masks are boolean, True = may attend (see tinybert.models.attention).
"""

import math
from dataclasses import dataclass

import numpy as np

from .. import autograd as ag
from ..autograd import backend
from ..nn import Dropout, Embedding, FeedForward, LayerNorm, Linear, Module, ModuleList
from .attention import MultiHeadAttention, causal_mask, padding_mask


@dataclass
class TransformerConfig:
    source_vocab_size: int
    target_vocab_size: int
    d_model: int = 512
    num_heads: int = 8
    d_ff: int = 2048
    num_layers: int = 6            # in the encoder, and again in the decoder
    dropout: float = 0.1
    max_length: int = 512
    positions: str = "sinusoidal"  # or "learned"
    norm_first: bool = False       # False: post-LN, LayerNorm(x + sublayer(x)), as the paper; True: pre-LN
    tie_target_embeddings: bool = False  # the output projection reuses the target embedding matrix (the paper
                                         # also shares it with the source embedding; here only target and output)
    pad_id: int = 0


def sinusoidal_positions(max_length, d_model):
    """PE(pos, 2i) = sin(pos / 10000^(2i / d_model)), PE(pos, 2i + 1) = cos(pos / 10000^(2i / d_model)):
    one sinusoid per dimension pair, wavelengths from 2 pi to 10000 * 2 pi. Returns (max_length, d_model)."""
    positions = np.arange(max_length)[:, None]                               # (max_length, 1)
    frequencies = 1.0 / 10000 ** (np.arange(0, d_model, 2) / d_model)        # (ceil(d_model / 2),)
    table = np.zeros((max_length, d_model))
    table[:, 0::2] = np.sin(positions * frequencies)
    table[:, 1::2] = np.cos(positions * frequencies[: d_model // 2])
    return table.astype(np.float32)


def check_length(length, max_length):
    """A clear error for a sequence longer than the positions a model has."""
    if length > max_length:
        raise ValueError(f"a sequence of {length} tokens is longer than max_length={max_length}: "
                         "shorten it, or build the model with a larger max_length")


class SinusoidalPositions(Module):
    """Adds the fixed sinusoidal table: nothing to learn; the formula works for any position, and
    the table holds the first max_length."""

    def __init__(self, d_model, max_length):
        self.table = sinusoidal_positions(max_length, d_model)  # an array, not a Parameter

    def forward(self, x):  # (B, T, d_model) -> (B, T, d_model)
        check_length(x.shape[1], len(self.table))
        return x + self.table[: x.shape[1]]


class LearnedPositions(Module):
    """Adds a learned vector per position (as BERT does): an embedding table indexed by position."""

    def __init__(self, d_model, max_length):
        self.embedding = Embedding(max_length, d_model, init="xavier")

    def forward(self, x):  # (B, T, d_model) -> (B, T, d_model)
        check_length(x.shape[1], self.embedding.weight.shape[0])
        return x + self.embedding(np.arange(x.shape[1]))


POSITIONS = {"sinusoidal": SinusoidalPositions, "learned": LearnedPositions}


def residual(x, sublayer, norm, dropout, norm_first):
    """One sublayer with its residual connection and layer norm (section 5.4 drops out the sublayer's output).

    post-LN (the paper): LayerNorm(x + Dropout(Sublayer(x)))
    pre-LN (Xiong et al. 2020, trains without warmup more easily): x + Dropout(Sublayer(LayerNorm(x)))
    (The Annotated Transformer's code is pre-LN, with a final LayerNorm after each stack.)"""
    if norm_first:
        return x + dropout(sublayer(norm(x)))
    return norm(x + dropout(sublayer(x)))


class EncoderLayer(Module):
    """Self-attention over the source, then the feed-forward network, each inside `residual`.

    As in The Annotated Transformer, and unlike the paper's text, dropout also acts on the attention
    weights and inside the feed-forward network, and the attention projections have biases."""

    def __init__(self, config):
        self.self_attn = MultiHeadAttention(config.d_model, config.num_heads, config.dropout, init="xavier")
        self.feed_forward = FeedForward(config.d_model, config.d_ff, config.dropout, activation="relu", init="xavier")
        self.norm1, self.norm2 = LayerNorm(config.d_model), LayerNorm(config.d_model)
        self.dropout = Dropout(config.dropout)
        self.norm_first = config.norm_first

    def forward(self, x, mask):  # (B, S, d_model) -> (B, S, d_model)
        x = residual(x, lambda h: self.self_attn(h, mask=mask), self.norm1, self.dropout, self.norm_first)
        return residual(x, self.feed_forward, self.norm2, self.dropout, self.norm_first)


class DecoderLayer(Module):
    """Causal self-attention over the target so far, cross-attention to the encoder's output
    (queries from the decoder, keys and values from the memory), then the feed-forward network."""

    def __init__(self, config):
        self.self_attn = MultiHeadAttention(config.d_model, config.num_heads, config.dropout, init="xavier")
        self.cross_attn = MultiHeadAttention(config.d_model, config.num_heads, config.dropout, init="xavier")
        self.feed_forward = FeedForward(config.d_model, config.d_ff, config.dropout, activation="relu", init="xavier")
        self.norm1, self.norm2, self.norm3 = (LayerNorm(config.d_model) for _ in range(3))
        self.dropout = Dropout(config.dropout)
        self.norm_first = config.norm_first

    def forward(self, y, memory, target_mask, source_mask):  # (B, T, d_model), (B, S, d_model) -> (B, T, d_model)
        y = residual(y, lambda h: self.self_attn(h, mask=target_mask), self.norm1, self.dropout, self.norm_first)
        y = residual(y, lambda h: self.cross_attn(h, memory, mask=source_mask), self.norm2, self.dropout, self.norm_first)
        return residual(y, self.feed_forward, self.norm3, self.dropout, self.norm_first)


class Embed(Module):
    """Token embedding scaled by sqrt(d_model) (section 3.4), plus positions, then dropout."""

    def __init__(self, vocab_size, config):
        self.tokens = Embedding(vocab_size, config.d_model, init="xavier")
        self.add_positions = POSITIONS[config.positions](config.d_model, config.max_length)
        self.dropout = Dropout(config.dropout)
        self.scale = math.sqrt(config.d_model)

    def forward(self, ids):  # (B, T) -> (B, T, d_model)
        return self.dropout(self.add_positions(self.tokens(ids) * self.scale))


class Transformer(Module):
    """The encoder-decoder Transformer: logits for each next target token given the source."""

    def __init__(self, config):
        if config.positions not in POSITIONS:
            raise ValueError(f"unknown positions {config.positions!r}: use one of {', '.join(POSITIONS)}")
        self.config = config
        self.source_embed = Embed(config.source_vocab_size, config)
        self.target_embed = Embed(config.target_vocab_size, config)
        self.encoder_layers = ModuleList([EncoderLayer(config) for _ in range(config.num_layers)])
        self.decoder_layers = ModuleList([DecoderLayer(config) for _ in range(config.num_layers)])
        if config.norm_first:  # pre-LN leaves each stack's output un-normalised: one last LayerNorm each
            self.encoder_norm, self.decoder_norm = LayerNorm(config.d_model), LayerNorm(config.d_model)
        if not config.tie_target_embeddings:
            self.output_projection = Linear(config.d_model, config.target_vocab_size, init="xavier")

    def encode(self, source_ids):
        """(B, S) ids -> the memory (B, S, d_model) and its key padding mask (B, 1, 1, S)."""
        source_mask = padding_mask(backend.array_module(source_ids).asarray(source_ids) != self.config.pad_id)
        x = self.source_embed(source_ids)
        for layer in self.encoder_layers:
            x = layer(x, source_mask)
        return (self.encoder_norm(x) if self.config.norm_first else x), source_mask

    def decode(self, target_ids, memory, source_mask):
        """(B, T) target ids so far -> logits (B, T, target_vocab_size) for the token after each."""
        xp = backend.array_module(target_ids)  # NumPy, or CuPy for ids already on the GPU
        target_ids = xp.asarray(target_ids)
        target_mask = xp.asarray(causal_mask(target_ids.shape[1])) & padding_mask(target_ids != self.config.pad_id)  # (B, 1, T, T)
        y = self.target_embed(target_ids)
        for layer in self.decoder_layers:
            y = layer(y, memory, target_mask, source_mask)
        if self.config.norm_first:
            y = self.decoder_norm(y)
        if self.config.tie_target_embeddings:  # logits = y E^T, E the target embedding (B, T, d) @ (d, V)
            return y @ self.target_embed.tokens.weight.transpose()
        return self.output_projection(y)

    def forward(self, source_ids, target_ids):
        """Teacher forcing: logits (B, T, V) for every position of target_ids at once."""
        memory, source_mask = self.encode(source_ids)
        return self.decode(target_ids, memory, source_mask)

    def greedy_decode(self, source_ids, length, start_id):
        """Write `length` tokens after `start_id`, each the most likely next token; returns (B, length + 1).
        Call model.eval() first: in training mode dropout makes every decoding different."""
        check_length(length + 1, self.config.max_length)
        with ag.no_grad():
            memory, source_mask = self.encode(source_ids)
            written = np.full((len(source_ids), 1), start_id)
            for _ in range(length):  # one token per step: each step reads everything written so far
                logits = self.decode(written, memory, source_mask)                   # (B, t, V)
                next_ids = logits.numpy()[:, -1].argmax(axis=-1)                     # (B,)
                written = np.concatenate([written, next_ids[:, None]], axis=1)
        return written
