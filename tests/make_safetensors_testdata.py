#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the safetensors test files under tests/data/, following the published layout byte by byte
(https://github.com/huggingface/safetensors, "Format"), with the standard library only:

    8 bytes      N, unsigned 64-bit little-endian: the header's length
    N bytes      a JSON object: {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
                 "__metadata__": {"key": "value"}}, padded with spaces
    the rest     the data section: each tensor's bytes, row-major, little-endian, at [begin, end)

The C tests (tests/test_safetensors.c) read the committed outputs and check every value, so they need no
Python at run time. Run from the repository root: python3 tests/make_safetensors_testdata.py
"""
import json
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def f32_bytes(values):
    return b"".join(struct.pack("<f", v) for v in values)


def u16_bytes(patterns):
    return b"".join(struct.pack("<H", p) for p in patterns)


def write(path, tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes), stored in this order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, dtype, shape, raw in tensors:
        begin = len(data)
        data += raw
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [begin, len(data)]}
    # ensure_ascii (the default) writes non-ASCII characters as \uXXXX escapes, which the reader must decode.
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # the data section starts at a multiple of 8
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    # F32: a matrix, a vector, a scalar; a name and a metadata value with non-ASCII characters.
    write(
        os.path.join(OUT, "st_f32.safetensors"),
        [
            ("weight", "F32", [2, 3], f32_bytes([0.5, -1.25, 2.0, 3.75, -0.0, 1e-3])),
            ("bias", "F32", [3], f32_bytes([1.0, 2.0, -3.5])),
            ("scalar", "F32", [], f32_bytes([7.0])),
            ("caf\u00e9", "F32", [1], f32_bytes([42.0])),
        ],
        {"format": "pt", "note": "na\u00efve \U0001F600"},
    )
    # F16 and BF16 bit patterns: normals, the extremes, subnormals, infinities, signed zero, NaN.
    write(
        os.path.join(OUT, "st_half.safetensors"),
        [
            ("h", "F16", [8], u16_bytes([0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x7C00, 0x8000, 0x7E00])),
            ("b", "BF16", [2, 3], u16_bytes([0x3F80, 0xC040, 0x7F80, 0x0001, 0x7FC0, 0x4049])),
        ],
    )
    # A PEFT adapter of one layer: lora_A is (r, in) = (2, 3), lora_B is (out, r) = (4, 2).
    prefix = "base_model.model.layers.0.self_attn.q_proj"
    write(
        os.path.join(OUT, "st_adapter.safetensors"),
        [
            (prefix + ".lora_A.weight", "F32", [2, 3], f32_bytes([1, 2, 3, 4, 5, 6])),
            (prefix + ".lora_B.weight", "F32", [4, 2], f32_bytes([0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, -3.5])),
        ],
        {"format": "pt", "lora_rank": "2", "lora_alpha": "16", "lora_scaling": "standard"},
    )


if __name__ == "__main__":
    main()
