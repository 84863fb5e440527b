#!/bin/bash
# run_one.sh NAME MODEL SEED [OPTIONS]: train one model on $DATASET and score
# it with the FactorQVAE paper's protocol, into $RUNS/NAME/.  OPTIONS is one
# word list of extra train options (e.g. "--codebook 32 --gamma 1e-4"), given
# after SMALL's and BATCH's so that they override the scale's (e.g. "--lr
# 4e-3"); the length is STEPS'.
#
# Idempotent and resumable: a run with $RUNS/NAME/scores.tsv is skipped; a run
# killed during training continues from its last checkpoint (train --resume);
# every result file is written under a temporary name and renamed.
#
# Environment (set by common.mk): BIN, RUNS, DATASET, STEPS (empty: train's
# reference default), BATCH (empty: train's default; else the Factor models'
# batch, the others' being half of it), SMALL (size options of SCALE=cpu or
# quick), EVAL_N, EVAL_TRAIN,
# EVAL_TEST, DSLOAD_OPTS (dsload options of the training stream), IMAGE_OPTS
# (dsload options of both streams, e.g. --size 32), METRICS, GAPST (1: also
# score the straight-through gap).
set -euo pipefail
name=$1 model=$2 seed=$3
read -ra extra <<<"${SMALL:-} ${4:-}"
PATH=$BIN:$PATH
dir=$RUNS/$name
if [ -s "$dir/scores.tsv" ]; then
    echo "$name: finished earlier, skipped" >&2
    exit 0
fi
mkdir -p "$dir"
ck=$dir/model.safetensors
if [ -f "$ck" ]; then
    train_opts=(--resume)
    echo "$name: resuming from $ck" >&2
else
    train_opts=(-m "$model" --preset "$DATASET" --seed "$seed")
    if [ -n "${BATCH:-}" ]; then
        case $model in factor*) train_opts+=(--batch "$BATCH") ;; *) train_opts+=(--batch $((BATCH / 2))) ;; esac
    fi
    train_opts+=("${extra[@]}")
fi
# shellcheck disable=SC2086  # DSLOAD_OPTS and IMAGE_OPTS are lists of options
dsload "$DATASET" --split train --shuffle --repeat --seed "$seed" $DSLOAD_OPTS ${IMAGE_OPTS:-} 2>/dev/null |
    train -o "$ck" "${train_opts[@]}" ${STEPS:+--steps "$STEPS"} --log "$dir/train.tsv" \
        --plot "$dir/curves.png" 2>"$dir/train.log"

# The reference scores a sampled z for Gaussian models, the code index for
# categorical ones (quant's `code`, which metric prefers when present).
enc_opts=()
case $model in betavae | factorvae) enc_opts=(--sample) ;; esac
# shellcheck disable=SC2086
dsload "$DATASET" --sample "$EVAL_N" --seed $((seed + 1000)) ${IMAGE_OPTS:-} 2>/dev/null |
    enc -m "$ck" "${enc_opts[@]}" | quant -m "$ck" | dec -m "$ck" |
    metric $METRICS ${GAPST:+gapst -m "$ck"} --train "$EVAL_TRAIN" --test "$EVAL_TEST" --tsv \
        >"$dir/scores.tsv.tmp"
mv "$dir/scores.tsv.tmp" "$dir/scores.tsv"
echo "$name: done" >&2
