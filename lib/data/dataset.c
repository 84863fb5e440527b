/* dataset.c: opening a dataset (which source, which cache) and reading its
 * images. */
#include "data/dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/cache.h"
#include "core/util.h"

char *dq_dataset_find_file(const dq_dataset_spec *spec) {
    const char *root = getenv("DISENTANGLEMENT_LIB_DATA");
    if (!root || !*root || !spec->read_file) return NULL;
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
    dq_cache_writer_abort(d->building);
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

int dq_dataset_cache_while_reading(dq_dataset *d, dq_errbuf *e) {
    d->building = dq_cache_writer_open(&d->spec, d->origin, d->cache_path, e);
    return d->building ? 0 : -1;
}

/* Hand images just read from origin to the cache being built. */
static void feed_cache(dq_dataset *d, const int64_t *idx, int64_t n, const uint8_t *images) {
    int64_t done = dq_cache_writer_done(d->building);
    int in_order = 1;
    for (int64_t i = 0; i < n && in_order; i++) in_order = idx[i] == done + i;
    dq_errbuf e;
    if (!in_order || dq_cache_writer_append(d->building, images, n, &e) < 0) {
        if (in_order) dq_warn("%s; going on without a cache", e.msg);
        dq_cache_writer_abort(d->building);
        d->building = NULL;
        return;
    }
    if (done + n < dq_spec_count(&d->spec)) return;
    int rc = dq_cache_writer_finish(d->building, &e);
    d->building = NULL;
    if (rc == 0) d->cache = dq_cache_open(&d->spec, d->origin, d->cache_path, &e);
    if (!d->cache) dq_warn("%s; going on without a cache", e.msg);
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
    int rc = d->origin->sequential ? read_sorted(d->origin, &d->spec, idx, n, out, e)
                                   : d->origin->read(d->origin, idx, n, out, e);
    if (rc == 0 && d->building) feed_cache(d, idx, n, out);
    return rc;
}
