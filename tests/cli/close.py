#!/usr/bin/python3
"""close.py A B TOL: whether two safetensors checkpoints, or two disq
streams, hold the same tensors to a relative L2 error of TOL each (integer
ones too: an image byte rounded the other way counts, a little; everything
else exactly the same).  Prints the worst tensor; exit 1 when not close.
For comparing what the GPU computed with what the CPU did."""
import json
import struct
import sys

import msgpack
import numpy as np

DTYPES = {"F32": np.float32, "U8": np.uint8, "I32": np.int32, "I64": np.int64, "F64": np.float64,  # safetensors
          "f32": np.float32, "u8": np.uint8, "i32": np.int32, "f16": np.float16}  # disq streams


def safetensors(raw):
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, t in sorted(header.items()):
        if name == "__metadata__":
            out[name] = t
            continue
        begin, end = t["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + begin:8 + n + end], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
    return out


def load(path):
    raw = open(path, "rb").read()
    if raw[8:9] == b"{":
        return safetensors(raw)
    u = msgpack.Unpacker(raw=False)
    u.feed(raw)
    return {f"message {i}": walk(m) for i, m in enumerate(u)}


def walk(v):
    if isinstance(v, dict) and {"dtype", "shape", "data"} <= v.keys():
        return np.frombuffer(v["data"], dtype=DTYPES[v["dtype"]]).reshape(v["shape"])
    if isinstance(v, dict):
        return {k: walk(x) for k, x in v.items()}
    if isinstance(v, list):
        return [walk(x) for x in v]
    return v


def compare(path, a, b, tol, worst):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape or a.dtype != b.dtype:
            sys.exit(f"close.py: {path}: not the same kind of tensor")
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        err = np.linalg.norm(a64 - b64) / max(np.linalg.norm(b64), 1e-30)
        if not np.isfinite(err):
            err = float("inf")
        if err > worst[0]:
            worst[:] = [err, path]
        return
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            sys.exit(f"close.py: {path}: different keys")
        for k in a:
            compare(f"{path}/{k}", a[k], b[k], tol, worst)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            compare(f"{path}[{i}]", x, y, tol, worst)
        return
    if a != b:
        sys.exit(f"close.py: {path}: {a!r} != {b!r}")


def main():
    a, b, tol = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
    worst = [0.0, "nothing"]
    compare("", a, b, tol, worst)
    print(f"worst relative L2 error {worst[0]:.3g} in {worst[1]}")
    sys.exit(0 if worst[0] <= tol else 1)


main()
