"""Learning a WordPiece vocabulary from a corpus (Schuster and Nakajima 2012, "Japanese and Korean voice
search"; the algorithm as Hugging Face's course describes it, chapter 6, "WordPiece tokenization").

    vocab = train_wordpiece_vocab(lines_of_text, vocab_size=8000)   # ['[PAD]', '[UNK]', ..., 'a', ..., '##ing', ...]

Every word starts as its characters, the first as itself and the rest "##"-marked: "hug" -> h ##u ##g.
The vocabulary starts as the special tokens plus all these characters, so every word of the corpus can be
spelled. Then, until the vocabulary has `vocab_size` tokens, merge the adjacent pair (a, b) with the best
likelihood score

    score(a, b) = count(ab) / (count(a) * count(b))

into one new token ("##u" + "##g" -> "##ug"), everywhere it occurs. The score asks how much more often a and
b occur together than their own frequencies would predict: merging pairs that stick together raises the
likelihood of the corpus the most (a pair of frequent pieces that meet by chance scores low). Pairs seen
fewer than `min_frequency` times are never merged.

Speed: the corpus is kept as its unique words with their counts, and a merge updates only the words that
hold the merged pair: their old pairs are subtracted from the counts and their new pairs added. Every
score is then one vectorised NumPy expression. Measured on the Python language reference
(all of pydoc_data.topics joined: 65,500 words, 119,600 words and marks once punctuation is
split off, 3,356 different) on a 2-core AMD EPYC: 4,000 tokens in 0.8 s; 8,000 asked in 1.0 s, where the
corpus runs out of pairs seen twice at 7,118; 8,000 with min_frequency=1 in 1.1 s. About 0.55 s of each
is BasicTokenizer reading the corpus.
"""

from collections import Counter

import numpy as np

from .basic_tokenizer import BasicTokenizer
from .vocab import CONTINUATION_PREFIX, SPECIAL_TOKENS

SCORES = ("likelihood", "count")


def count_words(texts, lowercase=True):
    """How often each word of the corpus occurs, words as BasicTokenizer splits them. A "[MASK]" written in
    the corpus is ordinary text here: brackets and letters."""
    basic_tokenizer = BasicTokenizer(lowercase, never_split=())
    return Counter(word for text in texts for word in basic_tokenizer.tokenize(text))


def spell(word):
    """"hug" -> ["h", "##u", "##g"]: the characters a word starts as."""
    return [word[0]] + [CONTINUATION_PREFIX + char for char in word[1:]]


def merge_pair(pieces, left, right, merged):
    """The pieces with each adjacent (left, right) replaced by `merged`, scanning left to right."""
    result, position = [], 0
    while position < len(pieces):
        if pieces[position] == left and position + 1 < len(pieces) and pieces[position + 1] == right:
            result.append(merged)
            position += 2
        else:
            result.append(pieces[position])
            position += 1
    return result


def doubled(array, size):
    """`array`, or a copy with zeros after it, long enough to hold `size` entries."""
    while len(array) < size:
        array = np.concatenate([array, np.zeros_like(array)])
    return array


class PairCounts:
    """Each adjacent pair of piece ids seen so far, one row each: its left and right piece, how often it
    occurs in the corpus now, and the words that have held it (some may have lost it since)."""

    def __init__(self):
        self.row_of = {}  # (left, right) -> row
        self.left = np.zeros(1024, dtype=np.int64)
        self.right = np.zeros(1024, dtype=np.int64)
        self.counts = np.zeros(1024, dtype=np.int64)
        self.words = []

    def add(self, left, right, count, word):
        if (left, right) not in self.row_of:
            row = self.row_of[left, right] = len(self.words)
            self.left, self.right, self.counts = (doubled(array, row + 1)
                                                  for array in (self.left, self.right, self.counts))
            self.left[row], self.right[row] = left, right
            self.words.append(set())
        row = self.row_of[left, right]
        self.counts[row] += count
        self.words[row].add(word)

    def best(self, piece_counts, min_frequency, score):
        """The row with the best score among pairs seen at least `min_frequency` times, or None if there
        is none. Ties go to the pair seen first. score "likelihood": count(ab) / (count(a) count(b));
        "count": count(ab)."""
        rows = len(self.words)
        counts = self.counts[:rows]
        eligible = counts >= min_frequency
        if not eligible.any():
            return None
        if score == "count":
            return int(np.argmax(np.where(eligible, counts, 0)))
        scores = np.zeros(rows)
        expected = piece_counts[self.left[:rows]] * piece_counts[self.right[:rows]]
        np.divide(counts, expected, out=scores, where=eligible)  # the others keep 0 (and are never 0 / 0)
        return int(np.argmax(scores))


class WordpieceTrainer:
    """The corpus as unique words, each spelled in piece ids, with the counts of pieces and of pairs."""

    def __init__(self, word_counts):
        self.word_counts = list(word_counts.values())
        spellings = [spell(word) for word in word_counts]
        alphabet = {piece for spelling in spellings for piece in spelling}
        # the word-initial characters, then the "##" ones, each in sorted order
        self.pieces = sorted(alphabet, key=lambda piece: (piece.startswith(CONTINUATION_PREFIX), piece))
        self.piece_ids = {piece: piece_id for piece_id, piece in enumerate(self.pieces)}
        self.words = [[self.piece_ids[piece] for piece in spelling] for spelling in spellings]
        self.piece_counts = np.zeros(len(self.pieces), dtype=np.int64)
        self.pairs = PairCounts()
        for word in range(len(self.words)):
            self.tally(word, +1)

    def tally(self, word, sign):
        """Add (sign +1) or take away (sign -1) a word's pieces and pairs, each as often as the word occurs."""
        pieces, count = self.words[word], sign * self.word_counts[word]
        for piece in pieces:
            self.piece_counts[piece] += count
        for left, right in zip(pieces, pieces[1:]):
            self.pairs.add(left, right, count, word)

    def merge_best_pair(self, min_frequency, score):
        """Merge the best-scoring pair in every word that holds it; False when no pair is seen
        `min_frequency` times. The merged token joins `self.pieces` unless another pair made it already."""
        row = self.pairs.best(self.piece_counts, min_frequency, score)
        if row is None:
            return False
        left, right = int(self.pairs.left[row]), int(self.pairs.right[row])
        token = self.pieces[left] + self.pieces[right].removeprefix(CONTINUATION_PREFIX)
        if token not in self.piece_ids:  # ("a", "##bc") and ("ab", "##c") both make "abc": one id for both
            self.piece_ids[token] = len(self.pieces)
            self.pieces.append(token)
            self.piece_counts = doubled(self.piece_counts, len(self.pieces))
        for word in list(self.pairs.words[row]):
            self.tally(word, -1)
            self.words[word] = merge_pair(self.words[word], left, right, self.piece_ids[token])
            self.tally(word, +1)
        return True


def train_wordpiece_vocab(texts, vocab_size, lowercase=True, min_frequency=2, score="likelihood"):
    """A vocabulary of `vocab_size` tokens (fewer if the corpus runs out of pairs to merge) learnt from
    `texts`, an iterable of strings: the special tokens, then the word-initial characters, then the
    "##" characters, then the merged tokens in the order they were learnt.

    score="likelihood" merges as WordPiece does (above). score="count" merges the most frequent pair, as
    byte-pair encoding and Hugging Face's WordPieceTrainer do: a small vocabulary then spends itself on
    whole frequent words ("the", "statement") where the likelihood score keeps them in pieces
    ("th ##e") because "##e" is everywhere. tinybert pretrain uses "count" for its small vocabularies."""
    if score not in SCORES:
        raise ValueError(f"unknown merge score {score!r}: use one of {', '.join(SCORES)}")
    if min_frequency < 1:
        raise ValueError(f"min_frequency={min_frequency} must be at least 1: "
                         "it is how often a pair must occur to be merged")
    trainer = WordpieceTrainer(count_words(texts, lowercase))
    smallest = len(SPECIAL_TOKENS) + len(trainer.pieces)
    if vocab_size < smallest:
        raise ValueError(f"vocab_size={vocab_size} cannot hold the {len(SPECIAL_TOKENS)} special tokens and the "
                         f"{len(trainer.pieces)} characters that spell the corpus; ask for at least {smallest}")
    while len(SPECIAL_TOKENS) + len(trainer.pieces) < vocab_size and trainer.merge_best_pair(min_frequency, score):
        pass
    return list(SPECIAL_TOKENS) + trainer.pieces
