/* render.h: the procedural renderers and the small shading helpers they share.
 * Each renderer draws one image from its factor tuple alone, so any image can
 * be produced without the others and the renderers can run on many threads. */
#ifndef DISQ_RENDER_H
#define DISQ_RENDER_H

#include <math.h>
#include <stdint.h>

#include "data/spec.h"

void dq_render_dsprites(const dq_dataset_spec *spec, const int *index, const double *value,
                        uint8_t *out);
void dq_render_shapes3d(const dq_dataset_spec *spec, const int *index, const double *value,
                        uint8_t *out);
void dq_render_mpi3d(const dq_dataset_spec *spec, const int *index, const double *value,
                     uint8_t *out);

typedef struct {
    float r, g, b;
} dq_rgb;

/* Fully saturated colour of hue h in [0,1), value v (HSV). */
static inline dq_rgb dq_hue_rgb(float h, float v) {
    float k[3] = {5.0f, 3.0f, 1.0f}, c[3];
    for (int i = 0; i < 3; i++) {
        float t = fmodf(k[i] + h * 6.0f, 6.0f);
        float m = fminf(fminf(t, 4.0f - t), 1.0f);
        c[i] = v - v * fmaxf(m, 0.0f);
    }
    return (dq_rgb){c[0], c[1], c[2]};
}

static inline uint8_t dq_to_u8(float v) {
    v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    return (uint8_t)(v * 255.0f + 0.5f);
}

static inline float dq_smoothstep(float e0, float e1, float x) {
    float t = (x - e0) / (e1 - e0);
    t = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
    return t * t * (3.0f - 2.0f * t);
}

#endif
