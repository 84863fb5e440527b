#!/usr/bin/python3
"""PyTorch CPU reference for bench_train.sh: the same FactorQVAE iteration as
`train` (examples/python/disq_model.py), timed over STEPS iterations after one
warm-up.  Prints the images per second.  With PRECISION bf16 the step runs
under torch.autocast("cpu", torch.bfloat16), PyTorch's CPU mixed precision.
usage: torch_step.py WIDTH DENSE DISC_HIDDEN BATCH STEPS [fp32|bf16]"""
import os
import sys
import time

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "examples", "python"))
import disq_model as dm  # noqa: E402


def main():
    n, m, hidden, batch, steps = (int(a) for a in sys.argv[1:6])
    bf16 = len(sys.argv) > 6 and sys.argv[6] == "bf16"
    torch.set_num_threads(os.cpu_count())
    c = {"kind": "factorqvae", "n": n, "m": m, "d": 12, "K": 64, "C": 1, "H": 64, "W": 64,
         "channels": 3, "disc_hidden": hidden, "beta": 1e-3, "gamma": 1e-4, "lr": 1e-3,
         "lr_min": 1.25e-6, "disc_lr": 1e-3, "lr_period": 50000, "tau_rate": 2e-5,
         "batch": batch, "seed": 1, "init_std": 0.02}
    torch.manual_seed(1)
    trainer = dm.Trainer(dm.DisqModel(c))
    rng = np.random.default_rng(1)
    b = batch // 2
    x = rng.integers(0, 256, size=(batch, 64, 64, 3), dtype=np.uint8)

    def one():
        g1 = rng.gumbel(size=(b, 12, 64)).astype(np.float32)
        g2 = rng.gumbel(size=(b, 12, 64)).astype(np.float32)
        perm = np.stack([rng.permutation(b) for _ in range(12)]).astype(np.int32)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            trainer.step(x, g1, g2, perm)

    one()
    t0 = time.perf_counter()
    for _ in range(steps):
        one()
    print(f"{steps * batch / (time.perf_counter() - t0):.2f}")


if __name__ == "__main__":
    main()
