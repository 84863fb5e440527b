#!/bin/bash
# score.sh CKPT MODEL NAME [DSLOAD OPTIONS...]: score a CPU-scale checkpoint as
# demo.sh does: EVAL held-out samples of procedural shapes3d (seed SEED, with
# the dsload options, e.g. --size 32), DCI on 3/4 + 1/4, InfoMEC and MIG on
# the 3/4, reconstruction MSE.  Writes metric's scores to NAME.tsv and its
# heatmaps to NAME.png, and prints D C I InfoM InfoE InfoC MIG MSE on one
# tab-separated line: the score columns of sweep_one.sh's and curve.sh's rows.
#   BIN   the disq tools (default ../../build/bin)
#   EVAL  held-out samples scored (default 10000)
#   SEED  dsload's sampling seed (default 2)
#   Z     what the Gaussian models (betavae, factorvae) are scored on: sample
#         (default: a draw from the posterior, as the reference does) or mean
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ck=$1 model=$2 name=$3
shift 3
EVAL=${EVAL:-10000}
SEED=${SEED:-2}
Z=${Z:-sample}
case $Z in sample | mean) ;; *) echo "score.sh: Z=$Z: sample or mean" >&2; exit 2 ;; esac
PATH=${BIN:-$here/../../build/bin}:$PATH
enc_opts=()
case $model:$Z in betavae:sample | factorvae:sample) enc_opts=(--sample) ;; esac
dsload shapes3d --sample "$EVAL" --seed "$SEED" --batch 250 "$@" 2>/dev/null |
    enc -m "$ck" "${enc_opts[@]}" | quant -m "$ck" | dec -m "$ck" |
    metric mse dci infomec mig --train $((EVAL * 3 / 4)) --test $((EVAL - EVAL * 3 / 4)) --tsv \
        --png "$name.png" >"$name.tsv.tmp"
mv "$name.tsv.tmp" "$name.tsv"
get() { awk -F'\t' -v m="$1" -v s="$2" '$1 == m && $2 == s { print $3 }' "$name.tsv"; }
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$(get dci disentanglement)" "$(get dci completeness)" "$(get dci informativeness)" \
    "$(get infomec infom)" "$(get infomec infoe)" "$(get infomec infoc)" "$(get mig mig)" \
    "$(get mse mse)"
