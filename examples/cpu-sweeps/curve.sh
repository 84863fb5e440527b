#!/bin/bash
# curve.sh NAME TOTAL EVERY "TRAIN OPTIONS" ["DSLOAD OPTIONS"]: how the scores
# grow along one long CPU-scale run.  Trains a FactorQVAE on procedural
# shapes3d (training stream seed 1) for TOTAL iterations, its schedules set
# for TOTAL, keeping the checkpoint of every EVERY iterations, then scores EVAL
# held-out samples (seed 2) of each with score.sh: one row per
# checkpoint in curve-NAME.tsv.  Rerun after an interruption, it resumes the
# training (--resume) and scores what is not scored yet.
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

# the iteration a checkpoint holds (its metadata's "step")
step_of() {
    python3 -c 'import json, struct, sys
f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]
print(json.loads(f.read(n))["__metadata__"]["step"])' "$1"
}
# keep a copy of each checkpoint train writes (atomically, by rename)
keep() {
    [ -e "$ck" ] || return 0
    s=$(step_of "$ck")
    [ -e "$dir/ck-$s.safetensors" ] || cp "$ck" "$dir/ck-$s.safetensors"
}

if [ ! -e "$dir/ck-$total.safetensors" ]; then
    if [ -e "$ck" ]; then
        train_opts=(--resume)
    else
        train_opts=(--lr-period "$total" --tau-rate "$(awk -v s="$total" 'BEGIN { printf "%.6g", 1 / s }')" "${opts[@]}")
    fi
    dsload shapes3d --shuffle --repeat --seed 1 --batch 64 "${data[@]}" 2>/dev/null |
        train -o "$ck" --steps "$total" --save-every "$every" --log "$dir/train.tsv" "${train_opts[@]}" \
            2>"$dir/train.log" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        keep
        sleep 1
    done
    wait "$pid"
    keep
fi

for ((step = every; step <= total; step += every)); do
    if [ -s "$out" ] && cut -f1 "$out" | grep -qxF "$step"; then continue; fi
    c=$dir/ck-$step.safetensors
    if [ ! -e "$c" ]; then
        echo "curve.sh: no checkpoint of iteration $step (train wrote the next within a second); not scored" >&2
        continue
    fi
    scores=$(EVAL=$EVAL BIN=$BIN "$here/score.sh" "$c" factorqvae "$dir/scores-$step" "${data[@]}")
    seconds=$(awk -F'\t' -v s="$step" '$1 == s { print $NF }' "$dir/train.tsv")
    [ -s "$out" ] || printf 'step\tD\tC\tI\tInfoM\tInfoE\tInfoC\tMIG\tMSE\ttrain_seconds\toptions\n' >"$out"
    printf '%s\t%s\t%s\t%s\n' "$step" "$scores" "$seconds" "${4:-}${5:+ | dsload $5}" >>"$out"
    tail -n 1 "$out" >&2
done
