"""The pictures, where matplotlib is installed (the plot extra; CI installs it with the cross-checks)."""

import pytest
from click.testing import CliRunner

from test_examples import run_example
from test_pretrain_cli import micro_pretrained
from tinybert.cli import main

pytest.importorskip("matplotlib", reason="the pictures need the plot extra: pip install -e \".[plot]\"")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*arguments):
    return CliRunner().invoke(main, [str(argument) for argument in arguments])


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    directory = tmp_path_factory.mktemp("plots")
    return micro_pretrained(directory, steps=3)


def test_attention_maps_are_drawn_as_a_png(pretrained, tmp_path):
    result = run("attention", "--model", pretrained, "--png", tmp_path / "maps.png", "the cat sleeps")
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith(f"drew 4 maps in {tmp_path / 'maps.png'}")  # 2 layers x 2 heads
    assert (tmp_path / "maps.png").read_bytes().startswith(PNG_SIGNATURE)


def test_the_training_curves_are_drawn_as_a_png_in_the_run_directory(pretrained):
    result = run("plot", pretrained)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"drew 3 steps in {pretrained / 'training.png'}\n"
    assert (pretrained / "training.png").read_bytes().startswith(PNG_SIGNATURE)


def test_the_dates_example_draws_its_alignments_as_a_png(tmp_path):
    completed = run_example("08_dates_attention.py", "--png", str(tmp_path / "dates.png"))
    assert completed.returncode == 0, completed.stderr
    assert f"the alignments, drawn: {tmp_path / 'dates.png'}" in completed.stdout
    assert (tmp_path / "dates.png").read_bytes().startswith(PNG_SIGNATURE)
