"""Fine-tuning for SQuAD end to end: a tiny BERT learns the generated data set well above chance, the
saved model answers as the trained one did, and the run says which scoring it used."""

import dataclasses
import json

import numpy as np
import pytest

from tinybert.checkpoint import CheckpointError, save_checkpoint
from tinybert.models.bert import BertConfig, BertForPreTraining
from tinybert.squad import (SquadExample, SquadSettings, load_question_answerer, predict_answers, read_squad,
                            save_squad, score_answers, start_squad, train_squad, write_synthetic_squad)
from tinybert.text import BertTokenizer, train_wordpiece_vocab


def tokenizer_for(examples):
    """A WordPiece vocabulary of whole frequent words, learnt from the questions and contexts."""
    texts = sorted({example.context for example in examples}) + [example.question for example in examples]
    return BertTokenizer(train_wordpiece_vocab(texts, 300, score="count"))


def fresh_bert(tokenizer, hidden_size):
    """A randomly initialised BERT (2 layers, 2 heads) standing in for a pretrained one."""
    return BertForPreTraining(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=hidden_size, num_layers=2,
                                         num_heads=2, intermediate_size=4 * hidden_size, max_position_embeddings=64,
                                         hidden_dropout=0.0, attention_dropout=0.0))


def random_span_f1(examples, seed=0):
    """Chance: the official F1 of answering each question with a random run of context words as long as its
    answer (one word for a year or "Oslo", two for "New York", ...)."""
    rng = np.random.default_rng(seed)
    guesses = {}
    for example in examples:
        words, length = example.context.split(), len(example.answers[0].split())
        start = rng.integers(0, len(words) - length + 1)
        guesses[example.id] = " ".join(words[start:start + length])
    return score_answers(examples, guesses)["f1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    directory = tmp_path_factory.mktemp("squad")
    train = read_squad(write_synthetic_squad(directory / "train.json", seed=0, paragraphs=200, people=1))
    dev = read_squad(write_synthetic_squad(directory / "dev.json", seed=1, paragraphs=30, people=1))
    tokenizer = tokenizer_for(train)
    settings = SquadSettings(epochs=10, learning_rate=1e-3, batch_size=8, max_seq_length=48, doc_stride=16,
                             max_query_length=16, seed=0)
    run = start_squad(fresh_bert(tokenizer, hidden_size=128), tokenizer, train, dev, settings)
    return run, train_squad(run), dev, directory


def test_a_tiny_bert_learns_to_answer_well_above_chance(trained):
    run, history, dev, _ = trained
    best = max(result["f1"] for result in history)
    chance = random_span_f1(dev)
    # Each paragraph tells where and when one person was born: "Where was Hugo born?" asks for the city,
    # "When ...?" for the year. Chance, a random run of words of the answer's length, scores F1 16.4 here;
    # a model that ignores the question and always gives the city (or always the year) scores 50.
    # Measured: seed 0 reaches F1 100.0 (above 90 from epoch 6); seeds 1-5 reach 100.0 too, above 90 from
    # epochs 3, 3, 3, 5 and 2. Until a randomly initialised BERT learns to read the question it sits near 50;
    # with batches of 16 instead of 8, half the seeds stayed there for all 10 epochs. On a GPU, whose atomic
    # adds (an embedding's backward) round differently from run to run, three of four runs of seed 0 passed 90
    # (two followed epoch by epoch: 100.0 from epoch 7) and one ended at 88.3.
    ignoring_the_question = 50.0
    assert chance < 20 and best >= ignoring_the_question + 35, history
    assert [result["epoch"] for result in history] == list(range(1, 11))
    beats_the_epochs_before = [result["f1"] > max([earlier["f1"] for earlier in history[:number]], default=-1)
                               for number, result in enumerate(history)]
    assert [result["best"] for result in history] == beats_the_epochs_before
    assert all(result["scoring"] == "v1.1" and result["trained_on"] == "v1.1" for result in history)
    assert history[-1]["train_loss"] < history[0]["train_loss"] / 5


def test_the_saved_model_answers_as_the_trained_one_and_keeps_its_settings(trained, tmp_path):
    run, history, dev, _ = trained
    save_squad(run, tmp_path / "qa")
    model, tokenizer, settings, trained_on = load_question_answerer(tmp_path / "qa")
    assert settings == run.settings and tokenizer.tokens == run.tokenizer.tokens and trained_on == "v1.1"
    answers = predict_answers(model, tokenizer, dev, settings, trained_on)
    assert answers == predict_answers(run.model, run.tokenizer, dev, run.settings, run.trained_on)
    assert score_answers(dev, answers)["f1"] == max(result["f1"] for result in history)  # the best epoch's weights


def test_whether_the_model_may_answer_nothing_is_its_own_not_the_other_questions(trained):
    run, _, dev, _ = trained
    always_abstain = dataclasses.replace(run.settings, null_score_threshold=-1e9)  # "" wherever "" is allowed
    unanswerable = [SquadExample("none-" + example.id, example.question, "Nobody was born here.", is_impossible=True)
                    for example in dev[:3]]
    alone = predict_answers(run.model, run.tokenizer, dev, always_abstain, "v1.1")
    beside_unanswerable = predict_answers(run.model, run.tokenizer, dev + unanswerable, always_abstain, "v1.1")
    assert all(alone.values()) and alone == {id: beside_unanswerable[id] for id in alone}  # v1.1: always an answer
    as_if_trained_on_v2 = predict_answers(run.model, run.tokenizer, dev, always_abstain, "v2.0")
    assert set(as_if_trained_on_v2.values()) == {""}  # v2.0: may answer nothing, among answerable questions too


def test_a_checkpoint_saved_before_models_recorded_their_version_says_it_in_its_history(trained, tmp_path):
    run, _, _, _ = trained
    save_squad(run, tmp_path / "qa")
    config = json.loads((tmp_path / "qa" / "config.json").read_text())
    del config["settings"]["trained_on"]
    (tmp_path / "qa" / "config.json").write_text(json.dumps(config))
    assert load_question_answerer(tmp_path / "qa")[3] == "v1.1"  # from the epochs' results
    (tmp_path / "qa" / "trainer_state.json").write_text("{}")
    with pytest.raises(CheckpointError, match="does not say which SQuAD version its model was trained on"):
        load_question_answerer(tmp_path / "qa")


def test_a_checkpoint_of_another_task_is_not_a_question_answerer(trained, tmp_path):
    run, _, _, _ = trained
    save_checkpoint(tmp_path / "pretrained", fresh_bert(run.tokenizer, 16), run.tokenizer, {"lowercase": True})
    with pytest.raises(CheckpointError, match="does not hold a question-answering model"):
        load_question_answerer(tmp_path / "pretrained")


def test_training_on_v1_and_scoring_a_v2_dev_file_says_so(tmp_path):
    train = read_squad(write_synthetic_squad(tmp_path / "train.json", seed=0, paragraphs=4, version="v1.1"))
    dev = read_squad(write_synthetic_squad(tmp_path / "dev.json", seed=1, paragraphs=2, version="v2.0"))
    tokenizer = tokenizer_for(train + dev)
    run = start_squad(fresh_bert(tokenizer, 16), tokenizer, train, dev, SquadSettings(epochs=1, max_seq_length=64,
                                                                                 max_query_length=16))
    result = train_squad(run)[0]
    assert (result["trained_on"], result["scoring"]) == ("v1.1", "v2.0")
    assert result["NoAns_total"] == 2 and result["HasAns_total"] == 2 * 6
    assert result["NoAns_exact"] == 0.0  # a model trained on v1.1 always answers, so never right where none is


def test_settings_and_data_that_cannot_work_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="max_seq_length=64 leaves no room for the context after a question of "
                                         "up to max_query_length=64"):
        SquadSettings(max_seq_length=64)
    with pytest.raises(ValueError, match="doc_stride must be at least 1, not 0"):
        SquadSettings(doc_stride=0)
    examples = read_squad(write_synthetic_squad(tmp_path / "v2.json", seed=0, paragraphs=2, version="v2.0"))
    tokenizer = tokenizer_for(examples)
    with pytest.raises(ValueError, match="max_seq_length=384 exceeds the model's max_position_embeddings=64"):
        start_squad(fresh_bert(tokenizer, 16), tokenizer, examples, examples, SquadSettings())
    read_for_scoring = read_squad(tmp_path / "v2.json", "dev")  # no answer_start: windows could not be labelled
    with pytest.raises(ValueError, match="has no answer_start: read training questions for training"):
        start_squad(fresh_bert(tokenizer, 16), tokenizer, read_for_scoring, examples, SquadSettings(max_seq_length=64,
                                                                                               max_query_length=16))
    unanswerable = [example for example in examples if example.is_impossible]
    with pytest.raises(ValueError, match="the training questions are all unanswerable"):
        start_squad(fresh_bert(tokenizer, 16), tokenizer, unanswerable, examples,
                    SquadSettings(max_seq_length=64, max_query_length=16))
