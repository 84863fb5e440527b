#!/bin/bash
# evalsize.sh SWEEP NAME N TRAIN TEST: rescore the checkpoint of a run of
# sweep_one.sh on N held-out samples (seed 2), DCI on TRAIN + TEST, InfoMEC and
# MIG on TRAIN; one row appended to evalsize.tsv.  BIN and WORK as sweep_one.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PATH=${BIN:-$here/../../build/bin}:$PATH
WORK=${WORK:-/tmp/disq-cpu-sweeps}
dir=$WORK/$1/$2 ck=$WORK/$1/$2/model.safetensors
out=$here/evalsize.tsv
dsload shapes3d --sample "$3" --seed 2 --batch 250 2>/dev/null | enc -m "$ck" | quant -m "$ck" |
    metric dci infomec mig --train "$4" --test "$5" --tsv --png "$dir/heatmaps-$3.png" >"$dir/scores-$3.tsv"
n=$3
get() { awk -F"\t" -v m="$1" -v s="$2" '$1 == m && $2 == s { print $3 }' "$dir/scores-$n.tsv"; }
[ -s "$out" ] || printf 'sweep\tname\tsamples\ttrain\ttest\tD\tC\tI\tInfoM\tInfoE\tInfoC\tMIG\n' >"$out"
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$(get dci disentanglement)" "$(get dci completeness)" \
  "$(get dci informativeness)" "$(get infomec infom)" "$(get infomec infoe)" "$(get infomec infoc)" "$(get mig mig)" >>"$out"
tail -1 "$out"
