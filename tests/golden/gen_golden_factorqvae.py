#!/usr/bin/python3
"""Writes tests/fixtures/model/golden_*.safetensors: two FactorQVAE training
iterations of a tiny config computed by the PyTorch reference
(examples/python/disq_model.py), with the noise fed explicitly so that
tests/unit/test_model_golden.c can replay them through dq_train_step.

  golden_init.safetensors   disq checkpoint (weights + config) before step 1
  golden_io.safetensors     x [S,B,H,W,C] u8, g1/g2 [S,B/2,d,K], perm [S,d,B/2] i32,
                            losses [S,5] (loss, recon, kl, tc, disc)
  golden_after.safetensors  every weight after the S iterations

Run with Debian's python3 (torch 1.13 CPU): /usr/bin/python3 tests/golden/gen_golden_factorqvae.py
"""
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "examples", "python"))
import disq_model as dm  # noqa: E402

CONFIG = {"kind": "factorqvae", "n": 8, "m": 16, "d": 4, "K": 8, "C": 1, "H": 8, "W": 8,
          "channels": 3, "disc_hidden": 32, "beta": 0.01, "gamma": 0.1, "lr": 1e-3,
          "lr_min": 1e-4, "disc_lr": 2e-3, "lr_period": 3, "tau_rate": 0.1, "batch": 4, "seed": 1,
          "init_std": 0.1, "init_gain": 0}
STEPS = 2


def main():
    out = os.path.join(here, "..", "fixtures", "model")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    c = CONFIG
    model = dm.DisqModel(c)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.normal_(0, 0.01)
            elif name != "quantizer.codebook":
                p.normal_(0, c["init_std"])  # > the reference 0.02: every path carries signal
    state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    dm.write_safetensors(os.path.join(out, "golden_init.safetensors"), state,
                         dm.checkpoint_metadata(c))

    b = c["batch"] // 2
    x = rng.integers(0, 256, size=(STEPS, c["batch"], c["H"], c["W"], c["channels"]), dtype=np.uint8)
    g1 = rng.gumbel(size=(STEPS, b, c["d"], c["K"])).astype(np.float32)
    g2 = rng.gumbel(size=(STEPS, b, c["d"], c["K"])).astype(np.float32)
    perm = np.stack([np.stack([rng.permutation(b) for _ in range(c["d"])]) for _ in range(STEPS)])
    perm = perm.astype(np.int32)
    trainer = dm.Trainer(model)
    losses = []
    for s in range(STEPS):
        r = trainer.step(x[s], g1[s], g2[s], perm[s])
        losses.append([r["loss"], r["recon"], r["kl"], r["tc"], r["disc"]])
        print("step", s, r)
    dm.write_safetensors(os.path.join(out, "golden_io.safetensors"),
                         {"x": x, "g1": g1, "g2": g2, "perm": perm,
                          "losses": np.array(losses, dtype=np.float32)}, {})
    after = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    dm.write_safetensors(os.path.join(out, "golden_after.safetensors"), after, {})


if __name__ == "__main__":
    main()
