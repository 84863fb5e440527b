/* nn_pool.c: 2x2 max pooling and x2 nearest upsampling on NHWC maps. */
#include "nn/nn.h"

#include <string.h>

/* Offset of the winning element of one 2x2 window for channel ch: the first
 * maximum in row-major window order (torch's CPU tie rule); NaN wins. */
static size_t window_argmax(const float *x, size_t top_left, size_t row_stride, int c, int ch) {
    size_t cand[4] = {top_left, top_left + (size_t)c, top_left + row_stride,
                      top_left + row_stride + (size_t)c};
    size_t best = cand[0] + (size_t)ch;
    for (int i = 1; i < 4; i++) {
        size_t at = cand[i] + (size_t)ch;
        if (x[at] > x[best] || (x[at] != x[at] && x[best] == x[best])) best = at;
    }
    return best;
}

void nn_maxpool2_forward(const float *x, int n, int h, int w, int c, float *y) {
    int oh = h / 2, ow = w / 2;
    size_t row_stride = (size_t)w * c;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                size_t tl = (((size_t)b * h + 2 * oy) * w + 2 * ox) * c;
                float *out = y + (((size_t)b * oh + oy) * ow + ox) * c;
                for (int ch = 0; ch < c; ch++) out[ch] = x[window_argmax(x, tl, row_stride, c, ch)];
            }
}

void nn_maxpool2_backward(const float *x, const float *dy, int n, int h, int w, int c,
                          float *dx) {
    if (!dx) return;
    int oh = h / 2, ow = w / 2;
    size_t row_stride = (size_t)w * c;
    memset(dx, 0, (size_t)n * h * w * c * sizeof *dx);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                size_t tl = (((size_t)b * h + 2 * oy) * w + 2 * ox) * c;
                const float *g = dy + (((size_t)b * oh + oy) * ow + ox) * c;
                for (int ch = 0; ch < c; ch++) dx[window_argmax(x, tl, row_stride, c, ch)] = g[ch];
            }
}

void nn_upsample2_forward(const float *x, int n, int h, int w, int c, float *y) {
    size_t cbytes = (size_t)c * sizeof *x;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int oy = 0; oy < 2 * h; oy++) {
            const float *src = x + ((size_t)b * h + oy / 2) * w * c;
            float *dst = y + ((size_t)b * 2 * h + oy) * 2 * w * c;
            for (int ox = 0; ox < 2 * w; ox++) memcpy(dst + (size_t)ox * c, src + (size_t)(ox / 2) * c, cbytes);
        }
}

void nn_upsample2_backward(const float *dy, int n, int h, int w, int c, float *dx) {
    if (!dx) return;
    size_t orow = (size_t)2 * w * c;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const float *g = dy + (((size_t)b * 2 * h + 2 * y) * 2 * w + 2 * x) * c;
                float *out = dx + (((size_t)b * h + y) * w + x) * c;
                for (int ch = 0; ch < c; ch++)
                    out[ch] = (g[ch] + g[ch + c]) + (g[ch + orow] + g[ch + orow + c]);
            }
}
