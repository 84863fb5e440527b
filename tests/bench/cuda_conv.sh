#!/bin/sh
# cuda_conv.sh: cuDNN convolution throughput of kernels/nncu_conv.cu at the
# FactorQVAE layer shapes, as a ratio to a cuBLAS GEMM of the same shape
# measured in the same run (FP32 and TF32).  Env: BUILD (default build),
# BENCH_BATCH (default 256).
set -e
BUILD=${BUILD:-build}
"$BUILD/bench/cuda_conv" "${BENCH_BATCH:-256}"
