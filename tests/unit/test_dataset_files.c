/* Real-file readers on fixtures written here in each format: .npy, .npz
 * (deflate, stored, hand-made ZIP64), chunked+deflated HDF5, the Isaac3D
 * directory, SmallNORB and Cars3D; and the bad inputs each must refuse. */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>
#include <zlib.h>

#include "data/catalog.h"
#include "data/dataset.h"
#include "harness.h"
#include "io/matv5.h"
#include "io/npy.h"
#include "io/pngio.h"
#include "core/util.h"

static dq_dataset_spec shrunk(const char *name, const int *sizes) {
    dq_dataset_spec s = *dq_dataset_spec_find(name);
    for (int k = 0; k < s.ndims; k++) s.dims[k].size = sizes[k];
    return s;
}

static char *tmp_path(const char *name) {
    static char buf[8][512];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 512, "%s/%s", dq_test_tmpdir(), name);
    return p;
}

/* Pixel byte k of image i in every fixture. */
static uint8_t pattern(int64_t i, size_t k) { return (uint8_t)(i * 37 + k * 11 + (k >> 7)); }

/* An .npy file image in memory. */
static uint8_t *npy_bytes(const char *descr, int ndim, const int64_t *shape, const void *data,
                          size_t data_len, size_t *len) {
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < ndim; i++) n += snprintf(dict + n, sizeof dict - (size_t)n, "%lld,%s",
                                                 (long long)shape[i], i + 1 < ndim ? " " : "");
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    int total = (10 + n + 1 + 63) / 64 * 64; /* numpy pads the header to 64 bytes */
    uint8_t *b = malloc((size_t)total + data_len);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (uint8_t)((total - 10) & 0xff);
    b[9] = (uint8_t)((total - 10) >> 8);
    memset(b + 10, ' ', (size_t)total - 10);
    memcpy(b + 10, dict, (size_t)n);
    b[total - 1] = '\n';
    memcpy(b + total, data, data_len);
    *len = (size_t)total + data_len;
    return b;
}

typedef struct {
    const char *name;
    uint8_t *bytes;
    size_t len;
} member;

/* An .npz through libzip; method ZIP_CM_DEFLATE or ZIP_CM_STORE. */
static int write_npz(const char *path, const member *m, int n, int method) {
    int err;
    unlink(path);
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) return -1;
    for (int i = 0; i < n; i++) {
        zip_source_t *src = zip_source_buffer(z, m[i].bytes, m[i].len, 0);
        zip_int64_t idx = zip_file_add(z, m[i].name, src, ZIP_FL_OVERWRITE);
        if (idx < 0 || zip_set_file_compression(z, (zip_uint64_t)idx, method, 0) < 0) return -1;
    }
    return zip_close(z);
}

static void put16(FILE *f, unsigned v) { fputc(v & 0xff, f), fputc(v >> 8 & 0xff, f); }
static void put32(FILE *f, uint32_t v) { put16(f, v & 0xffff), put16(f, v >> 16); }
static void put64(FILE *f, uint64_t v) { put32(f, (uint32_t)v), put32(f, (uint32_t)(v >> 32)); }

/* A ZIP64 archive written byte by byte: every size and offset lives in ZIP64
 * extra fields and the ZIP64 end records, as in multi-GB MPI3D files.
 * Members are stored, or raw-deflated when `deflated` is set. */
static int write_zip64(const char *path, const member *m, int n, int deflated) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    uint64_t offsets[8], csizes[8];
    uint32_t crcs[8];
    uint8_t *packed[8];
    for (int i = 0; i < n; i++) {
        crcs[i] = (uint32_t)crc32(0, m[i].bytes, (uInt)m[i].len);
        packed[i] = m[i].bytes;
        csizes[i] = m[i].len;
        if (deflated) {
            z_stream z = {0};
            deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
            uLong cap = deflateBound(&z, (uLong)m[i].len);
            packed[i] = malloc(cap);
            z.next_in = m[i].bytes, z.avail_in = (uInt)m[i].len;
            z.next_out = packed[i], z.avail_out = (uInt)cap;
            deflate(&z, Z_FINISH);
            csizes[i] = z.total_out;
            deflateEnd(&z);
        }
        offsets[i] = (uint64_t)ftell(f);
        size_t nl = strlen(m[i].name);
        put32(f, 0x04034b50), put16(f, 45), put16(f, 0), put16(f, deflated ? 8 : 0);
        put16(f, 0), put16(f, 0x21), put32(f, crcs[i]), put32(f, 0xffffffff), put32(f, 0xffffffff);
        put16(f, (unsigned)nl), put16(f, 20);
        fwrite(m[i].name, 1, nl, f);
        put16(f, 1), put16(f, 16), put64(f, m[i].len), put64(f, csizes[i]);
        fwrite(packed[i], 1, csizes[i], f);
    }
    uint64_t cd = (uint64_t)ftell(f);
    for (int i = 0; i < n; i++) {
        size_t nl = strlen(m[i].name);
        put32(f, 0x02014b50), put16(f, 45), put16(f, 45), put16(f, 0), put16(f, deflated ? 8 : 0);
        put16(f, 0), put16(f, 0x21), put32(f, crcs[i]), put32(f, 0xffffffff), put32(f, 0xffffffff);
        put16(f, (unsigned)nl), put16(f, 28), put16(f, 0), put16(f, 0), put16(f, 0), put32(f, 0);
        put32(f, 0xffffffff);
        fwrite(m[i].name, 1, nl, f);
        put16(f, 1), put16(f, 24), put64(f, m[i].len), put64(f, csizes[i]), put64(f, offsets[i]);
        if (deflated) free(packed[i]);
    }
    uint64_t end = (uint64_t)ftell(f);
    put32(f, 0x06064b50), put64(f, 44), put16(f, 45), put16(f, 45), put32(f, 0), put32(f, 0);
    put64(f, (uint64_t)n), put64(f, (uint64_t)n), put64(f, end - cd), put64(f, cd);
    put32(f, 0x07064b50), put32(f, 0), put64(f, end), put32(f, 1);
    put32(f, 0x06054b50), put16(f, 0), put16(f, 0), put16(f, 0xffff), put16(f, 0xffff);
    put32(f, 0xffffffff), put32(f, 0xffffffff), put16(f, 0);
    return fclose(f);
}

/* images (N,H,W[,C]) u8 of the pattern; pixels 0/1 when binary. */
static uint8_t *fixture_images(const dq_dataset_spec *s, int binary, size_t *len) {
    int64_t n = dq_spec_count(s);
    size_t bytes = dq_spec_image_bytes(s);
    uint8_t *px = malloc((size_t)n * bytes);
    for (int64_t i = 0; i < n; i++)
        for (size_t k = 0; k < bytes; k++) px[i * bytes + k] = binary ? pattern(i, k) & 1 : pattern(i, k);
    int64_t shape[4] = {n, s->height, s->width, s->channels};
    char descr[] = "|u1";
    uint8_t *b = npy_bytes(descr, s->channels == 1 ? 3 : 4, shape, px, (size_t)n * bytes, len);
    free(px);
    return b;
}

/* Read every image of path as spec and compare with the pattern. */
static int check_images(const dq_dataset_spec *s, const char *path, int binary, int descending,
                        dq_errbuf *e) {
    dq_dataset d;
    if (dq_dataset_open(&d, s, path, 0, e) < 0) return -1;
    int64_t n = dq_spec_count(s);
    size_t bytes = dq_spec_image_bytes(s);
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    for (int64_t i = 0; i < n; i++) idx[i] = descending ? n - 1 - i : i;
    uint8_t *out = malloc((size_t)n * bytes);
    int rc = dq_dataset_read(&d, idx, n, out, e);
    for (int64_t i = 0; rc == 0 && i < n; i++)
        for (size_t k = 0; k < bytes; k++) {
            uint8_t want = binary ? (pattern(idx[i], k) & 1) * 255 : pattern(idx[i], k);
            if (out[i * bytes + k] != want) {
                dq_err_set(e, "image %lld byte %zu: %d, expected %d", (long long)idx[i], k,
                           out[i * bytes + k], want);
                rc = -1;
                break;
            }
        }
    free(idx);
    free(out);
    dq_dataset_close(&d);
    return rc;
}

/* dSprites latents_classes: (N, 6) int64, colour 0 then the grid. */
static uint8_t *dsprites_labels(const dq_dataset_spec *s, int swap_rows, size_t *len) {
    int64_t n = dq_spec_count(s), shape[2] = {n, 6};
    int64_t *lab = calloc((size_t)n * 6, sizeof *lab);
    int grid[DQ_DS_MAX_FACTORS];
    for (int64_t i = 0; i < n; i++) {
        dq_spec_unravel(s, swap_rows && i < 2 ? 1 - i : i, grid);
        for (int k = 0; k < 5; k++) lab[i * 6 + 1 + k] = grid[k];
    }
    uint8_t *b = npy_bytes("<i8", 2, shape, lab, (size_t)n * 6 * 8, len);
    free(lab);
    return b;
}

static const int dsprites_sizes[5] = {1, 1, 2, 2, 3};

TEST(npy_header_parsing) {
    int64_t shape[3] = {2, 3, 4};
    float data[24];
    for (int i = 0; i < 24; i++) data[i] = i * 0.5f;
    size_t len;
    uint8_t *b = npy_bytes("<f4", 3, shape, data, sizeof data, &len);
    dq_npy_header h;
    dq_errbuf e;
    CHECK(dq_npy_parse(b, len, "x", &h, &e) == 0);
    CHECK(h.kind == 'f' && h.itemsize == 4 && h.ndim == 3 && h.shape[2] == 4);
    CHECK(h.data_offset % 64 == 0 && dq_npy_count(&h) == 24);
    CHECK_NEAR(dq_npy_get(&h, b + h.data_offset, 23), 11.5, 0);
    int16_t neg = -300;
    int64_t one[1] = {1};
    free(b);
    b = npy_bytes(">i2", 1, one, &neg, 2, &len);
    CHECK(dq_npy_parse(b, len, "x", &h, &e) == 0);
    b[len - 2] = 0xfe, b[len - 1] = 0xd4; /* -300 big-endian */
    CHECK_NEAR(dq_npy_get(&h, b + h.data_offset, 0), -300, 0);
    free(b);
    b = npy_bytes("<c16", 1, one, data, 16, &len);
    CHECK(dq_npy_parse(b, len, "x", &h, &e) < 0 && strstr(e.msg, "unsupported"));
    b[0] = 'X';
    CHECK(dq_npy_parse(b, len, "x", &h, &e) < 0 && strstr(e.msg, "magic"));
    free(b);
}

TEST(dsprites_npz_deflate) {
    dq_dataset_spec s = shrunk("dsprites", dsprites_sizes);
    member m[2] = {{"imgs.npy", 0, 0}, {"latents_classes.npy", 0, 0}};
    m[0].bytes = fixture_images(&s, 1, &m[0].len);
    m[1].bytes = dsprites_labels(&s, 0, &m[1].len);
    const char *path = tmp_path("dsprites.npz");
    CHECK(write_npz(path, m, 2, ZIP_CM_DEFLATE) == 0);
    dq_errbuf e;
    CHECK_MSG(check_images(&s, path, 1, 0, &e) == 0, "%s", e.msg);
    CHECK_MSG(check_images(&s, path, 1, 1, &e) == 0, "%s", e.msg); /* backwards: restarts */
    /* Labels out of grid order are refused. */
    free(m[1].bytes);
    m[1].bytes = dsprites_labels(&s, 1, &m[1].len);
    CHECK(write_npz(path, m, 2, ZIP_CM_DEFLATE) == 0);
    dq_dataset d;
    CHECK(dq_dataset_open(&d, &s, path, 0, &e) < 0);
    CHECK_MSG(strstr(e.msg, "grid order"), "%s", e.msg);
    free(m[0].bytes);
    free(m[1].bytes);
}

TEST(mpi3d_npz_zip64_stored_and_deflated) {
    int sizes[7] = {1, 2, 1, 1, 1, 2, 2};
    dq_dataset_spec s = shrunk("mpi3d", sizes);
    member m = {"images.npy", 0, 0};
    m.bytes = fixture_images(&s, 0, &m.len);
    dq_errbuf e;
    for (int deflate = 0; deflate < 2; deflate++) {
        const char *path = tmp_path(deflate ? "mpi3d_z64_deflate.npz" : "mpi3d_z64_store.npz");
        CHECK(write_zip64(path, &m, 1, deflate) == 0);
        CHECK_MSG(check_images(&s, path, 0, 0, &e) == 0, "%s", e.msg);
        CHECK_MSG(check_images(&s, path, 0, 1, &e) == 0, "%s", e.msg);
        /* Repeated indices, as uniform sampling draws them. */
        dq_dataset d;
        CHECK(dq_dataset_open(&d, &s, path, 0, &e) == 0);
        int64_t idx[6] = {2, 0, 2, 7, 2, 0};
        uint8_t *out = malloc(6 * 12288);
        CHECK(dq_dataset_read(&d, idx, 6, out, &e) == 0);
        for (int i = 0; i < 6; i++)
            CHECK_MSG(out[i * 12288 + 500] == pattern(idx[i], 500), "repeat %d wrong", i);
        free(out);
        dq_dataset_close(&d);
    }
    /* Every image in a random order through dq_dataset_read (sorted for the
     * deflated member, seeks for the stored one) and the plain libzip writer. */
    const char *plain = tmp_path("mpi3d_plain.npz");
    CHECK(write_npz(plain, &m, 1, ZIP_CM_STORE) == 0);
    CHECK_MSG(check_images(&s, plain, 0, 1, &e) == 0, "%s", e.msg);
    free(m.bytes);
}

TEST(npz_bad_inputs) {
    int sizes[7] = {1, 1, 1, 1, 1, 2, 2};
    dq_dataset_spec s = shrunk("mpi3d", sizes);
    member m = {"images.npy", 0, 0};
    m.bytes = fixture_images(&s, 0, &m.len);
    const char *path = tmp_path("bad.npz");
    CHECK(write_zip64(path, &m, 1, 1) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    dq_dataset d;
    dq_errbuf e;
    CHECK(truncate(path, st.st_size - 40) == 0);
    CHECK(dq_dataset_open(&d, &s, path, 0, &e) < 0);
    CHECK_MSG(strstr(e.msg, "zip"), "%s", e.msg);
    /* Damaged compressed data: the CRC or inflate fails on read. */
    CHECK(write_zip64(path, &m, 1, 1) == 0);
    FILE *f = fopen(path, "r+b");
    CHECK(f && fseek(f, 200, SEEK_SET) == 0);
    for (int i = 0; i < 64; i++) fputc(0x55, f);
    fclose(f);
    int64_t idx[4] = {0, 1, 2, 3};
    uint8_t out[4 * 12288];
    int rc = dq_dataset_open(&d, &s, path, 0, &e);
    if (rc == 0) {
        rc = dq_dataset_read(&d, idx, 4, out, &e);
        dq_dataset_close(&d);
    }
    CHECK_MSG(rc < 0, "damaged member was read without error");
    /* Wrong shape names the array and both shapes. */
    int other[7] = {1, 1, 1, 1, 1, 2, 3};
    dq_dataset_spec s6 = shrunk("mpi3d", other);
    CHECK(write_npz(path, &m, 1, ZIP_CM_DEFLATE) == 0);
    CHECK(dq_dataset_open(&d, &s6, path, 0, &e) < 0);
    CHECK_MSG(strstr(e.msg, "has shape (4, 64, 64, 3), expected (6, 64, 64, 3)"), "%s", e.msg);
    member wrong = {"pictures.npy", m.bytes, m.len};
    CHECK(write_npz(path, &wrong, 1, ZIP_CM_DEFLATE) == 0);
    CHECK(dq_dataset_open(&d, &s, path, 0, &e) < 0 && strstr(e.msg, "no member 'images.npy'"));
    CHECK(dq_dataset_open(&d, &s, tmp_path("missing.npz"), 0, &e) < 0);
    CHECK(strstr(e.msg, "No such file"));
    free(m.bytes);
}

/* Flip one bit of the byte `at` bytes into path. */
static int flip_byte(const char *path, long at) {
    FILE *f = fopen(path, "r+b");
    int c = f && fseek(f, at, SEEK_SET) == 0 ? fgetc(f) : EOF;
    int rc = c != EOF && fseek(f, at, SEEK_SET) == 0 && fputc(c ^ 0x10, f) != EOF ? 0 : -1;
    if (f && fclose(f) != 0) rc = -1;
    return rc;
}

/* Where the data of the archive's first member start, and their length. */
static long first_member_data(const char *path, long *len) {
    uint8_t head[30];
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(head, 1, 30, f) : 0;
    if (f) fclose(f);
    int err;
    zip_t *z = zip_open(path, ZIP_RDONLY, &err);
    zip_stat_t st;
    if (got != 30 || !z || zip_stat_index(z, 0, 0, &st) != 0) return -1;
    zip_discard(z);
    *len = (long)st.comp_size;
    return 30 + (head[26] | head[27] << 8) + (head[28] | head[29] << 8);
}

/* A flipped byte anywhere in a member (here in the last image) fails the
 * first read of any of its rows, a full pass and a cache build, with the
 * file and member named; the intact archive reads exactly. */
TEST(npz_damaged_member_never_read) {
    dq_dataset_spec s = shrunk("dsprites", dsprites_sizes);
    setenv("XDG_CACHE_HOME", dq_test_tmpdir(), 1);
    member m[2] = {{"imgs.npy", 0, 0}, {"latents_classes.npy", 0, 0}};
    m[0].bytes = fixture_images(&s, 1, &m[0].len);
    m[1].bytes = dsprites_labels(&s, 0, &m[1].len);
    int64_t n = dq_spec_count(&s), *all = malloc((size_t)n * sizeof *all);
    for (int64_t i = 0; i < n; i++) all[i] = i;
    uint8_t *out = malloc((size_t)n * 4096);
    for (int deflate = 0; deflate < 2; deflate++) {
        const char *path = tmp_path(deflate ? "damaged_deflate.npz" : "damaged_store.npz");
        CHECK(write_npz(path, m, 2, deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE) == 0);
        dq_errbuf e;
        CHECK_MSG(check_images(&s, path, 1, 1, &e) == 0, "%s", e.msg);
        long len, start = first_member_data(path, &len);
        CHECK(start > 0 && flip_byte(path, start + (deflate ? len / 2 : len - 100)) == 0);
        for (int pass = 0; pass < 3; pass++) {
            dq_dataset d;
            CHECK_MSG(dq_dataset_open(&d, &s, path, 0, &e) == 0, "%s", e.msg);
            int rc = pass == 0 ? dq_dataset_read(&d, all, 1, out, &e)
                   : pass == 1 ? dq_dataset_read(&d, all, n, out, &e)
                               : dq_dataset_build_cache(&d, 0, &e);
            CHECK_MSG(rc < 0, "deflate %d pass %d: damaged member read", deflate, pass);
            CHECK_MSG(rc == 0 || strstr(e.msg, ".npz:imgs.npy: "), "%s", e.msg);
            CHECK_MSG(pass < 2 || rc == 0 || errno == EINVAL, "errno %d", errno);
            CHECK_MSG(pass < 2 || access(d.cache_path, F_OK) != 0, "%s left", d.cache_path);
            dq_dataset_close(&d);
        }
    }
    free(all);
    free(out);
    free(m[0].bytes);
    free(m[1].bytes);
}

/* 3dshapes.h5: images chunked by 2 rows and deflated (or, with fletcher,
 * only checksummed by HDF5's fletcher32 filter), labels (N,6) f8. */
static int write_shapes_h5_filtered(const dq_dataset_spec *s, const char *path, int bad_label,
                                    int fletcher) {
    int64_t n = dq_spec_count(s);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[4] = {(hsize_t)n, 64, 64, 3}, chunk[4] = {2, 64, 64, 3};
    hid_t space = H5Screate_simple(4, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 4, chunk);
    if (fletcher) H5Pset_fletcher32(dcpl);
    else H5Pset_deflate(dcpl, 4);
    hid_t ds = H5Dcreate2(f, "images", H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    uint8_t *px = malloc((size_t)n * 12288);
    for (int64_t i = 0; i < n; i++)
        for (size_t k = 0; k < 12288; k++) px[i * 12288 + k] = pattern(i, k);
    herr_t rc = H5Dwrite(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, px);
    free(px);
    H5Dclose(ds), H5Pclose(dcpl), H5Sclose(space);
    hsize_t ldims[2] = {(hsize_t)n, 6};
    double *lab = malloc((size_t)n * 6 * sizeof *lab);
    int grid[6];
    for (int64_t i = 0; i < n; i++) {
        dq_spec_unravel(s, i, grid);
        for (int k = 0; k < 6; k++) lab[i * 6 + k] = dq_spec_value(s, k, grid[k]);
    }
    if (bad_label) lab[6 * (n - 1) + 5] += 1.0;
    space = H5Screate_simple(2, ldims, NULL);
    ds = H5Dcreate2(f, "labels", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (rc >= 0) rc = H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab);
    free(lab);
    H5Dclose(ds), H5Sclose(space), H5Fclose(f);
    return rc < 0 ? -1 : 0;
}

static int write_shapes_h5(const dq_dataset_spec *s, const char *path, int bad_label) {
    return write_shapes_h5_filtered(s, path, bad_label, 0);
}

/* File offset and size of the images' chunk number k. */
static long h5_chunk(const char *path, int k, long *size) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), ds = H5Dopen2(f, "images", H5P_DEFAULT);
    hid_t space = H5Dget_space(ds);
    hsize_t off[4], sz = 0;
    haddr_t addr = 0;
    unsigned mask;
    herr_t rc = H5Dget_chunk_info(ds, space, (hsize_t)k, off, &mask, &addr, &sz);
    H5Sclose(space), H5Dclose(ds), H5Fclose(f);
    *size = (long)sz;
    return rc < 0 ? -1 : (long)addr;
}

/* One flipped byte in the last chunk of the images, deflated or checksummed
 * by fletcher32, fails the read of its rows with the file and dataset named. */
TEST(h5_damaged_chunk_refused) {
    int sizes[6] = {2, 1, 1, 2, 1, 3};
    dq_dataset_spec s = shrunk("shapes3d", sizes);
    int64_t n = dq_spec_count(&s), last[2] = {n - 2, n - 1};
    uint8_t *out = malloc(2 * 12288);
    for (int fletcher = 0; fletcher < 2; fletcher++) {
        const char *path = tmp_path(fletcher ? "fletcher.h5" : "gzip.h5");
        CHECK(write_shapes_h5_filtered(&s, path, 0, fletcher) == 0);
        dq_errbuf e;
        CHECK_MSG(check_images(&s, path, 0, 1, &e) == 0, "%s", e.msg);
        long size, at = h5_chunk(path, (int)(n / 2 - 1), &size);
        CHECK(at > 0 && flip_byte(path, at + size / 2) == 0);
        dq_dataset d;
        CHECK_MSG(dq_dataset_open(&d, &s, path, 0, &e) == 0, "%s", e.msg);
        CHECK_MSG(dq_dataset_read(&d, last, 2, out, &e) < 0, "fletcher %d: damaged chunk read",
                  fletcher);
        CHECK_MSG(strstr(e.msg, ".h5:images: "), "%s", e.msg);
        dq_dataset_close(&d);
    }
    free(out);
}

TEST(shapes3d_h5_chunked_deflate) {
    int sizes[6] = {2, 1, 1, 2, 1, 3};
    dq_dataset_spec s = shrunk("shapes3d", sizes);
    const char *path = tmp_path("3dshapes.h5");
    CHECK(write_shapes_h5(&s, path, 0) == 0);
    dq_errbuf e;
    CHECK_MSG(check_images(&s, path, 0, 0, &e) == 0, "%s", e.msg);
    CHECK_MSG(check_images(&s, path, 0, 1, &e) == 0, "%s", e.msg);
    dq_dataset d;
    CHECK(write_shapes_h5(&s, path, 1) == 0);
    CHECK(dq_dataset_open(&d, &s, path, 0, &e) < 0);
    CHECK_MSG(strstr(e.msg, "orientation") && strstr(e.msg, "grid order"), "%s", e.msg);
    CHECK(write_shapes_h5(&s, path, 0) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && truncate(path, st.st_size / 2) == 0);
    int rc = dq_dataset_open(&d, &s, path, 0, &e);
    if (rc == 0) {
        int64_t idx[1] = {dq_spec_count(&s) - 1};
        uint8_t out[12288];
        rc = dq_dataset_read(&d, idx, 1, out, &e);
        dq_dataset_close(&d);
    }
    CHECK_MSG(rc < 0, "truncated HDF5 read without error");
}

TEST(dataset_found_under_env_and_preferred) {
    dq_dataset_spec s = shrunk("dsprites", dsprites_sizes);
    char *root = tmp_path("dlib");
    char dir[600];
    snprintf(dir, sizeof dir, "%s/dsprites", root);
    mkdir(root, 0777);
    mkdir(dir, 0777);
    member m[2] = {{"imgs.npy", 0, 0}, {"latents_classes.npy", 0, 0}};
    m[0].bytes = fixture_images(&s, 1, &m[0].len);
    m[1].bytes = dsprites_labels(&s, 0, &m[1].len);
    char path[700];
    snprintf(path, sizeof path, "%s/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz", dir);
    CHECK(write_npz(path, m, 2, ZIP_CM_DEFLATE) == 0);
    setenv("DISENTANGLEMENT_LIB_DATA", root, 1);
    dq_dataset d;
    dq_errbuf e;
    CHECK(dq_dataset_open(&d, &s, NULL, 0, &e) == 0);
    CHECK_MSG(strstr(d.origin->description, "dsprites_ndarray"), "%s", d.origin->description);
    dq_dataset_close(&d);
    CHECK(dq_dataset_open(&d, &s, NULL, 1, &e) == 0);
    CHECK(!strcmp(d.origin->description, "procedural renderer"));
    dq_dataset_close(&d);
    unsetenv("DISENTANGLEMENT_LIB_DATA");
    free(m[0].bytes);
    free(m[1].bytes);
}

TEST(isaac3d_png_dir_resized_with_antialiasing) {
    int sizes[9] = {2, 1, 1, 1, 1, 1, 1, 1, 3};
    dq_dataset_spec s = shrunk("isaac3d", sizes);
    const char *dir = tmp_path("isaac");
    char path[700];
    snprintf(path, sizeof path, "%s/images", dir);
    mkdir(dir, 0777);
    mkdir(path, 0777);
    /* Rows in reverse grid order with arbitrary factor values; row r shows
     * 1-pixel stripes of 0 and 40*r+20 in the red channel and 9*r in green. */
    int64_t n = dq_spec_count(&s), shape[2] = {n, 9};
    double lab[6 * 9] = {0};
    uint8_t *img = malloc(128 * 128 * 3);
    dq_errbuf e;
    int grid[9];
    for (int64_t r = 0; r < n; r++) {
        dq_spec_unravel(&s, n - 1 - r, grid);
        lab[r * 9 + 0] = grid[0] * 0.25 - 3;
        lab[r * 9 + 8] = grid[8] * 1.5;
        for (int p = 0; p < 128 * 128; p++) {
            img[p * 3] = p % 2 ? (uint8_t)(40 * r + 20) : 0;
            img[p * 3 + 1] = (uint8_t)(9 * r);
            img[p * 3 + 2] = 200;
        }
        snprintf(path, sizeof path, "%s/images/%06lld.png", dir, (long long)r);
        CHECK_MSG(dq_png_write(path, img, 128, 128, 3, &e) == 0, "%s", e.msg);
    }
    free(img);
    size_t len;
    uint8_t *npy = npy_bytes("<f8", 2, shape, lab, sizeof lab, &len);
    snprintf(path, sizeof path, "%s/labels.npy", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(npy, 1, len, f) == len && fclose(f) == 0);
    free(npy);
    dq_dataset d;
    CHECK_MSG(dq_dataset_open(&d, &s, dir, 0, &e) == 0, "%s", e.msg);
    int64_t idx[6] = {0, 1, 2, 3, 4, 5};
    uint8_t *out = malloc(6 * 12288);
    CHECK(dq_dataset_read(&d, idx, 6, out, &e) == 0);
    for (int i = 0; i < 6; i++) {
        int r = 5 - i, half = (40 * r + 20) / 2;
        const uint8_t *p = out + i * 12288 + (30 * 64 + 30) * 3;
        CHECK_MSG(abs(p[0] - half) <= 1 && p[1] == 9 * r && p[2] == 200,
                  "image %d: %d %d %d, expected %d %d 200", i, p[0], p[1], p[2], half, 9 * r);
    }
    free(out);
    dq_dataset_close(&d);
    /* A missing PNG is an error naming it. */
    snprintf(path, sizeof path, "%s/images/000003.png", dir);
    unlink(path);
    CHECK(dq_dataset_open(&d, &s, dir, 0, &e) == 0);
    uint8_t one[12288];
    int64_t i2 = 2;
    CHECK(dq_dataset_read(&d, &i2, 1, one, &e) < 0 && strstr(e.msg, "000003.png"));
    dq_dataset_close(&d);
}

static void write_lecun(const char *path, int32_t magic, int ndim, const int32_t *dims,
                        const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    int32_t head[6] = {magic, ndim, 1, 1, 1, 1};
    for (int i = 0; i < ndim; i++) head[2 + i] = dims[i];
    fwrite(head, 4, (size_t)(2 + (ndim > 3 ? ndim : 3)), f);
    fwrite(data, 1, len, f);
    fclose(f);
}

TEST(smallnorb_binary_mat) {
    int sizes[5] = {2, 2, 1, 2, 1}; /* category, instance, elevation, azimuth, lighting */
    dq_dataset_spec s = shrunk("smallnorb", sizes);
    const char *dir = tmp_path("norb");
    mkdir(dir, 0777);
    const char *halves[2] = {"smallnorb-5x46789x9x18x6x2x96x96-training",
                             "smallnorb-5x01235x9x18x6x2x96x96-testing"};
    /* Half h holds instance 1-h; rows in reverse.  Left image of grid g is
     * constant 10g+5, the right one 250. */
    for (int h = 0; h < 2; h++) {
        uint8_t dat[4][2][8][8];
        int32_t cat[4], info[4][4], grid[5];
        int row = 0;
        for (int64_t g = dq_spec_count(&s) - 1; g >= 0; g--) {
            dq_spec_unravel(&s, g, grid);
            if (grid[1] != 1 - h) continue;
            memset(dat[row][0], (int)(10 * g + 5), 64);
            memset(dat[row][1], 250, 64);
            cat[row] = grid[0];
            info[row][0] = grid[1], info[row][1] = grid[2], info[row][2] = grid[3] * 2, info[row][3] = grid[4];
            row++;
        }
        char path[700];
        int32_t ddims[4] = {4, 2, 8, 8}, cdims[1] = {4}, idims[2] = {4, 4};
        snprintf(path, sizeof path, "%s/%s-dat.mat", dir, halves[h]);
        write_lecun(path, 507333717, 4, ddims, dat, sizeof dat);
        snprintf(path, sizeof path, "%s/%s-cat.mat", dir, halves[h]);
        write_lecun(path, 507333716, 1, cdims, cat, sizeof cat);
        snprintf(path, sizeof path, "%s/%s-info.mat", dir, halves[h]);
        write_lecun(path, 507333716, 2, idims, info, sizeof info);
    }
    dq_dataset d;
    dq_errbuf e;
    CHECK_MSG(dq_dataset_open(&d, &s, dir, 0, &e) == 0, "%s", e.msg);
    int64_t idx[8] = {7, 0, 3, 4, 1, 6, 2, 5};
    uint8_t *out = malloc(8 * 4096);
    CHECK(dq_dataset_read(&d, idx, 8, out, &e) == 0);
    for (int i = 0; i < 8; i++)
        CHECK_MSG(out[i * 4096 + 1000] == 10 * idx[i] + 5, "image %lld: %d", (long long)idx[i],
                  out[i * 4096 + 1000]);
    free(out);
    dq_dataset_close(&d);
    char path[700];
    snprintf(path, sizeof path, "%s/%s-cat.mat", dir, halves[1]);
    int32_t cdims[1] = {3}, cat3[3] = {0, 0, 0};
    write_lecun(path, 507333716, 1, cdims, cat3, sizeof cat3);
    CHECK(dq_dataset_open(&d, &s, dir, 0, &e) < 0 && strstr(e.msg, "3 labels for 4 images"));
}

/* A MAT v5 file with variable `im` (H=4, W=4, 3, A, E) in column-major
 * order, value 60*car + 20*e + 5*a + c; zlib-compressed when asked. */
static void write_car(const char *path, int car, int A, int E, int compress) {
    size_t count = (size_t)4 * 4 * 3 * A * E;
    size_t body_len = 16 + 8 + 24 + 8 + 8 + 8 + ((count + 7) & ~(size_t)7);
    uint8_t *body = calloc(1, body_len + 8), *p = body;
    uint32_t w[16];
    w[0] = 14, w[1] = (uint32_t)body_len; /* miMATRIX */
    w[2] = 6, w[3] = 8, w[4] = 9, w[5] = 0; /* flags: mxUINT8 */
    w[6] = 5, w[7] = 20;                    /* dims: 5 x int32 */
    int32_t dims[6] = {4, 4, 3, A, E, 0};
    memcpy(p, w, 32), p += 32;
    memcpy(p, dims, 24), p += 24;
    uint32_t name[2] = {2u << 16 | 1u, 'i' | 'm' << 8}; /* small element "im" */
    memcpy(p, name, 8), p += 8;
    uint32_t data[2] = {2, (uint32_t)count};
    memcpy(p, data, 8), p += 8;
    for (int e = 0; e < E; e++)
        for (int a = 0; a < A; a++)
            for (int c = 0; c < 3; c++)
                for (int k = 0; k < 16; k++) *p++ = (uint8_t)(60 * car + 20 * e + 5 * a + c);
    size_t total = 8 + body_len;
    FILE *f = fopen(path, "wb");
    char head[128];
    memset(head, ' ', sizeof head);
    memcpy(head, "MATLAB 5.0 MAT-file, written by test_dataset_files", 50);
    head[124] = 0, head[125] = 1, head[126] = 'I', head[127] = 'M';
    fwrite(head, 1, 128, f);
    if (compress) {
        uLongf clen = compressBound((uLong)total);
        uint8_t *z = malloc(clen);
        compress2(z, &clen, body, (uLong)total, 6);
        uint32_t tag[2] = {15, (uint32_t)clen};
        fwrite(tag, 4, 2, f);
        fwrite(z, 1, clen, f);
        free(z);
    } else {
        fwrite(body, 1, total, f);
    }
    fclose(f);
    free(body);
}

TEST(cars3d_mat_v5) {
    int sizes[3] = {2, 3, 2}; /* elevation, azimuth, object */
    dq_dataset_spec s = shrunk("cars3d", sizes);
    const char *dir = tmp_path("cars");
    mkdir(dir, 0777);
    char path[700];
    for (int car = 0; car < 2; car++) {
        snprintf(path, sizeof path, "%s/car_%03d_mesh.mat", dir, car + 1);
        write_car(path, car, 3, 2, car == 0);
    }
    dq_mat_array m;
    dq_errbuf e;
    CHECK_MSG(dq_mat_read_u8(path, "im", &m, &e) == 0, "%s", e.msg);
    CHECK(m.ndim == 5 && m.dims[3] == 3 && m.dims[4] == 2);
    free(m.data);
    CHECK(dq_mat_read_u8(path, "pic", &m, &e) < 0 && strstr(e.msg, "no variable 'pic'"));
    dq_dataset d;
    CHECK_MSG(dq_dataset_open(&d, &s, dir, 0, &e) == 0, "%s", e.msg);
    int64_t n = dq_spec_count(&s), idx[12];
    for (int64_t i = 0; i < n; i++) idx[i] = (i * 5) % n;
    uint8_t *out = malloc((size_t)n * 12288);
    CHECK_MSG(dq_dataset_read(&d, idx, n, out, &e) == 0, "%s", e.msg);
    for (int64_t i = 0; i < n; i++) {
        int grid[3];
        dq_spec_unravel(&s, idx[i], grid);
        const uint8_t *p = out + i * 12288 + (20 * 64 + 40) * 3;
        for (int c = 0; c < 3; c++)
            CHECK_MSG(p[c] == 60 * grid[2] + 20 * grid[0] + 5 * grid[1] + c, "image %lld c%d: %d",
                      (long long)idx[i], c, p[c]);
    }
    free(out);
    dq_dataset_close(&d);
    /* A flipped byte in a compressed car fails its zlib stream's adler32. */
    snprintf(path, sizeof path, "%s/car_001_mesh.mat", dir);
    struct stat st;
    CHECK(stat(path, &st) == 0 && flip_byte(path, 136 + (st.st_size - 136) / 2) == 0);
    CHECK(dq_mat_read_u8(path, "im", &m, &e) < 0);
    CHECK_MSG(strstr(e.msg, "car_001_mesh.mat: damaged"), "%s", e.msg);
    /* A truncated compressed car is refused when read. */
    snprintf(path, sizeof path, "%s/car_001_mesh.mat", dir);
    CHECK(truncate(path, 150) == 0);
    CHECK(dq_dataset_open(&d, &s, dir, 0, &e) == 0);
    uint8_t one[12288];
    int64_t first = 0;
    CHECK(dq_dataset_read(&d, &first, 1, one, &e) < 0);
    CHECK_MSG(strstr(e.msg, "car_001_mesh.mat"), "%s", e.msg);
    dq_dataset_close(&d);
}
