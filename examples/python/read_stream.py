#!/usr/bin/env python3
"""Read a disq stream (man 5 disq-stream) with msgpack and numpy.

    dsload shapes3d --sample 100 | python3 read_stream.py

Prints the header, the fields of the first batch, and the number of batches
and rows.  `tensor()` is all a Python user needs to turn a field into numpy.
"""
import sys

import msgpack
import numpy as np

DTYPES = {"u8": np.uint8, "i32": "<i4", "f32": "<f4", "f16": "<f2"}


def tensor(field):
    """numpy array of a stream tensor ({"dtype", "shape", "data"})."""
    dtype, shape, data = field["dtype"], field["shape"], field["data"]
    if dtype == "bf16":  # numpy has no bfloat16: widen to float32
        bits = np.frombuffer(data, "<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    return np.frombuffer(data, DTYPES[dtype]).reshape(shape)


def is_tensor(value):
    return isinstance(value, dict) and set(value) == {"dtype", "shape", "data"}


def main():
    unpacker = msgpack.Unpacker(sys.stdin.buffer, raw=False, max_buffer_size=2**32 - 1)
    header = next(unpacker)
    factors = " ".join(f"{f['name']}({f['size']})" for f in header.get("factors", []))
    print(f"dataset {header.get('dataset')}, factors {factors}, image shape {header.get('shape')}")
    batches = rows = 0
    for batch in unpacker:
        if batches == 0:
            for name, value in batch.items():
                if is_tensor(value):
                    array = tensor(value)
                    total = array.astype(np.float64).sum()
                    print(f"{name}: {array.dtype} {array.shape} sum {total:g}")
                else:
                    print(f"{name}: {value!r}")
        batches += 1
        rows += next((len(tensor(v)) for v in batch.values() if is_tensor(v) and v["shape"]), 0)
    print(f"{batches} batches, {rows} rows")


if __name__ == "__main__":
    main()
