"""`tinybert attention`: every layer's and head's weights for one input, drawn as shaded grids."""

import numpy as np
import pytest
from click.testing import CliRunner

from test_pretrain_cli import micro_pretrained
from tinybert.attention_maps import attention_maps, draw_map
from tinybert.cli import main
from tinybert.models.bert import BertConfig, BertForPreTraining
from tinybert.text import BertTokenizer

TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "."]


def run(*arguments):
    return CliRunner().invoke(main, [str(argument) for argument in arguments])


@pytest.mark.parametrize("share_layers", [False, True])
def test_every_layer_and_head_gives_rows_that_sum_to_one(share_layers):
    model = BertForPreTraining(BertConfig(len(TOKENS), hidden_size=8, num_layers=3, num_heads=2, intermediate_size=16,
                                          share_layers=share_layers))
    rng = np.random.default_rng(0)
    for parameter in model.parameters():  # weights far from BERT's small start, whose maps are all near uniform
        parameter.data[...] = parameter.xp.asarray(rng.normal(0.0, 0.5, parameter.shape))
    tokens, maps = attention_maps(model, BertTokenizer(TOKENS), "the cat sat.")
    assert tokens == ["[CLS]", "the", "cat", "sat", ".", "[SEP]"] and maps.shape == (3, 2, 6, 6)
    np.testing.assert_allclose(maps.sum(axis=-1), 1, rtol=1e-5)
    assert np.abs(maps[0] - maps[1]).max() > 1e-2  # with shared weights too: each depth reads its own input


def test_a_map_shades_each_weight_by_its_band_under_the_keys_written_downwards():
    weights = np.array([[1.0, 0.0], [0.2, 0.8]])
    drawing = draw_map(["ab", "c"], weights, "layer 1, head 1", width=2)
    assert drawing.splitlines() == ["layer 1, head 1", "    a  c", "    b", "ab  ██", " c  ▒▒ ██"]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    directory = tmp_path_factory.mktemp("attention")
    return micro_pretrained(directory, steps=2)


def test_the_command_draws_every_head_of_the_chosen_layer(pretrained):
    result = run("attention", "--model", pretrained, "--layer", 2, "the cat sleeps")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("rows: the query token; columns: the key it attends to")
    titles = [line for line in result.stdout.splitlines() if line.startswith("layer ")]
    assert titles == ["layer 2, head 1", "layer 2, head 2"]


@pytest.mark.parametrize("arguments, message", [
    (["--layer", 3], "--layer 3 does not exist: the model has 2 (numbered from 1)"),
    (["--head", 9], "--head 9 does not exist: the model has 2"),
])
def test_a_layer_or_head_the_model_lacks_is_one_line_and_exit_code_two(pretrained, arguments, message):
    result = run("attention", "--model", pretrained, *arguments, "the cat")
    assert result.exit_code == 2 and message in result.stderr and result.stderr.count("\n") == 1


def test_without_matplotlib_a_picture_is_one_line_saying_how_to_get_it(pretrained, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    result = run("attention", "--model", pretrained, "--png", tmp_path / "maps.png", "the cat")
    assert result.exit_code == 2 and "pictures need matplotlib" in result.stderr
    assert not (tmp_path / "maps.png").exists()
    result = run("plot", pretrained, "--out", tmp_path / "curves.png")
    assert result.exit_code == 2 and 'pip install -e ".[plot]"' in result.stderr


def test_plot_of_a_directory_without_training_steps_is_one_line_and_exit_code_two(tmp_path):
    result = run("plot", tmp_path)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr == f"tinybert: error: {tmp_path} has no metrics.jsonl: plot the --out directory of tinybert pretrain\n"
