"""Reading and writing the safetensors format, the one Hugging Face checkpoints use, with NumPy alone.

A safetensors file is three parts (https://huggingface.co/docs/safetensors, "Format"):
  1. 8 bytes: N, the length of the header, as a little-endian unsigned 64-bit integer;
  2. N bytes: the header, JSON: {name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}},
     plus an optional "__metadata__" of string pairs; writers pad it with spaces to a multiple of 8;
  3. the tensors' bytes, little-endian and row-major, each at [begin, end) from the start of part 3.
No code runs on loading (unlike a pickle), which is why Hugging Face moved to it.
"""

import json
import math
import struct

import numpy as np

from .checkpoint import write_atomically

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
          "U8": "u1", "BOOL": "?"}
NAMES_OF_DTYPES = {np.dtype(code): name for name, code in DTYPES.items()}
HEADER_LIMIT = 100_000_000  # the reference reader refuses larger headers too


class SafetensorsError(ValueError):
    """A file that is not a readable safetensors file."""


def bfloat16_to_float32(raw):
    """bfloat16 is the top half of a float32: put its 16 bits there, and the float32 is exact."""
    return (raw.astype(np.uint32) << 16).view(np.float32)


def load_safetensors(path):
    """({name: NumPy array}, metadata) from the safetensors file at `path`; bfloat16 comes as float32."""
    data = np.fromfile(path, dtype=np.uint8)
    if data.size < 8:
        raise SafetensorsError(f"{path} is not a safetensors file: it is too short to hold a header length")
    (header_length,) = struct.unpack("<Q", data[:8].tobytes())
    if header_length > min(HEADER_LIMIT, data.size - 8):
        raise SafetensorsError(f"{path} is not a safetensors file: its header length {header_length} "
                               f"does not fit in the file of {data.size} bytes")
    try:
        header = json.loads(data[8:8 + header_length].tobytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SafetensorsError(f"{path} is not a safetensors file: its header is not JSON ({error})") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path} is not a safetensors file: its header is not a JSON object")
    metadata = header.pop("__metadata__", {})
    body = data[8 + header_length:]
    return {name: read_tensor(path, name, entry, body) for name, entry in header.items()}, metadata


def read_tensor(path, name, entry, body):
    try:
        kind, shape, (begin, end) = entry["dtype"], tuple(entry["shape"]), entry["data_offsets"]
    except (TypeError, KeyError, ValueError):
        raise SafetensorsError(f"{path}: the header entry of {name!r} needs dtype, shape and data_offsets") from None
    if not all(isinstance(number, int) and number >= 0 for number in (*shape, begin, end)):
        raise SafetensorsError(f"{path}: the header entry of {name!r} needs whole, non-negative sizes and offsets")
    if kind not in DTYPES and kind != "BF16":
        raise SafetensorsError(f"{path}: {name!r} has dtype {kind}, which tinybert does not read")
    dtype = np.dtype("<u2" if kind == "BF16" else DTYPES[kind])
    if not 0 <= begin <= end <= body.size or end - begin != dtype.itemsize * math.prod(shape):
        raise SafetensorsError(f"{path}: {name!r} claims bytes [{begin}, {end}) for shape {list(shape)} of {kind}, "
                               f"which do not fit its {body.size} bytes of data: the file is truncated or damaged")
    array = body[begin:end].view(dtype).reshape(shape)
    return bfloat16_to_float32(array) if kind == "BF16" else array.astype(dtype.newbyteorder("="))  # a copy


def save_safetensors(path, arrays, metadata=None):
    """Write {name: NumPy array} to `path` as safetensors, atomically (a temporary file, then a rename)."""
    header, offset, parts = {}, 0, []
    for name in sorted(arrays):
        array = np.asarray(arrays[name])
        kind = NAMES_OF_DTYPES.get(array.dtype.newbyteorder("="))
        if kind is None:
            raise TypeError(f"{name!r} is {array.dtype}: tinybert writes safetensors of {', '.join(DTYPES)}")
        raw = np.ascontiguousarray(array, dtype=np.dtype(DTYPES[kind])).tobytes()  # little-endian, row-major
        header[name] = {"dtype": kind, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        parts.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(key): str(value) for key, value in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # pad the header to a multiple of 8 bytes, as the reference writer does

    def write(temporary):
        with open(temporary, "wb") as file:
            file.write(struct.pack("<Q", len(text)) + text)
            for raw in parts:
                file.write(raw)

    write_atomically(path, write)
