/* cache.h: one file per dataset source holding every image (cache.c says how
 * it is laid out and checked).  Errors follow core/error.h. */
#ifndef DISQ_CACHE_H
#define DISQ_CACHE_H

#include "data/source.h"

char *dq_cache_dir(void); /* $XDG_CACHE_HOME/disq or ~/.cache/disq, malloc'd */
char *dq_cache_path(const dq_dataset_spec *spec, const dq_source *origin);
/* Write every image of origin to path atomically; -1 leaves no file behind,
 * with errno EINVAL when origin could not be read (bad data), else that of
 * the failed directory creation or write. */
int dq_cache_build(const dq_dataset_spec *spec, dq_source *origin, const char *path,
                   int progress, dq_errbuf *e);
/* Open a cache for spec/origin; NULL with e set when missing (errno ENOENT) or invalid. */
dq_source *dq_cache_open(const dq_dataset_spec *spec, const dq_source *origin,
                         const char *path, dq_errbuf *e);

#endif
