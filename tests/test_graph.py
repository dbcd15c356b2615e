"""Computation graphs as Graphviz DOT text: one node per op and per leaf, an edge per parent; `tinybert graph`
writes them, and draws them when Graphviz's dot program is there."""

import os
import re
import shutil
import stat

import numpy as np
from click.testing import CliRunner

from tinybert import autograd as ag
from tinybert.cli import main


def run(*arguments, env=None):
    return CliRunner().invoke(main, [str(argument) for argument in arguments], env=env)


def test_every_op_and_leaf_is_one_node_and_every_parent_one_edge():
    x = ag.Tensor(np.ones((4, 3)), name="x")
    w, b = ag.Tensor(np.ones((3, 2)), requires_grad=True), ag.Tensor(np.zeros(2), requires_grad=True)
    hidden = x @ w + b
    out = (hidden * hidden).sum()  # hidden read twice: one node, two edges into mul
    dot = ag.to_dot(out, {"layer.weight": w, "layer.bias": b})
    labels = re.findall(r'label="([^"]*)"', dot)
    assert sorted(labels) == sorted(["sum\\n()", "mul\\n(4, 2)", "add\\n(4, 2)", "matmul\\n(4, 2)", "x\\n(4, 3)",
                                     "layer.weight\\n(3, 2)", "layer.bias\\n(2,)"])
    assert dot.count(" -> ") == 1 + 2 + 2 + 2  # sum <- mul; mul <- hidden twice; add <- matmul, b; matmul <- x, w
    assert re.search(r'fillcolor=lightblue, label="layer.weight', dot) and re.search(r'fillcolor=white, label="x', dot)
    assert dot.startswith("digraph tinybert {") and dot.rstrip().endswith("}")


def test_graph_writes_the_dot_text_of_attention_with_its_parameter_names(tmp_path):
    result = run("graph", "attention", "--out", tmp_path / "attention.dot")
    assert result.exit_code == 0, result.output
    dot = (tmp_path / "attention.dot").read_text()
    for name in ("q.weight", "k.bias", "v.weight", "out.weight", "softmax", "x\\n(2, 3, 8)"):
        assert name in dot
    assert result.stdout == f"wrote the graph of attention ({dot.count(' -> ')} edges) to {tmp_path / 'attention.dot'}\n"


def test_without_graphviz_a_picture_asked_for_becomes_dot_text_and_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda program: None)
    result = run("graph", "bert", "--out", tmp_path / "bert.svg")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("note: Graphviz's dot program is not installed, so nothing was drawn")
    assert (tmp_path / "bert.dot").is_file() and not (tmp_path / "bert.svg").exists()


def test_with_graphviz_the_picture_is_drawn_by_dot(tmp_path):
    fake_dot = tmp_path / "bin" / "dot"  # stands in for Graphviz: records its options, copies the DOT it reads
    fake_dot.parent.mkdir()
    fake_dot.write_text('#!/bin/sh\necho "$1" > "$3.options"; cat > "$3"\n')
    fake_dot.chmod(fake_dot.stat().st_mode | stat.S_IEXEC)
    result = run("graph", "attention", "--out", tmp_path / "attention.png",
                 env={"PATH": f"{fake_dot.parent}{os.pathsep}{os.environ['PATH']}"})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "attention.png").read_text().startswith("digraph tinybert {")
    assert [path.name for path in tmp_path.iterdir() if path.suffix == ".options"][0].endswith(".tmp.options")
    assert "-Tpng" in next(tmp_path.glob("*.options")).read_text()


def test_a_file_name_of_no_known_format_is_one_line_and_exit_code_two(tmp_path):
    result = run("graph", "attention", "--out", tmp_path / "attention.pdf")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "ends in neither .dot, .svg nor .png" in result.stderr


def test_graphviz_itself_draws_the_graph_when_it_is_installed(tmp_path):
    import pytest

    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed here; the stand-in above checks how it is called")
    result = run("graph", "attention", "--out", tmp_path / "attention.svg")
    assert result.exit_code == 0, result.output
    svg = (tmp_path / "attention.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg and "q.weight" in svg and "softmax" in svg
