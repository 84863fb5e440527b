/* safetensors.h: safetensors files (https://github.com/huggingface/safetensors),
 * read (validated: the input is untrusted) and written.
 *
 * Layout: 8-byte little-endian header length N, N bytes of JSON
 * {"__metadata__": {str: str}, NAME: {"dtype", "shape", "data_offsets": [b, e]}},
 * then the data section; offsets are relative to its start.  We pad the header
 * with spaces so the data section starts 8-byte aligned, as the reference
 * writer does.  model/checkpoint.h stores a model in one. */
#ifndef DISQ_SAFETENSORS_H
#define DISQ_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/stream.h"

typedef struct {
    char *name;
    dq_dtype dtype;
    int ndim;
    int64_t shape[DQ_MAX_DIMS];
    const void *data; /* read: inside the file buffer, maybe unaligned (memcpy it) */
    size_t nbytes;
} dq_st_tensor;

typedef struct {
    int n, cap;
    dq_st_tensor *t;
    int nmeta, metacap;
    char **meta_key, **meta_val;
    unsigned char *file; /* whole file when read */
} dq_safetensors;

void dq_st_init(dq_safetensors *st);
void dq_st_free(dq_safetensors *st);

/* Read and validate a whole file.  Returns 0, or DQ_EXIT_NOINPUT (cannot open
 * or read) / DQ_EXIT_DATA (malformed) with a one-line reason naming the file
 * in e. */
int dq_st_read(const char *path, dq_safetensors *st, dq_errbuf *e);

const dq_st_tensor *dq_st_find(const dq_safetensors *st, const char *name);
const char *dq_st_meta(const dq_safetensors *st, const char *key);

/* Building a file to write: tensors are referenced, not copied, so their
 * memory must live until dq_st_write returns. */
void dq_st_add(dq_safetensors *st, const char *name, dq_dtype dtype, int ndim,
               const int64_t *shape, const void *data);
void dq_st_set_meta(dq_safetensors *st, const char *key, const char *value);
/* Written atomically (temp file + rename).  0, or -1 with errno set. */
int dq_st_write(const dq_safetensors *st, const char *path);

#endif
