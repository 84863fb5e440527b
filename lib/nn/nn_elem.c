/* nn_elem.c: elementwise helpers and reductions whose result does not depend
 * on the number of threads. */
#include "nn/nn.h"

#include <stdlib.h>

#include "core/util.h"

/* Reductions add fixed-size blocks in parallel, then the block sums in index
 * order: the same rounding for any thread count. */
#define SUM_BLOCK 4096

void nn_fill(float *x, float value, size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) x[i] = value;
}

void nn_scale(float *x, float a, size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) x[i] *= a;
}

void nn_axpy(float a, const float *x, float *y, size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

void nn_scale_into(const float *x, float a, float *y, size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] = x[i] * a;
}

void nn_scale_add(float *y, float a, const float *x, size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] = y[i] * a + x[i];
}

static double block_sum(const float *x, size_t n, int squared) {
    size_t nblocks = (n + SUM_BLOCK - 1) / SUM_BLOCK;
    double *partial = dq_malloc((nblocks ? nblocks : 1) * sizeof *partial);
#pragma omp parallel for schedule(static) if (nblocks > 4)
    for (size_t b = 0; b < nblocks; b++) {
        size_t end = (b + 1) * SUM_BLOCK < n ? (b + 1) * SUM_BLOCK : n;
        double s = 0;
        for (size_t i = b * SUM_BLOCK; i < end; i++) s += squared ? (double)x[i] * x[i] : x[i];
        partial[b] = s;
    }
    double total = 0;
    for (size_t b = 0; b < nblocks; b++) total += partial[b];
    free(partial);
    return total;
}

double nn_sum(const float *x, size_t n) { return block_sum(x, n, 0); }
double nn_sum_sq(const float *x, size_t n) { return block_sum(x, n, 1); }

/* Column sums: fixed row blocks summed in parallel into per-block partials,
 * which are then added in block order. */
void nn_sum_rows_add(const float *x, size_t rows, int cols, float *sums) {
    const size_t block_rows = 256;
    size_t nblocks = (rows + block_rows - 1) / block_rows;
    if (nblocks == 0 || cols <= 0) return;
    double *partial = dq_malloc(nblocks * (size_t)cols * sizeof *partial);
#pragma omp parallel for schedule(static) if (nblocks > 4)
    for (size_t b = 0; b < nblocks; b++) {
        double *p = partial + b * (size_t)cols;
        for (int j = 0; j < cols; j++) p[j] = 0;
        size_t end = (b + 1) * block_rows < rows ? (b + 1) * block_rows : rows;
        for (size_t i = b * block_rows; i < end; i++) {
            const float *row = x + i * (size_t)cols;
            for (int j = 0; j < cols; j++) p[j] += row[j];
        }
    }
    for (int j = 0; j < cols; j++) {
        double s = 0;
        for (size_t b = 0; b < nblocks; b++) s += partial[b * (size_t)cols + j];
        sums[j] += (float)s;
    }
    free(partial);
}

void nn_scale_u8(const uint8_t *x, size_t n, float shift, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = (float)x[i] * (1.0f / 255.0f) - shift;
}
