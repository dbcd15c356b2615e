"""From start and end scores to an answer text, as run_squad.py's write_predictions.

For one example, over all its windows at once:
  1. take the n_best highest start scores and the n_best highest end scores of each window;
  2. of those start x end pairs keep the spans that can be answers: both ends on context pieces, the end
     not before the start, at most max_answer_length pieces, and the start in the window that gives its
     piece the most context (a piece seen by two windows is judged where it sees most);
  3. the best span has the highest start score + end score;
  4. its pieces are mapped back to the words of the context, and from the words to the characters the
     pieces spell (final_text), so "1895." answers "1895" as the original context writes it.
For SQuAD v2.0, the null score start[CLS] + end[CLS] (the lowest over the windows) competes with the best
span: the answer is "" (no answer) when null_score - best_span_score > null_score_threshold.
"""

import numpy as np

N_BEST = 20  # run_squad.py's n_best_size


def best_span(start_logits, end_logits, token_to_piece, is_max_context, max_answer_length, n_best=N_BEST):
    """(score, first piece, last piece) of the best span over an example's S windows, each argument (S, T);
    None when no pair of candidates makes a valid span."""
    S, T = start_logits.shape
    n_best = min(n_best, T)
    windows = np.arange(S)[:, None, None]  # (S, 1, 1)
    starts = np.argsort(-start_logits, axis=1, kind="stable")[:, :n_best, None]  # (S, n, 1) token indices
    ends = np.argsort(-end_logits, axis=1, kind="stable")[:, None, :n_best]  # (S, 1, n)
    first_piece, last_piece = token_to_piece[windows, starts], token_to_piece[windows, ends]  # (S, n, 1), (S, 1, n)
    valid = ((first_piece >= 0) & (last_piece >= 0) & is_max_context[windows, starts]
             & (ends >= starts) & (ends - starts + 1 <= max_answer_length))  # (S, n, n)
    if not valid.any():
        return None
    scores = np.where(valid, start_logits[windows, starts] + end_logits[windows, ends], -np.inf)  # (S, n, n)
    window, start_rank, end_rank = np.unravel_index(scores.argmax(), scores.shape)
    return (float(scores[window, start_rank, end_rank]), int(first_piece[window, start_rank, 0]),
            int(last_piece[window, 0, end_rank]))


def null_score(start_logits, end_logits):
    """start[CLS] + end[CLS], the score of "no answer": the lowest over the windows, as run_squad.py."""
    return float((start_logits[:, 0] + end_logits[:, 0]).min())


def pieces_text(pieces):
    """The text WordPiece pieces spell: "in", "18", "##95" -> "in 1895"."""
    return " ".join(" ".join(pieces).replace(" ##", "").replace("##", "").split())


def final_text(predicted, original, basic_tokenizer):
    """The part of `original` (context characters) that the tokenized `predicted` text covers.

    Tokenizing lower-cases, strips accents and splits off punctuation: the words "Paris," give the pieces
    "paris" ",", and the answer "paris" must come back as "Paris". So `original` is tokenized too, spaces
    are dropped from both, and where the two then have the same characters one for one, predicted's place
    in the tokenized original is its place in `original`. When they do not (an [UNK], a character that
    lower-cases to two), `original` is returned whole, as run_squad.py's get_final_text does."""
    tokenized = " ".join(basic_tokenizer.tokenize(original))
    start = tokenized.find(predicted)
    tokenized_chars = [position for position, char in enumerate(tokenized) if char != " "]
    original_chars = [position for position, char in enumerate(original) if not char.isspace()]
    if start < 0 or len(tokenized_chars) != len(original_chars):
        return original
    rank_of = {position: rank for rank, position in enumerate(tokenized_chars)}  # rank among non-space characters
    first, last = rank_of[start], rank_of[start + len(predicted) - 1]
    return original[original_chars[first]:original_chars[last] + 1]


def span_answer(context_text, context, first_piece, last_piece, basic_tokenizer):
    """The answer text of the pieces first..last of a TokenizedContext, in the context's own characters."""
    first_word, last_word = context.piece_to_word[first_piece], context.piece_to_word[last_piece]
    original = context_text[context.word_starts[first_word]:context.word_ends[last_word]]
    return final_text(pieces_text(context.pieces[first_piece:last_piece + 1]), original, basic_tokenizer)


def choose_answer(start_logits, end_logits, token_to_piece, is_max_context, context_text, context, basic_tokenizer,
                  max_answer_length, allow_no_answer=False, null_score_threshold=0.0):
    """The answer text for one example from its windows' scores (each (S, T)): the best span's text, or ""
    when there is none, or (with allow_no_answer, SQuAD v2.0) when null_score - best score > the threshold."""
    best = best_span(start_logits, end_logits, token_to_piece, is_max_context, max_answer_length)
    if best is None:
        return ""
    score, first_piece, last_piece = best
    if allow_no_answer and null_score(start_logits, end_logits) - score > null_score_threshold:
        return ""
    return span_answer(context_text, context, first_piece, last_piece, basic_tokenizer)
