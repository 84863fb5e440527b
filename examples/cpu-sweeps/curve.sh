#!/bin/bash
# curve.sh NAME TOTAL EVERY "TRAIN OPTIONS" ["DSLOAD OPTIONS"]: how the scores
# grow along one long CPU-scale run.  Trains a FactorQVAE on procedural
# shapes3d (training stream seed 1) for TOTAL iterations, its schedules set
# for TOTAL, in legs of EVERY iterations (--resume, which continues exactly as
# one uninterrupted run would), and after each leg scores EVAL held-out
# samples (seed 2) as sweep_one.sh does; one row per leg in curve-NAME.tsv.
# Rerun after an interruption, it goes on from the last leg scored.
#   BIN, WORK, EVAL  as for sweep_one.sh (EVAL default 10000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=$1 total=$2 every=$3
read -ra opts <<<"${4:-}"
read -ra data <<<"${5:-}"
BIN=${BIN:-$here/../../build/bin}
WORK=${WORK:-/tmp/disq-cpu-sweeps}
EVAL=${EVAL:-10000}
PATH=$BIN:$PATH
out=$here/curve-$name.tsv dir=$WORK/curve/$name
mkdir -p "$dir"
ck=$dir/model.safetensors
for ((step = every; step <= total; step += every)); do
    if [ -s "$out" ] && cut -f1 "$out" | grep -qxF "$step"; then continue; fi
    if [ "$step" = "$every" ]; then
        rm -f "$ck"
        train_opts=(--lr-period "$total" --tau-rate "$(awk -v s="$total" 'BEGIN { printf "%.6g", 1 / s }')" "${opts[@]}")
    else
        train_opts=(--resume)
    fi
    SECONDS=0
    dsload shapes3d --shuffle --repeat --seed 1 --no-cache --batch 64 "${data[@]}" 2>/dev/null |
        train -o "$ck" --steps "$step" --save-every 0 "${train_opts[@]}" 2>"$dir/train.log"
    wall=$SECONDS
    dsload shapes3d --sample "$EVAL" --seed 2 --batch 250 "${data[@]}" 2>/dev/null |
        enc -m "$ck" | quant -m "$ck" | dec -m "$ck" |
        metric mse dci infomec mig --train $((EVAL * 3 / 4)) --test $((EVAL - EVAL * 3 / 4)) --tsv \
            --png "$dir/heatmaps-$step.png" >"$dir/scores.tsv"
    get() { awk -F'\t' -v m="$1" -v s="$2" '$1 == m && $2 == s { print $3 }' "$dir/scores.tsv"; }
    [ -s "$out" ] || printf 'step\tD\tC\tI\tInfoM\tInfoE\tInfoC\tMIG\tMSE\twall_seconds\toptions\n' >"$out"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$step" \
        "$(get dci disentanglement)" "$(get dci completeness)" "$(get dci informativeness)" \
        "$(get infomec infom)" "$(get infomec infoe)" "$(get infomec infoc)" "$(get mig mig)" \
        "$(get mse mse)" "$wall" "${4:-}${5:+ | dsload $5}" >>"$out"
    tail -n 1 "$out" >&2
done
