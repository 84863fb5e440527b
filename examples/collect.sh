#!/bin/bash
# collect.sh RUNS.LIST RUNS_DIR: one row per run of RUNS.LIST as a wide TSV:
# name, group (the name without its -SEED), model, seed, options, then every
# metric.score of its scores.tsv (metric --tsv).  A run without scores is an
# error: the sweep is unfinished.
set -euo pipefail
list=$1 runs=$2
header=1
while IFS=$'\t' read -r name model seed opts; do
    f=$runs/$name/scores.tsv
    if [ ! -s "$f" ]; then
        echo "collect.sh: $f: missing (is the run finished?)" >&2
        exit 1
    fi
    if [ $header = 1 ]; then
        printf 'name\tgroup\tmodel\tseed\toptions'
        awk -F'\t' '{ printf "\t%s.%s", $1, $2 }' "$f"
        echo
        header=0
    fi
    printf '%s\t%s\t%s\t%s\t%s' "$name" "${name%-*}" "$model" "$seed" "$opts"
    awk -F'\t' '{ printf "\t%s", $3 }' "$f"
    echo
done <"$list"
