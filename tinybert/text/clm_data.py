"""Data for a causal (left-to-right) language model such as GPT: the documents as one stream of token
ids, [SEP] after each, cut into windows of max_seq_length tokens. A window of T tokens holds T - 1
next-token predictions, and every window is full: no padding, no sentence pairs, no masks."""

import itertools

import numpy as np


def token_stream(documents, separator_id):
    """documents (lists of sentences, each a list of ids) -> one array of ids, separator_id after each document."""
    return np.array([token for document in documents
                     for token in itertools.chain(itertools.chain.from_iterable(document), [separator_id])])


def check_stream_fits(stream, length, what):
    if len(stream) < length:
        raise ValueError(f"the {what} text has {len(stream)} tokens, fewer than one window of {length}: "
                         "give a larger corpus, or a shorter --seq-length")


def random_windows(stream, length, batch_size, seed):
    """Endless batches (batch_size, length) of windows starting at random places of `stream`."""
    check_stream_fits(stream, length, "training")
    rng = np.random.default_rng(seed)
    while True:
        starts = rng.integers(0, len(stream) - length + 1, size=batch_size)  # (B,)
        yield stream[starts[:, None] + np.arange(length)]  # (B, T)


def consecutive_windows(stream, length, batch_size, batches):
    """Up to `batches` batches of the windows that tile `stream` from its start, side by side, no overlap."""
    check_stream_fits(stream, length, "held-out")
    windows = stream[:len(stream) // length * length].reshape(-1, length)  # (N, T)
    return [windows[start:start + batch_size] for start in range(0, min(len(windows), batches * batch_size), batch_size)]


def unigram_perplexity(training_stream, held_out_batches, vocab_size):
    """The perplexity on the held-out next tokens of a model that knows only each token's frequency in the
    training stream (add-one smoothed): the baseline a left-to-right model must beat."""
    counts = np.bincount(training_stream, minlength=vocab_size) + 1
    log_probabilities = np.log(counts / counts.sum())
    targets = np.concatenate([batch[:, 1:].reshape(-1) for batch in held_out_batches])
    return float(np.exp(-log_probabilities[targets].mean()))
