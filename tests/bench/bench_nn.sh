#!/bin/sh
# bench_nn.sh: CPU convolution throughput of lib/nn/nn_conv.c as a ratio to an
# OpenBLAS sgemm of the same GEMM shape, measured in the same run.
# Env: BUILD (build dir, default build), BENCH_BATCH (default 32).
set -e
BUILD=${BUILD:-build}
echo "bench_nn: conv forward/backward vs sgemm of the same shape (batch ${BENCH_BATCH:-32})"
"$BUILD/bench/bench_nn" "${BENCH_BATCH:-32}"
