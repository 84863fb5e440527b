#!/bin/sh
# bench_train.sh: CPU training throughput (images/s) of `train` in fp32 (nn.h's
# reference layers), in the default tf32 (float, the convolutions on oneDNN's
# layers) and in bf16 (--precision) for a small and the paper's FactorQVAE width (64x64x3,
# d 12, K 64), next to the same iteration in PyTorch on the CPU in fp32 and
# under bf16 autocast, measured in the same run (when torch is there); then
# `enc` of the paper-width model in bf16 against fp32.  The processor's name
# and the flags that decide bf16 speed come first.
set -u
here=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$here/../../build/bin}
PY=${PYTHON:-/usr/bin/python3}
T=$(mktemp -d "${TMPDIR:-/tmp}/disq-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
export OMP_WAIT_POLICY=passive

if ! "$PY" -c 'import numpy, msgpack' 2>/dev/null; then
    echo "bench_train: skipped: $PY lacks numpy or msgpack"
    exit 0
fi
has_torch=0
"$PY" -c 'import torch' 2>/dev/null && has_torch=1
echo "bench_train: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores;" \
    "bf16 flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx512_bf16|amx_bf16|amx_tile|avx512f)$' | tr '\n' ' ')"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# disq PRECISION: images/s of `train` on $T/stream, skipping the first
# iteration (allocation, page faults, oneDNN's primitives), as torch_step.py does
disq() {
    "$BIN/train" -o "$T/ck.st" --width "$width" --dense "$dense" --disc-hidden "$hidden" \
        --batch "$batch" --latents 12 --steps $((steps + 1)) --save-every 0 --log "$T/log.tsv" \
        --device cpu --precision "$1" <"$T/stream" 2>/dev/null || { echo "bench_train: train failed" >&2; return 1; }
    awk -F'\t' -v b="$batch" 'NR == 2 { t0 = $9 } END { printf "%.2f", (NR - 2) * b / ($9 - t0) }' "$T/log.tsv"
}

# name width dense disc_hidden batch steps
run() {
    name=$1 width=$2 dense=$3 hidden=$4 batch=$5 steps=$6
    "$PY" "$here/../cli/model_stream.py" $(((steps + 1) * batch)) "$batch" 64 64 3 1 >"$T/stream"
    bf=$(disq bf16) && fp=$(disq fp32) && tf=$(disq tf32) || return 1
    line="train $name (n=$width m=$dense batch $batch): disq fp32 $fp, default (oneDNN float convolutions) $tf ($(ratio "$tf" "$fp") x fp32), bf16 $bf img/s ($(ratio "$bf" "$fp") x fp32)"
    if [ "$has_torch" = 1 ]; then
        t32=$("$PY" "$here/torch_step.py" "$width" "$dense" "$hidden" "$batch" "$steps" fp32)
        t16=$("$PY" "$here/torch_step.py" "$width" "$dense" "$hidden" "$batch" "$steps" bf16)
        best=$(awk -v a="$t32" -v b="$t16" 'BEGIN { print (a > b ? a : b) }')
        line="$line; PyTorch CPU fp32 $t32, bf16 autocast $t16 img/s; disq bf16 / PyTorch's best $(ratio "$bf" "$best")"
    else
        line="$line (no torch for a reference)"
    fi
    echo "$line"
}
run small 32 64 1000 32 4
run paper 128 128 1000 16 2

# enc of the paper-width model just trained (ck.st), 256 images, best of 2
"$PY" "$here/../cli/model_stream.py" 256 64 64 64 3 1 >"$T/enc.stream"
enc_rate() {
    best=0
    for _ in 1 2; do
        t0=$(date +%s.%N)
        "$BIN/enc" -m "$T/ck.st" --device cpu --precision "$1" <"$T/enc.stream" >/dev/null 2>&1 || return 1
        best=$(awk -v b="$best" -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { r = 256 / (t1 - t0); print (r > b ? r : b) }')
    done
    printf '%.1f' "$best"
}
e32=$(enc_rate fp32) && e16=$(enc_rate bf16) &&
    echo "enc paper (n=128, batch 64): fp32 $e32, bf16 $e16 img/s ($(ratio "$e16" "$e32") x fp32)"
