/* nn_layout.c: the flatten order of a feature map, ours (H,W,C) or
 * PyTorch's (C,H,W), for the Linear layers that follow a flatten. */
#include "nn/nn.h"

void nn_hwc_to_chw(const float *x, int b, int cells, int c, float *y) {
    for (int i = 0; i < b; i++) {
        const float *xi = x + (size_t)i * cells * c;
        float *yi = y + (size_t)i * cells * c;
        for (int p = 0; p < cells; p++)
            for (int ch = 0; ch < c; ch++) yi[(size_t)ch * cells + p] = xi[(size_t)p * c + ch];
    }
}

void nn_chw_to_hwc(const float *x, int b, int cells, int c, float *y) {
    for (int i = 0; i < b; i++) {
        const float *xi = x + (size_t)i * cells * c;
        float *yi = y + (size_t)i * cells * c;
        for (int p = 0; p < cells; p++)
            for (int ch = 0; ch < c; ch++) yi[(size_t)p * c + ch] = xi[(size_t)ch * cells + p];
    }
}
