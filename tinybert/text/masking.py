"""The masked-LM task: choose 15% of a sequence's tokens, then replace 80% of them with [MASK], 10% with
a random token and leave 10% as they are. The model must predict the original token at every chosen
position, so it cannot learn that only [MASK] positions matter, nor that a visible token is always right.

This follows create_masked_lm_predictions in google-research/bert's create_pretraining_data.py,
whole-word masking included, on integer token ids instead of strings.
"""

from typing import NamedTuple

import numpy as np


class MaskedTokens(NamedTuple):
    input_ids: np.ndarray         # (T,) the sequence the model reads
    masked_positions: np.ndarray  # (P,) sorted positions it must predict
    masked_labels: np.ndarray     # (P,) the original ids at those positions


def draw_ordinary_ids(rng, size, vocab_size, special_ids):
    """`size` token ids drawn uniformly from the vocabulary without its special ids.

    Draw among the vocab_size - len(special_ids) ordinary ids, then step each draw past every special id
    at or below it (in increasing order), which maps draw r to the r-th ordinary id. The original draws from
    the whole vocabulary, [CLS] and [MASK] included; a random replacement should never be a special token.
    """
    ids = rng.integers(0, vocab_size - len(special_ids), size=size)
    for special_id in sorted(special_ids):
        ids += ids >= special_id  # a bool array adds as 0/1: every draw at or past this special id moves up one
    return ids


def words_to_mask(token_ids, special_ids, whole_word, is_continuation):
    """The candidates for masking: (positions, word_starts, word_lengths). `positions` (N,) are the
    non-special positions in order; the words cut them into runs, word i being
    positions[word_starts[i] : word_starts[i] + word_lengths[i]]: one position each, or with whole_word
    a token and the "##" pieces that follow it. Special tokens are never candidates."""
    eligible = ~np.isin(token_ids, np.array(sorted(special_ids)))  # (T,)
    continues_word = np.zeros(len(token_ids), dtype=bool)          # (T,)
    if whole_word:
        if is_continuation is None:
            raise ValueError("whole_word=True needs is_continuation, the tokenizer's boolean array that is "
                             "True for '##' pieces")
        # a "##" piece right after [SEP] has no word to join: it starts one, unlike in the original
        continues_word[1:] = is_continuation[token_ids[1:]] & eligible[:-1]
    positions = np.flatnonzero(eligible)                  # (N,)
    word_starts = np.flatnonzero(~continues_word[positions])  # (W,) the first word starts at 0
    return positions, word_starts, np.diff(word_starts, append=len(positions))


def mask_tokens(token_ids, rng, vocab_size, special_ids, masked_lm_prob=0.15, max_predictions_per_seq=20,
                whole_word=False, is_continuation=None, *, mask_id):
    """Choose positions to predict in `token_ids` and corrupt them, as create_masked_lm_predictions.

    The count is round(n * masked_lm_prob), at least 1 and at most max_predictions_per_seq, where n is the
    number of non-special tokens (the original counts [CLS] and [SEP] in n too; padding must never count).
    Candidates are visited in random order; with whole_word a word is taken whole, and a word that would
    overshoot the count is skipped, as the original. Each chosen position then becomes [MASK] with
    probability 0.8, a random non-special token with 0.1, or stays itself with 0.1.
    """
    token_ids = np.asarray(token_ids, dtype=np.int64)
    positions, word_starts, word_lengths = words_to_mask(token_ids, special_ids, whole_word, is_continuation)
    num_to_predict = min(max_predictions_per_seq, max(1, round(len(positions) * masked_lm_prob)))

    chosen = np.zeros(len(word_starts), dtype=bool)  # (W,)
    lengths, count = word_lengths.tolist(), 0
    for word in rng.permutation(len(word_starts)).tolist():  # one sequence's words: a short loop
        if count >= num_to_predict:
            break
        if count + lengths[word] <= num_to_predict:
            chosen[word] = True
            count += lengths[word]
    masked_positions = positions[np.repeat(chosen, word_lengths)]  # (P,) in order, as positions are

    draw = rng.random(len(masked_positions))  # one draw a position: [0, 0.8) mask, [0.8, 0.9) keep, [0.9, 1) random
    input_ids = token_ids.copy()
    input_ids[masked_positions[draw < 0.8]] = mask_id
    replaced = masked_positions[draw >= 0.9]
    input_ids[replaced] = draw_ordinary_ids(rng, len(replaced), vocab_size, special_ids)
    return MaskedTokens(input_ids, masked_positions, token_ids[masked_positions])
