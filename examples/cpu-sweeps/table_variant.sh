#!/bin/bash
# table_variant.sh SWEEP NAME MODEL "TRAIN OPTIONS": one run of Table 1 at
# SCALE=cpu (seed 1) with train options over the scale's (the table's TRAIN_OPTS),
# scored on the table's own held-out samples (score.sh, seed 1001: the
# table's scores, with MIG and the heatmaps), and one row appended to
# SWEEP.tsv next to this script; `collapsed` is the first iteration whose KL
# term reached ln 64, the encoder giving every image the same codes (- when
# none).  Runs with a row already there are skipped, and make resumes a run
# that was killed, so a sweep list can be rerun after an interruption.
#   BIN   the disq tools (default ../../build/bin)
#   WORK  where the runs go (default /tmp/disq-cpu-sweeps)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sweep=$1 name=$2 model=$3 opts=${4:-}
BIN=${BIN:-$here/../../build/bin}
WORK=${WORK:-/tmp/disq-cpu-sweeps}
out=$here/$sweep.tsv
if [ -s "$out" ] && cut -f1 "$out" | grep -qxF "$name"; then
    echo "$sweep/$name: done earlier, skipped" >&2
    exit 0
fi
dir=$WORK/$sweep/$name
make -s -C "$here/../table1" SCALE=cpu BIN="$BIN" MODELS="$model" TRAIN_OPTS="$opts" OUT="$dir" \
    "$dir/results.tsv" >&2
run=$dir/runs/$model-1
scores=$(SEED=1001 BIN=$BIN "$here/score.sh" "$run/model.safetensors" "$model" "$run/scores-mig" \
    --size 32)
collapsed=$(awk -F'\t' 'NR > 1 && $4 >= 4.15 { print $1; found = 1; exit } END { if (!found) print "-" }' \
    "$run/train.tsv")
row=$(printf '%s\t%s\t%s\t%s\t%.0f\t%s' "$name" "$model" "$scores" "$collapsed" \
    "$(tail -n 1 "$run/train.tsv" | cut -f9)" "$opts")
[ -s "$out" ] ||
    printf 'name\tmodel\tD\tC\tI\tInfoM\tInfoE\tInfoC\tMIG\tMSE\tcollapsed\tseconds\toptions\n' >"$out"
echo "$row" >>"$out"
echo "$sweep/$name: $row" >&2
