/* source.h: where a dataset's pixels come from, image by image.
 *
 * Errors follow core/error.h. */
#ifndef DISQ_SOURCE_H
#define DISQ_SOURCE_H

#include <stdint.h>

#include "core/error.h"
#include "data/spec.h"

/* A source of images by index.  Sequential sources (a deflated zip member)
 * need ascending indices; dq_dataset_read sorts for them. */
typedef struct dq_source {
    int sequential;
    /* 0 ok, -1 error (message in e), DQ_SOURCE_CORRUPT for a damaged cache block */
    int (*read)(struct dq_source *src, const int64_t *idx, int64_t n, uint8_t *out,
                dq_errbuf *e);
    void (*close)(struct dq_source *src);
    char *description; /* "procedural renderer", "/data/3dshapes.h5", ... */
    char *identity;    /* names the pixels exactly: keys the cache file */
} dq_source;

#define DQ_SOURCE_CORRUPT (-2)

void dq_source_close(dq_source *src);

/* Procedural source (spec->render must be set). */
dq_source *dq_source_render(const dq_dataset_spec *spec);
/* Real-file source through spec->read_file from path (a file or a directory);
 * NULL with e set, errno that of stat when path cannot be reached (ENOENT:
 * missing), else EINVAL. */
dq_source *dq_source_file(const dq_dataset_spec *spec, const char *path, dq_errbuf *e);

#endif
