"""Sentence embeddings from a BERT: the mean of the final hidden states over a sentence's real tokens,
scaled to length 1, as sentence-transformers computes them for all-MiniLM-L6-v2 (its 1_Pooling and
Normalize modules). Two sentences are then as similar as the cosine of their vectors, a dot product.
"""

import numpy as np

from . import autograd as ag

MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length: longer sentences are cut, as sentence-transformers does


def sentence_embeddings(model, tokenizer, sentences, max_tokens=MAX_TOKENS):
    """(N, H) float32 array, one unit vector per sentence, from `model` (a BertForPreTraining or its .bert)."""
    if not sentences:
        raise ValueError("no sentences to embed: give at least one")
    encoder = getattr(model, "bert", model)
    input_ids, _, is_real = tokenizer.encode_batch(sentences, max_length=max_tokens)  # (N, T), (N, T)
    was_training = encoder.training
    encoder.eval()  # no dropout
    with ag.no_grad():
        hidden, _ = encoder(input_ids, segment_ids=None, attention_mask=is_real)  # (N, T, H)
    encoder.train(was_training)
    hidden = hidden.numpy()
    weights = is_real[:, :, None].astype(hidden.dtype)  # (N, T, 1): 1 at real tokens, 0 at padding
    means = (hidden * weights).sum(axis=1) / weights.sum(axis=1)  # (N, H)
    return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)  # (N, H), each of length 1


def cosine_similarities(embeddings):
    """(N, N): the cosine similarity of every pair of unit vectors, their dot product."""
    return embeddings @ embeddings.T
