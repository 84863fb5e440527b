#!/bin/bash
# tc-codes.sh: how much total correlation is left in the codes of Table 1's
# quantised models at CPU scale, FactorQVAE (trained with the TC term) and
# QVAE (without), measured the same way for both after training: tcdisc on
# the codes of each run's own held-out samples (seed + 1000, as run_one.sh).
# Writes tc-codes.tsv (name, TC, its standard error).
#   RUNS  the table's runs (default ../table1/cpu/runs)
#   BIN   the disq tools (default ../../build/bin)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-$here/../table1/cpu/runs}
PATH=${BIN:-$here/../../build/bin}:$PATH
out=$here/tc-codes.tsv
printf 'name\ttc\tstandard_error\n' >"$out.tmp"
for dir in "$RUNS"/qvae-* "$RUNS"/factorqvae-*; do
    name=${dir##*/} seed=${dir##*-}
    ck=$dir/model.safetensors
    dsload shapes3d --sample 10000 --seed $((seed + 1000)) --size 32 2>/dev/null |
        enc -m "$ck" | quant -m "$ck" | tcdisc --json 2>/dev/null |
        sed -n "s/^{\"tc\": \([^,]*\), \"se\": \([^,]*\),.*/$name\t\1\t\2/p" | tee -a "$out.tmp"
done
mv "$out.tmp" "$out"
