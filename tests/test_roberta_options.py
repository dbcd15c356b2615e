"""RoBERTa's pretraining options, below the command line: the masked LM without a sentence task (its loss
and gradients, the pooler left alone) and gradient accumulation (the gradient of one large batch, steps
counted as optimizer steps)."""

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from devices import host
from float64_models import float64_model
from tinybert import autograd as ag
from tinybert.autograd import gradcheck
from tinybert.models.bert import BertConfig, BertForPreTraining
from tinybert.optim import linear_warmup_decay
from tinybert.pretraining import PretrainSettings, backward_through, forward, start_run, train
from tinybert.text.pretraining_data import IGNORE_INDEX, PretrainingData, VocabularyIds

VOCAB, SEQUENCE_LENGTH = 30, 12
IDS = VocabularyIds(VOCAB, pad_id=0, cls_id=2, sep_id=3, mask_id=4, special_ids=frozenset(range(5)))
SENTENCE_HEAD = ("bert.pooler", "next_sentence")  # what no sentence task leaves untrained


def micro_model(seed):
    config = BertConfig(vocab_size=VOCAB, hidden_size=4, num_layers=1, num_heads=2, intermediate_size=6,
                        max_position_embeddings=SEQUENCE_LENGTH, hidden_dropout=0.0, attention_dropout=0.0)
    return float64_model(BertForPreTraining(config), seed)


def micro_batches(seed, task, batch_size, count):
    """The first `count` batches of a small random corpus; the examples do not depend on batch_size, so the
    first batch of 32 holds the examples of the first two batches of 16."""
    rng = np.random.default_rng(seed)
    documents = [[rng.integers(5, VOCAB, size=rng.integers(1, 6)).tolist() for _ in range(6)] for _ in range(8)]
    stream = iter(PretrainingData(documents, IDS, batch_size=batch_size, seed=seed, max_seq_length=SEQUENCE_LENGTH,
                                  max_predictions_per_seq=3, masked_lm_prob=0.2, task=task))
    return [next(stream) for _ in range(count)]


def gradients(model):
    return {name: None if parameter.grad is None else host(parameter.grad).copy()
            for name, parameter in model.named_parameters()}


def one_batch_loss(model, batch, task):
    """The loss of one batch straight from the model: the reference the accumulated gradient must equal."""
    mlm_logits, nsp_logits = model(batch.input_ids, batch.segment_ids, batch.attention_mask, batch.masked_positions)
    if task == "none":
        return ag.cross_entropy(mlm_logits, batch.masked_labels, ignore_index=IGNORE_INDEX)
    return model.loss(mlm_logits, nsp_logits, batch.masked_labels, batch.next_sentence_labels)[0]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), task=st.sampled_from(["nsp", "sop", "none"]))
def test_accumulating_two_batches_of_16_gives_the_gradient_of_one_batch_of_32(seed, task):
    halves, (whole,) = micro_batches(seed, task, 16, 2), micro_batches(seed, task, 32, 1)
    masked = [(batch.masked_labels != IGNORE_INDEX).sum() for batch in halves]
    assume(masked[0] != masked[1])  # then weighing each half by 1/2 would be wrong: the test can tell
    model = micro_model(seed)
    one_batch_loss(model, whole, task).backward()
    expected = gradients(model)
    model.zero_grad()
    metrics = backward_through(model, halves, task, baseline_id=5)
    for name, gradient in gradients(model).items():
        if expected[name] is None:
            assert gradient is None, name
        else:
            np.testing.assert_allclose(gradient, expected[name], rtol=1e-9, atol=1e-12, err_msg=name)
    with ag.no_grad():
        assert metrics["loss"] == pytest.approx(one_batch_loss(model, whole, task).item(), rel=1e-12)


@pytest.mark.parametrize("task", ["nsp", "none"])
def test_without_a_sentence_task_the_loss_is_the_masked_lm_alone_and_the_pooler_gets_no_gradient(task):
    model = micro_model(0)
    (batch,) = micro_batches(0, task, 8, 1)
    _, _, mlm_loss, nsp_loss = forward(model, batch, task)
    backward_through(model, [batch], task, baseline_id=5)
    untrained = [name for name, gradient in gradients(model).items() if gradient is None]
    if task == "none":
        assert nsp_loss is None and (batch.next_sentence_labels == IGNORE_INDEX).all()
        head = [name for name, _ in model.named_parameters() if name.startswith(SENTENCE_HEAD)]
        assert sorted(untrained) == sorted(head)
    else:
        assert nsp_loss is not None and untrained == []


@settings(max_examples=3, deadline=None)  # each example checks ~400 parameters, two forward passes apiece
@given(seed=st.integers(0, 2**16))
def test_the_masked_lm_loss_alone_matches_finite_differences(seed):
    model = micro_model(seed)
    (batch,) = micro_batches(seed, "none", 4, 1)
    assert gradcheck(lambda *parameters: forward(model, batch, "none")[2], *model.parameters())


def micro_documents(count=12):
    rng = np.random.default_rng(0)
    return [[f"the {rng.choice(['cat', 'dog', 'bird'])} sleeps in the {rng.choice(['garden', 'house'])} every day."
             for _ in range(5)] for _ in range(count)]


MICRO = dict(vocab_size=60, max_seq_length=24, batch_size=4, warmup_steps=2, steps=6)


def test_a_step_takes_accumulate_batches_and_the_schedule_counts_optimizer_steps():
    documents = micro_documents()
    accumulating = start_run(PretrainSettings(**MICRO, accumulate=2), documents)
    plain = start_run(PretrainSettings(**MICRO), documents)  # the same data stream, a batch a step
    metrics = []
    train(accumulating, 3, metrics.append)
    assert [record["step"] for record in metrics] == [1, 2, 3] and accumulating.step == 3
    assert [record["learning_rate"] for record in metrics] == pytest.approx(
        [PretrainSettings.learning_rate * linear_warmup_decay(number, 2, 6) for number in range(3)])
    batches = [next(plain.batches) for _ in range(7)]
    assert metrics[0]["tokens"] == sum(int(batch.attention_mask.sum()) for batch in batches[:2])
    np.testing.assert_array_equal(next(accumulating.batches).input_ids, batches[6].input_ids)  # 3 steps took 6


def test_no_sentence_task_trains_without_touching_the_pooler_or_the_sentence_head():
    run = start_run(PretrainSettings(**MICRO, sentence_task="none"), micro_documents())
    head = {name: host(parameter.data).copy() for name, parameter in run.model.named_parameters()
            if name.startswith(SENTENCE_HEAD)}
    encoder_before = host(run.model.bert.encoder.layers[0].attention_norm.weight.data).copy()
    metrics = []
    train(run, 3, metrics.append)
    assert "nsp_loss" not in metrics[-1] and metrics[-1]["loss"] == metrics[-1]["mlm_loss"]
    for name, parameter in run.model.named_parameters():
        if name in head:
            np.testing.assert_array_equal(host(parameter.data), head[name], err_msg=name)
    assert not np.array_equal(host(run.model.bert.encoder.layers[0].attention_norm.weight.data), encoder_before)


@pytest.mark.parametrize("settings_given, message", [
    (dict(sentence_task="next"), "unknown sentence_task 'next': use one of nsp, sop, none"),
    (dict(masking="always"), "unknown masking 'always': use one of dynamic, static"),
    (dict(accumulate=0), "accumulate must be at least 1, not 0"),
    (dict(embedding_size=0), "embedding_size must be at least 1, not 0"),
    (dict(held_out_every=1), "held_out_every=1 leaves nothing to train on"),
    (dict(objective="clm", share_layers=True, masking="static"),
     "masking, share_layers: BERT's settings, which a left-to-right GPT"),
])
def test_bad_settings_are_named(settings_given, message):
    with pytest.raises(ValueError, match=message):
        PretrainSettings(**settings_given)
