#!/bin/sh
# cuda_factorqvae_step.sh: one FactorQVAE training iteration at the paper's
# size (n = 128, 256 + 256 images) on this GPU, disq against PyTorch in the
# same run.  PyTorch: tests/bench/torch_factorqvae_step.py (fp32, TF32, bf16
# autocast, torch.compile).  disq: `train --device cuda` in bf16, tf32 and fp32 on
# procedural shapes3d, ms/step from its --log over the steps after the first
# WARMUP (which build the cuDNN plans), also with DISQ_CUDA_GRAPHS=0 to see
# what the step's CUDA graph gains, the bf16 step's time per op
# (DISQ_PROFILE), and `enc --device cuda` images/s.
# Needs a CUDA build and a GPU; a torch with CUDA in $PYTHON for the
# reference.  Environment: BIN, PYTHON, STEPS (default 30), WARMUP (5),
# TORCH_BENCH_ARGS (e.g. "--steps 50").
set -u
BIN=${BIN:-build/bin}
PYTHON=${PYTHON:-/usr/bin/python3}
STEPS=${STEPS:-30}
WARMUP=${WARMUP:-5}
here=$(dirname "$0")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-cuda.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if ! nvidia-smi -L >/dev/null 2>&1; then
    echo "cuda_factorqvae_step: skipped: no GPU"
    exit 0
fi
if "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    # shellcheck disable=SC2086 # TORCH_BENCH_ARGS is a list of options
    "$PYTHON" "$here/torch_factorqvae_step.py" ${TORCH_BENCH_ARGS:-} | tee "$tmp/torch.txt" || exit 1
else
    echo "cuda_factorqvae_step: $PYTHON has no torch with CUDA: no PyTorch reference"
    : >"$tmp/torch.txt"
fi

"$BIN/dsload" shapes3d --procedural --no-cache --sample $((512 * STEPS)) --batch 512 >"$tmp/s.dqs" 2>/dev/null ||
    { echo "cuda_factorqvae_step: dsload failed"; exit 1; }
# time_train NAME PREC [ENV...]: ms/step of train --device cuda --precision
# PREC, from its log's seconds (column 9: time since the start at the end of
# each step) over the steps after WARMUP
time_train() {
    name=$1 prec=$2
    shift 2
    env "$@" "$BIN/train" -o "$tmp/m.safetensors" --device cuda --precision "$prec" --steps "$STEPS" \
        --save-every 0 --log "$tmp/$name.tsv" <"$tmp/s.dqs" 2>"$tmp/err" ||
        { echo "cuda_factorqvae_step: train $name failed: $(tail -n 2 "$tmp/err")"; exit 1; }
    ms=$(awk -F '\t' -v w="$WARMUP" 'NR > 1 { t[$1] = $9; last = $1 }
        END { printf "%.2f", (t[last] - t[w]) / (last - w) * 1000 }' "$tmp/$name.tsv")
    echo "disq $name: $ms ms/step, $(echo "$ms" | awk '{ printf "%.0f", 512 / ($1 / 1000) }') images/s"
}

for prec in bf16 tf32 fp32; do
    time_train "$prec" "$prec"
    for ref in "$prec" bf16 compile; do
        r=$(awk -v m="torch $ref:" 'index($0, m) == 1 && $4 == "ms/step," { print $3 }' "$tmp/torch.txt")
        [ -n "$r" ] && echo "$r $ms" | awk -v p="$prec" -v ref="$ref" \
            '{ printf "disq %s vs torch %s: %.2fx\n", p, ref, $1 / $2 }'
    done
done
# each step is recorded afresh and the recording updates the last graph: see
# whether that beats launching op by op
with_graphs=$ms
time_train "fp32 without graphs" fp32 DISQ_CUDA_GRAPHS=0
echo "$ms $with_graphs" | awk '{ printf "disq fp32 graphs vs op by op: %.2fx\n", $1 / $2 }'

# where a bf16 step's time goes: every op waited for, graphs off (not a speed
# figure), over WARMUP + 1 steps, the first of which builds the cuDNN plans
DISQ_PROFILE=1 "$BIN/train" -o "$tmp/p.safetensors" --device cuda --precision bf16 --steps $((WARMUP + 1)) \
    --save-every 0 <"$tmp/s.dqs" 2>"$tmp/profile" >/dev/null ||
    { echo "cuda_factorqvae_step: profiled train failed: $(tail -n 2 "$tmp/profile")"; exit 1; }
echo "disq bf16 op profile, $((WARMUP + 1)) steps (the first builds the cuDNN plans), top 30:"
grep -A 31 'DISQ_PROFILE' "$tmp/profile"
tail -n 1 "$tmp/profile"

start=$(date +%s.%N)
"$BIN/enc" -m "$tmp/m.safetensors" --device cuda <"$tmp/s.dqs" >/dev/null 2>"$tmp/err" ||
    { echo "cuda_factorqvae_step: enc failed: $(tail -n 2 "$tmp/err")"; exit 1; }
end=$(date +%s.%N)
echo "$start $end" | awk -v n=$((512 * STEPS)) '{ printf "disq enc (fp32 weights, tf32): %.0f images/s, stream read included\n", n / ($2 - $1) }'
