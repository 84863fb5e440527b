/* source.c: opening a real dataset file as a source, and closing any source. */
#include "data/source.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"

void dq_source_close(dq_source *src) {
    if (!src) return;
    free(src->description);
    free(src->identity);
    src->close(src);
}

/* "file:REALPATH:SIZE:MTIME": changes whenever the file is replaced. */
static char *file_identity(const char *path) {
    char *real = realpath(path, NULL);
    struct stat st;
    char buf[PATH_MAX + 64];
    if (!real || stat(real, &st) != 0) st = (struct stat){0};
    snprintf(buf, sizeof buf, "file:%s:%lld:%lld", real ? real : path, (long long)st.st_size,
             (long long)st.st_mtime);
    free(real);
    return dq_strdup(buf);
}

dq_source *dq_source_file(const dq_dataset_spec *spec, const char *path, dq_errbuf *e) {
    struct stat st;
    if (stat(path, &st) != 0) {
        int err = errno;
        dq_err_set(e, "%s: %s", path, strerror(err));
        errno = err;
        return NULL;
    }
    dq_source *src = NULL;
    if (spec->read_file) src = spec->read_file(spec, path, e);
    else dq_err_set(e, "%s: dataset has no file format", spec->name);
    if (!src) {
        errno = EINVAL;
        return NULL;
    }
    src->description = dq_strdup(path);
    src->identity = file_identity(path);
    return src;
}
