/* render_shapes3d.c: a small ray caster for the 3dshapes scene.
 *
 * A room (floor and three walls) with one object standing at its centre: a
 * cube, cylinder, sphere or capsule, each a closed-form ray intersection.
 * Floor, walls and object take fully saturated hues; a directional light
 * gives Lambert shading and the object casts a shadow on the floor.  The
 * camera circles the object about the vertical axis by the orientation
 * angle.  Each pixel averages a 2x2 grid of rays, which smooths the edges as
 * the antialiased renders of the real dataset do. */
#include <float.h>

#include "data/render.h"

#define SIZE 64
#define SUBSAMPLES 2
#define ROOM 4.0f       /* walls at x = +-ROOM, z = +ROOM */
#define CAM_DIST 5.6f
#define CAM_HEIGHT 2.1f
#define LOOK_HEIGHT 0.8f
#define TAN_HALF_FOV 0.42f
#define BASE_HALF 0.75f /* object half-width at scale 1 */
#define AMBIENT 0.45f

typedef struct {
    float x, y, z;
} vec3;

static inline vec3 v3(float x, float y, float z) { return (vec3){x, y, z}; }
static inline vec3 add(vec3 a, vec3 b) { return v3(a.x + b.x, a.y + b.y, a.z + b.z); }
static inline vec3 sub(vec3 a, vec3 b) { return v3(a.x - b.x, a.y - b.y, a.z - b.z); }
static inline vec3 mul(vec3 a, float s) { return v3(a.x * s, a.y * s, a.z * s); }
static inline float dot(vec3 a, vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
static inline vec3 normalize(vec3 a) { return mul(a, 1.0f / sqrtf(dot(a, a))); }
static inline vec3 cross(vec3 a, vec3 b) {
    return v3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x);
}

enum { CUBE, CYLINDER, SPHERE, CAPSULE };

typedef struct {
    int shape;
    float r; /* half-width; the object stands on the floor, 2r tall */
} object;

/* Nearest hit of the ray with the object at distance < *t; sets *t and *n. */
static int hit_box(const object *o, vec3 p, vec3 d, float *t, vec3 *n) {
    float lo[3] = {-o->r, 0.0f, -o->r}, hi[3] = {o->r, 2.0f * o->r, o->r};
    float pp[3] = {p.x, p.y, p.z}, dd[3] = {d.x, d.y, d.z};
    float tnear = -FLT_MAX, tfar = FLT_MAX;
    int axis = 0;
    for (int k = 0; k < 3; k++) {
        float inv = 1.0f / dd[k];
        float t0 = (lo[k] - pp[k]) * inv, t1 = (hi[k] - pp[k]) * inv;
        if (t0 > t1) {
            float s = t0;
            t0 = t1;
            t1 = s;
        }
        if (t0 > tnear) tnear = t0, axis = k;
        if (t1 < tfar) tfar = t1;
    }
    if (tnear > tfar || tnear <= 0.0f || tnear >= *t) return 0;
    *t = tnear;
    float nn[3] = {0, 0, 0};
    nn[axis] = dd[axis] > 0 ? -1.0f : 1.0f;
    *n = v3(nn[0], nn[1], nn[2]);
    return 1;
}

static int hit_sphere(vec3 c, float r, vec3 p, vec3 d, float *t, vec3 *n) {
    vec3 oc = sub(p, c);
    float b = dot(oc, d), h = b * b - (dot(oc, oc) - r * r);
    if (h < 0.0f) return 0;
    float tt = -b - sqrtf(h);
    if (tt <= 0.0f || tt >= *t) return 0;
    *t = tt;
    *n = mul(sub(add(p, mul(d, tt)), c), 1.0f / r);
    return 1;
}

/* Vertical cylinder of radius r, from y0 to y1, with a flat top. */
static int hit_cylinder(float r, float y0, float y1, vec3 p, vec3 d, float *t, vec3 *n) {
    float a = d.x * d.x + d.z * d.z, b = p.x * d.x + p.z * d.z;
    float c = p.x * p.x + p.z * p.z - r * r, h = b * b - a * c;
    int found = 0;
    if (h >= 0.0f && a > 1e-12f) {
        float tt = (-b - sqrtf(h)) / a, y = p.y + tt * d.y;
        if (tt > 0.0f && tt < *t && y >= y0 && y <= y1) {
            *t = tt;
            *n = v3((p.x + tt * d.x) / r, 0.0f, (p.z + tt * d.z) / r);
            found = 1;
        }
    }
    if (d.y < 0.0f) {
        float tt = (y1 - p.y) / d.y, x = p.x + tt * d.x, z = p.z + tt * d.z;
        if (tt > 0.0f && tt < *t && x * x + z * z <= r * r) {
            *t = tt;
            *n = v3(0.0f, 1.0f, 0.0f);
            found = 1;
        }
    }
    return found;
}

static int hit_object(const object *o, vec3 p, vec3 d, float *t, vec3 *n) {
    float r = o->r;
    switch (o->shape) {
    case CUBE: return hit_box(o, p, d, t, n);
    case CYLINDER: return hit_cylinder(r, 0.0f, 2.0f * r, p, d, t, n);
    case SPHERE: return hit_sphere(v3(0, r, 0), r, p, d, t, n);
    default: {
        /* A pill: a cylinder between two half-spheres, 2r tall and 1.3r wide. */
        float rc = 0.65f * r;
        int found = hit_cylinder(rc, rc, 2.0f * r - rc, p, d, t, n);
        found |= hit_sphere(v3(0, 2.0f * r - rc, 0), rc, p, d, t, n);
        found |= hit_sphere(v3(0, rc, 0), rc, p, d, t, n);
        return found;
    }
    }
}

typedef struct {
    object obj;
    dq_rgb floor, wall, body;
    vec3 eye, fwd, right, up, light;
} scene;

/* Colour seen along one ray. */
static dq_rgb trace(const scene *s, vec3 d) {
    float t = FLT_MAX;
    vec3 n = v3(0, 1, 0);
    dq_rgb base = s->floor;
    int on_floor = 0;
    if (d.y < 0.0f) {
        t = -s->eye.y / d.y;
        on_floor = 1;
    }
    /* The walls: back (z = ROOM) and the two sides. */
    float tw;
    if (d.z > 0.0f && (tw = (ROOM - s->eye.z) / d.z) < t) t = tw, n = v3(0, 0, -1), on_floor = 0;
    if (d.x > 0.0f && (tw = (ROOM - s->eye.x) / d.x) < t) t = tw, n = v3(-1, 0, 0), on_floor = 0;
    if (d.x < 0.0f && (tw = (-ROOM - s->eye.x) / d.x) < t) t = tw, n = v3(1, 0, 0), on_floor = 0;
    if (!on_floor) base = s->wall;
    if (hit_object(&s->obj, s->eye, d, &t, &n)) {
        base = s->body;
        on_floor = 0;
    }
    float lambert = fmaxf(dot(n, s->light), 0.0f);
    if (on_floor) {
        vec3 p = add(s->eye, mul(d, t)), ns;
        float ts = FLT_MAX;
        if (hit_object(&s->obj, add(p, v3(0, 1e-3f, 0)), s->light, &ts, &ns)) lambert *= 0.25f;
    }
    float k = AMBIENT + (1.0f - AMBIENT) * lambert;
    return (dq_rgb){base.r * k, base.g * k, base.b * k};
}

void dq_render_shapes3d(const dq_dataset_spec *spec, const int *index, const double *value,
                        uint8_t *out) {
    (void)spec;
    scene s;
    s.floor = dq_hue_rgb((float)value[0], 1.0f);
    s.wall = dq_hue_rgb((float)value[1], 1.0f);
    s.body = dq_hue_rgb((float)value[2], 1.0f);
    s.obj.r = BASE_HALF * (float)value[3];
    s.obj.shape = index[4];
    float yaw = (float)value[5] * 3.14159265f / 180.0f;
    s.eye = v3(CAM_DIST * sinf(yaw), CAM_HEIGHT, -CAM_DIST * cosf(yaw));
    s.fwd = normalize(sub(v3(0, LOOK_HEIGHT, 0), s.eye));
    s.right = normalize(cross(v3(0, 1, 0), s.fwd));
    s.up = cross(s.fwd, s.right);
    s.light = normalize(v3(-0.4f, 1.0f, -0.6f));
    const float inv = 1.0f / (SIZE * SUBSAMPLES);
    for (int py = 0; py < SIZE; py++)
        for (int px = 0; px < SIZE; px++) {
            float acc[3] = {0, 0, 0};
            for (int sy = 0; sy < SUBSAMPLES; sy++)
                for (int sx = 0; sx < SUBSAMPLES; sx++) {
                    float u = ((px * SUBSAMPLES + sx + 0.5f) * inv * 2.0f - 1.0f) * TAN_HALF_FOV;
                    float v = (1.0f - (py * SUBSAMPLES + sy + 0.5f) * inv * 2.0f) * TAN_HALF_FOV;
                    vec3 d = normalize(add(s.fwd, add(mul(s.right, u), mul(s.up, v))));
                    dq_rgb c = trace(&s, d);
                    acc[0] += c.r, acc[1] += c.g, acc[2] += c.b;
                }
            uint8_t *o = out + (py * SIZE + px) * 3;
            for (int k = 0; k < 3; k++) o[k] = dq_to_u8(acc[k] / (SUBSAMPLES * SUBSAMPLES));
        }
}
