#!/bin/sh
# cuda_factorqvae_step.sh: the PyTorch reference time of one FactorQVAE
# training iteration on this GPU (tests/bench/torch_factorqvae_step.py: fp32,
# TF32, bf16 autocast and torch.compile; ms/step and images/s), the figure
# disq's CUDA training step is to be reported against.  Needs a torch with
# CUDA in $PYTHON; TORCH_BENCH_ARGS passes options (e.g. "--steps 50").
set -e
PYTHON=${PYTHON:-/usr/bin/python3}
here=$(dirname "$0")
if ! "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "cuda_factorqvae_step: skipped: $PYTHON has no torch with a usable CUDA device (set PYTHON)"
    exit 0
fi
# shellcheck disable=SC2086 # TORCH_BENCH_ARGS is a list of options
"$PYTHON" "$here/torch_factorqvae_step.py" ${TORCH_BENCH_ARGS:-}
