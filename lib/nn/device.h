/* device.h: choosing where work runs (--device auto|cpu|cuda). */
#ifndef DISQ_DEVICE_H
#define DISQ_DEVICE_H

#include <stddef.h>

#include "core/error.h"

typedef enum { DQ_DEVICE_CPU, DQ_DEVICE_CUDA } dq_device;

/* Arithmetic of GEMMs and convolutions on the GPU (--precision): TF32 tensor
 * cores, IEEE fp32 throughout, or bfloat16 inputs with float accumulation
 * (as torch.autocast); every other op is fp32 in all three.  The CPU always
 * computes in fp32. */
typedef enum { DQ_PRECISION_TF32, DQ_PRECISION_FP32, DQ_PRECISION_BF16 } dq_precision;

/* The --precision name of p. */
const char *dq_precision_name(dq_precision p);

/* Resolve a --precision argument: 0, or -1 with the reason in e. */
int dq_precision_parse(const char *name, dq_precision *out, dq_errbuf *e);

/* Number of usable CUDA devices (0 when built without CUDA or when the driver
 * finds none); desc receives the first device's name and memory, or why none. */
int dq_cuda_probe(char *desc, size_t size);

/* Resolve a --device argument.  "auto" is CUDA when a GPU is usable, else CPU;
 * "cuda" without a usable GPU is an error.  Returns 0, or -1 with the reason in e. */
int dq_device_select(const char *name, dq_device *out, dq_errbuf *e);

/* Runs a small kernel on the GPU and checks its result against the CPU:
 * 0 on agreement, -1 (with the reason in e) otherwise. */
int dq_cuda_selftest(dq_errbuf *e);

#endif
