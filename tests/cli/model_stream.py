#!/usr/bin/python3
"""Writes a small disq stream of synthetic images for the model tests:
model_stream.py N BATCH H W C SEED > stream.  Each image is a coloured square
on a coloured background; factors: square colour (4), background (4), x (4).
Needs only numpy and msgpack."""
import sys

import msgpack
import numpy as np


def tensor(a, dtype):
    return {"dtype": dtype, "shape": list(a.shape), "data": np.ascontiguousarray(a).tobytes()}


def main():
    n, batch, h, w, c, seed = (int(a) for a in sys.argv[1:7])
    rng = np.random.default_rng(seed)
    out = sys.stdout.buffer
    factors = [{"name": "fg", "size": 4}, {"name": "bg", "size": 4}, {"name": "x", "size": 4}]
    out.write(msgpack.packb({"disq": 1, "dataset": "squares", "factors": factors, "shape": [h, w, c]}))
    palette = np.array([[230, 40, 40], [40, 230, 40], [40, 40, 230], [230, 230, 40]], dtype=np.uint8)
    for start in range(0, n, batch):
        b = min(batch, n - start)
        s = rng.integers(0, 4, size=(b, 3)).astype(np.int32)
        x = np.empty((b, h, w, c), dtype=np.uint8)
        side = max(h // 4, 1)
        for i in range(b):
            x[i] = palette[s[i, 1], :c] // 3
            x0 = s[i, 2] * (w - side) // 3
            x[i, h // 2 - side // 2:h // 2 - side // 2 + side, x0:x0 + side] = palette[s[i, 0], :c]
        out.write(msgpack.packb({"x": tensor(x, "u8"), "s": tensor(s, "i32")}))


if __name__ == "__main__":
    main()
