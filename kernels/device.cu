// device.cu: CUDA device discovery and a toolchain self-test (twin of the
// CPU-only fallbacks in lib/nn/device.c).
#include <cuda_runtime.h>

#include <stdio.h>
#include <vector>

extern "C" {
#include "nn/device.h"
}

extern "C" int dq_cuda_probe(char *desc, size_t size) {
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess || n == 0) {
        snprintf(desc, size, "no usable CUDA device (%s)",
                 err != cudaSuccess ? cudaGetErrorString(err) : "none found");
        cudaGetLastError(); // clear the sticky error so later probes start clean
        return 0;
    }
    cudaDeviceProp prop;
    cudaGetDeviceProperties(&prop, 0);
    snprintf(desc, size, "%s, %.1f GiB, compute capability %d.%d", prop.name,
             prop.totalGlobalMem / 1073741824.0, prop.major, prop.minor);
    return n;
}

__global__ static void axpy(int n, float a, const float *x, float *y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}

extern "C" int dq_cuda_selftest(dq_errbuf *e) {
    if (dq_cuda_probe(e->msg, sizeof e->msg) == 0) return -1;
    const int n = 1 << 20;
    std::vector<float> x(n), y(n), out(n);
    for (int i = 0; i < n; i++) {
        x[i] = (float)(i % 97) * 0.25f;
        y[i] = (float)(i % 13) - 6.0f;
    }
    float *dx = nullptr, *dy = nullptr;
    cudaError_t err = cudaMalloc(&dx, n * sizeof(float));
    if (err == cudaSuccess) err = cudaMalloc(&dy, n * sizeof(float));
    if (err == cudaSuccess) err = cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice);
    if (err == cudaSuccess) err = cudaMemcpy(dy, y.data(), n * sizeof(float), cudaMemcpyHostToDevice);
    if (err == cudaSuccess) {
        axpy<<<(n + 255) / 256, 256>>>(n, 3.0f, dx, dy);
        err = cudaGetLastError();
    }
    if (err == cudaSuccess) err = cudaMemcpy(out.data(), dy, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(dx);
    cudaFree(dy);
    if (err != cudaSuccess) {
        dq_err_set(e, "CUDA error: %s", cudaGetErrorString(err));
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (out[i] != 3.0f * x[i] + y[i]) { // exact: one fused or unfused op on small integers/4
            dq_err_set(e, "element %d: GPU %g, CPU %g", i, out[i], 3.0f * x[i] + y[i]);
            return -1;
        }
    return 0;
}
