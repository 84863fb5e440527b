/* categorical.c: see categorical.h. */
#include "model/categorical.h"

#include <stdlib.h>

#include "model/workspace.h"
#include "nn/nn.h"
#include "nn/op.h"
#include "core/rng.h"
#include "core/util.h"

float *dq_categorical_assign(dq_trainer *t, const dq_head_pass *p, const float *L, int rows, int K,
                             float scale) {
    float *w = dq_ws(t, DQ_WS_W, (size_t)rows * K);
    if (p->mode == DQ_SAMPLE_HARD) {
        int32_t *code = (int32_t *)dq_ws(t, DQ_WS_CODE, (size_t)rows);
        op_argmax_rows(L, rows, K, code);
        op_onehot(code, rows, K, w);
    } else {
        op_gumbel_softmax_forward(L, p->mode == DQ_SAMPLE_NOISY ? p->noise : NULL, scale, p->tau, w, rows, K);
    }
    return w;
}

void dq_categorical_codes(float *L, int rows, int K, int sample, uint64_t seed, uint64_t stream,
                          int32_t *code) {
    const size_t n = (size_t)rows * K;
    if (sample) {
        /* argmax(L + g) is a draw from softmax(L) */
        float *g = dq_alloc_aligned((n ? n : 1) * sizeof(float));
        dq_rng r = {seed, stream};
        dq_rng_gumbel(r, 0, g, n);
        nn_axpy(1.0f, g, L, n);
        free(g);
    }
    nn_argmax_rows(L, rows, K, code);
}
