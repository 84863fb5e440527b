/* cars3d.c: the Cars3D directory, one MATLAB .mat per car (sorted by name)
 * holding im (128, 128, 3, 24 azimuths, 4 elevations) u8.  A car's file is
 * decompressed whole, so a read groups its indices by car and each car is
 * loaded once per read. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/file_reader.h"
#include "io/matv5.h"
#include "data/resize.h"
#include "core/util.h"

typedef struct {
    dq_source base;
    const dq_dataset_spec *spec;
    char **files;
    int nfiles;
} cars_source;

typedef struct {
    int64_t object, pos;
} request;

static int cmp_request(const void *a, const void *b) {
    const request *x = a, *y = b;
    return x->object != y->object ? (x->object > y->object) - (x->object < y->object)
                                  : (x->pos > y->pos) - (x->pos < y->pos);
}

/* Check im's shape: (H, W, 3, azimuths, elevations). */
static int check_mesh(const dq_dataset_spec *spec, const dq_mat_array *m, const char *path,
                      dq_errbuf *e) {
    if (m->ndim == 5 && m->dims[2] == 3 && m->dims[3] == spec->dims[1].size &&
        m->dims[4] == spec->dims[0].size && m->dims[0] > 0 && m->dims[1] > 0)
        return 0;
    dq_err_set(e, "%s: variable 'im' must have shape (H, W, 3, %d, %d)", path,
               spec->dims[1].size, spec->dims[0].size);
    return -1;
}

/* One view of a car to HWC, then resized. */
static void extract_view(const dq_mat_array *m, int azimuth, int elevation, uint8_t *hwc,
                         uint8_t *out, int out_h, int out_w) {
    int64_t h = m->dims[0], w = m->dims[1];
    size_t plane = (size_t)(h * w);
    const uint8_t *view = m->data + plane * 3 * (size_t)(azimuth + m->dims[3] * elevation);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                hwc[(y * w + x) * 3 + c] = view[(size_t)c * plane + (size_t)(x * h + y)];
    dq_resize_u8(hwc, (int)h, (int)w, 3, out, out_h, out_w);
}

static int cars_read(dq_source *src, const int64_t *idx, int64_t n, uint8_t *out, dq_errbuf *e) {
    cars_source *s = (cars_source *)src;
    const dq_dataset_spec *spec = s->spec;
    size_t bytes = dq_spec_image_bytes(spec);
    request *req = dq_malloc((size_t)(n ? n : 1) * sizeof *req);
    for (int64_t i = 0; i < n; i++) req[i] = (request){idx[i] % spec->dims[2].size, i};
    qsort(req, (size_t)n, sizeof *req, cmp_request);
    int64_t *starts = dq_malloc((size_t)(n + 1) * sizeof *starts), groups = 0;
    for (int64_t i = 0; i < n; i++)
        if (i == 0 || req[i].object != req[i - 1].object) starts[groups++] = i;
    starts[groups] = n;
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t g = 0; g < groups; g++) {
        if (failed) continue;
        const char *path = s->files[req[starts[g]].object];
        dq_mat_array m;
        dq_errbuf me;
        int rc = dq_mat_read_u8(path, "im", &m, &me);
        if (rc == 0) rc = check_mesh(spec, &m, path, &me);
        if (rc < 0) {
#pragma omp critical
            if (!failed) failed = 1, *e = me;
        } else {
            uint8_t *hwc = dq_malloc((size_t)(m.dims[0] * m.dims[1] * 3));
            for (int64_t r = starts[g]; r < starts[g + 1]; r++) {
                int grid[3];
                dq_spec_unravel(spec, idx[req[r].pos], grid);
                extract_view(&m, grid[1], grid[0], hwc, out + (size_t)req[r].pos * bytes,
                             spec->height, spec->width);
            }
            free(hwc);
        }
        free(m.data);
    }
    free(req);
    free(starts);
    return failed ? -1 : 0;
}

static void cars_close(dq_source *src) {
    cars_source *s = (cars_source *)src;
    for (int i = 0; i < s->nfiles; i++) free(s->files[i]);
    free(s->files);
    free(s);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

dq_source *dq_source_cars3d(const dq_dataset_spec *spec, const char *dir, dq_errbuf *e) {
    DIR *d = opendir(dir);
    if (!d) {
        dq_err_set(e, "%s: not a directory of Cars3D .mat files", dir);
        return NULL;
    }
    cars_source *s = dq_calloc(1, sizeof *s);
    s->spec = spec;
    s->base.read = cars_read;
    s->base.close = cars_close;
    int cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".mat")) continue;
        if (s->nfiles == cap) s->files = dq_realloc(s->files, (size_t)(cap = cap ? 2 * cap : 256) * sizeof *s->files);
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        s->files[s->nfiles++] = dq_strdup(path);
    }
    closedir(d);
    if (s->nfiles != spec->dims[2].size) {
        dq_err_set(e, "%s: found %d .mat files, expected %d cars", dir, s->nfiles, spec->dims[2].size);
        cars_close(&s->base);
        return NULL;
    }
    qsort(s->files, (size_t)s->nfiles, sizeof *s->files, cmp_str);
    return &s->base;
}
