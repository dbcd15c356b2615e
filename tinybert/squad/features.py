"""SquadExamples to model inputs, as google-research/bert's run_squad.py (read_squad_examples and
convert_examples_to_features): windows of [CLS] question [SEP] context [SEP] over long contexts.

For each example:
  1. the context is split on whitespace into words, remembering where each word starts and ends;
  2. each word is WordPiece-tokenized ("1895." -> "1895", "."), each piece remembering its word;
  3. the answer's characters give its first and last word, and those words their pieces; the span is then
     narrowed to the pieces that spell the answer exactly (improve_answer_span);
  4. the question is cut to max_query_length pieces, and windows of the context's pieces slide along it,
     doc_stride pieces at a time, each as long as max_seq_length leaves room for;
  5. a piece seen by several windows counts, for answers starting there, only in the window where it has
     the most context on both sides (token_is_max_context);
  6. a window's answer positions are token indices; where the window does not hold the whole answer (or
     there is none), both point at [CLS], index 0.

Symbols: N windows (features), T <= max_seq_length (a batch is cut to its longest window), Q question pieces, D context pieces, S windows of one example.
"""

from dataclasses import dataclass

import numpy as np

WHITESPACE = frozenset(" \t\r\n\u202f")  # what run_squad.py splits contexts on (U+202F: the narrow no-break space)


@dataclass
class TokenizedContext:
    """A context cut into whitespace words and each word into WordPiece pieces."""
    word_starts: np.ndarray       # (W,) the character where each word begins
    word_ends: np.ndarray         # (W,) the character just after each word
    char_to_word: np.ndarray      # (C,) the word each character is in (a space: the word before it; -1 before any)
    pieces: list                  # the D pieces of all the words, in order
    piece_ids: np.ndarray         # (D,) their vocabulary ids
    piece_to_word: np.ndarray     # (D,) the word each piece comes from
    word_to_first_piece: np.ndarray  # (W + 1,) each word's first piece; the last entry is D


@dataclass
class SquadFeatures:
    """Every window of every example, as arrays of one row per window, padded to the longest window."""
    input_ids: np.ndarray         # (N, T)
    segment_ids: np.ndarray       # (N, T) 0 for [CLS] question [SEP], 1 for context [SEP]
    is_real: np.ndarray           # (N, T) False at padding
    start_positions: np.ndarray   # (N,) where the answer starts, 0 ([CLS]) when the window has none
    end_positions: np.ndarray     # (N,)
    token_to_piece: np.ndarray    # (N, T) which context piece each token is; -1 for question, specials, padding
    is_max_context: np.ndarray    # (N, T) True where this window gives the piece its most context
    example_index: np.ndarray     # (N,) which example each window belongs to
    contexts: list                # one TokenizedContext per example

    def batch(self, rows):
        """(input_ids, segment_ids, is_real, start_positions, end_positions) of the windows `rows`, cut to
        the longest of them: padding every batch to the longest window overall would waste compute."""
        length = int(self.is_real[rows].sum(axis=1).max())
        return (self.input_ids[rows, :length], self.segment_ids[rows, :length], self.is_real[rows, :length],
                self.start_positions[rows], self.end_positions[rows])


def tokenize_context(context, tokenizer, pieces_of_word):
    """The TokenizedContext of `context`; pieces_of_word caches each distinct word's pieces."""
    is_space = np.array([char in WHITESPACE for char in context], dtype=bool)  # (C,)
    after_space = np.concatenate([[True], is_space[:-1]])
    word_starts = np.flatnonzero(~is_space & after_space)  # (W,)
    word_ends = np.flatnonzero(~is_space & np.concatenate([is_space[1:], [True]])) + 1  # (W,)
    char_to_word = np.cumsum(~is_space & after_space) - 1  # (C,)
    words = [context[start:end] for start, end in zip(word_starts, word_ends)]
    for word in words:
        if word not in pieces_of_word:
            pieces_of_word[word] = tokenizer.tokenize(word)
    pieces = [piece for word in words for piece in pieces_of_word[word]]
    counts = np.array([len(pieces_of_word[word]) for word in words], dtype=np.int64)  # (W,)
    return TokenizedContext(word_starts, word_ends, char_to_word, pieces,
                            np.array(tokenizer.convert_tokens_to_ids(pieces), dtype=np.int64),
                            np.repeat(np.arange(len(words)), counts), np.concatenate([[0], np.cumsum(counts)]))


def improve_answer_span(pieces, first, last, answer_pieces):
    """The narrowest span within pieces[first..last] that spells exactly `answer_pieces`, or (first, last).

    The answer's words can hold more than the answer: for "born in 1895." and the answer "1895", the
    word "1895." gives the pieces "1895" and "."; the answer's own pieces are just "1895". Tried from the
    left, longest first, as run_squad.py's _improve_answer_span."""
    for new_first in range(first, last + 1):
        for new_last in range(last, new_first - 1, -1):
            if pieces[new_first:new_last + 1] == answer_pieces:
                return new_first, new_last
    return first, last


def answer_pieces_span(example, context, tokenizer):
    """(first piece, last piece) of the example's first answer in its context, or None if it has none or its
    place is unknown (a dev or test question: reader.USES)."""
    if not example.answer_starts:
        return None
    text, start = example.answers[0], example.answer_starts[0]
    first_char = start + len(text) - len(text.lstrip("".join(WHITESPACE)))  # the answer's first and last
    last_char = start + len(text.rstrip("".join(WHITESPACE))) - 1           # characters that are not space
    first_word, last_word = context.char_to_word[first_char], context.char_to_word[last_char]
    first = context.word_to_first_piece[first_word]
    last = context.word_to_first_piece[last_word + 1] - 1
    return improve_answer_span(context.pieces, first, last, tokenizer.tokenize(text))


def window_starts(piece_count, room, doc_stride):
    """(starts, lengths), each (S,): windows of at most `room` pieces over `piece_count`, each starting
    doc_stride pieces after the one before, the last reaching the end (at least one window, even empty)."""
    starts = [0]
    while starts[-1] + room < piece_count:
        starts.append(starts[-1] + min(room, doc_stride))
    starts = np.array(starts, dtype=np.int64)
    return starts, np.minimum(piece_count - starts, room)


def best_window_of_each_piece(starts, lengths, piece_count):
    """(D,): for each piece, the window where it has the most context, as run_squad.py's
    _check_is_max_context: score = min(pieces to its left, pieces to its right) + 0.01 * window length,
    the first window on a tie."""
    position = np.arange(piece_count)[None, :]  # (1, D)
    left, right = position - starts[:, None], starts[:, None] + lengths[:, None] - 1 - position  # (S, D) each
    score = np.where((left >= 0) & (right >= 0), np.minimum(left, right) + 0.01 * lengths[:, None], -np.inf)
    return score.argmax(axis=0)  # (D,)


def example_windows(question_ids, context, answer_span, tokenizer, max_seq_length, doc_stride):
    """Every window of one example at once: {SquadFeatures field: its (S, T) or (S,) array}."""
    Q, D = len(question_ids), len(context.pieces)
    offset, room = Q + 2, max_seq_length - Q - 3  # the context starts after [CLS] question [SEP]
    starts, lengths = window_starts(D, room, doc_stride)  # (S,), (S,)
    windows = np.arange(len(starts))[:, None]  # (S, 1)
    column = np.arange(max_seq_length)[None, :]  # (1, T)
    context_end = offset + lengths[:, None]  # (S, 1) where each window's closing [SEP] goes
    in_context = (column >= offset) & (column < context_end)  # (S, T)
    piece = np.where(in_context, starts[:, None] + column - offset, D)  # (S, T) the context piece; D outside
    input_ids = np.append(context.piece_ids, tokenizer.pad_id)[piece]  # (S, T) padding outside the context,
    input_ids[:, 0], input_ids[:, 1:Q + 1], input_ids[:, Q + 1] = tokenizer.cls_id, question_ids, tokenizer.sep_id
    input_ids[windows[:, 0], context_end[:, 0]] = tokenizer.sep_id  # then [CLS] question [SEP] and the last [SEP]
    best_window = np.append(best_window_of_each_piece(starts, lengths, D), -1)  # (D + 1,) no window for "outside"
    start_positions, end_positions = np.zeros_like(starts), np.zeros_like(starts)  # (S,) [CLS]: no answer here
    if answer_span is not None:
        first, last = answer_span
        holds_answer = (first >= starts) & (last < starts + lengths)  # (S,) the whole answer, or it is not here
        start_positions = np.where(holds_answer, first - starts + offset, 0)
        end_positions = np.where(holds_answer, last - starts + offset, 0)
    return dict(input_ids=input_ids, segment_ids=((column >= offset) & (column <= context_end)).astype(np.int64),
                is_real=np.broadcast_to(column <= context_end, input_ids.shape), start_positions=start_positions,
                end_positions=end_positions, token_to_piece=np.where(in_context, piece, -1),
                is_max_context=best_window[piece] == windows)


def check_room(max_seq_length, max_query_length, doc_stride):
    """A ValueError unless a window of max_seq_length pieces has room for some context after a question of
    max_query_length pieces and 3 special tokens, and windows move on by at least one piece."""
    if max_seq_length - max_query_length - 3 < 1 or doc_stride < 1:
        raise ValueError(f"max_seq_length={max_seq_length} leaves no room for the context after a question of up to "
                         f"max_query_length={max_query_length} pieces and 3 special tokens, or doc_stride={doc_stride} "
                         "is below 1: give max_seq_length > max_query_length + 3 and doc_stride >= 1")


def squad_features(examples, tokenizer, max_seq_length=384, doc_stride=128, max_query_length=64):
    """SquadFeatures of every window of every example (run_squad.py's defaults: 384, 128, 64)."""
    check_room(max_seq_length, max_query_length, doc_stride)
    if not examples:
        raise ValueError("there are no examples to make features of: give at least one SquadExample")
    pieces_of_word, context_of_text, contexts, rows = {}, {}, [], []
    for number, example in enumerate(examples):  # one example at a time, as run_squad.py; its windows at once
        if example.context not in context_of_text:  # SQuAD asks several questions about each context
            context_of_text[example.context] = tokenize_context(example.context, tokenizer, pieces_of_word)
        context = context_of_text[example.context]
        contexts.append(context)
        question_ids = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(example.question)[:max_query_length])
        windows = example_windows(question_ids, context, answer_pieces_span(example, context, tokenizer), tokenizer,
                                  max_seq_length, doc_stride)
        rows.append(dict(windows, example_index=np.full(len(windows["input_ids"]), number)))
    arrays = {name: np.concatenate([row[name] for row in rows]) for name in rows[0]}
    longest = int(arrays["is_real"].sum(axis=1).max())  # every window was made max_seq_length wide: cut the rest
    return SquadFeatures(**{name: array[:, :longest] if array.ndim == 2 else array for name, array in arrays.items()},
                         contexts=contexts)
