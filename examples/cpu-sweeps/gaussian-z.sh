#!/bin/bash
# gaussian-z.sh: the Gaussian models of Table 1 at CPU scale scored two ways,
# on a draw from the posterior (the reference's protocol, the table's) and on
# the posterior mean, with the plain AE beside them; on each run's own
# held-out samples (seed + 1000, as run_one.sh).  Writes gaussian-z.tsv.
#   RUNS  the table's runs (default ../table1/cpu/runs)
#   BIN   the disq tools (default ../../build/bin)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-$here/../table1/cpu/runs}
work=$(mktemp -d "${TMPDIR:-/tmp}/gaussian-z.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=$here/gaussian-z.tsv
printf 'name\tz\tD\tC\tI\tInfoM\tInfoE\tInfoC\tMIG\tMSE\n' >"$out.tmp"
for dir in "$RUNS"/betavae-* "$RUNS"/factorvae-* "$RUNS"/ae-*; do
    name=${dir##*/} model=${name%-*} seed=${name##*-}
    for z in sample mean; do
        [ "$model" = ae ] && [ "$z" = sample ] && continue
        scores=$(Z=$z SEED=$((seed + 1000)) "$here/score.sh" "$dir/model.safetensors" "$model" \
            "$work/$name-$z" --size 32)
        printf '%s\t%s\t%s\n' "$name" "$z" "$scores" | tee -a "$out.tmp"
    done
done
mv "$out.tmp" "$out"
