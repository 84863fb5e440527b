#!/bin/bash
# sweep_one.sh SWEEP NAME MODEL STEPS "TRAIN OPTIONS" ["DSLOAD OPTIONS"]: one
# CPU-scale run for a hyperparameter sweep: train MODEL on procedural
# shapes3d (training stream seed 1, with the dsload options, e.g. --size 32)
# for STEPS iterations, score EVAL held-out samples (score.sh: seed 2; DCI on
# 3/4 + 1/4, InfoMEC, MIG, MSE) as demo.sh does, and append one row to SWEEP.tsv (next
# to this script).  Runs with a row already there are skipped, so a sweep
# list can be rerun after an interruption.
#   BIN   the disq tools (default ../../build/bin)
#   WORK  where checkpoints and logs go (default /tmp/disq-cpu-sweeps)
#   EVAL  held-out samples scored (default 2000)
# Meant for one run at a time (parallel --jobs 1) with OMP_NUM_THREADS=1;
# the seconds column is the CPU time (user + system) of train alone: wall
# time would count the minutes another job on the machine had it stopped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sweep=$1 name=$2 model=$3 steps=$4
read -ra opts <<<"${5:-}"
read -ra data <<<"${6:-}"
EVAL=${EVAL:-2000}
BIN=${BIN:-$here/../../build/bin}
WORK=${WORK:-/tmp/disq-cpu-sweeps}
PATH=$BIN:$PATH
out=$here/$sweep.tsv
if [ -s "$out" ] && cut -f1 "$out" | grep -qxF "$name"; then
    echo "$sweep/$name: done earlier, skipped" >&2
    exit 0
fi
dir=$WORK/$sweep/$name
rm -rf "$dir"
mkdir -p "$dir"
ck=$dir/model.safetensors
dsload shapes3d --shuffle --repeat --seed 1 --batch 64 "${data[@]}" 2>/dev/null |
    /usr/bin/time -f '%U %S' -o "$dir/time" train -o "$ck" -m "$model" --preset shapes3d --steps "$steps" --save-every 0 \
        "${opts[@]}" --log "$dir/train.tsv" 2>"$dir/train.log"
scores=$(EVAL=$EVAL BIN=$BIN "$here/score.sh" "$ck" "$model" "$dir/scores" "${data[@]}")
row=$(printf '%s\t%s\t%s\t%s\t%.0f\t%s' "$name" "$model" "$steps" "$scores" \
    "$(awk '{ print $1 + $2 }' "$dir/time")" "${5:-}${6:+ | dsload $6}")
[ -s "$out" ] || printf 'name\tmodel\tsteps\tD\tC\tI\tInfoM\tInfoE\tInfoC\tMIG\tMSE\tseconds\toptions\n' >"$out"
echo "$row" >>"$out"
echo "$sweep/$name: $row" >&2
