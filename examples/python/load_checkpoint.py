#!/usr/bin/python3
"""Load a disq checkpoint of any model kind into the PyTorch implementation
of disq-models(7) (disq_model.py) and reproduce `enc`:

    dsload shapes3d --sample 64 | enc -m ck.safetensors --device cpu | \\
        /usr/bin/python3 examples/python/load_checkpoint.py ck.safetensors [TOL]

Reads the stream on stdin, encodes its images x with PyTorch and compares the
result with the field z that `enc` added (the mean for the Gaussian kinds:
`enc` without --sample).  Prints the largest difference and exits 1 when it
exceeds TOL (default 1e-5, float32 on both sides) relative to the scale of z,
or z's shape differs.  On the GPU, `enc --precision tf32` (its default) rounds
products to 10-bit mantissas: use --precision fp32 there, or a larger TOL."""
import os
import sys

import msgpack
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from disq_model import load_disq  # noqa: E402

_NP = {"u8": np.uint8, "i32": np.int32, "f32": np.float32, "f16": np.float16}


def tensor(field):
    return np.frombuffer(field["data"], dtype=_NP[field["dtype"]]).reshape(field["shape"])


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    tol = float(sys.argv[2]) if len(sys.argv) == 3 else 1e-5
    model, meta = load_disq(sys.argv[1])
    model.eval()
    print("config:", meta["config"], file=sys.stderr)
    unpacker = msgpack.Unpacker(sys.stdin.buffer, raw=False, max_buffer_size=1 << 31)
    next(unpacker)  # header
    worst, scale, rows = 0.0, 0.0, 0
    with torch.no_grad():
        for batch in unpacker:
            z_disq = tensor(batch["z"])
            z_torch = model.encode(tensor(batch["x"]).copy()).numpy()
            if z_torch.shape != z_disq.shape:
                sys.exit(f"z is {list(z_disq.shape)} from enc, {list(z_torch.shape)} from PyTorch")
            worst = max(worst, float(np.abs(z_torch - z_disq).max()))
            scale = max(scale, float(np.abs(z_disq).max()))
            rows += len(z_disq)
    rel = worst / max(scale, 1e-12)
    print(f"{rows} images: max |z_torch - z_enc| = {worst:.3g} (relative {rel:.3g})")
    sys.exit(0 if rel <= tol else 1)


if __name__ == "__main__":
    main()
