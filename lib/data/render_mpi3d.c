/* render_mpi3d.c: an object held by a 2-DOF robot arm, in the MPI3D layout.
 *
 * The arm rises from a column at the bottom of the frame to a pivot; its
 * first joint turns about the vertical axis (horizontal_axis), its second
 * tilts the forearm up and down (vertical_axis).  The object at the tip is
 * placed by that 3D kinematics and a pinhole camera at one of three heights,
 * then drawn as a shaded silhouette whose size follows the perspective.  The
 * object set and colours follow the dataset: the six simple shapes and
 * colours of mpi3d, or the four complex shapes and colours of mpi3d-complex
 * (told apart by the size of the shape factor).  2x2 samples per pixel. */
#include "data/render.h"

#define SIZE 64
#define SUBSAMPLES 2
#define PI 3.14159265f

static const dq_rgb simple_colors[6] = {
    {0.92f, 0.92f, 0.92f}, {0.15f, 0.65f, 0.2f}, {0.8f, 0.12f, 0.1f},
    {0.12f, 0.25f, 0.8f},  {0.5f, 0.3f, 0.12f},  {0.5f, 0.55f, 0.15f}};
static const dq_rgb complex_colors[4] = {
    {0.92f, 0.82f, 0.1f}, {0.15f, 0.65f, 0.2f}, {0.5f, 0.55f, 0.15f}, {0.8f, 0.12f, 0.1f}};
static const dq_rgb backgrounds[3] = {
    {0.42f, 0.28f, 0.55f}, {0.25f, 0.6f, 0.52f}, {0.93f, 0.55f, 0.45f}};
static const dq_rgb arm_color = {0.16f, 0.16f, 0.18f};

enum { CONE, CUBE, CYLINDER, HEXAGONAL, PYRAMID, SPHERE };
enum { MUG, BALL, BANANA, CUP };

/* Shade (0 = outside) of a shape at local (u, v), v up, unit radius; a lit
 * left side and darker right/bottom stand in for a light above-left. */
static float shade_simple(int shape, float u, float v) {
    switch (shape) {
    case CONE:
        if (v < -0.9f || v > 0.9f || fabsf(u) > 0.45f * (0.9f - v)) return 0;
        return 0.95f - 0.35f * u;
    case CUBE:
        if (fabsf(u) > 0.75f || fabsf(v) > 0.75f) return 0;
        return v > 0.45f ? 1.1f : u > 0.3f ? 0.7f : 0.9f;
    case CYLINDER:
        if (fabsf(u) > 0.6f || v < -0.85f) return 0;
        if (v > 0.6f) return (u * u) / 0.36f + (v - 0.6f) * (v - 0.6f) / 0.04f <= 1.0f ? 1.1f : 0;
        return 0.95f - 0.4f * u;
    case HEXAGONAL: {
        float au = fabsf(u), av = fabsf(v);
        if (av > 0.78f || au * 0.866f + av * 0.5f > 0.78f) return 0;
        return v > 0.35f ? 1.05f : 0.9f - 0.3f * u;
    }
    case PYRAMID:
        if (v < -0.8f || v > 0.9f || fabsf(u) > 0.5f * (0.9f - v)) return 0;
        return u < 0.0f ? 1.0f : 0.65f;
    default: {
        float r2 = u * u + v * v;
        if (r2 > 0.72f) return 0;
        return 1.05f - 0.45f * sqrtf(r2) - 0.25f * (u - v);
    }
    }
}

static float shade_complex(int shape, float u, float v) {
    switch (shape) {
    case MUG: {
        float hu = u - 0.55f, ring = sqrtf(hu * hu + v * v);
        if (fabsf(u) <= 0.5f && fabsf(v) <= 0.7f) return v > 0.6f ? 0.7f : 0.95f - 0.4f * u;
        return ring > 0.25f && ring < 0.42f && u > 0.5f ? 0.75f : 0;
    }
    case BALL: {
        float r2 = u * u + v * v;
        if (r2 > 0.64f) return 0;
        return (fabsf(v + 0.2f * u) < 0.1f ? 0.55f : 1.05f) - 0.35f * sqrtf(r2);
    }
    case BANANA: {
        float outer = u * u + (v + 0.2f) * (v + 0.2f), inner = u * u + (v + 0.55f) * (v + 0.55f);
        if (outer > 0.85f * 0.85f || inner < 0.8f * 0.8f || v < -0.6f) return 0;
        return 1.0f - 0.3f * u;
    }
    default: {
        float half = 0.35f + 0.2f * (v + 0.7f) / 1.4f;
        if (v < -0.7f || v > 0.7f || fabsf(u) > half) return 0;
        return v > 0.6f ? 0.6f : 0.95f - 0.4f * u / half;
    }
    }
}

/* Distance from p to segment ab in pixels. */
static float segment_distance(float px, float py, float ax, float ay, float bx, float by) {
    float dx = bx - ax, dy = by - ay, qx = px - ax, qy = py - ay;
    float h = (qx * dx + qy * dy) / (dx * dx + dy * dy);
    h = h < 0.0f ? 0.0f : h > 1.0f ? 1.0f : h;
    qx -= h * dx, qy -= h * dy;
    return sqrtf(qx * qx + qy * qy);
}

typedef struct {
    float x, y, scale; /* pixel position and pixels per world unit */
} projected;

/* Pinhole camera 4 units in front of the arm at height cam_y, tilted to look
 * at the middle of the workspace. */
static projected project(float x, float y, float z, float cam_y) {
    float pitch = atanf((cam_y - 0.3f) / 4.0f), cp = cosf(pitch), sp = sinf(pitch);
    float ry = y - cam_y, rz = z + 4.0f;
    float depth = rz * cp - ry * sp, up = ry * cp + rz * sp;
    float f = 64.0f / depth;
    return (projected){SIZE * 0.5f + f * x, SIZE * 0.5f - f * up, f};
}

void dq_render_mpi3d(const dq_dataset_spec *spec, const int *index, const double *value,
                     uint8_t *out) {
    (void)value;
    int complex = spec->dims[1].size == 4;
    dq_rgb color = complex ? complex_colors[index[0]] : simple_colors[index[0]];
    float size = index[2] ? 0.55f : 0.38f;
    float cam_y = (1 - index[3]) * 0.9f + 0.3f; /* top, centre, bottom */
    dq_rgb bg = backgrounds[index[4]];
    float yaw = (index[5] / 39.0f - 0.5f) * 1.6f * PI / 2.0f;
    float tilt = (index[6] / 39.0f - 0.5f) * 0.9f * PI / 2.0f;
    const float pivot_y = -0.2f, forearm = 1.2f;
    float tx = forearm * sinf(yaw) * cosf(tilt), ty = pivot_y + forearm * sinf(tilt);
    float tz = -forearm * cosf(yaw) * cosf(tilt) * 0.6f;
    projected base = project(0, -3.0f, 0, cam_y), pivot = project(0, pivot_y, 0, cam_y);
    projected tip = project(tx, ty, tz, cam_y);
    float radius = size * tip.scale, arm_width = 0.09f * pivot.scale;
    const float inv = 1.0f / SUBSAMPLES;
    for (int py = 0; py < SIZE; py++)
        for (int px = 0; px < SIZE; px++) {
            float acc[3] = {0, 0, 0};
            for (int sy = 0; sy < SUBSAMPLES; sy++)
                for (int sx = 0; sx < SUBSAMPLES; sx++) {
                    float x = px + (sx + 0.5f) * inv, y = py + (sy + 0.5f) * inv;
                    float light = 1.0f - 0.35f * y / SIZE;
                    dq_rgb c = {bg.r * light, bg.g * light, bg.b * light};
                    float u = (x - tip.x) / radius, v = (tip.y - y) / radius;
                    float shade = complex ? shade_complex(index[1], u, v)
                                          : shade_simple(index[1], u, v);
                    if (shade > 0.0f) {
                        c = (dq_rgb){color.r * shade, color.g * shade, color.b * shade};
                    } else if (segment_distance(x, y, base.x, base.y, pivot.x, pivot.y) < 1.6f * arm_width ||
                               segment_distance(x, y, pivot.x, pivot.y, tip.x, tip.y) < arm_width) {
                        c = arm_color;
                    }
                    acc[0] += c.r, acc[1] += c.g, acc[2] += c.b;
                }
            uint8_t *o = out + (py * SIZE + px) * 3;
            for (int k = 0; k < 3; k++) o[k] = dq_to_u8(acc[k] / (SUBSAMPLES * SUBSAMPLES));
        }
}
