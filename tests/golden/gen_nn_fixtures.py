#!/usr/bin/python3
"""Writes tests/fixtures/nn/*.bin: inputs and PyTorch outputs/gradients for
test_nn_torch.c and test_optim.c.  Run from the repository root with the
Python that has torch:  /usr/bin/python3 tests/gen_nn_fixtures.py

File format (read by tests/nn_fixture.h): a sequence of records
  u32 name length, name bytes, u32 count, count little-endian float64.
Activations are stored NHWC, weights in PyTorch layout."""
import math
import os
import struct

import torch
import torch.nn.functional as F

OUT = os.path.join("tests", "fixtures", "nn")
torch.manual_seed(1)
torch.set_default_dtype(torch.float32)


def write(path, arrays):
    with open(os.path.join(OUT, path), "wb") as f:
        for name, value in arrays.items():
            flat = torch.as_tensor(value).detach().double().reshape(-1).tolist()
            data = name.encode()
            f.write(struct.pack("<I", len(data)) + data + struct.pack("<I", len(flat)))
            f.write(struct.pack("<%dd" % len(flat), *flat))


def nhwc(t):
    return t.permute(0, 2, 3, 1)


def conv_case(prefix, n, cin, cout, h, w, k, stride, pad, transposed=False):
    x = torch.randn(n, cin, h, w, requires_grad=True)
    wshape = (cin, cout, k, k) if transposed else (cout, cin, k, k)
    weight = (torch.randn(*wshape) * 0.5).requires_grad_()
    bias = torch.randn(cout, requires_grad=True)
    op = F.conv_transpose2d if transposed else F.conv2d
    y = op(x, weight, bias, stride=stride, padding=pad)
    dy = torch.randn_like(y)
    y.backward(dy)
    return {prefix + "x": nhwc(x), prefix + "w": weight, prefix + "b": bias,
            prefix + "y": nhwc(y), prefix + "dy": nhwc(dy), prefix + "dx": nhwc(x.grad),
            prefix + "dw": weight.grad, prefix + "db": bias.grad}


def layers():
    a = {}
    a.update(conv_case("c3.", 2, 3, 4, 5, 6, 3, 1, 1))
    a.update(conv_case("c1.", 2, 5, 6, 4, 4, 1, 1, 0))
    a.update(conv_case("c4.", 2, 3, 2, 6, 8, 4, 2, 1))
    a.update(conv_case("t4.", 2, 3, 2, 3, 4, 4, 2, 1, transposed=True))

    x = torch.randn(3, 7, requires_grad=True)
    w = torch.randn(5, 7, requires_grad=True)
    b = torch.randn(5, requires_grad=True)
    y = F.linear(x, w, b)
    dy = torch.randn_like(y)
    y.backward(dy)
    a.update({"lin.x": x, "lin.w": w, "lin.b": b, "lin.y": y, "lin.dy": dy,
              "lin.dx": x.grad, "lin.dw": w.grad, "lin.db": b.grad})

    x = torch.randn(2, 3, 4, 6, requires_grad=True)
    y = F.max_pool2d(x, 2)
    dy = torch.randn_like(y)
    y.backward(dy)
    a.update({"pool.x": nhwc(x), "pool.y": nhwc(y), "pool.dy": nhwc(dy), "pool.dx": nhwc(x.grad)})

    x = torch.randn(2, 3, 3, 2, requires_grad=True)
    y = F.interpolate(x, scale_factor=2, mode="nearest")
    dy = torch.randn_like(y)
    y.backward(dy)
    a.update({"up.x": nhwc(x), "up.y": nhwc(y), "up.dy": nhwc(dy), "up.dx": nhwc(x.grad)})

    logits = torch.randn(6, 2, requires_grad=True)
    labels = torch.tensor([0, 1, 1, 0, 1, 1])
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    a.update({"ce.logits": logits, "ce.labels": labels, "ce.loss": loss, "ce.dlogits": logits.grad})

    logits = (torch.randn(10) * 3).requires_grad_()
    target = torch.rand(10)
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction="sum")
    loss.backward()
    a.update({"bce.logits": logits, "bce.target": target, "bce.loss": loss,
              "bce.dlogits": logits.grad})

    x = torch.randn(4, 5, requires_grad=True)
    y = F.log_softmax(x, dim=1)
    dy = torch.randn_like(y)
    y.backward(dy)
    a.update({"lsm.x": x, "lsm.y": y, "lsm.dy": dy, "lsm.dx": x.grad})
    write("layers.bin", a)


def quantizer(C):
    """The QVAE relaxed quantizer exactly as disq-models(7) composes it:
    loss = sum(zq * r) + beta * KL(softmax(-R)), w = softmax((-R + g) / tau)."""
    N, d, K, tau, beta = 4, 3, 8, 0.6, 0.3
    z = torch.randn(N, d, C, requires_grad=True)
    M = torch.randn(K, C, requires_grad=True)
    g = -torch.log(-torch.log(torch.rand(N, d, K).clamp_min(1e-7)))
    R = ((z.unsqueeze(-2) - M) ** 2).sum(-1)
    w = F.softmax((-R + g) / tau, dim=-1)
    zq = w @ M
    q = F.softmax(-R, dim=-1)
    kl = (q * torch.log(q * K + 1e-10)).sum(-1).mean()
    r = torch.randn_like(zq)
    loss = (zq * r).sum() + beta * kl
    loss.backward()
    p = "q%d." % C
    return {p + "z": z, p + "M": M, p + "g": g, p + "tau": tau, p + "beta": beta,
            p + "w": w, p + "zq": zq, p + "kl": kl, p + "r": r, p + "dz": z.grad, p + "dM": M.grad}


def optim():
    a = {}
    p1 = torch.randn(5, requires_grad=True)
    p2 = torch.randn(3, requires_grad=True)
    a["adam.p1"], a["adam.p2"] = p1.detach().clone(), p2.detach().clone()
    opt = torch.optim.Adam([p1, p2], lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3, eta_min=1.25e-4)
    grads, lrs, after = [], [], []
    for step in range(8):
        g1, g2 = torch.randn(5) * (step + 1), torch.randn(3) * 1e-3
        p1.grad, p2.grad = g1.clone(), g2.clone()
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        grads.append(torch.cat([g1, g2]))
        after.append(torch.cat([p1.detach(), p2.detach()]))
    a["adam.grads"] = torch.stack(grads)
    a["adam.lrs"] = torch.tensor(lrs, dtype=torch.float64)
    a["adam.after"] = torch.stack(after)

    opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50000, eta_min=1.25e-6)
    lrs = []
    for epoch in range(120001):
        if epoch in (0, 1, 2, 24999, 25000, 49999, 50000, 50001, 50002, 75000, 99999, 100000,
                     100001, 120000):
            lrs.append((epoch, opt.param_groups[0]["lr"]))
        opt.step()
        sched.step()
    a["cos.epochs"] = torch.tensor([e for e, _ in lrs], dtype=torch.float64)
    a["cos.lrs"] = torch.tensor([lr for _, lr in lrs], dtype=torch.float64)
    a["cos.closed"] = torch.tensor([1.25e-6 + (1e-3 - 1.25e-6) * (1 + math.cos(math.pi * e / 50000)) / 2
                                    for e, _ in lrs], dtype=torch.float64)
    write("optim.bin", a)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    layers()
    q = quantizer(1)
    q.update(quantizer(3))
    write("quant.bin", q)
    optim()
