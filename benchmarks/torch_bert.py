"""The same BERT pretraining step in PyTorch eager, for the benchmark to time beside tinybert's.

The same computation as tinybert's BertForPreTraining, op for op: embeddings (word + position +
segment, then LayerNorm), post-LN encoder layers with separate q, k, v projections and the attention
written out (QK^T / sqrt(d), an additive mask, softmax, dropout, times V), the exact erf GELU, the
pooled [CLS], and the masked-LM head on the masked positions only, its decoder tied to the word
embeddings. Nothing here is tinybert's: it is what a learner would write in PyTorch.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


class EncoderLayer(nn.Module):
    def __init__(self, hidden, heads, intermediate, dropout):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.q, self.k, self.v, self.out = (nn.Linear(hidden, hidden) for _ in range(4))
        self.attention_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.up, self.down = nn.Linear(hidden, intermediate), nn.Linear(intermediate, hidden)
        self.output_norm = nn.LayerNorm(hidden, eps=1e-12)

    def split(self, x):  # (B, T, H) -> (B, heads, T, d)
        B, T, H = x.shape
        return x.view(B, T, self.heads, H // self.heads).transpose(1, 2)

    def forward(self, x, additive_mask):  # x (B, T, H), additive_mask (B, 1, 1, T)
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + additive_mask  # (B, heads, T, T)
        weights = F.dropout(scores.softmax(-1), self.dropout, self.training)
        context = (weights @ v).transpose(1, 2).reshape(x.shape)  # (B, T, H)
        x = self.attention_norm(x + F.dropout(self.out(context), self.dropout, self.training))
        return self.output_norm(x + F.dropout(self.down(F.gelu(self.up(x))), self.dropout, self.training))


class TorchBertForPreTraining(nn.Module):
    def __init__(self, vocab_size, hidden, layers, heads, intermediate, max_positions=512, dropout=0.1):
        super().__init__()
        self.dropout = dropout
        self.word = nn.Embedding(vocab_size, hidden)
        self.position = nn.Embedding(max_positions, hidden)
        self.segment = nn.Embedding(2, hidden)
        self.embedding_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(EncoderLayer(hidden, heads, intermediate, dropout) for _ in range(layers))
        self.pooler = nn.Linear(hidden, hidden)
        self.transform = nn.Linear(hidden, hidden)
        self.transform_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.decoder_bias = nn.Parameter(torch.zeros(vocab_size))
        self.next_sentence = nn.Linear(hidden, 2)

    def forward(self, input_ids, segment_ids, attention_mask, masked_positions):
        B, T = input_ids.shape
        x = self.word(input_ids) + self.position(torch.arange(T, device=input_ids.device)) + self.segment(segment_ids)
        x = F.dropout(self.embedding_norm(x), self.dropout, self.training)  # (B, T, H)
        additive_mask = (~attention_mask)[:, None, None, :] * -1e9  # (B, 1, 1, T)
        for layer in self.layers:
            x = layer(x, additive_mask)
        pooled = torch.tanh(self.pooler(x[:, 0]))  # (B, H)
        at_masked = x[torch.arange(B, device=x.device)[:, None], masked_positions]  # (B, P, H)
        transformed = self.transform_norm(F.gelu(self.transform(at_masked)))
        mlm_logits = transformed @ self.word.weight.T + self.decoder_bias  # (B, P, V)
        return mlm_logits, self.next_sentence(pooled)

    @staticmethod
    def loss(mlm_logits, nsp_logits, masked_labels, next_sentence_labels):
        mlm = F.cross_entropy(mlm_logits.reshape(-1, mlm_logits.shape[-1]), masked_labels.reshape(-1), ignore_index=-100)
        return mlm + F.cross_entropy(nsp_logits, next_sentence_labels)
