/* dataset.c: the dataset table, index arithmetic, and choosing a source. */
#include "data/dataset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/render.h"
#include "core/util.h"

#define PI2 6.283185307179586

static const dq_dataset_spec specs[] = {
    {.name = "dsprites",
     .ndims = 5,
     .dims = {{"shape", 3, 1, 3}, {"scale", 6, 0.5, 1.0}, {"orientation", 40, 0, PI2},
              {"pos_x", 32, 0, 1}, {"pos_y", 32, 0, 1}},
     .nuisance = -1, .height = 64, .width = 64, .channels = 1,
     .render = dq_render_dsprites, .render_version = 1,
     .format = DQ_FILE_DSPRITES_NPZ,
     .files = {"dsprites/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz",
               "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"},
     .summary = "2D sprites (square, ellipse, heart), binary 0/255"},
    {.name = "shapes3d",
     .ndims = 6,
     .dims = {{"floor_hue", 10, 0, 0.9}, {"wall_hue", 10, 0, 0.9}, {"object_hue", 10, 0, 0.9},
              {"scale", 8, 0.75, 1.25}, {"shape", 4, 0, 3}, {"orientation", 15, -30, 30}},
     .nuisance = -1, .height = 64, .width = 64, .channels = 3,
     .render = dq_render_shapes3d, .render_version = 1,
     .format = DQ_FILE_SHAPES3D_H5,
     .files = {"3dshapes/3dshapes.h5", "3dshapes.h5"},
     .summary = "3D room: floor, wall, cube/cylinder/sphere/capsule, hues, camera turn"},
    {.name = "mpi3d",
     .ndims = 7,
     .dims = {{"object_color", 6, 0, 5}, {"object_shape", 6, 0, 5}, {"object_size", 2, 0, 1},
              {"camera_height", 3, 0, 2}, {"background_color", 3, 0, 2},
              {"horizontal_axis", 40, 0, 39}, {"vertical_axis", 40, 0, 39}},
     .nuisance = -1, .height = 64, .width = 64, .channels = 3,
     .render = dq_render_mpi3d, .render_version = 1,
     .format = DQ_FILE_MPI3D_NPZ,
     .files = {"mpi3d_toy/mpi3d_toy.npz", "mpi3d_realistic/mpi3d_realistic.npz",
               "mpi3d_real/mpi3d_real.npz", "mpi3d_toy.npz"},
     .summary = "object on a 2-DOF robot arm (MPI3D toy/realistic/real)"},
    {.name = "mpi3d-complex",
     .ndims = 7,
     .dims = {{"object_color", 4, 0, 3}, {"object_shape", 4, 0, 3}, {"object_size", 2, 0, 1},
              {"camera_height", 3, 0, 2}, {"background_color", 3, 0, 2},
              {"horizontal_axis", 40, 0, 39}, {"vertical_axis", 40, 0, 39}},
     .nuisance = -1, .height = 64, .width = 64, .channels = 3,
     .render = dq_render_mpi3d, .render_version = 1,
     .format = DQ_FILE_MPI3D_NPZ,
     .files = {"mpi3d_complex/real3d_complicated_shapes_ordered.npz",
               "real3d_complicated_shapes_ordered.npz"},
     .summary = "MPI3D complex shapes (mug, ball, banana, cup); FactorQVAE's MPI3D"},
    {.name = "isaac3d",
     .ndims = 9,
     .dims = {{"object_shape", 3, 0, 2}, {"robot_x", 8, 0, 7}, {"robot_y", 5, 0, 4},
              {"camera_height", 4, 0, 3}, {"object_scale", 4, 0, 3},
              {"lighting_intensity", 4, 0, 3}, {"lighting_y_dir", 6, 0, 5},
              {"object_color", 4, 0, 3}, {"wall_color", 4, 0, 3}},
     .nuisance = -1, .height = 64, .width = 64, .channels = 3,
     .format = DQ_FILE_ISAAC3D_DIR,
     .files = {"isaac3d", "Isaac3D_down128", "Isaac3D"},
     .summary = "robot arm scene (real file only: images/%06d.png + labels.npy)"},
    {.name = "smallnorb",
     .ndims = 5,
     .dims = {{"category", 5, 0, 4}, {"instance", 10, 0, 9}, {"elevation", 9, 30, 70},
              {"azimuth", 18, 0, 340}, {"lighting", 6, 0, 5}},
     .nuisance = 1, .height = 64, .width = 64, .channels = 1,
     .format = DQ_FILE_SMALLNORB_DIR,
     .files = {"small_norb", "smallnorb"},
     .summary = "toy photographs, 96x96 resized (real file only; instance is nuisance)"},
    {.name = "cars3d",
     .ndims = 3,
     .dims = {{"elevation", 4, 0, 3}, {"azimuth", 24, 0, 23}, {"object", 183, 0, 182}},
     .nuisance = -1, .height = 64, .width = 64, .channels = 3,
     .format = DQ_FILE_CARS3D_DIR,
     .files = {"cars", "cars3d"},
     .summary = "rendered car models, 128x128 resized (real file only)"},
};

#define NSPECS ((int)(sizeof specs / sizeof specs[0]))

const dq_dataset_spec *dq_dataset_spec_find(const char *name) {
    for (int i = 0; i < NSPECS; i++)
        if (!strcmp(specs[i].name, name)) return &specs[i];
    return NULL;
}

int dq_dataset_spec_count(void) { return NSPECS; }
const dq_dataset_spec *dq_dataset_spec_at(int i) { return &specs[i]; }

int64_t dq_spec_count(const dq_dataset_spec *s) {
    int64_t n = 1;
    for (int i = 0; i < s->ndims; i++) n *= s->dims[i].size;
    return n;
}

double dq_spec_value(const dq_dataset_spec *s, int dim, int k) {
    const dq_grid_dim *g = &s->dims[dim];
    if (g->size < 2) return g->lo;
    return g->lo + (g->hi - g->lo) * k / (g->size - 1);
}

int dq_spec_nfactors(const dq_dataset_spec *s) { return s->ndims - (s->nuisance >= 0); }

int dq_spec_factor_dim(const dq_dataset_spec *s, int factor) {
    return s->nuisance >= 0 && factor >= s->nuisance ? factor + 1 : factor;
}

void dq_spec_unravel(const dq_dataset_spec *s, int64_t index, int *grid) {
    for (int i = s->ndims - 1; i >= 0; i--) {
        grid[i] = (int)(index % s->dims[i].size);
        index /= s->dims[i].size;
    }
}

int64_t dq_spec_ravel(const dq_dataset_spec *s, const int *grid) {
    int64_t index = 0;
    for (int i = 0; i < s->ndims; i++) index = index * s->dims[i].size + grid[i];
    return index;
}

size_t dq_spec_image_bytes(const dq_dataset_spec *s) {
    return (size_t)s->height * s->width * s->channels;
}

void dq_source_close(dq_source *src) {
    if (!src) return;
    free(src->description);
    free(src->identity);
    src->close(src);
}

char *dq_dataset_find_file(const dq_dataset_spec *spec) {
    const char *root = getenv("DISENTANGLEMENT_LIB_DATA");
    if (!root || !*root || spec->format == DQ_FILE_NONE) return NULL;
    for (int i = 0; i < 4 && spec->files[i]; i++) {
        size_t n = strlen(root) + strlen(spec->files[i]) + 2;
        char *p = dq_malloc(n);
        snprintf(p, n, "%s/%s", root, spec->files[i]);
        if (access(p, R_OK) == 0) return p;
        free(p);
    }
    return NULL;
}

int dq_dataset_open(dq_dataset *d, const dq_dataset_spec *spec, const char *path,
                    int procedural, dq_errbuf *e) {
    memset(d, 0, sizeof *d);
    d->spec = *spec;
    char *found = NULL;
    if (!path && !procedural) path = found = dq_dataset_find_file(spec);
    if (path) {
        d->origin = dq_source_file(&d->spec, path, e);
    } else if (spec->render) {
        d->origin = dq_source_render(&d->spec);
    } else {
        dq_err_set(e, "%s: no procedural generator; give --source PATH or put %s under "
                      "$DISENTANGLEMENT_LIB_DATA", spec->name, spec->files[0]);
        errno = ENOENT;
    }
    free(found);
    if (!d->origin) return -1;
    d->cache_path = dq_cache_path(&d->spec, d->origin);
    dq_errbuf ce;
    d->cache = dq_cache_open(&d->spec, d->origin, d->cache_path, &ce);
    if (!d->cache && errno != ENOENT) {
        dq_warn("%s; removing it", ce.msg);
        unlink(d->cache_path);
    }
    return 0;
}

void dq_dataset_close(dq_dataset *d) {
    dq_source_close(d->cache);
    dq_source_close(d->origin);
    free(d->cache_path);
    memset(d, 0, sizeof *d);
}

int dq_dataset_build_cache(dq_dataset *d, int progress, dq_errbuf *e) {
    dq_source_close(d->cache);
    d->cache = NULL;
    if (dq_cache_build(&d->spec, d->origin, d->cache_path, progress, e) < 0) return -1;
    d->cache = dq_cache_open(&d->spec, d->origin, d->cache_path, e);
    return d->cache ? 0 : -1;
}

typedef struct {
    int64_t index, pos;
} index_pos;

static int cmp_index_pos(const void *a, const void *b) {
    const index_pos *x = a, *y = b;
    return (x->index > y->index) - (x->index < y->index);
}

/* Sequential sources read ascending, distinct indices (a repeated index would
 * restart a deflated member from its beginning); the images go back to the
 * caller's order, repeats copied, afterwards. */
static int read_sorted(dq_source *src, const dq_dataset_spec *spec, const int64_t *idx,
                       int64_t n, uint8_t *out, dq_errbuf *e) {
    size_t bytes = dq_spec_image_bytes(spec);
    index_pos *ip = dq_malloc((size_t)(n ? n : 1) * sizeof *ip);
    int64_t *unique = dq_malloc((size_t)(n ? n : 1) * sizeof *unique), nu = 0;
    for (int64_t i = 0; i < n; i++) ip[i] = (index_pos){idx[i], i};
    qsort(ip, (size_t)n, sizeof *ip, cmp_index_pos);
    for (int64_t i = 0; i < n; i++)
        if (i == 0 || ip[i].index != ip[i - 1].index) unique[nu++] = ip[i].index;
    uint8_t *tmp = dq_malloc((size_t)(nu ? nu : 1) * bytes);
    int rc = src->read(src, unique, nu, tmp, e);
    for (int64_t i = 0, u = -1; rc == 0 && i < n; i++) {
        if (i == 0 || ip[i].index != ip[i - 1].index) u++;
        memcpy(out + (size_t)ip[i].pos * bytes, tmp + (size_t)u * bytes, bytes);
    }
    free(ip);
    free(unique);
    free(tmp);
    return rc;
}

int dq_dataset_read(dq_dataset *d, const int64_t *idx, int64_t n, uint8_t *out, dq_errbuf *e) {
    int64_t count = dq_spec_count(&d->spec);
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= count) {
            dq_err_set(e, "%s: image index %lld out of range 0..%lld", d->spec.name,
                       (long long)idx[i], (long long)count - 1);
            return -1;
        }
    if (d->cache) {
        int rc = d->cache->read(d->cache, idx, n, out, e);
        if (rc != DQ_SOURCE_CORRUPT) return rc;
        dq_warn("%s; rebuilding the cache", e->msg);
        if (dq_dataset_build_cache(d, 1, e) < 0) return -1;
        return d->cache->read(d->cache, idx, n, out, e);
    }
    if (d->origin->sequential) return read_sorted(d->origin, &d->spec, idx, n, out, e);
    return d->origin->read(d->origin, idx, n, out, e);
}
