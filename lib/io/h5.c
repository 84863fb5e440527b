/* h5.c: HDF5 datasets read by row ranges (hyperslabs).  HDF5 decompresses
 * whole chunks, so a generous chunk cache keeps neighbouring reads cheap. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/rows.h"
#include "core/util.h"

typedef struct {
    dq_rows base;
    hid_t file, dset, space, memtype;
    char *what;
} h5_rows;

static int h5_read(dq_rows *r, int64_t row, int64_t count, uint8_t *out, dq_errbuf *e) {
    h5_rows *h = (h5_rows *)r;
    hsize_t start[DQ_NPY_MAX_DIMS] = {0}, cnt[DQ_NPY_MAX_DIMS];
    for (int i = 0; i < r->h.ndim; i++) cnt[i] = (hsize_t)r->h.shape[i];
    start[0] = (hsize_t)row;
    cnt[0] = (hsize_t)count;
    hid_t mem = H5Screate_simple(r->h.ndim, cnt, NULL);
    herr_t rc = H5Sselect_hyperslab(h->space, H5S_SELECT_SET, start, NULL, cnt, NULL);
    if (rc >= 0) rc = H5Dread(h->dset, h->memtype, mem, h->space, H5P_DEFAULT, out);
    H5Sclose(mem);
    if (rc < 0) dq_err_set(e, "%s: cannot read rows %lld..%lld (damaged or truncated file?)",
                           h->what, (long long)row, (long long)(row + count - 1));
    return rc < 0 ? -1 : 0;
}

static void h5_close(dq_rows *r) {
    h5_rows *h = (h5_rows *)r;
    if (h->memtype >= 0) H5Tclose(h->memtype);
    if (h->space >= 0) H5Sclose(h->space);
    if (h->dset >= 0) H5Dclose(h->dset);
    if (h->file >= 0) H5Fclose(h->file);
    free(h->what);
    free(h);
}

dq_rows *dq_h5_rows(const char *path, const char *dataset, dq_errbuf *e) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors become our one-line messages */
    h5_rows *h = dq_calloc(1, sizeof *h);
    h->file = h->dset = h->space = h->memtype = -1;
    h->base.read = h5_read;
    h->base.close = h5_close;
    size_t wn = strlen(path) + strlen(dataset) + 2;
    h->what = dq_malloc(wn);
    snprintf(h->what, wn, "%s:%s", path, dataset);
    h->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (h->file < 0) {
        dq_err_set(e, "%s: not a readable HDF5 file (truncated?)", path);
        h5_close(&h->base);
        return NULL;
    }
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    H5Pset_chunk_cache(dapl, 12421, (size_t)256 << 20, 1.0);
    h->dset = H5Dopen2(h->file, dataset, dapl);
    H5Pclose(dapl);
    if (h->dset < 0) {
        dq_err_set(e, "%s: no dataset '%s'", path, dataset);
        h5_close(&h->base);
        return NULL;
    }
    h->space = H5Dget_space(h->dset);
    hid_t type = H5Dget_type(h->dset);
    H5T_class_t cls = H5Tget_class(type);
    size_t size = H5Tget_size(type);
    int sign = cls == H5T_INTEGER ? H5Tget_sign(type) : H5T_SGN_NONE;
    H5Tclose(type);
    int ndim = h->space >= 0 ? H5Sget_simple_extent_ndims(h->space) : -1;
    int ok = (cls == H5T_INTEGER && (size == 1 || size == 2 || size == 4 || size == 8)) ||
             (cls == H5T_FLOAT && (size == 4 || size == 8));
    if (!ok || ndim < 1 || ndim > DQ_NPY_MAX_DIMS) {
        dq_err_set(e, "%s: unsupported element type or rank", h->what);
        h5_close(&h->base);
        return NULL;
    }
    hsize_t dims[DQ_NPY_MAX_DIMS];
    H5Sget_simple_extent_dims(h->space, dims, NULL);
    dq_npy_header *nh = &h->base.h;
    nh->kind = cls == H5T_FLOAT ? 'f' : sign == H5T_SGN_2 ? 'i' : 'u';
    nh->itemsize = (int)size;
    nh->ndim = ndim;
    h->base.row_bytes = size;
    for (int i = 0; i < ndim; i++) {
        nh->shape[i] = (int64_t)dims[i];
        if (i > 0 && dq_mul_size(h->base.row_bytes, dims[i], &h->base.row_bytes) < 0) ok = 0;
    }
    if (!ok) {
        dq_err_set(e, "%s: array too large", h->what);
        h5_close(&h->base);
        return NULL;
    }
    static const struct { char kind; int size; } native[] = {{'u', 1}, {'u', 2}, {'u', 4}, {'u', 8},
        {'i', 1}, {'i', 2}, {'i', 4}, {'i', 8}, {'f', 4}, {'f', 8}};
    hid_t types[] = {H5T_NATIVE_UINT8, H5T_NATIVE_UINT16, H5T_NATIVE_UINT32, H5T_NATIVE_UINT64,
                     H5T_NATIVE_INT8, H5T_NATIVE_INT16, H5T_NATIVE_INT32, H5T_NATIVE_INT64,
                     H5T_NATIVE_FLOAT, H5T_NATIVE_DOUBLE};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (native[i].kind == nh->kind && native[i].size == nh->itemsize)
            h->memtype = H5Tcopy(types[i]);
    return &h->base;
}
