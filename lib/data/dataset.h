/* dataset.h: an opened dataset, and reading its images by index.
 *
 * Errors follow core/error.h. */
#ifndef DISQ_DATASET_H
#define DISQ_DATASET_H

#include <stdint.h>

#include "core/error.h"
#include "data/source.h"
#include "data/spec.h"

/* An opened dataset: its spec and where its pixels come from. */
typedef struct {
    dq_dataset_spec spec;
    dq_source *origin;  /* renderer or real file */
    dq_source *cache;   /* the verified cache of origin, or NULL */
    char *cache_path;   /* where origin's cache lives (whether or not it exists) */
    struct dq_cache_writer *building; /* the cache being written by reads, or NULL */
} dq_dataset;

/* The first real file of the dataset found under $DISENTANGLEMENT_LIB_DATA, or
 * NULL (malloc'd path). */
char *dq_dataset_find_file(const dq_dataset_spec *spec);

/* Open origin: the real file at path (NULL: look under DISENTANGLEMENT_LIB_DATA,
 * then fall back to the renderer); `procedural` forces the renderer.  An
 * existing valid cache is used; a damaged one is removed with a warning.
 * On failure errno is ENOENT when there is no input at all.  d holds the
 * spec its sources point to, so it must stay where it was opened. */
int dq_dataset_open(dq_dataset *d, const dq_dataset_spec *spec, const char *path,
                    int procedural, dq_errbuf *e);
void dq_dataset_close(dq_dataset *d);
/* Render/read every image of origin into the cache (atomically), then use it.
 * On failure errno is EINVAL when origin's data are bad (as dq_cache_build). */
int dq_dataset_build_cache(dq_dataset *d, int progress, dq_errbuf *e);
/* Cache origin while reading it (no cache yet): reads that go on in index
 * order from image 0, as a whole pass does, are also appended to a new
 * cache, which appears (atomically) and is used once the last image is read.
 * A read out of that order drops the unfinished cache; a failed cache write
 * drops it with a warning, and the reads go on.  -1 with e set when the
 * cache file cannot be created. */
int dq_dataset_cache_while_reading(dq_dataset *d, dq_errbuf *e);
/* n images in the given order into out (n * image_bytes).  A cache block found
 * damaged makes the cache be rebuilt (with a warning) and the read retried. */
int dq_dataset_read(dq_dataset *d, const int64_t *idx, int64_t n, uint8_t *out, dq_errbuf *e);

#endif
