"""`tinybert pretrain --objective clm` and `tinybert generate` on the micro corpus: a left-to-right GPT
trains, beats the token-frequency baseline, saves and resumes, and continues a prompt."""

import json

import numpy as np
import pytest

from test_pretrain_cli import MICRO, micro_corpus, run
from tinybert.checkpoint import gpt_model, load_checkpoint
from tinybert.generation import generate, next_token


@pytest.fixture(scope="module")
def gpt(tmp_path_factory):
    directory = tmp_path_factory.mktemp("gpt")
    corpus = micro_corpus(directory / "corpus.txt", documents=20)
    result = run("pretrain", "--objective", "clm", "--corpus", corpus, "--out", directory / "model", "--steps", 150,
                 "--vocab-size", 80, "--seq-length", 24, "--batch-size", 8, "--warmup", 10)
    return directory, corpus, result


def test_a_short_run_beats_the_token_frequency_baseline_and_saves_a_gpt(gpt):
    directory, _, result = gpt
    assert result.exit_code == 0, result.output
    assert "tiny GPT" in result.output and "the loss starts near ln(" in result.output
    line = next(line for line in result.output.splitlines() if line.startswith("held-out perplexity"))
    perplexity, baseline = float(line.split()[2]), float(line.split(":")[1].split(")")[0])
    assert perplexity < baseline / 2, line  # the sentences are templates: the next word is mostly certain
    records = [json.loads(line) for line in (directory / "model" / "metrics.jsonl").read_text().splitlines()]
    assert {"loss", "perplexity", "learning_rate"} <= set(records[0]) and "held_out_perplexity" in records[-1]
    assert json.loads((directory / "model" / "config.json").read_text())["settings"]["objective"] == "clm"


def test_generate_continues_a_prompt_from_the_corpus_with_its_words(gpt):
    directory, _, _ = gpt
    result = run("generate", "--model", directory / "model", "--temperature", 0, "--max-new-tokens", 6, "the cat sleeps")
    assert result.exit_code == 0, result.output
    words = result.stdout.split()
    assert words[:3] == ["the", "cat", "sleeps"] and words[3:5] == ["in", "the"], result.stdout  # greedy: the template


def test_sampling_repeats_with_its_seed_and_top_k_one_is_greedy(gpt):
    directory, _, _ = gpt
    model, tokenizer, _, _ = load_checkpoint(directory / "model", gpt_model)
    samples = [generate(model, tokenizer, "the dog", 8, temperature=1.5, seed=seed) for seed in (3, 3, 4)]
    assert samples[0] == samples[1]
    assert generate(model, tokenizer, "the dog", 8, top_k=1, seed=5) == generate(model, tokenizer, "the dog", 8, temperature=0)


def test_top_k_draws_only_among_the_k_best_scores():
    rng = np.random.default_rng(0)
    scores = np.array([0.0, 3.0, 1.0, 2.9, -1.0])
    drawn = {next_token(scores, temperature=5.0, top_k=2, rng=rng) for _ in range(200)}
    assert drawn == {1, 3}


def test_resume_goes_on_from_the_saved_step(gpt, tmp_path):
    directory, corpus, _ = gpt
    result = run("pretrain", "--corpus", corpus, "--resume", directory / "model", "--out", tmp_path / "more",
                 "--steps", 152)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "more" / "metrics.jsonl").read_text().splitlines()]
    assert [record["step"] for record in records] == [151, 152, 152]


@pytest.mark.parametrize("command, message", [
    (["fill-mask", "a [MASK]"], "holds a left-to-right GPT (pretrain --objective clm)"),
    (["generate", "--temperature", "-1", "the"], "Invalid value for '--temperature'"),
    (["generate", "   "], "has no tokens to continue"),
])
def test_bad_input_is_one_line_and_exit_code_two(gpt, command, message):
    directory, _, _ = gpt
    result = run(command[0], "--model", directory / "model", *command[1:])
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_generate_with_a_bert_says_which_model_it_needs(tmp_path):
    corpus = micro_corpus(tmp_path / "corpus.txt")
    assert run("pretrain", "--corpus", corpus, "--out", tmp_path / "bert", "--steps", 2, *MICRO).exit_code == 0
    result = run("generate", "--model", tmp_path / "bert", "the cat")
    assert result.exit_code == 2 and "pretrain --objective clm" in result.stderr, result.output
