/* resize.c: two 1D passes (rows, then columns) with precomputed weights. */
#include "data/resize.h"

#include <math.h>
#include <stdlib.h>

#include "core/util.h"

typedef struct {
    int first, count;
    float *w;
} taps;

/* Weights of output sample i over the input, normalised to sum 1. */
static taps *make_taps(int in, int out) {
    double scale = (double)in / out, support = scale > 1.0 ? scale : 1.0;
    taps *t = dq_malloc((size_t)out * sizeof *t);
    for (int i = 0; i < out; i++) {
        double centre = (i + 0.5) * scale;
        int lo = (int)floor(centre - support), hi = (int)ceil(centre + support);
        if (lo < 0) lo = 0;
        if (hi > in) hi = in;
        t[i].first = lo;
        t[i].count = hi - lo;
        t[i].w = dq_malloc((size_t)(hi - lo) * sizeof(float));
        double sum = 0;
        for (int k = lo; k < hi; k++) {
            double x = fabs((k + 0.5 - centre) / support), w = x < 1.0 ? 1.0 - x : 0.0;
            t[i].w[k - lo] = (float)w;
            sum += w;
        }
        for (int k = 0; k < hi - lo; k++) t[i].w[k] = (float)(t[i].w[k] / sum);
    }
    return t;
}

static void free_taps(taps *t, int n) {
    for (int i = 0; i < n; i++) free(t[i].w);
    free(t);
}

void dq_resize_u8(const uint8_t *src, int src_h, int src_w, int channels, uint8_t *dst,
                  int dst_h, int dst_w) {
    taps *tx = make_taps(src_w, dst_w), *ty = make_taps(src_h, dst_h);
    float *mid = dq_malloc((size_t)src_h * dst_w * channels * sizeof *mid);
    for (int y = 0; y < src_h; y++)
        for (int x = 0; x < dst_w; x++)
            for (int c = 0; c < channels; c++) {
                float acc = 0;
                for (int k = 0; k < tx[x].count; k++)
                    acc += tx[x].w[k] * src[((size_t)y * src_w + tx[x].first + k) * channels + c];
                mid[((size_t)y * dst_w + x) * channels + c] = acc;
            }
    for (int y = 0; y < dst_h; y++)
        for (int x = 0; x < dst_w; x++)
            for (int c = 0; c < channels; c++) {
                float acc = 0;
                for (int k = 0; k < ty[y].count; k++)
                    acc += ty[y].w[k] * mid[((size_t)(ty[y].first + k) * dst_w + x) * channels + c];
                acc = acc < 0 ? 0 : acc > 255 ? 255 : acc;
                dst[((size_t)y * dst_w + x) * channels + c] = (uint8_t)(acc + 0.5f);
            }
    free(mid);
    free_taps(tx, dst_w);
    free_taps(ty, dst_h);
}
