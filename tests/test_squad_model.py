"""BertForQuestionAnswering: finite-difference gradients of the whole loss, the loss as Hugging Face
computes it, padding that can never be an answer, and positions outside the input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import host
from float64_models import float64_model
from test_bert import VOCAB, micro_config
from tinybert import autograd as ag
from tinybert.autograd import gradcheck
from tinybert.models.question_answering import PADDING_LOGIT, BertForQuestionAnswering


def question_batch(rng):
    """Two inputs of 6 tokens, the second ending in two padding tokens; answer positions in each."""
    input_ids = rng.integers(1, VOCAB, size=(2, 6))
    input_ids[1, -2:] = 0
    segment_ids = np.array([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 0, 0]])
    return dict(input_ids=input_ids, segment_ids=segment_ids, attention_mask=input_ids != 0), \
        rng.integers(0, 4, size=2), rng.integers(0, 4, size=2)


@settings(max_examples=4)  # each example checks ~250 parameters, two forward passes apiece
@given(seed=st.integers(0, 2**16))
def test_question_answering_loss_gradients_match_finite_differences(seed):
    ag.manual_seed(seed)
    model = float64_model(BertForQuestionAnswering(micro_config()), seed)
    inputs, starts, ends = question_batch(np.random.default_rng(seed))
    assert gradcheck(lambda *parameters: model.loss(*model(**inputs), starts, ends), *model.parameters())


def test_the_loss_is_the_mean_of_the_start_and_end_cross_entropies():
    ag.manual_seed(0)
    model = float64_model(BertForQuestionAnswering(micro_config()), 0)
    inputs, starts, ends = question_batch(np.random.default_rng(0))
    start_logits, end_logits = model(**inputs)

    def cross_entropy(logits, targets):  # by hand: log(sum exp) - logit of the target, averaged over the batch
        return np.mean(np.log(np.exp(logits).sum(-1)) - logits[np.arange(len(targets)), targets])

    expected = (cross_entropy(start_logits.numpy(), starts) + cross_entropy(end_logits.numpy(), ends)) / 2
    np.testing.assert_allclose(model.loss(start_logits, end_logits, starts, ends).item(), expected, rtol=1e-12)


def test_padding_scores_padding_logit_and_changes_no_real_score():
    ag.manual_seed(0)
    model = float64_model(BertForQuestionAnswering(micro_config()), 0)
    inputs, _, _ = question_batch(np.random.default_rng(0))
    start_logits, end_logits = (host(logits.data) for logits in model(**inputs))
    assert (start_logits[1, -2:] == PADDING_LOGIT).all() and (end_logits[1, -2:] == PADDING_LOGIT).all()
    short = model(inputs["input_ids"][1:, :4], inputs["segment_ids"][1:, :4])  # the same input, unpadded
    np.testing.assert_allclose(start_logits[1, :4], short[0].numpy()[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(end_logits[1, :4], short[1].numpy()[0], rtol=1e-10, atol=1e-12)


def test_padding_gets_no_gradient_and_its_probability_is_zero():
    ag.manual_seed(0)
    model = float64_model(BertForQuestionAnswering(micro_config()), 0)
    inputs, starts, ends = question_batch(np.random.default_rng(0))
    start_logits, end_logits = model(**inputs)
    start_logits.retain_grad()
    model.loss(start_logits, end_logits, starts, ends).backward()
    probabilities = ag.softmax(start_logits, axis=-1).numpy()
    assert (probabilities[1, -2:] == 0).all() and (host(start_logits.grad)[1, -2:] == 0).all()


def test_positions_outside_the_input_are_a_clear_error():
    model = BertForQuestionAnswering(micro_config())
    inputs, starts, _ = question_batch(np.random.default_rng(0))
    start_logits, end_logits = model(**inputs)
    with pytest.raises(ValueError, match="end_positions holds 6, outside the 6 tokens"):
        model.loss(start_logits, end_logits, starts, np.array([1, 6]))
