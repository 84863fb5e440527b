// nncu_optim.cu: Adam over device parameters (twin of dq_adam in
// lib/nn/optim.c).  Every tensor is cut into chunks of at most CHUNK elements;
// a table of chunks lives on the device and one launch gives each chunk a
// block, so a step over hundreds of tensors is a single kernel.
#include "nncu_internal.cuh"

#include <stdlib.h>
#include <string.h>

#define CHUNK 16384

struct adam_chunk {
    float *p;
    const float *g;
    float *m, *v;
    unsigned n;
};

extern "C" void nncu_adam_init(nncu_ctx *ctx, nncu_adam *opt, const dq_param *params, size_t nparams,
                               double beta1, double beta2, double eps) {
    memset(opt, 0, sizeof *opt);
    opt->params = (dq_param *)dq_malloc((nparams ? nparams : 1) * sizeof *params);
    memcpy(opt->params, params, nparams * sizeof *params);
    opt->nparams = nparams;
    for (size_t i = 0; i < nparams; i++) {
        opt->total += params[i].n;
        opt->nchunks += (params[i].n + CHUNK - 1) / CHUNK;
    }
    opt->m = (float *)nncu_malloc(opt->total * sizeof(float));
    opt->v = (float *)nncu_malloc(opt->total * sizeof(float));
    nncu_zero(ctx, opt->m, opt->total * sizeof(float));
    nncu_zero(ctx, opt->v, opt->total * sizeof(float));
    opt->beta1 = beta1;
    opt->beta2 = beta2;
    opt->eps = eps;
    adam_chunk *table = (adam_chunk *)dq_malloc((opt->nchunks ? opt->nchunks : 1) * sizeof *table);
    size_t at = 0, base = 0;
    for (size_t i = 0; i < nparams; i++) {
        for (size_t s = 0; s < params[i].n; s += CHUNK) {
            size_t len = params[i].n - s < CHUNK ? params[i].n - s : CHUNK;
            table[at++] = adam_chunk{params[i].data + s, params[i].grad + s, opt->m + base + s,
                                     opt->v + base + s, (unsigned)len};
        }
        base += params[i].n;
    }
    opt->chunks = nncu_malloc(opt->nchunks * sizeof *table);
    nncu_upload(ctx, opt->chunks, table, opt->nchunks * sizeof *table);
    free(table);
}

extern "C" void nncu_adam_free(nncu_adam *opt) {
    free(opt->params);
    nncu_free(opt->m);
    nncu_free(opt->v);
    nncu_free(opt->chunks);
    memset(opt, 0, sizeof *opt);
}

extern "C" void nncu_adam_zero_grad(nncu_ctx *ctx, nncu_adam *opt) {
    for (size_t i = 0; i < opt->nparams; i++)
        nncu_zero(ctx, opt->params[i].grad, opt->params[i].n * sizeof(float));
}

// The CPU's update with every operation rounded on its own (__fmul_rn and
// __fadd_rn are never contracted into a fused multiply-add; sqrtf and / are
// IEEE-exact by default), hence bitwise the CPU's result.
__global__ static void adam_kernel(const adam_chunk *chunks, float b1, float one_minus_b1, float b2,
                                   float one_minus_b2, float step_size, float bc2_sqrt, float eps) {
    adam_chunk c = chunks[blockIdx.x];
    for (unsigned j = threadIdx.x; j < c.n; j += blockDim.x) {
        float g = c.g[j];
        float m = __fadd_rn(__fmul_rn(c.m[j], b1), __fmul_rn(one_minus_b1, g));
        float v = __fadd_rn(__fmul_rn(c.v[j], b2), __fmul_rn(__fmul_rn(one_minus_b2, g), g));
        c.m[j] = m;
        c.v[j] = v;
        float denom = __fadd_rn(sqrtf(v) / bc2_sqrt, eps);
        c.p[j] = __fsub_rn(c.p[j], __fmul_rn(step_size, m / denom));
    }
}

extern "C" void nncu_adam_step(nncu_ctx *ctx, nncu_adam *opt, double lr) {
    opt->step++;
    // Scalars exactly as dq_adam_step derives them.
    double bc1 = 1.0 - pow(opt->beta1, (double)opt->step);
    double bc2 = 1.0 - pow(opt->beta2, (double)opt->step);
    float step_size = (float)(lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    if (opt->nchunks == 0) return;
    adam_kernel<<<(unsigned)opt->nchunks, NNCU_THREADS, 0, ctx->stream>>>(
        (const adam_chunk *)opt->chunks, (float)opt->beta1, (float)(1.0 - opt->beta1), (float)opt->beta2,
        (float)(1.0 - opt->beta2), step_size, bc2_sqrt, (float)opt->eps);
    NNCU_LAUNCHED();
}
