"""A knowledge-tracing BERT: BERT's encoder reading a student's history of answers instead of a sentence,
pre-trained on three tasks at once.

Knowledge tracing follows what a student knows from what they answered (Corbett and Anderson 1995;
Piech et al. 2015, "Deep Knowledge Tracing"). A history is a sequence of interactions; each position has
several input streams, each with its own embedding table: the question id, the question's skill id and
the response (incorrect or correct). As BERT does with words, 15% of the positions are chosen, their
question and skill ids hidden behind [MASK] (80%), replaced at random (10%) or left (10%), and the model
predicts, at the chosen positions only:
  - which question was asked there (cross-entropy over the question ids),
  - which skill it practises (cross-entropy over the skill ids),
  - how difficult the question is, a number in [0, 1] (squared error).
The response stays visible: the model is told whether the hidden question was answered rightly.

Read in this order: the special ids, the config, the embeddings, the model, the loss. The students it
learns from are generated in tinybert/student_histories.py.

Symbols: B students, T interactions, H hidden size, Q question vocabulary (the questions and the two
special ids), S skill vocabulary (likewise). Positions not to predict carry the target -100.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .. import autograd as ag
from ..autograd import backend
from ..autograd.losses import reduce
from ..nn import Dropout, Embedding, LayerNorm, Linear, Module
from ..text.pretraining_data import IGNORE_INDEX
from .attention import padding_mask
from .bert import BertConfig, BertEncoder

PAD_ID, MASK_ID = 0, 1  # in the question and the skill streams; questions and skills are numbered from 2
NUM_SPECIAL_IDS = 2
INCORRECT, CORRECT = 1, 2  # the response stream; PAD_ID at padding
NUM_RESPONSE_IDS = 3


@dataclass
class KnowledgeTracingConfig:
    """The sizes of the model, the encoder's named as BertConfig names them, and the weight of the
    difficulty term in the loss (see KnowledgeTracingBert.loss for why it is 30)."""

    num_questions: int
    num_skills: int
    hidden_size: int = 64                # H
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int = 256         # the feed-forward width, 4 H
    max_position_embeddings: int = 128   # the longest history
    hidden_dropout: float = 0.1
    attention_dropout: float = 0.1
    layer_norm_eps: float = 1e-12
    difficulty_weight: float = 30.0

    def __post_init__(self):
        for name in ("num_questions", "num_skills"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be at least 1: it counts the ids the model "
                                 "reads and predicts, without the two special ids")
        if not self.difficulty_weight >= 0:
            raise ValueError(f"difficulty_weight={self.difficulty_weight} must be 0 or more: it scales a squared "
                             "error, and 30 is the usual choice")

    @property
    def question_vocab_size(self):
        """Q: the questions and the special ids [PAD] and [MASK]."""
        return self.num_questions + NUM_SPECIAL_IDS

    @property
    def skill_vocab_size(self):
        """S: the skills and the special ids [PAD] and [MASK]."""
        return self.num_skills + NUM_SPECIAL_IDS

    def encoder_config(self):
        """The encoder's sizes as the BertConfig that BertEncoder reads (it never reads vocab_size)."""
        return BertConfig(vocab_size=self.question_vocab_size, hidden_size=self.hidden_size,
                          num_layers=self.num_layers, num_heads=self.num_heads,
                          intermediate_size=self.intermediate_size,
                          max_position_embeddings=self.max_position_embeddings, hidden_dropout=self.hidden_dropout,
                          attention_dropout=self.attention_dropout, layer_norm_eps=self.layer_norm_eps)


def check_ids(name, ids, vocab_size):
    """Raise a one-line ValueError when an id of the stream `name` lies outside 0..vocab_size - 1."""
    bad = backend.first_out_of_range(ids, 0, vocab_size)
    if bad is not None:
        raise ValueError(f"{name} holds {bad}, outside 0..{vocab_size - 1}: were the histories drawn for "
                         "another question bank, or built with another config?")


class KnowledgeTracingEmbeddings(Module):
    """Question + skill + response + position embeddings, summed, then LayerNorm and dropout: BERT's
    embeddings (token + position + segment) with a stream of its own for each thing a position holds."""

    def __init__(self, config):
        H = config.hidden_size
        self.question_embeddings = Embedding(config.question_vocab_size, H, init="bert")
        self.skill_embeddings = Embedding(config.skill_vocab_size, H, init="bert")
        self.response_embeddings = Embedding(NUM_RESPONSE_IDS, H, init="bert")
        self.position_embeddings = Embedding(config.max_position_embeddings, H, init="bert")
        self.layer_norm = LayerNorm(H, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout)

    def forward(self, question_ids, skill_ids, responses):  # (B, T) each -> (B, T, H)
        if not question_ids.shape == skill_ids.shape == responses.shape or question_ids.ndim != 2:
            raise ValueError(f"question_ids {question_ids.shape}, skill_ids {skill_ids.shape} and responses "
                             f"{responses.shape} must share one shape (B, T): one row per student")
        T, max_positions = question_ids.shape[1], self.position_embeddings.weight.shape[0]
        if T > max_positions:
            raise ValueError(f"a history of {T} interactions exceeds max_position_embeddings={max_positions}: "
                             "keep its last interactions, or build the model with a larger max_position_embeddings")
        check_ids("question_ids", question_ids, self.question_embeddings.weight.shape[0])
        check_ids("skill_ids", skill_ids, self.skill_embeddings.weight.shape[0])
        check_ids("responses", responses, NUM_RESPONSE_IDS)
        x = (self.question_embeddings(question_ids) + self.skill_embeddings(skill_ids)
             + self.response_embeddings(responses) + self.position_embeddings(np.arange(T)))  # (B, T, H) + (T, H)
        return self.dropout(self.layer_norm(x))  # (B, T, H)


class KnowledgeTracingOutputs(NamedTuple):
    question_logits: ag.Tensor  # (B, T, Q) a score for each question id
    skill_logits: ag.Tensor     # (B, T, S) a score for each skill id
    difficulty: ag.Tensor       # (B, T) the predicted difficulty, in (0, 1)


class KnowledgeTracingLosses(NamedTuple):
    total: ag.Tensor       # question + skill + difficulty_weight * difficulty
    question: ag.Tensor    # cross-entropy of the hidden questions, in nats
    skill: ag.Tensor       # cross-entropy of their skills, in nats
    difficulty: ag.Tensor  # mean squared error of their difficulty, before the weight


def masked_mean_squared_error(prediction, target):
    """The mean of (prediction - target)^2 over the positions whose target is not IGNORE_INDEX: the
    others add nothing to the loss or the gradient and do not count in the mean (cross_entropy's
    ignore_index, for a regression). With no target at all the mean is 0, not 0/0."""
    xp = backend.array_module(target)
    target = xp.asarray(target)
    counted = target != IGNORE_INDEX  # (B, T)
    squared = ag.mse_loss(prediction, xp.where(counted, target, 0.0), reduction="none")  # (B, T)
    return reduce(squared * counted, "mean", count=counted.sum())  # d: 2 (p - t) / count where counted, else 0


class KnowledgeTracingBert(Module):
    """The embeddings, BERT's encoder (models/bert.py, unchanged) and three heads on every position: a
    linear layer to the question logits, one to the skill logits, and one to a single number squashed by
    a sigmoid into (0, 1), the difficulty. Padding (question id 0) is never attended to."""

    def __init__(self, config):
        self.config = config
        H = config.hidden_size
        self.embeddings = KnowledgeTracingEmbeddings(config)
        self.encoder = BertEncoder(config.encoder_config())
        self.question_head = Linear(H, config.question_vocab_size, init="bert")
        self.skill_head = Linear(H, config.skill_vocab_size, init="bert")
        self.difficulty_head = Linear(H, 1, init="bert")

    def forward(self, question_ids, skill_ids, responses):
        """question_ids, skill_ids, responses (B, T) of integers, PAD_ID at padding. Returns the three
        heads' outputs at every position; the loss reads them only where there is a target."""
        xp = backend.array_module(question_ids)  # ids may come as NumPy arrays (or lists), or already on the GPU
        question_ids, skill_ids, responses = xp.asarray(question_ids), xp.asarray(skill_ids), xp.asarray(responses)
        is_real = question_ids != PAD_ID  # (B, T)
        mask = None if is_real.all() else padding_mask(is_real)  # (B, 1, 1, T); no padding: None
        hidden = self.encoder(self.embeddings(question_ids, skill_ids, responses), mask)  # (B, T, H)
        difficulty = ag.sigmoid(self.difficulty_head(hidden))  # (B, T, 1)
        return KnowledgeTracingOutputs(self.question_head(hidden), self.skill_head(hidden),  # (B, T, Q), (B, T, S)
                                       difficulty.reshape(difficulty.shape[:2]))  # (B, T)

    def loss(self, outputs, question_targets, skill_targets, difficulty_targets):
        """question + skill + difficulty_weight * difficulty, with each term (KnowledgeTracingLosses).

        Targets are (B, T), -100 where there is nothing to predict; each term is a mean over the
        positions with a target. Why 30: the squared error of a difficulty in [0, 1] is small, about 0.07
        for a model that always guesses the mean difficulty (their variance), while each cross-entropy
        starts near ln(Q) or ln(S), several nats. Unweighted, the difficulty would be about 1% of the
        total; times 30 its value (about 2) stands beside the cross-entropies' (4.6 and 2.5 at the start
        of examples/09_knowledge_tracing.py). Its gradient then leads: there, into the embeddings and the
        encoder, its norm is 0.24 unweighted against 0.71 for the question and 1.42 for the skill, so 7.2
        weighted. A weight on a mean shows in the gradient: twice the weight, twice the gradient."""
        question = ag.cross_entropy(outputs.question_logits, question_targets, ignore_index=IGNORE_INDEX)
        skill = ag.cross_entropy(outputs.skill_logits, skill_targets, ignore_index=IGNORE_INDEX)
        difficulty = masked_mean_squared_error(outputs.difficulty, difficulty_targets)
        total = question + skill + self.config.difficulty_weight * difficulty
        return KnowledgeTracingLosses(total, question, skill, difficulty)
