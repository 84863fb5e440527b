/* cache.h: one file per dataset source holding every image (cache.c says how
 * it is laid out and checked).  Errors follow core/error.h. */
#ifndef DISQ_CACHE_H
#define DISQ_CACHE_H

#include "data/source.h"

char *dq_cache_dir(void); /* $XDG_CACHE_HOME/disq or ~/.cache/disq, malloc'd */
char *dq_cache_path(const dq_dataset_spec *spec, const dq_source *origin);
/* A cache written image by image in index order, by dq_cache_build or by a
 * reader that streams the images while it caches them.  Nothing appears
 * under path until finish has seen every image; the temporary file of an
 * unfinished writer is removed by abort, at exit and on SIGINT/SIGTERM
 * (core/util.h's dq_atomic), so an interrupted build leaves no file. */
typedef struct dq_cache_writer dq_cache_writer;
/* NULL with e set and errno that of the failed directory creation or open. */
dq_cache_writer *dq_cache_writer_open(const dq_dataset_spec *spec, const dq_source *origin,
                                      const char *path, dq_errbuf *e);
/* The next n images (n * image_bytes); -1 on a write error (or EINVAL: more
 * than the dataset holds), after which the writer can only be aborted. */
int dq_cache_writer_append(dq_cache_writer *w, const uint8_t *images, int64_t n, dq_errbuf *e);
int64_t dq_cache_writer_done(const dq_cache_writer *w); /* images appended so far */
/* Write header and hash table and rename into place; frees w either way.
 * -1 (EINVAL) when not every image was appended, leaving no file. */
int dq_cache_writer_finish(dq_cache_writer *w, dq_errbuf *e);
void dq_cache_writer_abort(dq_cache_writer *w); /* no file left; frees w; NULL ok */
/* Write every image of origin to path atomically; -1 leaves no file behind,
 * with errno EINVAL when origin could not be read (bad data), else that of
 * the failed directory creation or write. */
int dq_cache_build(const dq_dataset_spec *spec, dq_source *origin, const char *path,
                   int progress, dq_errbuf *e);
/* Open a cache for spec/origin; NULL with e set when missing (errno ENOENT) or invalid. */
dq_source *dq_cache_open(const dq_dataset_spec *spec, const dq_source *origin,
                         const char *path, dq_errbuf *e);

#endif
