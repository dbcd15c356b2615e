"""`tinybert explain`: every lesson's gradients agree three ways, a wrong backward is caught, and the
command writes text or a Markdown handout."""

import importlib

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tinybert.cli import main
from tinybert.lessons import LESSONS, as_markdown, as_text, score_lesson
from tinybert.lessons import scores as score_lessons
from tinybert.models.attention_scores import SCORES


def run(*arguments):
    return CliRunner().invoke(main, [str(argument) for argument in arguments])


@pytest.mark.parametrize("name", LESSONS)
@settings(max_examples=10)
@given(tokens=st.integers(1, 5), dim=st.integers(1, 5), seed=st.integers(0, 2 ** 16))
def test_every_gradient_of_every_lesson_agrees_with_its_formula_and_finite_differences(name, tokens, dim, seed):
    lesson = LESSONS[name](tokens=tokens, dim=dim, seed=seed)
    checks = [step.check for step in lesson.steps if step.check is not None]
    assert checks and lesson.passed
    assert all(check.by_engine.shape == check.numeric.shape == check.by_formula.shape for check in checks)


@settings(max_examples=15)
@given(tokens=st.integers(1, 4), heads=st.sampled_from([1, 2]), projections=st.booleans(), causal=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_every_form_of_the_attention_lesson_proves_its_gradients(tokens, heads, projections, causal, seed):
    lesson = LESSONS["attention"](tokens=tokens, dim=4, seed=seed, causal=causal, heads=heads, projections=projections)
    checked = [step.values[0][0] for step in lesson.steps if step.check is not None]
    expected = ["dV", "dA", "dS", "dQ", "dK"]
    if projections:
        expected = ["dW_O", "dO"] + expected + ["dW_Q", "dW_K", "dW_V", "dX"]
    assert checked == expected and lesson.passed


@pytest.mark.parametrize("score", SCORES)
@settings(max_examples=10)
@given(tokens=st.integers(1, 4), dim=st.integers(1, 4), seed=st.integers(0, 2 ** 16))
def test_the_lesson_of_every_attention_score_proves_its_gradients(score, tokens, dim, seed):
    lesson = score_lesson(score, tokens=tokens, dim=dim, seed=seed)
    checked = [step.values[0][0] for step in lesson.steps if step.check is not None]
    weights = [f"d{name}" for name, _ in score_lessons.WEIGHT_NAMES.get(score, [])]
    assert checked == ["dV", "dS", "dQ", "dK"] + weights and lesson.passed


def test_a_cosine_lesson_of_one_dimension_draws_no_zero_vector():
    # seed 362 drew a key of 0.00, where q / |q| has the slope 1 / sqrt(eps) that no difference can measure
    lesson = score_lesson("cosine", tokens=3, dim=1, seed=362)
    assert lesson.passed


def test_a_wrong_formula_in_a_score_lesson_fails_it_and_the_command(monkeypatch):
    honest = score_lessons.score_gradients

    def forgetting_the_scale(name, q, k, weights, ds):  # the dot product's formulas for the scaled score
        return honest("dot" if name == "scaled-dot" else name, q, k, weights, ds)

    monkeypatch.setattr(score_lessons, "score_gradients", forgetting_the_scale)
    assert not score_lesson("scaled-dot").passed and score_lesson("dot").passed
    result = run("explain", "attention", "--score", "scaled-dot")
    assert result.exit_code == 1 and "-> FAIL" in result.stdout


def test_the_causal_lesson_shows_zero_weights_and_zero_gradients_above_the_diagonal():
    lesson = LESSONS["attention"](tokens=4, dim=3, seed=1, causal=True)
    steps = {step.title: step for step in lesson.steps}
    above = np.triu(np.ones((4, 4), dtype=bool), k=1)
    assert np.all(steps["weights"].values[0][1].reshape(4, 4)[above] == 0)  # (1 head, T, T)
    assert np.all(steps["through the softmax"].check.by_engine.reshape(4, 4)[above] == 0) and lesson.passed


def test_a_wrong_backward_fails_the_lesson_and_the_command(monkeypatch):
    softmax_module = importlib.import_module("tinybert.autograd.softmax")  # the module, not the function
    honest = softmax_module.make_result

    def result_with_a_doubled_gradient(data, name, parents, backward):
        return honest(data, name, parents, lambda grad: tuple(2 * g for g in backward(grad)))

    monkeypatch.setattr(softmax_module, "make_result", result_with_a_doubled_gradient)
    assert not LESSONS["softmax"]().passed
    result = run("explain", "softmax")
    assert result.exit_code == 1
    assert "-> FAIL" in result.stdout and result.stdout.rstrip().endswith("FAILED: a gradient disagrees (see the FAIL above)")


def test_explain_prints_each_formula_with_its_values_and_a_pass_mark():
    result = run("explain", "attention", "--tokens", 3, "--dim", 4)
    assert result.exit_code == 0, result.output
    for formula in ("S = Q K^T / sqrt(d)", "A = softmax(S)", "O = A V", "dV = A^T dO", "dA = dO V^T",
                    "dS = A * (dA - rowsum(dA * A))", "dQ = dS K / sqrt(d)", "dK = dS^T Q / sqrt(d)"):
        assert formula in result.stdout
    assert result.stdout.count("-> pass") == 5 and "S (3, 3)" in result.stdout


def test_the_markdown_handout_holds_the_same_lesson(tmp_path):
    result = run("explain", "layernorm", "--format", "markdown", "--out", tmp_path / "handout.md")
    assert result.exit_code == 0 and result.stdout == f"wrote the layernorm lesson to {tmp_path / 'handout.md'}\n"
    handout = (tmp_path / "handout.md").read_text()
    lesson = LESSONS["layernorm"]()
    assert handout == as_markdown(lesson)
    assert handout.startswith("# Layer normalisation") and handout.count("**Pass**") == 3
    verdicts_in_text = [line.strip() for line in as_text(lesson).splitlines() if line.strip().startswith("formula vs")]
    assert [line.removeprefix("**Pass**: ") + "  -> pass" for line in handout.splitlines()
            if line.startswith("**Pass**")] == verdicts_in_text
    assert handout.rstrip().endswith("the differences measured before rounding)")


@pytest.mark.parametrize("arguments, message", [
    (["softmax", "--causal"], "--causal, --heads, --projections and --score are for the attention lesson"),
    (["softmax", "--score", "dot"], "--causal, --heads, --projections and --score are for the attention lesson"),
    (["attention", "--score", "dot", "--heads", 2], "--score takes a single query-key-value attention"),
    (["attention", "--score", "luong"], "Invalid value for '--score'"),
    (["attention", "--dim", 4, "--heads", 3], "dim=4 does not split into 3 heads"),
    (["attention", "--tokens", "0"], "Invalid value for '--tokens'"),
    (["backprop"], "Invalid value for '{attention|softmax|layernorm|cross-entropy|gelu}'"),
])
def test_bad_options_are_one_clear_line_and_exit_code_two(arguments, message):
    result = run("explain", *arguments)
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_the_readme_shows_a_step_exactly_as_the_command_prints_it():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    shown = readme.split("`tinybert explain attention --causal`:\n\n```\n", 1)[1].split("```", 1)[0]
    # the README shows what the CPU prints: on a GPU the differences' last digits come out otherwise
    printed = CliRunner().invoke(main, ["explain", "attention", "--causal"], env={"TINYBERT_DEVICE": "cpu"}).stdout
    assert shown.startswith("8. through the softmax") and shown in printed
