"""Generated students for the knowledge-tracing BERT (models/knowledge_tracing.py): a question bank,
histories drawn from an item-response model, and BERT's masking of their interactions. All vectorised
NumPy over a whole batch of students, seeded by the generator passed in.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .models.knowledge_tracing import CORRECT, INCORRECT, MASK_ID, NUM_SPECIAL_IDS, PAD_ID
from .text.pretraining_data import IGNORE_INDEX


@dataclass(frozen=True)
class QuestionBank:
    """num_skills skills of questions_per_skill questions each, numbered skill by skill: skill 0's
    questions take the first ids, then skill 1's, and so on. Both arrays are indexed by question id, the
    two special ids included (skill PAD_ID and MASK_ID, difficulty 0 there), so
    `bank.skill_of_question[question_ids]` maps a whole batch at once."""

    skill_of_question: np.ndarray  # (Q,) the skill id of each question id
    difficulty: np.ndarray         # (Q,) b, the item-response difficulty on the logit scale

    @property
    def num_questions(self):
        return len(self.difficulty) - NUM_SPECIAL_IDS

    @property
    def num_skills(self):
        return int(self.skill_of_question.max()) - NUM_SPECIAL_IDS + 1

    @property
    def questions_per_skill(self):
        return self.num_questions // self.num_skills

    @property
    def difficulty_target(self):
        """(Q,) sigmoid(b), the difficulty in (0, 1) the model learns: the chance that a student of
        ability 0 answers the question wrongly."""
        return 1 / (1 + np.exp(-self.difficulty))


def draw_question_bank(rng, num_skills, questions_per_skill, difficulty_spread=1.5):
    """A bank whose questions have difficulties b drawn from N(0, difficulty_spread^2)."""
    if num_skills < 1 or questions_per_skill < 1:
        raise ValueError(f"num_skills={num_skills} and questions_per_skill={questions_per_skill} must both be at "
                         "least 1: a bank needs a question to ask")
    skills = np.repeat(np.arange(num_skills), questions_per_skill) + NUM_SPECIAL_IDS  # (num_questions,)
    difficulty = rng.normal(0.0, difficulty_spread, size=len(skills))
    return QuestionBank(np.concatenate([[PAD_ID, MASK_ID], skills]), np.concatenate([[0.0, 0.0], difficulty]))


class StudentHistories(NamedTuple):
    question_ids: np.ndarray  # (B, T) PAD_ID after each history's end
    skill_ids: np.ndarray     # (B, T)
    responses: np.ndarray     # (B, T) INCORRECT or CORRECT; PAD_ID at padding
    abilities: np.ndarray     # (B, num_skills) each student's ability in each skill, on the logit scale


def draw_student_histories(rng, bank, num_students, max_length, min_length=None, mean_block_length=6):
    """Histories of `num_students` students, min_length to max_length interactions each (padded to
    max_length), drawn as a one-parameter item-response (Rasch) model:

      - a student works in blocks, about mean_block_length interactions each: a block takes one skill
        and goes through its questions in question-id order from a random one on (after the skill's last
        question, back to its first);
      - each student has an ability per skill, a general level N(0, 1) plus a skill's own N(0, 0.5^2);
      - an answer is correct with probability sigmoid(ability - b): harder questions, fewer right.
    """
    min_length = max_length if min_length is None else min_length
    if not 1 <= min_length <= max_length:
        raise ValueError(f"min_length={min_length} and max_length={max_length} must satisfy "
                         "1 <= min_length <= max_length")
    if not mean_block_length >= 1:
        raise ValueError(f"mean_block_length={mean_block_length} must be at least 1 interaction")
    B, T, num_skills, per_skill = num_students, max_length, bank.num_skills, bank.questions_per_skill
    positions = np.arange(T)
    starts_block = rng.random((B, T)) < 1 / mean_block_length  # (B, T)
    starts_block[:, 0] = True
    block = np.cumsum(starts_block, axis=1) - 1  # (B, T) which block of its student each position is in
    block_start = np.maximum.accumulate(np.where(starts_block, positions, 0), axis=1)  # (B, T)
    skill = np.take_along_axis(rng.integers(0, num_skills, size=(B, T)), block, axis=1)  # (B, T) one per block
    first = np.take_along_axis(rng.integers(0, per_skill, size=(B, T)), block, axis=1)   # (B, T) its first question
    in_skill = (first + positions - block_start) % per_skill  # (B, T) in question-id order, wrapping round
    question_ids = NUM_SPECIAL_IDS + skill * per_skill + in_skill  # (B, T)

    abilities = rng.normal(0.0, 1.0, size=(B, 1)) + rng.normal(0.0, 0.5, size=(B, num_skills))  # (B, num_skills)
    ability = np.take_along_axis(abilities, skill, axis=1)  # (B, T)
    correct = rng.random((B, T)) < 1 / (1 + np.exp(bank.difficulty[question_ids] - ability))  # sigmoid(ability - b)
    responses = np.where(correct, CORRECT, INCORRECT)

    is_real = positions < rng.integers(min_length, max_length + 1, size=(B, 1))  # (B, T)
    return StudentHistories(np.where(is_real, question_ids, PAD_ID), np.where(is_real, skill + NUM_SPECIAL_IDS, PAD_ID),
                            np.where(is_real, responses, PAD_ID), abilities)


class MaskedInteractions(NamedTuple):
    question_ids: np.ndarray        # (B, T) what the model reads: [MASK], a random or the true question
    skill_ids: np.ndarray           # (B, T) likewise, always the skill of the question read
    responses: np.ndarray           # (B, T) unchanged
    question_targets: np.ndarray    # (B, T) the true question id at chosen positions, IGNORE_INDEX elsewhere
    skill_targets: np.ndarray       # (B, T) its skill id there, IGNORE_INDEX elsewhere
    difficulty_targets: np.ndarray  # (B, T) its difficulty in (0, 1) there, IGNORE_INDEX elsewhere

    @property
    def inputs(self):
        return self.question_ids, self.skill_ids, self.responses

    @property
    def targets(self):
        return self.question_targets, self.skill_targets, self.difficulty_targets


def mask_interactions(rng, bank, histories, mask_prob=0.15):
    """BERT's masking (as tinybert/text/masking.py does for words), for a whole batch at once: choose
    round(mask_prob * n) of each history's n interactions (at least 1, never padding), then hide the
    question and skill of 80% of them behind [MASK], replace 10% by a random question and its skill,
    and leave 10% as they are. The model must predict the true question, skill and difficulty at every
    chosen position, so it cannot learn that only [MASK] positions matter."""
    if not 0 < mask_prob < 1:
        raise ValueError(f"mask_prob={mask_prob} must lie between 0 and 1: BERT chooses 0.15 of the positions")
    question_ids, skill_ids = histories.question_ids, histories.skill_ids
    is_real = question_ids != PAD_ID  # (B, T)
    count = np.maximum(1, np.round(mask_prob * is_real.sum(axis=1, keepdims=True)))  # (B, 1)
    keys = np.where(is_real, rng.random(is_real.shape), np.inf)  # (B, T) padding sorts last
    rank = np.argsort(np.argsort(keys, axis=1), axis=1)  # (B, T) each position's place in a random order
    chosen = (rank < count) & is_real  # (B, T)

    draw = rng.random(chosen.shape)  # [0, 0.8) mask, [0.8, 0.9) keep, [0.9, 1) random
    random_questions = rng.integers(NUM_SPECIAL_IDS, len(bank.difficulty), size=chosen.shape)  # (B, T)
    read = np.where(chosen & (draw >= 0.9), random_questions, question_ids)
    read_skills = bank.skill_of_question[read]  # padding stays PAD_ID
    hidden = chosen & (draw < 0.8)
    return MaskedInteractions(np.where(hidden, MASK_ID, read), np.where(hidden, MASK_ID, read_skills),
                              histories.responses,
                              np.where(chosen, question_ids, IGNORE_INDEX), np.where(chosen, skill_ids, IGNORE_INDEX),
                              np.where(chosen, bank.difficulty_target[question_ids], float(IGNORE_INDEX)))
