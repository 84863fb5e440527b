#!/usr/bin/python3
"""Reference side of tests/bench/bench_metric.sh.

    bench_metric_ref.py make OUT.dqs        write the benchmark stream
    bench_metric_ref.py dci|infomec|infomec-code IN.dqs  time the sklearn reference

The stream: 15000 rows, F = 6 factors of sizes 10 10 10 8 4 15 (Shapes3D's),
d = 12 float32 latents `z` mixing the factors with noise, and `code`, those
latents quantised to 16 levels (a discrete representation).  The reference
functions are the ones that generate the test fixtures
(tests/golden/gen_metric_fixtures.py): disentanglement_lib's DCI and the FactorQVAE
InfoMEC, sklearn at its defaults.
"""
import os
import sys
import time

import msgpack
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gen_metric_fixtures as ref  # noqa: E402

SIZES = [10, 10, 10, 8, 4, 15]
NAMES = ["floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation"]
TRAIN, TEST = 10000, 5000


def make(path):
    rng = np.random.default_rng(7)
    n = TRAIN + TEST
    s = np.stack([rng.integers(0, k, n) for k in SIZES], axis=1).astype(np.int32)
    u = s / (np.array(SIZES) - 1.0)
    mix = rng.standard_normal((6, 12)) * 0.3
    mix[np.arange(6), np.arange(6)] += 1.0
    z = (u @ mix + 0.1 * rng.standard_normal((n, 12))).astype(np.float32)
    code = np.clip(np.floor((z + 1.5) * 4), 0, 15).astype(np.int32)  # a 16-entry codebook per latent
    ref.write_stream(path, NAMES, SIZES, {"s": s, "z": z, "code": code})


def load(path):
    with open(path, "rb") as f:
        u = msgpack.Unpacker(f, raw=False)
        next(u)
        b = next(u)

    def arr(t):
        return np.frombuffer(t["data"], dtype={"i32": "<i4", "f32": "<f4"}[t["dtype"]]).reshape(t["shape"])
    return arr(b["s"]), arr(b["z"]), arr(b["code"])


def main():
    what, path = sys.argv[1], sys.argv[2]
    if what == "make":
        make(path)
        return
    s, z, code = load(path)
    t0 = time.time()
    if what == "dci":
        r = ref.dci(z[:TRAIN].T, s[:TRAIN].T, z[TRAIN:TRAIN + TEST].T, s[TRAIN:TRAIN + TEST].T)
        keys = ["dci.disentanglement", "dci.completeness", "dci.informativeness_test"]
    elif what == "infomec":
        r = ref.infomec(z[:TRAIN], s[:TRAIN], False, n_draws=1)
        keys = ["infomec.infom", "infomec.infoc", "infomec.infoe"]
    else:
        r = ref.infomec(code[:TRAIN], s[:TRAIN], True)
        keys = ["infomec.infom", "infomec.infoc", "infomec.infoe"]
    print("%.3f %s" % (time.time() - t0, " ".join("%s=%.4f" % (k.split(".")[1], r[k]) for k in keys)))


if __name__ == "__main__":
    main()
