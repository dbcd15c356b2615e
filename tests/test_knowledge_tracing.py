"""The knowledge-tracing BERT: finite-difference gradients of its three-term loss, positions without a
target, the difficulty's weight of 30, padding, the generated students and their masking, learning, and
clear errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import host, on_device
from float64_models import float64_model
from tinybert import autograd as ag
from tinybert.autograd import gradcheck
from tinybert.models.knowledge_tracing import (CORRECT, INCORRECT, MASK_ID, NUM_SPECIAL_IDS, PAD_ID,
                                               KnowledgeTracingBert, KnowledgeTracingConfig, KnowledgeTracingOutputs)
from tinybert.student_histories import draw_question_bank, draw_student_histories, mask_interactions
from tinybert.optim import AdamW

IGNORED = -100
SKILLS, QUESTIONS_PER_SKILL = 2, 3
BANK = draw_question_bank(np.random.default_rng(0), SKILLS, QUESTIONS_PER_SKILL)
HISTORIES = draw_student_histories(np.random.default_rng(0), BANK, num_students=2, max_length=5)


def micro_config(**overrides):
    sizes = dict(num_questions=SKILLS * QUESTIONS_PER_SKILL, num_skills=SKILLS, hidden_size=4, num_layers=1,
                 num_heads=2, intermediate_size=6, max_position_embeddings=8, hidden_dropout=0.0, attention_dropout=0.0)
    return KnowledgeTracingConfig(**{**sizes, **overrides})


def student_batch(seed, num_students, length, min_length=2):
    """Masked histories of students of BANK with min_length to `length` interactions, padded to `length`."""
    rng = np.random.default_rng(seed)
    histories = draw_student_histories(rng, BANK, num_students, length, min_length=min_length)
    return mask_interactions(rng, BANK, histories)


def losses_of(model, batch):
    return model.loss(model(*batch.inputs), *batch.targets)


def leaf_outputs(rng, B=3, T=5, Q=8, S=4):
    """Head outputs as float64 leaves, so a test can read the loss's gradient with respect to each."""
    def leaf(*shape, squash=False):
        values = rng.standard_normal(shape)
        return ag.Tensor(on_device(1 / (1 + np.exp(-values)) if squash else values), requires_grad=True,
                         dtype=np.float64)

    return KnowledgeTracingOutputs(leaf(B, T, Q), leaf(B, T, S), leaf(B, T, squash=True))


def some_targets(rng, B=3, T=5, Q=8, S=4):
    """Targets with a real one at about a third of the positions (and at least one), -100 elsewhere."""
    has_target = rng.random((B, T)) < 0.35
    has_target[0, 0] = True
    return (np.where(has_target, rng.integers(2, Q, (B, T)), IGNORED),
            np.where(has_target, rng.integers(2, S, (B, T)), IGNORED),
            np.where(has_target, rng.random((B, T)), float(IGNORED)))


def numpy_cross_entropy(logits, labels, counted):
    """-log softmax(logits)[label], averaged over the counted positions."""
    log_probabilities = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probabilities, np.where(counted, labels, 0)[..., None], -1)[..., 0]
    return -picked[counted].mean()


def changed_where(positions, output, rng):
    """A copy of the head output `output` with other values at `positions` (B, T) only."""
    values = host(output.data)
    at = positions.reshape(positions.shape + (1,) * (values.ndim - 2))  # (B, T) or (B, T, 1)
    return ag.Tensor(on_device(np.where(at, values + 5 * rng.standard_normal(values.shape), values)), dtype=np.float64)


@settings(max_examples=4)  # each example checks a few hundred parameters, two forward passes apiece
@given(seed=st.integers(0, 2**16), num_students=st.integers(1, 3), length=st.integers(2, 6),
       num_layers=st.integers(1, 2))
def test_the_combined_loss_gradients_match_finite_differences(seed, num_students, length, num_layers):
    ag.manual_seed(seed)
    model = float64_model(KnowledgeTracingBert(micro_config(num_layers=num_layers)), seed)
    batch = student_batch(seed, num_students, length)  # padded where a history is shorter than `length`
    assert gradcheck(lambda *parameters: losses_of(model, batch).total, *model.parameters())


def test_positions_without_a_target_add_nothing_to_the_loss_or_its_gradient():
    rng = np.random.default_rng(0)
    model = KnowledgeTracingBert(micro_config())
    outputs, targets = leaf_outputs(rng), some_targets(rng)
    losses = model.loss(outputs, *targets)
    losses.total.backward()
    has_target = targets[0] != IGNORED  # (B, T)
    for output in outputs:
        assert np.all(host(output.grad)[~has_target] == 0) and np.abs(host(output.grad)[has_target]).sum() > 0

    question_logits, skill_logits, difficulty = (host(output.data) for output in outputs)
    np.testing.assert_allclose(losses.question.item(), numpy_cross_entropy(question_logits, targets[0], has_target),
                               rtol=1e-12)
    np.testing.assert_allclose(losses.skill.item(), numpy_cross_entropy(skill_logits, targets[1], has_target),
                               rtol=1e-12)
    np.testing.assert_allclose(losses.difficulty.item(), np.mean((difficulty - targets[2])[has_target] ** 2),
                               rtol=1e-12)

    elsewhere = KnowledgeTracingOutputs(*(changed_where(~has_target, output, rng) for output in outputs))
    assert model.loss(elsewhere, *targets).total.item() == losses.total.item()


def test_the_total_is_question_plus_skill_plus_30_times_difficulty():
    rng = np.random.default_rng(1)
    outputs, targets = leaf_outputs(rng), some_targets(rng)
    model = KnowledgeTracingBert(micro_config())
    assert model.config.difficulty_weight == 30
    losses = model.loss(outputs, *targets)
    assert losses.difficulty.item() > 0
    np.testing.assert_allclose(losses.total.item(),
                               losses.question.item() + losses.skill.item() + 30 * losses.difficulty.item(), rtol=1e-12)


def test_twice_the_difficulty_weight_gives_twice_its_gradient_and_leaves_the_others():
    rng = np.random.default_rng(2)
    outputs, targets = leaf_outputs(rng), some_targets(rng)
    gradients = []
    for weight in (30.0, 60.0):
        for output in outputs:
            output.zero_grad()
        KnowledgeTracingBert(micro_config(difficulty_weight=weight)).loss(outputs, *targets).total.backward()
        gradients.append([host(output.grad).copy() for output in outputs])
    (question_30, skill_30, difficulty_30), (question_60, skill_60, difficulty_60) = gradients
    np.testing.assert_allclose(difficulty_60, 2 * difficulty_30, rtol=1e-12)
    np.testing.assert_array_equal(question_60, question_30)
    np.testing.assert_array_equal(skill_60, skill_30)


def test_appended_padding_never_changes_the_real_positions():
    ag.manual_seed(0)
    model = float64_model(KnowledgeTracingBert(micro_config()), 0)
    batch = student_batch(0, num_students=2, length=5, min_length=5)
    padded = [np.concatenate([stream, np.full((2, 3), PAD_ID)], axis=1) for stream in batch.inputs]
    for short, long in zip(model(*batch.inputs), model(*padded)):
        np.testing.assert_allclose(host(long.data)[:, :5], host(short.data), rtol=1e-10, atol=1e-12)


def test_harder_questions_are_answered_correctly_less_often_as_the_item_response_model_says():
    rng = np.random.default_rng(0)
    bank = draw_question_bank(rng, num_skills=4, questions_per_skill=10)
    histories = draw_student_histories(rng, bank, num_students=2000, max_length=40)
    correct = histories.responses == CORRECT  # (B, T): every position is real, min_length defaults to max_length
    questions = histories.question_ids.ravel()
    attempts = np.bincount(questions, minlength=len(bank.difficulty))[NUM_SPECIAL_IDS:]  # (num_questions,)
    right = np.bincount(questions, weights=correct.ravel(), minlength=len(bank.difficulty))[NUM_SPECIAL_IDS:]
    assert attempts.min() > 500
    assert abs(histories.abilities.std() - np.sqrt(1 + 0.5**2)) < 0.05  # a student's level plus a skill's own
    assert np.corrcoef(bank.difficulty[NUM_SPECIAL_IDS:], right / attempts)[0, 1] < -0.9  # harder, fewer right
    ability = np.take_along_axis(histories.abilities, histories.skill_ids - NUM_SPECIAL_IDS, axis=1)  # (B, T)
    expected = 1 / (1 + np.exp(bank.difficulty[histories.question_ids] - ability))  # (B, T) sigmoid(ability - b)
    fifth = np.minimum((expected * 5).astype(int), 4).ravel()  # answers grouped by their chance: below 0.2, ...
    count = np.bincount(fifth, minlength=5)
    observed = np.bincount(fifth, weights=correct.ravel(), minlength=5) / count
    np.testing.assert_allclose(observed, np.bincount(fifth, weights=expected.ravel(), minlength=5) / count, atol=0.01)
    assert count.min() > 5000


def test_histories_keep_to_the_bank_pad_at_the_end_and_follow_question_id_order():
    rng = np.random.default_rng(1)
    bank = draw_question_bank(rng, num_skills=5, questions_per_skill=8)
    histories = draw_student_histories(rng, bank, num_students=500, max_length=30, min_length=10, mean_block_length=6)
    is_real = histories.question_ids != PAD_ID
    lengths = is_real.sum(axis=1)
    assert lengths.min() == 10 and lengths.max() == 30
    np.testing.assert_array_equal(is_real, np.arange(30) < lengths[:, None])  # padding only after the end
    np.testing.assert_array_equal(histories.skill_ids, bank.skill_of_question[histories.question_ids])
    assert set(np.unique(histories.responses[is_real])) == {INCORRECT, CORRECT}
    assert np.all(histories.responses[~is_real] == PAD_ID)
    numbers = histories.question_ids - NUM_SPECIAL_IDS  # (B, T) questions counted from 0, skill by skill
    previous, current, per_skill = numbers[:, :-1], numbers[:, 1:], bank.questions_per_skill
    next_in_skill = previous // per_skill * per_skill + (previous + 1) % per_skill  # the same skill's next, wrapping
    follows = (current == next_in_skill)[is_real[:, 1:]]
    assert abs(follows.mean() - 5 / 6) < 0.02  # a new block starts at 1 position in 6


def test_the_same_seed_draws_the_same_students():
    first, second, other = (student_batch(seed, 4, 12) for seed in (7, 7, 8))
    for drawn, drawn_again in zip(first, second):
        np.testing.assert_array_equal(drawn, drawn_again)
    assert not np.array_equal(first.question_ids, other.question_ids)


def test_masking_chooses_15_percent_of_real_positions_then_masks_80_keeps_10_replaces_10():
    rng = np.random.default_rng(3)
    bank = draw_question_bank(rng, num_skills=5, questions_per_skill=8)
    histories = draw_student_histories(rng, bank, 4000, 40, min_length=10)
    masked = mask_interactions(rng, bank, histories)
    is_real, chosen = histories.question_ids != PAD_ID, masked.question_targets != IGNORED
    np.testing.assert_array_equal(chosen.sum(axis=1), np.maximum(1, np.round(0.15 * is_real.sum(axis=1))))
    assert not chosen[~is_real].any()
    np.testing.assert_array_equal(masked.question_targets[chosen], histories.question_ids[chosen])
    np.testing.assert_array_equal(masked.skill_targets[chosen], histories.skill_ids[chosen])
    np.testing.assert_array_equal(masked.difficulty_targets[chosen],
                                  bank.difficulty_target[histories.question_ids[chosen]])
    assert np.all(masked.skill_targets[~chosen] == IGNORED) and np.all(masked.difficulty_targets[~chosen] == IGNORED)
    np.testing.assert_array_equal(masked.responses, histories.responses)
    np.testing.assert_array_equal(masked.question_ids[~chosen], histories.question_ids[~chosen])  # only chosen change

    read = masked.question_ids[chosen]
    hidden = read == MASK_ID
    unchanged = read == histories.question_ids[chosen]
    assert abs(hidden.mean() - 0.8) < 0.01
    assert abs(unchanged.mean() - (0.1 + 0.1 / 40)) < 0.01  # a random question is the true one 1 time in 40
    assert abs((~hidden & ~unchanged).mean() - 0.1 * 39 / 40) < 0.01
    np.testing.assert_array_equal(masked.skill_ids[chosen] == MASK_ID, hidden)  # question and skill hide together
    np.testing.assert_array_equal(masked.skill_ids[chosen][~hidden], bank.skill_of_question[read[~hidden]])


def test_a_few_training_steps_lower_each_term_on_held_out_students():
    ag.manual_seed(0)
    config = micro_config(hidden_size=16, num_heads=2, intermediate_size=32, max_position_embeddings=12,
                          num_questions=10, num_skills=2)
    model = KnowledgeTracingBert(config)
    optimizer = AdamW(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    bank = draw_question_bank(rng, num_skills=2, questions_per_skill=5)
    held_out = mask_interactions(rng, bank, draw_student_histories(rng, bank, 200, 12))
    model.eval()
    before = losses_of(model, held_out)
    model.train()
    for _ in range(40):
        batch = mask_interactions(rng, bank, draw_student_histories(rng, bank, 16, 12))
        optimizer.zero_grad()
        losses_of(model, batch).total.backward()
        optimizer.step()
    model.eval()
    after = losses_of(model, held_out)
    for term in ("question", "skill", "difficulty"):
        assert getattr(after, term).item() < 0.9 * getattr(before, term).item(), term


@pytest.mark.parametrize("make, message", [
    (lambda: micro_config(num_questions=0), "num_questions=0 must be at least 1"),
    (lambda: micro_config(num_skills=0), "num_skills=0 must be at least 1"),
    (lambda: micro_config(difficulty_weight=-1.0), "difficulty_weight=-1.0 must be 0 or more"),
    (lambda: KnowledgeTracingBert(micro_config())(np.full((2, 3), 2), np.full((2, 4), 2), np.full((2, 3), 1)),
     r"skill_ids \(2, 4\) .* must share one shape"),
    (lambda: KnowledgeTracingBert(micro_config())(*[np.full((1, 9), 2)] * 3),
     "9 interactions exceeds max_position_embeddings=8"),
    (lambda: KnowledgeTracingBert(micro_config())(np.full((1, 3), 8), np.full((1, 3), 2), np.full((1, 3), 1)),
     r"question_ids holds 8, outside 0\.\.7"),
    (lambda: KnowledgeTracingBert(micro_config())(np.full((1, 3), 2), np.full((1, 3), 2), np.full((1, 3), 3)),
     r"responses holds 3, outside 0\.\.2"),
    (lambda: draw_question_bank(np.random.default_rng(0), 0, 3), "num_skills=0 and questions_per_skill=3"),
    (lambda: draw_student_histories(np.random.default_rng(0), BANK, 2, 5, min_length=6),
     "min_length=6 and max_length=5"),
    (lambda: mask_interactions(np.random.default_rng(0), BANK, HISTORIES, mask_prob=1.5),
     "mask_prob=1.5 must lie between 0 and 1"),
])
def test_bad_configs_and_inputs_are_one_line_value_errors(make, message):
    with pytest.raises(ValueError, match=message) as error:
        make()
    assert "\n" not in str(error.value)
