/* nn_loss.c: reconstruction and classification losses.  Values are summed
 * in double over fixed blocks, so they do not depend on the thread count. */
#include "nn/nn.h"

#include <math.h>
#include <stdlib.h>

#include "core/util.h"

#define LOSS_BLOCK 4096

typedef double (*elem_term)(const float *a, const float *b, size_t i);

static double sum_terms(const float *a, const float *b, size_t n, elem_term term) {
    size_t nblocks = (n + LOSS_BLOCK - 1) / LOSS_BLOCK;
    double *partial = dq_malloc((nblocks ? nblocks : 1) * sizeof *partial);
#pragma omp parallel for schedule(static) if (nblocks > 4)
    for (size_t blk = 0; blk < nblocks; blk++) {
        size_t end = (blk + 1) * LOSS_BLOCK < n ? (blk + 1) * LOSS_BLOCK : n;
        double s = 0;
        for (size_t i = blk * LOSS_BLOCK; i < end; i++) s += term(a, b, i);
        partial[blk] = s;
    }
    double total = 0;
    for (size_t blk = 0; blk < nblocks; blk++) total += partial[blk];
    free(partial);
    return total;
}

static double squared_error(const float *pred, const float *target, size_t i) {
    double d = (double)pred[i] - target[i];
    return d * d;
}

double nn_mse_forward(const float *pred, const float *target, size_t n) {
    return n ? sum_terms(pred, target, n, squared_error) / (double)n : 0;
}

void nn_mse_backward(const float *pred, const float *target, size_t n, float scale,
                     float *dpred) {
    float f = (float)(2.0 * scale / (double)n);
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) dpred[i] = f * (pred[i] - target[i]);
}

/* max(l,0) - l t + log(1 + exp(-|l|)): no overflow for any logit. */
static double bce_logit_term(const float *logits, const float *target, size_t i) {
    double l = logits[i];
    return (l > 0 ? l : 0) - l * target[i] + log1p(exp(-fabs(l)));
}

double nn_bce_logits_forward(const float *logits, const float *target, size_t n) {
    return sum_terms(logits, target, n, bce_logit_term);
}

void nn_bce_logits_backward(const float *logits, const float *target, size_t n, float scale,
                            float *dlogits) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        float sig = 1.0f / (1.0f + expf(-logits[i]));
        dlogits[i] = scale * (sig - target[i]);
    }
}

static double log_sum_exp(const float *x, int k) {
    float m = x[0];
    for (int j = 1; j < k; j++) m = x[j] > m ? x[j] : m;
    double s = 0;
    for (int j = 0; j < k; j++) s += exp((double)x[j] - m);
    return m + log(s);
}

double nn_cross_entropy_forward(const float *logits, const int32_t *labels, int rows, int k) {
    double total = 0;
    for (int r = 0; r < rows; r++) {
        const float *x = logits + (size_t)r * k;
        total += log_sum_exp(x, k) - x[labels[r]];
    }
    return rows ? total / rows : 0;
}

void nn_cross_entropy_backward(const float *logits, const int32_t *labels, int rows, int k,
                               float scale, float *dlogits) {
    nn_softmax_forward(logits, dlogits, rows, k);
    float f = rows ? scale / rows : 0;
    for (int r = 0; r < rows; r++) {
        float *g = dlogits + (size_t)r * k;
        g[labels[r]] -= 1.0f;
        for (int j = 0; j < k; j++) g[j] *= f;
    }
}
