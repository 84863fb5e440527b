#include "nn/device.h"

#include <stdio.h>
#include <string.h>

#ifndef DISQ_CUDA
/* The CPU-only build: the CUDA twins in kernels/device.cu are absent. */
int dq_cuda_probe(char *desc, size_t size) {
    snprintf(desc, size, "this disq was built without CUDA (make CUDA=0 or no nvcc)");
    return 0;
}

int dq_cuda_selftest(dq_errbuf *e) {
    return dq_cuda_probe(e->msg, sizeof e->msg) > 0 ? 0 : -1;
}
#endif

int dq_device_select(const char *name, dq_device *out, dq_errbuf *e) {
    char desc[256];
    if (strcmp(name, "cpu") == 0) {
        *out = DQ_DEVICE_CPU;
        return 0;
    }
    if (strcmp(name, "auto") != 0 && strcmp(name, "cuda") != 0) {
        dq_err_set(e, "unknown device '%s' (auto, cpu or cuda)", name);
        return -1;
    }
    int n = dq_cuda_probe(desc, sizeof desc);
    if (n > 0) {
        *out = DQ_DEVICE_CUDA;
        return 0;
    }
    if (strcmp(name, "cuda") == 0) {
        dq_err_set(e, "--device cuda: %s", desc);
        return -1;
    }
    *out = DQ_DEVICE_CPU;
    return 0;
}

static const char *const precision_names[] = {"tf32", "fp32", "bf16"};

const char *dq_precision_name(dq_precision p) { return precision_names[p]; }

int dq_precision_parse(const char *name, dq_precision *out, dq_errbuf *e) {
    for (int p = 0; p < (int)(sizeof precision_names / sizeof *precision_names); p++)
        if (strcmp(name, precision_names[p]) == 0) {
            *out = (dq_precision)p;
            return 0;
        }
    dq_err_set(e, "unknown precision '%s' (tf32, fp32 or bf16)", name);
    return -1;
}
