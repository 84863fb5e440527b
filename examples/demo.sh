#!/bin/sh
# demo.sh (make demo): the main job on the embedded procedural Shapes3D, sized
# for a 2-core CPU (a few minutes): train a small FactorQVAE, reconstruct
# held-out samples and report the reconstruction MSE.
#   BIN     directory of the disq tools (default build/bin)
#   STEPS   training iterations (default 500)
#   OUT     where the checkpoint and the training log go (default a temp dir)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$here/../build/bin}
PATH=$BIN:$PATH
PY=${PYTHON:-/usr/bin/python3}
STEPS=${STEPS:-500}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/disq-demo.XXXXXX")}
mkdir -p "$OUT"
# small parallel regions: let idle OpenMP threads sleep instead of spinning
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
ck=$OUT/factorqvae.safetensors

echo "demo: training a small FactorQVAE (n=16, m=64, batch 32, $STEPS iterations) on procedural shapes3d"
# the paper's model is n=128, m=128, batch 512, 50k iterations; this one is
# small, so a higher learning rate and larger initial weights make it learn
# within a few hundred iterations
dsload shapes3d --shuffle --repeat --seed 1 --no-cache --batch 32 |
    train -o "$ck" --preset shapes3d --width 16 --dense 64 --batch 32 --disc-hidden 256 \
        --lr 2e-3 --init-std 0.05 --steps "$STEPS" --save-every 100 \
        --log "$OUT/train.tsv"

echo "demo: reconstructing 512 held-out samples"
dsload shapes3d --sample 512 --seed 2 --batch 128 |
    enc -m "$ck" | quant -m "$ck" | dec -m "$ck" >"$OUT/recon.stream"

"$PY" - "$OUT/recon.stream" <<'PYEOF'
import sys
import msgpack
import numpy as np

def tensor(f):
    return np.frombuffer(f["data"], {"u8": np.uint8, "f32": np.float32, "i32": np.int32}[f["dtype"]]).reshape(f["shape"])

u = msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False, max_buffer_size=1 << 30)
header = next(u)
xs, xh, codes = [], [], []
for b in u:
    xs.append(tensor(b["x"]).astype(np.float32) / 255)
    xh.append(tensor(b["xhat"]))
    codes.append(tensor(b["code"]))
x, xhat, code = np.concatenate(xs), np.concatenate(xh), np.concatenate(codes)
mse = float(((x - xhat) ** 2).mean())
mean_image = float(((x - x.mean(0)) ** 2).mean())
used = [len(np.unique(code[:, j])) for j in range(code.shape[1])]
print(f"demo: reconstruction MSE {mse:.5f} ({mse * 1e4:.1f} x 1e-4) on {len(x)} images; "
      f"predicting the mean image gives {mean_image:.5f}")
print(f"demo: codes used per latent (of {header['codebook']}): {used}")
PYEOF
echo "demo: checkpoint $ck, training log $OUT/train.tsv"
