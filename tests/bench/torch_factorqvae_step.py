#!/usr/bin/python3
"""PyTorch reference timing of one FactorQVAE training iteration (disq-models(7)):
the VAE update on x1 (encoder, Gumbel-softmax relaxed quantizer, decoder,
MSE + beta KL + gamma TC, Adam on encoder/decoder/codebook), then the
discriminator update on x1's detached soft codes and the per-latent
permutation of x2's (Adam on the discriminator).  Defaults: n = 128, m = 128,
d = 12, K = 64, 64x64x3 images, 256 + 256 images per iteration.

The network is examples/python/disq_model.py (the model branch's PyTorch
reference, whose parameter names are disq's checkpoint names); this script
only adds a GPU-friendly step: Gumbel noise, permutations and the
temperature live on the device and nothing is read back inside the timed
loop.  The input batch is fixed (data loading is not timed).

Modes (--modes, comma-separated):
  fp32          IEEE float GEMMs and convolutions (TF32 disabled)
  tf32          TF32 tensor cores for matmuls and cuDNN convolutions
  bf16          torch.autocast bfloat16 (with TF32 for what stays float)
  compile       torch.compile of both loss computations, TF32
  compile-bf16  torch.compile with bf16 autocast
torch.compile modes are skipped where torch.compile is absent (torch < 2).

Prints one line per mode: ms/step and images/s (and TFLOP/s at the default
size, from the 5.59 TFLOP per iteration of disq-models(7), COST).  On a machine without CUDA
it runs on the CPU; use a small --n/--size/--batch there (a smoke check):
  /usr/bin/python3 tests/bench/torch_factorqvae_step.py --n 8 --size 16 --batch 8 --steps 2
"""
import argparse
import contextlib
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples", "python"))
try:
    import disq_model as dm  # noqa: E402
except ImportError:
    sys.exit("torch_factorqvae_step.py: examples/python/disq_model.py (the PyTorch reference "
             "network, branch model) is missing")

STEP_TFLOP = 5.59  # disq-models(7), COST: one FactorQVAE iteration at n = 128, 256 + 256 images
DEFAULTS = {"n": 128, "m": 128, "d": 12, "K": 64, "size": 64, "batch": 512}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=DEFAULTS["n"], help="conv width (128)")
    p.add_argument("--m", type=int, default=DEFAULTS["m"], help="dense width (128)")
    p.add_argument("--d", type=int, default=DEFAULTS["d"], help="latents (12)")
    p.add_argument("--K", type=int, default=DEFAULTS["K"], help="codebook size (64)")
    p.add_argument("--size", type=int, default=DEFAULTS["size"], help="image side (64)")
    p.add_argument("--batch", type=int, default=DEFAULTS["batch"], help="images per iteration, both halves (512)")
    p.add_argument("--steps", type=int, default=20, help="timed iterations per mode (20)")
    p.add_argument("--warmup", type=int, default=5, help="untimed iterations first (5)")
    p.add_argument("--modes", default="fp32,tf32,bf16,compile", help="see the module doc")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--contiguous", action="store_true",
                   help="NCHW memory format (default on CUDA: channels_last, i.e. NHWC like disq)")
    return p.parse_args()


def build(args, device, memory_format):
    c = {"kind": "factorqvae", "n": args.n, "m": args.m, "d": args.d, "K": args.K, "C": 1,
         "H": args.size, "W": args.size, "channels": 3, "disc_hidden": 1000,
         "beta": 1e-3, "gamma": 1e-4, "lr": 1e-3, "disc_lr": 1e-3}
    torch.manual_seed(1)
    model = dm.DisqModel(c)
    with torch.no_grad():  # the initialisation of disq-models(7): weights N(0, 0.02^2), biases 0, codebook N(0, 1)
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.zero_()
            elif name != "quantizer.codebook":
                p.normal_(0, 0.02)
    model = model.to(device=device, memory_format=memory_format)
    vae = [p for n, p in model.named_parameters() if not n.startswith("discriminator.")]
    opt = torch.optim.Adam(vae, lr=c["lr"], betas=(0.9, 0.999))
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=c["disc_lr"], betas=(0.9, 0.999))
    return c, model, opt, opt_d


def gumbel(shape, device):
    u = torch.rand(shape, device=device).clamp_(1e-10, 1 - 1e-7)
    return -torch.log(-torch.log(u))


def make_step(c, model, opt, opt_d, autocast, compiled):
    d, K = c["d"], c["K"]

    def vae_loss(x1, g1, tau):
        z = model.encoder(x1)
        logits, w = model.soft_assign(z, g1, tau)
        zq = w @ model.quantizer.codebook
        recon = F.mse_loss(model.decoder(zq.reshape(x1.shape[0], -1)).float(), x1.float())
        q = F.softmax(logits.float(), -1)
        kl = (q * torch.log(q * K + 1e-10)).sum(-1).mean()
        dl = model.discriminator(w.reshape(x1.shape[0], -1)).float()
        tc = (dl[:, 0] - dl[:, 1]).mean()
        return recon + c["beta"] * kl + c["gamma"] * tc, w

    def disc_loss(w1, x2, g2, tau, perm):
        with torch.no_grad():
            _, w2 = model.soft_assign(model.encoder(x2), g2, tau)
            # Latent j of row i takes row perm[j, i]'s latent j.
            wp = torch.gather(w2, 0, perm.t().unsqueeze(-1).expand(-1, -1, K))
        inp = torch.cat([w1.detach().reshape(w1.shape[0], -1), wp.reshape(w1.shape[0], -1)])
        logits_d = model.discriminator(inp).float()
        half = w1.shape[0]
        labels = torch.cat([torch.zeros(half, dtype=torch.long, device=inp.device),
                            torch.ones(half, dtype=torch.long, device=inp.device)])
        # 0.5 (CE(first half, 0) + CE(second half, 1)) = CE mean over both halves.
        return F.cross_entropy(logits_d, labels)

    if compiled:
        vae_loss = torch.compile(vae_loss)
        disc_loss = torch.compile(disc_loss)

    def step(x, tau):
        half = x.shape[0] // 2
        x1, x2 = x[:half], x[half:]
        dev = x.device
        with autocast():
            loss, w1 = vae_loss(x1, gumbel((half, d, K), dev), tau)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        perm = torch.argsort(torch.rand(d, half, device=dev), dim=1)
        with autocast():
            dloss = disc_loss(w1, x2, gumbel((half, d, K), dev), tau, perm)
        opt_d.zero_grad(set_to_none=True)
        dloss.backward()
        opt_d.step()
        return loss.detach(), dloss.detach()

    return step


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def run_mode(args, mode, device):
    compiled = mode.startswith("compile")
    if compiled and not hasattr(torch, "compile"):
        print(f"torch {mode}: skipped (torch {torch.__version__} has no torch.compile)")
        return
    set_tf32(mode != "fp32")
    bf16 = mode in ("bf16", "compile-bf16")
    if bf16 and device.type == "cpu":
        autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16)  # noqa: E731
    elif bf16:
        autocast = lambda: torch.autocast("cuda", dtype=torch.bfloat16)  # noqa: E731
    else:
        autocast = contextlib.nullcontext
    memory_format = torch.contiguous_format if args.contiguous or device.type == "cpu" else torch.channels_last
    c, model, opt, opt_d = build(args, device, memory_format)
    step = make_step(c, model, opt, opt_d, autocast, compiled)
    g = torch.Generator(device="cpu").manual_seed(2)
    x_u8 = torch.randint(0, 256, (args.batch, 3, args.size, args.size), generator=g, dtype=torch.uint8)
    x = (x_u8.float() / 255.0 - 0.5).to(device=device).contiguous(memory_format=memory_format)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    iteration = 0

    def tau():  # disq-models(7): tau = exp(-2e-5 iteration) for Factor* models
        return torch.tensor(math.exp(-2e-5 * iteration), device=device)

    for _ in range(args.warmup):
        step(x, tau())
        iteration += 1
    sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss, dloss = step(x, tau())
        iteration += 1
    sync()
    seconds = (time.perf_counter() - t0) / args.steps
    if not (torch.isfinite(loss) and torch.isfinite(dloss)):
        sys.exit(f"torch_factorqvae_step.py: {mode}: non-finite loss")
    line = f"torch {mode}: {seconds * 1e3:.2f} ms/step, {args.batch / seconds:.0f} images/s"
    size = {k: getattr(args, k) for k in DEFAULTS}
    if size == DEFAULTS:
        line += f", {STEP_TFLOP / seconds:.1f} TFLOP/s"
    print(line, flush=True)


def main():
    args = parse_args()
    if args.batch % 2 or args.size % 4:
        sys.exit("torch_factorqvae_step.py: --batch must be even and --size a multiple of 4")
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"# torch {torch.__version__} on {name}: FactorQVAE n={args.n} m={args.m} d={args.d} "
          f"K={args.K} {args.size}x{args.size}, {args.batch // 2}+{args.batch // 2} images, "
          f"{args.steps} timed steps after {args.warmup}", flush=True)
    for mode in args.modes.split(","):
        if mode not in ("fp32", "tf32", "bf16", "compile", "compile-bf16"):
            sys.exit(f"torch_factorqvae_step.py: unknown mode '{mode}'")
        run_mode(args, mode, device)


if __name__ == "__main__":
    main()
