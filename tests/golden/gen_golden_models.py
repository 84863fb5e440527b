#!/usr/bin/python3
"""Writes tests/fixtures/models/golden_KIND.safetensors: two training
iterations of every model kind of disq-models(7) besides (factor)qvae (those are
tests/golden/gen_golden_factorqvae.py's) on a tiny config, computed in PyTorch with
the network of examples/python/disq_model.py and the noise fed explicitly, so
that tests/unit/test_models.c replays them through dq_train_step.

One file per kind: metadata "config" (the disq config JSON); tensors
  init.NAME               every weight before the iterations
  after.NAME              after them, for the tensors next to the latent head
                          (AFTER_PREFIXES; the second iteration's losses
                          already depend on every weight after the first)
  x [S,B,H,W,C] u8, g1/g2 [S,rows,width] noise (Gumbel [d*K] or normal [d],
  width 0 for deterministic kinds), perm [S,d,rows] i32,
  losses [S,5] (loss, recon, regulariser, tc, disc)

Run with Debian's python3 (torch 1.13 CPU): /usr/bin/python3 tests/golden/gen_golden_models.py
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "examples", "python"))
import disq_model as dm  # noqa: E402

BASE = {"n": 4, "m": 8, "d": 3, "K": 5, "C": 1, "H": 8, "W": 8, "channels": 3,
        "disc_hidden": 16, "lr": 1e-3, "lr_min": 1e-4, "disc_lr": 2e-3, "lr_period": 3,
        "tau_rate": 0.1, "batch": 4, "seed": 1, "init_std": 0.1, "init_gain": 0}
KINDS = {
    "ae": {},
    "betavae": {"beta": 0.05},
    "factorvae": {"beta": 0.05, "gamma": 0.1},
    "bioae": {"beta": 0.1, "gamma": 1.0},
    "qlae": {"beta": 0.01},
    "dvae": {"beta": 0.01},
    "factordvae": {"beta": 0.01, "gamma": 0.1},
    "vqvae": {"beta": 0.01, "C": 2},
    "factorvqvae": {"beta": 0.01, "gamma": 0.1, "C": 2},
    # Friede et al.: their own network (channels n/4, n/4, n/2, n/2, dense 2m),
    # 16x16 images, tau 1 and the noise scale annealed over lr_period
    "dvae-friede": {"beta": 1.0, "n": 8, "m": 4, "H": 16, "W": 16, "tau_rate": 0.0},
    "factordvae-friede": {"beta": 1.0, "gamma": 0.5, "n": 8, "m": 4, "H": 16, "W": 16,
                          "tau_rate": 0.0},
}
STEPS = 2
AFTER_PREFIXES = ("encoder.fc.", "decoder.fc_in.", "decoder.conv_out.", "quantizer.", "decoder.fc.",
                  "encoder.conv.", "decoder.deconv.",
                  "discriminator.fc.0.", "discriminator.fc.5.")


def friede_value(K):
    return torch.tensor([-1 + 2 * k / (K - 1) for k in range(K)], dtype=torch.float32)


def noise_scale(step, period):
    t = step / period if period > 0 and step < period else 1.0
    return 2.0 + (0.5 - 2.0) * 0.5 * (1 + np.cos(np.pi * t))


class Model(dm.DisqModel):
    """disq_model's model of any kind with the training step's latent head."""

    def __init__(self, c):
        super().__init__(c)
        self.c = c

    def head(self, z, noise, tau, scale=1.0):
        """z -> (decoder input, discriminator input, regulariser, weighted share)."""
        c, h = self.c, dm.head_of(self.c["kind"])
        b, d, K = z.shape[0], c["d"], c["K"]
        if h in ("relaxed", "logits"):
            M = self.quantizer.codebook
            if h == "relaxed":
                logits = -((z.view(b, d, 1, -1) - M.view(1, 1, *M.shape)) ** 2).sum(-1)
            else:
                logits = z.view(b, d, K)
            w = F.softmax((logits + noise.view(b, d, K)) / tau, -1)
            zq = (w @ M).reshape(b, -1)
            q = F.softmax(logits, -1)
            kl = (q * torch.log(q * K + 1e-10)).sum(-1).mean()
            return zq, w.reshape(b, -1), kl, c["beta"] * kl
        if h == "friede":
            logits = z.view(b, d, K)
            w = F.softmax((logits + scale * noise.view(b, d, K)) / tau, -1)
            zq = (w * friede_value(K)).sum(-1)
            q = F.softmax(logits, -1)
            kl = (q * torch.log(q * K + 1e-10)).sum(-1).sum(-1).mean()
            return zq, zq, kl, c["beta"] * kl
        if h == "gaussian":
            mu, lv = z[:, :d], z[:, d:]
            zs = mu + noise.view(b, d) * torch.exp(0.5 * lv)
            kl = (-0.5 * (1 + lv - mu ** 2 - torch.exp(lv))).sum(1).mean()
            return zs, zs, kl, c["beta"] * kl
        if h == "qlae":
            V = self.quantizer.codebook
            idx = (z.unsqueeze(2) - V.unsqueeze(0)).abs().argmin(-1)
            zq = V.unsqueeze(0).expand(b, d, K).gather(2, idx.unsqueeze(-1)).squeeze(-1)
            reg = ((zq - z) ** 2).mean()
            weighted = c["beta"] * ((z.detach() - zq) ** 2).mean() + c["beta"] * ((z - zq.detach()) ** 2).mean()
            zst = z + (zq - z).detach()
            return zst, zst, reg, weighted
        if h == "bio":
            reg = c["gamma"] * F.relu(-z).mean() + c["beta"] * (z ** 2).mean()
            return z, z, reg, reg
        zero = torch.zeros(())
        return z, z, zero, zero


def train(model, x_all, g1, g2, perm):
    c = model.c
    vae = [p for n, p in model.named_parameters() if not n.startswith("discriminator.")]
    opt = torch.optim.Adam(vae, lr=c["lr"], betas=(0.9, 0.999))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, c["lr_period"], c["lr_min"])
    if model.factor:
        opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=c["disc_lr"],
                                 betas=(0.5, 0.9) if model.friede else (0.9, 0.999))
        sched_d = torch.optim.lr_scheduler.CosineAnnealingLR(opt_d, c["lr_period"], c["lr_min"])
    losses = []
    for s in range(x_all.shape[0]):
        tau = float(np.exp(-c["tau_rate"] * s))
        scale = noise_scale(s, c["lr_period"]) if model.friede else 1.0
        x = dm.images_to_nchw(x_all[s]) + (0.5 if model.friede else 0.0)
        b = x.shape[0] // 2 if model.factor else x.shape[0]
        x1, x2 = x[:b], x[b:]
        zq, disc_in, reg, weighted = model.head(model.encoder(x1), torch.as_tensor(g1[s]), tau, scale)
        if model.friede:
            recon = F.binary_cross_entropy_with_logits(model.decoder(zq), x1, reduction="sum") / b
        else:
            recon = F.mse_loss(model.decoder(zq), x1)
        loss = recon + weighted
        tc, d_loss = torch.zeros(()), torch.zeros(())
        if model.factor:
            dl = model.discriminator(disc_in)
            tc = (dl[:, 0] - dl[:, 1]).mean()
            loss = loss + c["gamma"] * tc
        opt.zero_grad()
        loss.backward()
        opt.step()
        if model.factor:
            with torch.no_grad():
                _, w2, _, _ = model.head(model.encoder(x2), torch.as_tensor(g2[s]), tau, scale)
                w2 = w2.view(b, c["d"], -1)
                p = torch.as_tensor(perm[s]).long()
                wp = torch.stack([w2[p[j], j, :] for j in range(c["d"])], 1)
            inp = torch.cat([disc_in.detach(), wp.reshape(b, -1)])
            logits = model.discriminator(inp)
            zeros = torch.zeros(b, dtype=torch.long)
            d_loss = 0.5 * (F.cross_entropy(logits[:b], zeros) + F.cross_entropy(logits[b:], zeros + 1))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            sched_d.step()
        sched.step()
        losses.append([loss.item(), recon.item(), float(reg), tc.item(), d_loss.item()])
    return np.array(losses, dtype=np.float32)


def main():
    out = os.path.join(here, "..", "fixtures", "models")
    os.makedirs(out, exist_ok=True)
    for kind, extra in KINDS.items():
        c = {**BASE, "kind": kind, "beta": 0.0, "gamma": 0.0, **extra}
        torch.manual_seed(1)
        rng = np.random.default_rng(1)
        model = Model(c)
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.endswith(".bias"):
                    p.normal_(0, 0.01)
                elif name != "quantizer.codebook":
                    p.normal_(0, c["init_std"])
        tensors = {"init." + k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        rows = c["batch"] // 2 if model.factor else c["batch"]
        nw = dm.widths(c)[3]
        x = rng.integers(0, 256, size=(STEPS, c["batch"], c["H"], c["W"], c["channels"]), dtype=np.uint8)
        draw = rng.normal if dm.head_of(kind) == "gaussian" else rng.gumbel
        g1 = draw(size=(STEPS, rows, nw)).astype(np.float32)
        g2 = draw(size=(STEPS, rows, nw)).astype(np.float32)
        perm = np.stack([np.stack([rng.permutation(rows) for _ in range(c["d"])]) for _ in range(STEPS)])
        losses = train(model, x, g1, g2, perm)
        print(kind, losses.tolist())
        tensors.update({"after." + k: v.detach().numpy().copy() for k, v in model.state_dict().items()
                        if k.startswith(AFTER_PREFIXES)})
        tensors.update({"x": x, "g1": g1, "g2": g2, "perm": perm.astype(np.int32), "losses": losses})
        dm.write_safetensors(os.path.join(out, "golden_%s.safetensors" % kind), tensors,
                             {"config": dm.config_json(c)})


if __name__ == "__main__":
    main()
