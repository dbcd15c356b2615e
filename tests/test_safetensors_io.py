"""tinybert's own safetensors reader and writer: round trips, the byte layout, bfloat16, damaged files."""

import json
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinybert.safetensors_io import SafetensorsError, load_safetensors, save_safetensors

DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8, np.bool_]


@st.composite
def named_arrays(draw):
    names = draw(st.lists(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12),
                          min_size=0, max_size=4, unique=True).filter(lambda names: "__metadata__" not in names))
    return {name: draw(hnp.arrays(draw(st.sampled_from(DTYPES)), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0,
                                                                                  max_side=4)))
            for name in names}


@given(named_arrays(), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2))
def test_arrays_and_metadata_come_back_exactly(tmp_path_factory, arrays, metadata):
    path = tmp_path_factory.mktemp("safetensors") / "model.safetensors"
    save_safetensors(path, arrays, metadata)
    loaded, loaded_metadata = load_safetensors(path)
    assert loaded.keys() == arrays.keys() and loaded_metadata == metadata
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name], array)  # NaN == NaN here, as bytes


def test_the_file_is_a_header_length_a_padded_json_header_then_little_endian_bytes(tmp_path):
    path = tmp_path / "two.safetensors"
    save_safetensors(path, {"b": np.array([1, 2], dtype=np.int16), "a": np.ones((2, 1), dtype=np.float32)})
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    assert length % 8 == 0
    header = json.loads(raw[8:8 + length])
    assert header == {"a": {"dtype": "F32", "shape": [2, 1], "data_offsets": [0, 8]},
                      "b": {"dtype": "I16", "shape": [2], "data_offsets": [8, 12]}}
    assert raw[8 + length:] == struct.pack("<2f2h", 1.0, 1.0, 1, 2)


def test_bfloat16_tensors_load_as_the_float32_values_they_hold(tmp_path):
    path = tmp_path / "bf16.safetensors"
    values = [0x3F80, 0xC000, 0x3E20, 0x0000]  # 1.0, -2.0, 0.15625, 0.0 in bfloat16's bits
    header = json.dumps({"w": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + struct.pack("<4H", *values))
    weights, _ = load_safetensors(path)
    assert weights["w"].dtype == np.float32
    np.testing.assert_array_equal(weights["w"], [1.0, -2.0, 0.15625, 0.0])


@pytest.mark.parametrize("damage, message", [
    (lambda raw: raw[:5], "too short"),
    (lambda raw: struct.pack("<Q", 10 ** 9) + raw[8:], "does not fit"),
    (lambda raw: raw[:8] + b"x" + raw[9:], "not JSON"),
    (lambda raw: raw[:-4], "truncated or damaged"),
])
def test_a_damaged_file_is_one_clear_error(tmp_path, damage, message):
    path = tmp_path / "model.safetensors"
    save_safetensors(path, {"w": np.arange(6, dtype=np.float32).reshape(2, 3)})
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(SafetensorsError, match=message):
        load_safetensors(path)


@pytest.mark.parametrize("entry", [{"dtype": "F32", "shape": [2 ** 32, 2 ** 32], "data_offsets": [0, 0]},
                                   {"dtype": "F32", "shape": [1], "data_offsets": ["0", "4"]},
                                   {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}])
def test_a_header_entry_with_impossible_sizes_is_one_clear_error(tmp_path, entry):
    path = tmp_path / "model.safetensors"
    header = json.dumps({"w": entry}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(4))
    with pytest.raises(SafetensorsError, match="'w'"):
        load_safetensors(path)


def test_a_header_that_is_json_but_not_an_object_is_one_clear_error(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", 8) + b"[1, 2]  ")
    with pytest.raises(SafetensorsError, match="not a JSON object"):
        load_safetensors(path)


def test_an_array_of_a_type_safetensors_cannot_hold_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(TypeError, match="complex128"):
        save_safetensors(tmp_path / "model.safetensors", {"w": np.zeros(2, dtype=complex)})
    assert list(tmp_path.iterdir()) == []
