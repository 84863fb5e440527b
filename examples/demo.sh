#!/bin/sh
# demo.sh (make demo): the main job on the embedded procedural Shapes3D, sized
# for a 2-core CPU (a few minutes): train a small FactorQVAE, score held-out
# samples (reconstruction MSE, DCI, InfoMEC, MIG) and draw a latent traversal.
#   BIN     directory of the disq tools (default build/bin)
#   STEPS   training iterations (default 3000)
#   SIZE    image side, the stored 64x64 images resized (default 32)
#   LR      Adam's learning rate, annealed to 1e-5 over the run (default 8e-3)
#   OUT     where the checkpoint, training log and pictures go (default a temp dir)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$here/../build/bin}
PATH=$BIN:$PATH
STEPS=${STEPS:-3000}
SIZE=${SIZE:-32}
LR=${LR:-8e-3}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/disq-demo.XXXXXX")}
mkdir -p "$OUT"
ck=$OUT/factorqvae.safetensors

echo "demo: training a small FactorQVAE (n=16, m=64, batch 32, $STEPS iterations) on procedural shapes3d at ${SIZE}x$SIZE"
# the paper's model is n=128, m=128, batch 512, 50k iterations; this one is
# small, so a higher learning rate and larger initial weights make it learn
# within a few hundred iterations, and 32x32 images let it see 2.6 times the
# images a second that 64x64 would.  The schedules follow the run's length:
# the learning rate anneals over it, and tau ends at exp(-1) as the
# reference's does after its 50k iterations.
dsload shapes3d --shuffle --repeat --seed 1 --no-cache --batch 32 --size "$SIZE" |
    train -o "$ck" --preset shapes3d --width 16 --dense 64 --batch 32 --disc-hidden 256 \
        --lr "$LR" --init-std 0.1 --steps "$STEPS" --save-every 100 \
        --lr-period "$STEPS" --lr-min 1e-5 --tau-rate "$(awk -v s="$STEPS" 'BEGIN { print 1 / s }')" \
        --log "$OUT/train.tsv" --plot "$OUT/curves.png"

# 10000 samples, as the paper's protocol: on a few thousand, the plug-in
# mutual information of 64 codes with a factor they do not carry is biased
# upwards enough to hide the structure (InfoM 0.34 on 2000 samples, 0.59 on
# 10000, for the same model)
echo "demo: scoring 10000 held-out samples: reconstruction MSE, DCI, InfoMEC and MIG of the codes"
dsload shapes3d --sample 10000 --seed 2 --batch 250 --size "$SIZE" |
    enc -m "$ck" | quant -m "$ck" | dec -m "$ck" |
    metric mse dci infomec mig --train 7500 --test 2500 --png "$OUT/heatmaps.png"

echo "demo: latent traversal of one held-out image (latents named from 256 samples)"
dsload shapes3d --sample 256 --seed 3 --batch 128 --size "$SIZE" |
    traverse -m "$ck" -o "$OUT/traversal.png" --scale $((128 / SIZE)) --text-scale 2
echo "demo: checkpoint $ck, training log $OUT/train.tsv,"
echo "demo: pictures $OUT/curves.png, $OUT/traversal.png and $OUT/heatmaps.png"
