/* render_dsprites.c: binary 2D sprites in the dSprites layout.
 *
 * A white square, ellipse or heart on black, scaled by 0.5..1, rotated by
 * 0..2pi and placed on a 32x32 grid of positions.  As in dSprites, pos_x moves
 * right and pos_y moves down, and the largest sprite is about a third of the
 * image wide; a pixel is on when its centre lies inside the shape. */
#include "data/render.h"

#define SIZE 64
/* The grid spans pixel centres 12..52 and a scale-1 sprite has radius 10, so
 * every sprite stays inside the frame at every position. */
#define POS_LO 12.0f
#define POS_SPAN 40.0f
#define RADIUS 10.0f

/* Shapes in unit coordinates (radius 1), y pointing up. */
static int inside_square(float x, float y) { return fabsf(x) <= 0.8f && fabsf(y) <= 0.8f; }

static int inside_ellipse(float x, float y) { return x * x + (y * y) / 0.25f <= 1.0f; }

/* The classic heart curve (x^2 + y^2 - 1)^3 <= x^2 y^3, shrunk to fit radius 1. */
static int inside_heart(float x, float y) {
    x *= 1.15f;
    y = y * 1.15f + 0.15f;
    float a = x * x + y * y - 1.0f;
    return a * a * a <= x * x * y * y * y;
}

void dq_render_dsprites(const dq_dataset_spec *spec, const int *index, const double *value,
                        uint8_t *out) {
    (void)spec;
    int shape = index[0];
    float radius = RADIUS * (float)value[1];
    float angle = (float)value[2], c = cosf(angle), s = sinf(angle);
    float cx = POS_LO + POS_SPAN * (float)value[3];
    float cy = POS_LO + POS_SPAN * (float)value[4];
    for (int py = 0; py < SIZE; py++)
        for (int px = 0; px < SIZE; px++) {
            /* Image rows grow downwards; the sprite rotates counter-clockwise. */
            float dx = (px + 0.5f - cx) / radius, dy = (cy - py - 0.5f) / radius;
            float x = c * dx + s * dy, y = -s * dx + c * dy;
            int in = shape == 0 ? inside_square(x, y) : shape == 1 ? inside_ellipse(x, y)
                                                                   : inside_heart(x, y);
            out[py * SIZE + px] = in ? 255 : 0;
        }
}
