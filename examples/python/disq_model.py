"""PyTorch implementation of the disq networks and latent heads
(disq-models(7)) for every model kind, and of one QVAE / FactorQVAE training
iteration, plus a dependency-free safetensors reader/writer.  Module and
parameter names are exactly the tensor names of a disq checkpoint, so
`model.load_state_dict(tensors)` loads one.

Name map of the FactorQVAE paper's network, every kind but the Friede ones
(n = width, m = dense width; E, D = the head's encoder output and decoder
input widths, widths() below):
  encoder.conv_in.{weight,bias}            Conv2d(channels, n, 3, padding=1)
  encoder.blocks.I.skip.{weight,bias}      1x1 Conv2d, only when in != out
  encoder.blocks.I.res.J.{weight,bias}     J = 0..3: 3x3, 3x3, 3x3, 1x1 convs
  encoder.fc.J.{weight,bias}               Linear(4n*H/4*W/4, m), (m, m), (m, E),
                                           the first reading the map in (C,H,W) order
  decoder.fc_in.{weight,bias}              Linear(D, 64*H/4*W/4) read as (64,H/4,W/4)
  decoder.blocks.I.skip / .res.J           J = 0..3: 1x1, 3x3, 3x3, 3x3 convs
  decoder.conv_out.{weight,bias}           Conv2d(n, channels, 1)
Friede et al.'s network (dvae-friede, factordvae-friede; q = n/4):
  encoder.conv.J.{weight,bias}             Conv2d 4x4 stride 2 pad 1: q, q, 2q, 2q channels
  encoder.fc.J.{weight,bias}               Linear(H/16*W/16*2q, 2m), (2m, E), the first
                                           reading the map in TensorFlow's (H,W,C) order
  decoder.fc.J.{weight,bias}               Linear(D, 2m), (2m, H/16*W/16*2q) read as
                                           (H/16,W/16,2q)
  decoder.deconv.J.{weight,bias}           ConvTranspose2d 4x4 stride 2 pad 1:
                                           2q, q, q, channels outputs
Both:
  quantizer.codebook                       [K, C], [K, 1] or [d, K] (codebook_shape())
  discriminator.fc.J.{weight,bias}         J = 0..5 (factor kinds only)
Checkpoints also hold optim.{model,disc}.{m,v} (Adam moments, parameters of
the group concatenated in the order above); load them with strict=False or
filter them out, as load_disq() does.
"""
import json
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

POST_GAIN = 1.0 / 36.0
# the latent head of each kind (lib/model/head.h, disq-models(7))
HEADS = {"qvae": "relaxed", "factorqvae": "relaxed", "vqvae": "relaxed", "factorvqvae": "relaxed",
         "dvae": "logits", "factordvae": "logits", "betavae": "gaussian", "factorvae": "gaussian",
         "ae": "identity", "bioae": "bio", "qlae": "qlae", "dvae-friede": "friede",
         "factordvae-friede": "friede"}
_DTYPES = {"F32": np.float32, "I32": np.int32, "U8": np.uint8, "F16": np.float16}


def read_safetensors(path):
    """(tensors: name -> numpy array, metadata: dict of str)."""
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    meta = header.pop("__metadata__", {})
    data = raw[8 + hlen:]
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[b:end], dtype=_DTYPES[e["dtype"]]).reshape(e["shape"]).copy()
    return out, meta


def write_safetensors(path, tensors, metadata):
    names = {np.dtype(v): k for k, v in _DTYPES.items()}
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        blob = arr.tobytes()
        header[name] = {"dtype": names[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def head_of(kind):
    return HEADS[kind]


def widths(c):
    """(encoder output, decoder input, discriminator input, noise per image)."""
    d, K, C, h = c["d"], c["K"], c["C"], head_of(c["kind"])
    if h == "relaxed":
        return d * C, d * C, d * K, d * K
    if h == "logits":
        return d * K, d, d * K, d * K
    if h == "gaussian":
        return 2 * d, d, d, d
    if h == "friede":
        return d * K, d, d, d * K
    return d, d, d, 0


def codebook_shape(c):
    """The shape of quantizer.codebook, or None for the heads without one."""
    return {"relaxed": (c["K"], c["C"]), "logits": (c["K"], 1),
            "qlae": (c["d"], c["K"])}.get(head_of(c["kind"]))


class Block(nn.Module):
    """EncBlock (kernels 3,3,3,1) or DecBlock (1,3,3,3): skip(x) + res(x)/36."""

    def __init__(self, cin, cout, decoder):
        super().__init__()
        hid = cout // 4
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None
        ks = (1, 3, 3, 3) if decoder else (3, 3, 3, 1)
        chans = [(cin, hid), (hid, hid), (hid, hid), (hid, cout)]
        self.res = nn.ModuleList(nn.Conv2d(a, b, k, padding=k // 2) for (a, b), k in zip(chans, ks))

    def forward(self, x):
        r = x
        for conv in self.res:
            r = conv(F.relu(r))
        return (self.skip(x) if self.skip is not None else x) + r * POST_GAIN


class Encoder(nn.Module):
    """The FactorQVAE paper's encoder, `out` outputs; flattens in (C,H,W) order."""

    def __init__(self, c, out):
        super().__init__()
        n = c["n"]
        self.conv_in = nn.Conv2d(c["channels"], n, 3, padding=1)
        ch = [n, n, n, 2 * n, 2 * n, 4 * n, 4 * n]
        self.blocks = nn.ModuleList(Block(ch[i], ch[i + 1], False) for i in range(6))
        top = 4 * n * (c["H"] // 4) * (c["W"] // 4)
        self.fc = nn.ModuleList([nn.Linear(top, c["m"]), nn.Linear(c["m"], c["m"]),
                                 nn.Linear(c["m"], out)])

    def forward(self, x):  # NCHW
        h = self.conv_in(x)
        for i, blk in enumerate(self.blocks):
            h = blk(h)
            if i in (1, 3):
                h = F.max_pool2d(h, 2)
        h = h.flatten(1)
        for i, fc in enumerate(self.fc):
            h = fc(F.relu(h))
        return h


class Decoder(nn.Module):
    """The FactorQVAE paper's decoder from `inp` values; output on [-0.5, 0.5]."""

    def __init__(self, c, inp):
        super().__init__()
        n = c["n"]
        self.cell = (c["H"] // 4, c["W"] // 4)
        self.fc_in = nn.Linear(inp, 64 * self.cell[0] * self.cell[1])
        ch = [64, 4 * n, 4 * n, 2 * n, 2 * n, n, n]
        self.blocks = nn.ModuleList(Block(ch[i], ch[i + 1], True) for i in range(6))
        self.conv_out = nn.Conv2d(n, c["channels"], 1)

    def forward(self, zq):
        h = self.fc_in(zq).view(-1, 64, *self.cell)
        for i, blk in enumerate(self.blocks):
            h = blk(h)
            if i in (1, 3):
                h = F.interpolate(h, scale_factor=2, mode="nearest")
        return self.conv_out(F.relu(h))


class FriedeEncoder(nn.Module):
    """disentanglement_lib's conv encoder, `out` logits; flattens in TensorFlow's
    (H,W,C) order, so the map is made NHWC first and encoder.fc.0 loads as is."""

    def __init__(self, c, out):
        super().__init__()
        q = c["n"] // 4
        ch = [c["channels"], q, q, 2 * q, 2 * q]
        self.conv = nn.ModuleList(nn.Conv2d(ch[j], ch[j + 1], 4, 2, 1) for j in range(4))
        top = (c["H"] // 16) * (c["W"] // 16) * 2 * q
        self.fc = nn.ModuleList([nn.Linear(top, 2 * c["m"]), nn.Linear(2 * c["m"], out)])

    def forward(self, x):  # NCHW on [0, 1]
        for conv in self.conv:
            x = F.relu(conv(x))
        x = x.permute(0, 2, 3, 1).flatten(1)
        return self.fc[1](F.relu(self.fc[0](x)))


class FriedeDecoder(nn.Module):
    """disentanglement_lib's deconv decoder from `inp` values; pixel logits out."""

    def __init__(self, c, inp):
        super().__init__()
        q = c["n"] // 4
        self.shape = (c["H"] // 16, c["W"] // 16, 2 * q)
        top = self.shape[0] * self.shape[1] * self.shape[2]
        self.fc = nn.ModuleList([nn.Linear(inp, 2 * c["m"]), nn.Linear(2 * c["m"], top)])
        ch = [2 * q, 2 * q, q, q, c["channels"]]
        self.deconv = nn.ModuleList(nn.ConvTranspose2d(ch[j], ch[j + 1], 4, 2, 1) for j in range(4))

    def forward(self, zq):
        h = F.relu(self.fc[1](F.relu(self.fc[0](zq))))
        h = h.view(-1, *self.shape).permute(0, 3, 1, 2)
        for j, dc in enumerate(self.deconv):
            h = dc(h)
            if j < 3:
                h = F.relu(h)
        return h


class Quantizer(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.codebook = nn.Parameter(torch.randn(*shape))

    def neg_dist(self, z):
        """Relaxed head: z [b,d,C] -> -R [b,d,K], R squared distances (disq-models(7))."""
        return -((z.unsqueeze(2) - self.codebook.view(1, 1, *self.codebook.shape)) ** 2).sum(-1)


class TCDiscriminator(nn.Module):
    """The TC discriminator on `width` inputs, LeakyReLU `slope` (0.2; 0.01 on
    the Friede network)."""

    def __init__(self, width, hidden, slope):
        super().__init__()
        dims = [width] + [hidden] * 5 + [2]
        self.fc = nn.ModuleList(nn.Linear(dims[i], dims[i + 1]) for i in range(6))
        self.slope = slope

    def forward(self, w):
        for i, fc in enumerate(self.fc):
            w = fc(w)
            if i < 5:
                w = F.leaky_relu(w, self.slope)
        return w


class DisqModel(nn.Module):
    """A model of any kind: its network, codebook and discriminator, in checkpoint order."""

    def __init__(self, config):
        super().__init__()
        c = self.config = dict(config)
        enc, dec, disc, _ = widths(c)
        self.friede = head_of(c["kind"]) == "friede"
        self.factor = c["kind"].startswith("factor")
        if self.friede:
            self.encoder, self.decoder = FriedeEncoder(c, enc), FriedeDecoder(c, dec)
        else:
            self.encoder, self.decoder = Encoder(c, enc), Decoder(c, dec)
        shape = codebook_shape(c)
        if shape:
            self.quantizer = Quantizer(shape)
        if self.factor:
            self.discriminator = TCDiscriminator(disc, c["disc_hidden"], 0.01 if self.friede else 0.2)

    def encode(self, x_u8_nhwc):
        """u8 images [B,H,W,C] -> z, as `enc` writes it: the encoder output
        (d*C values, d*K logits or d values), the mean mu for the Gaussian kinds."""
        x = images_to_nchw(x_u8_nhwc, 0.0 if self.friede else 0.5)
        out = self.encoder(x)
        return out[:, :self.config["d"]] if head_of(self.config["kind"]) == "gaussian" else out

    def soft_assign(self, z, noise, tau):
        c = self.config
        logits = self.quantizer.neg_dist(z.view(z.shape[0], c["d"], c["C"]))
        return logits, F.softmax((logits + noise) / tau, -1)


def load_disq(path):
    """A DisqModel with a disq checkpoint's weights, and its metadata."""
    tensors, meta = read_safetensors(path)
    model = DisqModel(json.loads(meta["config"]))
    state = {k: torch.from_numpy(v) for k, v in tensors.items() if not k.startswith("optim.")}
    model.load_state_dict(state)
    return model, meta


def images_to_nchw(x_u8_nhwc, shift=0.5):
    """u8 [B,H,W,C] -> x/255 - shift [B,C,H,W]: shift 0.5 for the FactorQVAE
    network's MSE, 0 for Friede's BCE."""
    return torch.as_tensor(x_u8_nhwc).float().permute(0, 3, 1, 2) / 255.0 - shift


class Trainer:
    """Both optimizers and schedules of the reference; step() is one iteration
    of qvae or factorqvae (tests/golden/gen_golden_models.py trains the others)."""

    def __init__(self, model):
        c = model.config
        self.model, self.c, self.iteration = model, c, 0
        vae = [p for n, p in model.named_parameters() if not n.startswith("discriminator.")]
        self.opt = torch.optim.Adam(vae, lr=c["lr"], betas=(0.9, 0.999))
        self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt, c["lr_period"], c["lr_min"])
        self.factor = c["kind"] == "factorqvae"
        if self.factor:
            self.opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=c["disc_lr"],
                                          betas=(0.9, 0.999))
            self.sched_d = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt_d, c["lr_period"],
                                                                      c["lr_min"])

    def step(self, x_u8, g1, g2=None, perm=None):
        """x_u8 [B,H,W,C]; g1, g2 [b,d,K] Gumbel noise; perm [d,b]. Returns the losses."""
        c, m = self.c, self.model
        tau = float(np.exp(-c["tau_rate"] * self.iteration))
        x = images_to_nchw(x_u8)
        b = x.shape[0] // 2 if self.factor else x.shape[0]
        x1, x2 = x[:b], x[b:]
        z = m.encoder(x1)
        logits, w = m.soft_assign(z, torch.as_tensor(g1), tau)
        zq = w @ m.quantizer.codebook
        recon = F.mse_loss(m.decoder(zq.reshape(b, -1)), x1)
        q = F.softmax(logits, -1)
        kl = (q * torch.log(q * c["K"] + 1e-10)).sum(-1).mean()
        loss = recon + c["beta"] * kl
        out = {"recon": recon.item(), "kl": kl.item(), "tc": 0.0, "disc": 0.0}
        if self.factor:
            dl = m.discriminator(w.reshape(b, -1))
            tc = (dl[:, 0] - dl[:, 1]).mean()
            loss = loss + c["gamma"] * tc
            out["tc"] = tc.item()
        out["loss"] = loss.item()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        if self.factor:
            with torch.no_grad():
                _, w2 = m.soft_assign(m.encoder(x2), torch.as_tensor(g2), tau)
                perm = torch.as_tensor(perm).long()
                wp = torch.stack([w2[perm[j], j, :] for j in range(c["d"])], 1)
            inp = torch.cat([w.detach().reshape(b, -1), wp.reshape(b, -1)])
            logits_d = m.discriminator(inp)
            zeros = torch.zeros(b, dtype=torch.long)
            d_loss = 0.5 * (F.cross_entropy(logits_d[:b], zeros) + F.cross_entropy(logits_d[b:], zeros + 1))
            self.opt_d.zero_grad()
            d_loss.backward()
            self.opt_d.step()
            self.sched_d.step()
            out["disc"] = d_loss.item()
        self.sched.step()
        self.iteration += 1
        return out


def config_json(config):
    """The config as disq stores it (every field, fixed order)."""
    order = ["kind", "n", "m", "d", "K", "C", "H", "W", "channels", "disc_hidden", "beta", "gamma",
             "lr", "lr_min", "disc_lr", "lr_period", "tau_rate", "batch", "seed", "init_std", "init_gain"]
    return json.dumps({k: config[k] for k in order})


def checkpoint_metadata(config):
    """__metadata__ of a freshly initialised disq checkpoint (step 0)."""
    return {"format": "disq-checkpoint-1", "config": config_json(config), "step": "0"}
