/* smallnorb.c: the SmallNORB directory in LeCun's binary matrix format.
 *
 * Each of the training and testing halves has three files: -dat (N, 2, 96, 96)
 * u8 stereo pairs, -cat (N) i32 categories and -info (N, 4) i32 holding
 * instance, elevation, azimuth (0, 2, .., 34) and lighting.  A matrix file
 * starts with a magic number naming the element type, the rank, and at least
 * three little-endian int32 dimensions.  We take the left image of each pair,
 * as disentanglement_lib does, and place it by its labels. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/file_reader.h"
#include "data/resize.h"
#include "core/util.h"

#define MAGIC_U8 507333717
#define MAGIC_I32 507333716

static const char *halves[2] = {"smallnorb-5x46789x9x18x6x2x96x96-training",
                                "smallnorb-5x01235x9x18x6x2x96x96-testing"};

typedef struct {
    int fd;
    int ndim;
    int64_t dims[4];
    off_t data;
} lecun_file;

static int lecun_open(lecun_file *f, const char *path, int magic, dq_errbuf *e) {
    int32_t head[6];
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        dq_err_set(e, "%s: %s", path, strerror(errno));
        return -1;
    }
    ssize_t got = pread(f->fd, head, sizeof head, 0);
    int ok = got >= 20 && head[0] == magic && head[1] >= 1 && head[1] <= 4;
    if (ok) {
        f->ndim = head[1];
        int stored = f->ndim > 3 ? f->ndim : 3;
        ok = got >= 8 + 4 * stored;
        for (int i = 0; ok && i < f->ndim; i++) {
            f->dims[i] = head[2 + i];
            ok = f->dims[i] > 0 && f->dims[i] < (1 << 20);
        }
        f->data = 8 + 4 * stored;
    }
    if (!ok) {
        dq_err_set(e, "%s: not a SmallNORB %s matrix", path, magic == MAGIC_U8 ? "u8" : "int32");
        close(f->fd);
        f->fd = -1;
        return -1;
    }
    return 0;
}

typedef struct {
    dq_source base;
    const dq_dataset_spec *spec;
    lecun_file dat[2];
    int32_t *where; /* grid index -> half * 2^24 + row */
} norb_source;

static int norb_read(dq_source *src, const int64_t *idx, int64_t n, uint8_t *out, dq_errbuf *e) {
    norb_source *s = (norb_source *)src;
    size_t bytes = dq_spec_image_bytes(s->spec);
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t i = 0; i < n; i++) {
        int half = s->where[idx[i]] >> 24, row = s->where[idx[i]] & 0xffffff;
        const lecun_file *f = &s->dat[half];
        size_t img = (size_t)(f->dims[2] * f->dims[3]);
        uint8_t *left = dq_malloc(img);
        off_t at = f->data + (off_t)row * (off_t)f->dims[1] * (off_t)img;
        if (pread(f->fd, left, img, at) != (ssize_t)img) {
#pragma omp critical
            if (!failed) failed = 1, dq_err_set(e, "%s: truncated -dat file", halves[half]);
        } else {
            dq_resize_u8(left, (int)f->dims[2], (int)f->dims[3], 1, out + (size_t)i * bytes,
                         s->spec->height, s->spec->width);
        }
        free(left);
    }
    return failed ? -1 : 0;
}

static void norb_close(dq_source *src) {
    norb_source *s = (norb_source *)src;
    for (int h = 0; h < 2; h++)
        if (s->dat[h].fd >= 0) close(s->dat[h].fd);
    free(s->where);
    free(s);
}

/* Read the labels of one half and record where each grid tuple lives. */
static int index_half(norb_source *s, const char *dir, int half, dq_errbuf *e) {
    const dq_dataset_spec *spec = s->spec;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s-dat.mat", dir, halves[half]);
    if (lecun_open(&s->dat[half], path, MAGIC_U8, e) < 0) return -1;
    lecun_file cat = {.fd = -1}, info = {.fd = -1};
    int64_t rows = s->dat[half].dims[0];
    int rc = -1;
    int32_t *c = NULL, *inf = NULL;
    snprintf(path, sizeof path, "%s/%s-dat.mat", dir, halves[half]);
    if (s->dat[half].ndim != 4 || s->dat[half].dims[1] != 2) {
        dq_err_set(e, "%s: expected shape (N, 2, H, W)", path);
        goto out;
    }
    snprintf(path, sizeof path, "%s/%s-cat.mat", dir, halves[half]);
    if (lecun_open(&cat, path, MAGIC_I32, e) < 0) goto out;
    if (cat.dims[0] != rows) {
        dq_err_set(e, "%s: %lld labels for %lld images", path, (long long)cat.dims[0], (long long)rows);
        goto out;
    }
    c = dq_malloc((size_t)rows * 4);
    if (pread(cat.fd, c, (size_t)rows * 4, cat.data) != (ssize_t)(rows * 4)) {
        dq_err_set(e, "%s: truncated", path);
        goto out;
    }
    snprintf(path, sizeof path, "%s/%s-info.mat", dir, halves[half]);
    if (lecun_open(&info, path, MAGIC_I32, e) < 0) goto out;
    if (info.ndim != 2 || info.dims[0] != rows || info.dims[1] != 4) {
        dq_err_set(e, "%s: expected shape (%lld, 4)", path, (long long)rows);
        goto out;
    }
    inf = dq_malloc((size_t)rows * 16);
    if (pread(info.fd, inf, (size_t)rows * 16, info.data) != (ssize_t)(rows * 16)) {
        dq_err_set(e, "%s: truncated", path);
        goto out;
    }
    for (int64_t r = 0; r < rows; r++) {
        int grid[5] = {c[r], inf[r * 4], inf[r * 4 + 1], inf[r * 4 + 2] / 2, inf[r * 4 + 3]};
        int ok = inf[r * 4 + 2] % 2 == 0;
        for (int k = 0; k < 5; k++) ok = ok && grid[k] >= 0 && grid[k] < spec->dims[k].size;
        if (!ok) {
            dq_err_set(e, "%s: row %lld has labels outside the factor grid", path, (long long)r);
            goto out;
        }
        int64_t g = dq_spec_ravel(spec, grid);
        if (s->where[g] >= 0) {
            dq_err_set(e, "%s: row %lld repeats a factor tuple", path, (long long)r);
            goto out;
        }
        s->where[g] = (int32_t)(half << 24 | r);
    }
    rc = 0;
out:
    if (cat.fd >= 0) close(cat.fd);
    if (info.fd >= 0) close(info.fd);
    free(c);
    free(inf);
    return rc;
}

dq_source *dq_source_smallnorb(const dq_dataset_spec *spec, const char *dir, dq_errbuf *e) {
    norb_source *s = dq_calloc(1, sizeof *s);
    s->spec = spec;
    s->dat[0].fd = s->dat[1].fd = -1;
    s->base.read = norb_read;
    s->base.close = norb_close;
    int64_t count = dq_spec_count(spec);
    s->where = dq_malloc((size_t)count * sizeof *s->where);
    for (int64_t i = 0; i < count; i++) s->where[i] = -1;
    int ok = index_half(s, dir, 0, e) == 0 && index_half(s, dir, 1, e) == 0;
    for (int64_t i = 0; ok && i < count; i++)
        if (s->where[i] < 0) {
            dq_err_set(e, "%s: no image for grid index %lld (missing rows?)", dir, (long long)i);
            ok = 0;
        }
    if (!ok) {
        norb_close(&s->base);
        return NULL;
    }
    return &s->base;
}
