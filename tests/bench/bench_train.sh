#!/bin/sh
# bench_train.sh: CPU training throughput (images/s) of `train` for a small and
# the paper's FactorQVAE config (64x64x3, d 12, K 64), next to the same
# iteration in PyTorch on CPU measured in the same run (when torch is there).
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

# name width dense disc_hidden batch steps
run() {
    name=$1 width=$2 dense=$3 hidden=$4 batch=$5 steps=$6
    total=$(( (steps + 1) * batch ))
    "$PY" "$here/../model_stream.py" "$total" "$batch" 64 64 3 1 >"$T/stream"
    "$BIN/train" -o "$T/ck.st" --width "$width" --dense "$dense" --disc-hidden "$hidden" \
        --batch "$batch" --latents 12 --steps $((steps + 1)) --save-every 0 --log "$T/log.tsv" \
        <"$T/stream" 2>/dev/null || { echo "bench_train: train failed"; return 1; }
    # skip the first iteration (allocation, page faults), as torch_step.py does
    disq=$(awk -F'\t' -v b="$batch" 'NR == 2 { t0 = $9 } END { printf "%.2f", (NR - 2) * b / ($9 - t0) }' "$T/log.tsv")
    if [ "$has_torch" = 1 ]; then
        ref=$("$PY" "$here/torch_step.py" "$width" "$dense" "$hidden" "$batch" "$steps")
        ratio=$(awk -v a="$disq" -v b="$ref" 'BEGIN { printf "%.2f", a / b }')
        echo "train $name (n=$width m=$dense batch $batch): disq $disq img/s, PyTorch CPU $ref img/s, ratio $ratio"
    else
        echo "train $name (n=$width m=$dense batch $batch): disq $disq img/s (no torch for a reference)"
    fi
}
run small 16 64 1000 32 4
run paper 128 128 1000 8 2
