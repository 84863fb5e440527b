#!/bin/sh
# cli_pytorch.sh: examples/python/load_checkpoint.py loads a checkpoint of
# every model kind into PyTorch and reproduces enc's z to 1e-5 (relative).
# Skips without torch.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
export OMP_WAIT_POLICY=passive

if ! "$PY" -c 'import torch, numpy, msgpack' 2>/dev/null; then
    skip "PyTorch reproduces enc for every kind" "$PY lacks torch, numpy or msgpack"
    exit 0
fi
load="$here/../../examples/python/load_checkpoint.py"
# Weights large enough that z carries the images, not just the biases.  The
# Friede network halves 32x32 images four times to a 2x2 map, so a flatten in
# the wrong order, (C,H,W) for (H,W,C), shows; the other network's top map is
# 2x2 at 8x8.
"$PY" "$here/model_stream.py" 16 8 8 8 3 1 >"$T/s8"
"$PY" "$here/model_stream.py" 16 8 32 32 3 1 >"$T/s32"
tiny="--width 8 --dense 8 --codebook 5 --disc-hidden 8 --batch 4 --steps 2 --save-every 0 --init-std 0.3"

for kind in qvae factorqvae vqvae factorvqvae dvae factordvae ae bioae betavae factorvae qlae \
    dvae-friede factordvae-friede; do
    s=$T/s8
    case $kind in *friede) s=$T/s32 ;; esac
    check "$kind: PyTorch reproduces enc" sh -c \
        "train -o $T/$kind.st --model $kind $tiny --latents 4 <$s 2>/dev/null &&
         enc -m $T/$kind.st --device cpu <$s | $PY $load $T/$kind.st 1e-5 2>/dev/null"
done
