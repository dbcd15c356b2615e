"""BERT's pretraining examples: sentence pairs for next-sentence (or sentence-order) prediction, or
RoBERTa's full sentences with no sentence task, masked for the masked-LM task, then padded into batches.

create_instances follows create_instances_from_document and truncate_seq_pair in google-research/bert's
create_pretraining_data.py; the "sop" task follows ALBERT's version of it, and "none" packs RoBERTa's
FULL-SENTENCES inputs (full_sentences.py). Documents are lists of sentences, each sentence a list of token
ids (see corpus.py); nothing here needs the tokenizer itself.
"""

from dataclasses import dataclass
from itertools import islice

import numpy as np

from .full_sentences import pack_full_sentences
from .masking import mask_tokens

IS_NEXT, NOT_NEXT = 0, 1    # NSP labels, as google-research/bert and Hugging Face
IN_ORDER, SWAPPED = 0, 1    # SOP labels, as ALBERT
SENTENCE_TASKS = ("nsp", "sop", "none")  # none: RoBERTa's, the masked LM alone on packed full sentences
MASKINGS = ("dynamic", "static")
IGNORE_INDEX = -100         # masked_labels at padded predictions (the loss skips them), and the label of an input
                            # with no sentence task (task none never calls the sentence loss: pretraining.forward)


@dataclass(frozen=True)
class Instance:
    token_ids: np.ndarray    # (T,) [CLS] A [SEP] B [SEP], or for task none [CLS] sentences [SEP]
    segment_ids: np.ndarray  # (T,) 0 for [CLS] A [SEP], 1 for B [SEP]; all 0 for task none
    label: int               # NSP: IS_NEXT or NOT_NEXT; SOP: IN_ORDER or SWAPPED; none: IGNORE_INDEX


@dataclass(frozen=True)
class VocabularyIds:
    """What the data builder needs to know about the vocabulary; `from_tokenizer` reads it off a tokenizer."""
    vocab_size: int
    pad_id: int
    cls_id: int
    sep_id: int
    mask_id: int
    special_ids: frozenset
    is_continuation: np.ndarray | None = None  # (vocab_size,) True for "##" pieces; whole-word masking needs it

    @classmethod
    def from_tokenizer(cls, tokenizer):
        return cls(tokenizer.vocab_size, tokenizer.pad_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id,
                   frozenset(tokenizer.special_ids), tokenizer.is_continuation)


def truncate_seq_pair(tokens_a, tokens_b, max_num_tokens, rng):
    """Shorten the pair in place to max_num_tokens in all: one token at a time from the longer list (B on a
    tie), from its front or its back at random, so neither end is always the one cut."""
    while len(tokens_a) + len(tokens_b) > max_num_tokens:
        longer = tokens_a if len(tokens_a) > len(tokens_b) else tokens_b
        if rng.random() < 0.5:
            del longer[0]
        else:
            longer.pop()


def random_segment_from_another_document(documents, document_index, target_length, rng):
    """Sentence B for a NotNext pair: sentences from a random start in a random OTHER document, until
    target_length tokens. The original retries 10 times to miss its own document and can still land on it
    (then B may be the true continuation); drawing among the other documents never can."""
    other_index = rng.integers(len(documents) - 1)
    other_document = documents[other_index + (other_index >= document_index)]
    tokens_b = []
    for sentence in other_document[rng.integers(len(other_document)):]:
        tokens_b.extend(sentence)
        if len(tokens_b) >= target_length:
            break
    return tokens_b


def pair_instance(tokens_a, tokens_b, label, max_num_tokens, rng, cls_id, sep_id):
    """[CLS] A [SEP] B [SEP] with segment ids 0 then 1, the pair first truncated to max_num_tokens."""
    truncate_seq_pair(tokens_a, tokens_b, max_num_tokens, rng)
    token_ids = [cls_id, *tokens_a, sep_id, *tokens_b, sep_id]
    segment_ids = [0] * (len(tokens_a) + 2) + [1] * (len(tokens_b) + 1)
    return Instance(np.array(token_ids, dtype=np.int64), np.array(segment_ids, dtype=np.int64), label)


def instances_from_document(documents, document_index, rng, max_seq_length, short_seq_prob, task, cls_id, sep_id):
    """The pairs of one document, as create_instances_from_document: gather sentences into a chunk until it
    reaches the target length, split the chunk at a random sentence boundary into A and B, then

    - "nsp": keep B (IsNext), or with probability 0.5, and always when the chunk is one sentence, replace B
      by a segment of another document (NotNext) and put B's sentences back to start the next chunk;
    - "sop": keep A B in order, or swap them with probability 0.5. A one-sentence chunk has no order to
      predict and is skipped (ALBERT falls back to NSP's random B there).
    """
    document = documents[document_index]
    max_num_tokens = max_seq_length - 3  # room for [CLS], [SEP], [SEP]
    # usually fill the sequence; sometimes aim shorter, so pretraining also sees the short inputs of fine-tuning
    target_seq_length = max_num_tokens
    if rng.random() < short_seq_prob:
        target_seq_length = int(rng.integers(2, max_num_tokens + 1))

    instances = []
    chunk, chunk_length = [], 0
    i = 0
    while i < len(document):
        chunk.append(document[i])
        chunk_length += len(document[i])
        if i == len(document) - 1 or chunk_length >= target_seq_length:
            a_end = int(rng.integers(1, len(chunk))) if len(chunk) >= 2 else 1  # sentences chunk[:a_end] form A
            tokens_a = [token for sentence in chunk[:a_end] for token in sentence]
            tokens_b = [token for sentence in chunk[a_end:] for token in sentence]
            if task == "nsp":
                label = NOT_NEXT if len(chunk) == 1 or rng.random() < 0.5 else IS_NEXT
                if label == NOT_NEXT:
                    tokens_b = random_segment_from_another_document(documents, document_index,
                                                                    target_seq_length - len(tokens_a), rng)
                    i -= len(chunk) - a_end  # put the unused sentences back
            else:
                label = SWAPPED if rng.random() < 0.5 else IN_ORDER
                if label == SWAPPED:
                    tokens_a, tokens_b = tokens_b, tokens_a
            if tokens_a and tokens_b:  # only SOP's one-sentence chunk lacks one
                instances.append(pair_instance(tokens_a, tokens_b, label, max_num_tokens, rng, cls_id, sep_id))
            chunk, chunk_length = [], 0
        i += 1
    return instances


def packed_instances(documents, rng, max_seq_length, cls_id, sep_id):
    """Task none: the documents in a random order, packed into full-sentence inputs (segment 0 throughout).
    short_seq_prob plays no part: RoBERTa trains on full-length inputs only."""
    order = rng.permutation(len(documents))
    return [Instance(np.array(token_ids, dtype=np.int64), np.zeros(len(token_ids), dtype=np.int64), IGNORE_INDEX)
            for token_ids in pack_full_sentences([documents[k] for k in order], max_seq_length, cls_id, sep_id)]


def instances_of_one_pass(documents, rng, max_seq_length, short_seq_prob, task, cls_id, sep_id):
    if task == "none":
        return packed_instances(documents, rng, max_seq_length, cls_id, sep_id)
    return [instance
            for document_index in range(len(documents))
            for instance in instances_from_document(documents, document_index, rng, max_seq_length, short_seq_prob,
                                                    task, cls_id, sep_id)]


def create_instances(documents, rng, max_seq_length=128, short_seq_prob=0.1, dupe_factor=1, task="nsp", *,
                     cls_id, sep_id):
    """Every document's pairs (or for task none, the packed inputs), dupe_factor times (each time with new
    splits), in random order, as create_training_instances. `rng` is a numpy Generator: the same state gives
    the same instances."""
    if task not in SENTENCE_TASKS:
        raise ValueError(f"unknown task {task!r}: use one of {', '.join(SENTENCE_TASKS)}")
    if task == "nsp" and len(documents) < 2:
        raise ValueError(f"next-sentence prediction takes sentence B from another document, so it needs at "
                         f"least 2 documents; the corpus has {len(documents)} (a blank line separates documents)")
    if max_seq_length < 5:
        raise ValueError(f"max_seq_length={max_seq_length} is too short for [CLS] A [SEP] B [SEP] with a token "
                         f"in each of A and B; use 5 or more")
    instances = [instance
                 for _ in range(dupe_factor)
                 for instance in instances_of_one_pass(documents, rng, max_seq_length, short_seq_prob, task, cls_id,
                                                       sep_id)]
    return [instances[k] for k in rng.permutation(len(instances))]


@dataclass(frozen=True)
class Batch:
    input_ids: np.ndarray             # (B, T) int64, pad_id after each sequence
    segment_ids: np.ndarray           # (B, T) int64, 0 at padding
    attention_mask: np.ndarray        # (B, T) bool, True at real tokens
    masked_positions: np.ndarray      # (B, P) int64, 0 at padded predictions
    masked_labels: np.ndarray         # (B, P) int64, IGNORE_INDEX at padded predictions
    next_sentence_labels: np.ndarray  # (B,) int64: the NSP or SOP label; IGNORE_INDEX for task none


def make_batch(instances_with_masks, max_seq_length, max_predictions_per_seq, pad_id):
    """Pad (Instance, MaskedTokens) pairs into one Batch. T is the longest sequence in this batch, not
    max_seq_length: attention costs T^2, and padding no token reads is wasted work. P is
    max_predictions_per_seq, as the original, so the masked-LM loss always gathers the same count."""
    lengths = [len(instance.token_ids) for instance, _ in instances_with_masks]
    if max(lengths) > max_seq_length:
        raise ValueError(f"a sequence of {max(lengths)} tokens is longer than max_seq_length={max_seq_length}")
    B, T, P = len(instances_with_masks), max(lengths), max_predictions_per_seq
    input_ids = np.full((B, T), pad_id, dtype=np.int64)
    segment_ids = np.zeros((B, T), dtype=np.int64)
    masked_positions = np.zeros((B, P), dtype=np.int64)
    masked_labels = np.full((B, P), IGNORE_INDEX, dtype=np.int64)
    for row, (instance, masked) in enumerate(instances_with_masks):
        length, predictions = len(instance.token_ids), len(masked.masked_positions)
        if predictions > P:
            raise ValueError(f"{predictions} masked positions, more than max_predictions_per_seq={P}")
        input_ids[row, :length] = masked.input_ids
        segment_ids[row, :length] = instance.segment_ids
        masked_positions[row, :predictions] = masked.masked_positions
        masked_labels[row, :predictions] = masked.masked_labels
    attention_mask = np.arange(T) < np.array(lengths)[:, None]  # (B, T)
    next_sentence_labels = np.array([instance.label for instance, _ in instances_with_masks], dtype=np.int64)
    return Batch(input_ids, segment_ids, attention_mask, masked_positions, masked_labels, next_sentence_labels)


@dataclass
class PretrainingData:
    """Endless batches for pretraining from tokenized documents, the same for the same seed.

    masking "dynamic" (RoBERTa, section 4.1): each pass over the corpus draws new instances and new masks,
    so the model seldom sees the same masked copy twice. "static" (BERT): the first pass is drawn once, and
    every later pass shows those same masked instances again, in a new order, as training on the file that
    create_pretraining_data.py writes (here with dupe_factor 1: one masked copy of each instance). RoBERTa
    found dynamic masking as good or slightly better. Batches run on from one pass into the next.
    """
    documents: list  # of sentences, each a list of token ids (corpus.tokenize_documents)
    ids: VocabularyIds
    batch_size: int = 32
    seed: int = 0
    max_seq_length: int = 128
    max_predictions_per_seq: int = 20
    masked_lm_prob: float = 0.15
    short_seq_prob: float = 0.1
    task: str = "nsp"
    whole_word: bool = False
    masking: str = "dynamic"
    fill_a_batch_per_pass: bool = False  # True: a corpus whose pass gives fewer instances than a batch is an error
                                         # (else a batch repeats instances, as a small held-out set may)

    def __post_init__(self):
        if self.masking not in MASKINGS:
            raise ValueError(f"unknown masking {self.masking!r}: use one of {', '.join(MASKINGS)}")

    def masked_pass(self, rng):
        """One pass over the corpus: its instances, freshly drawn and shuffled, each with its mask."""
        instances = create_instances(self.documents, rng, self.max_seq_length, self.short_seq_prob,
                                     task=self.task, cls_id=self.ids.cls_id, sep_id=self.ids.sep_id)
        what = {"nsp": "sentence pairs", "sop": "sentence-order pairs", "none": "packed inputs"}[self.task]
        if not instances:
            raise ValueError(f"the corpus gives no {what}: each pair needs a document of two sentences or more")
        if self.fill_a_batch_per_pass and len(instances) < self.batch_size:
            raise ValueError(f"one pass over the corpus gives {len(instances)} {what}, fewer than one "
                             f"batch of {self.batch_size}: give a larger corpus, or a smaller --batch-size")
        return [(instance, mask_tokens(instance.token_ids, rng, self.ids.vocab_size, self.ids.special_ids,
                                       self.masked_lm_prob, self.max_predictions_per_seq, self.whole_word,
                                       self.ids.is_continuation, mask_id=self.ids.mask_id))
                for instance in instances]

    def masked_instances(self, rng):
        """(Instance, MaskedTokens) pairs, pass after pass over the corpus."""
        masked = self.masked_pass(rng)
        while True:
            yield from masked
            if self.masking == "dynamic":
                masked = self.masked_pass(rng)
            else:
                masked = [masked[k] for k in rng.permutation(len(masked))]

    def __iter__(self):
        masked_instances = self.masked_instances(np.random.default_rng(self.seed))
        while True:
            yield make_batch(list(islice(masked_instances, self.batch_size)), self.max_seq_length,
                             self.max_predictions_per_seq, self.ids.pad_id)
