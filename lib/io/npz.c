/* npz.c: .npz members through libzip (ZIP64 and deflate included).
 *
 * No row leaves a member before the whole member has matched the CRC-32 of
 * the zip directory once: a damaged deflate stream can inflate to plausible
 * wrong pixels long before it fails, and a stored member has no other check.
 * Until then reads go forward from the member's start (no seeks), summing
 * what they read, and dq_rows_read's verify reads on to the end; a sorted
 * sample of a deflated member nearly gets there anyway. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>
#include <zlib.h>

#include "io/rows.h"
#include "core/util.h"

typedef struct {
    dq_rows base;
    zip_t *zip;
    zip_int64_t member;
    zip_file_t *file;
    uint64_t pos;      /* bytes of the member consumed by file */
    uint64_t size;     /* of the whole member, uncompressed */
    uint32_t crc;      /* CRC-32 of bytes [0, pos) while not verified */
    uint32_t want_crc; /* from the zip directory */
    int verified;      /* the whole member matched want_crc */
    char *what;        /* "archive.npz:images.npy" */
} npz_rows;

static int reopen(npz_rows *z, dq_errbuf *e) {
    if (z->file) zip_fclose(z->file);
    z->pos = 0;
    z->crc = (uint32_t)crc32(0, NULL, 0);
    z->file = zip_fopen_index(z->zip, (zip_uint64_t)z->member, 0);
    if (!z->file) dq_err_set(e, "%s: %s", z->what, zip_strerror(z->zip));
    return z->file ? 0 : -1;
}

static int read_exact(npz_rows *z, void *buf, uint64_t n, dq_errbuf *e) {
    zip_int64_t got = zip_fread(z->file, buf, n);
    if (got < 0) {
        dq_err_set(e, "%s: %s", z->what, zip_file_strerror(z->file));
        return -1;
    }
    z->pos += (uint64_t)got;
    if (!z->verified) z->crc = (uint32_t)crc32_z(z->crc, buf, (z_size_t)got);
    if ((uint64_t)got != n) {
        dq_err_set(e, "%s: member ends early (truncated?)", z->what);
        return -1;
    }
    return 0;
}

/* Move to member offset `to`: seek when stored and verified, else read forward. */
static int move_to(npz_rows *z, uint64_t to, dq_errbuf *e) {
    if (z->pos == to) return 0;
    if (!z->base.sequential && z->verified) {
        if (zip_fseek(z->file, (zip_int64_t)to, SEEK_SET) != 0) {
            dq_err_set(e, "%s: %s", z->what, zip_file_strerror(z->file));
            return -1;
        }
        z->pos = to;
        return 0;
    }
    if (to < z->pos && reopen(z, e) < 0) return -1;
    static __thread uint8_t scratch[1 << 16];
    while (z->pos < to) {
        uint64_t n = to - z->pos < sizeof scratch ? to - z->pos : sizeof scratch;
        if (read_exact(z, scratch, n, e) < 0) return -1;
    }
    return 0;
}

/* Read on to the member's end and compare its CRC-32 with the directory's. */
static int npz_verify(dq_rows *r, dq_errbuf *e) {
    npz_rows *z = (npz_rows *)r;
    if (z->verified) return 0;
    if (move_to(z, z->size, e) < 0) return -1;
    if (z->crc != z->want_crc) {
        dq_err_set(e, "%s: member is damaged (CRC-32 %08x, expected %08x)", z->what,
                   (unsigned)z->crc, (unsigned)z->want_crc);
        return -1;
    }
    z->verified = 1;
    return 0;
}

static int npz_read(dq_rows *r, int64_t row, int64_t count, uint8_t *out, dq_errbuf *e) {
    npz_rows *z = (npz_rows *)r;
    if (move_to(z, r->h.data_offset + (uint64_t)row * r->row_bytes, e) < 0) return -1;
    return read_exact(z, out, (uint64_t)count * r->row_bytes, e);
}

static void npz_close(dq_rows *r) {
    npz_rows *z = (npz_rows *)r;
    if (z->file) zip_fclose(z->file);
    zip_discard(z->zip);
    free(z->what);
    free(z);
}

dq_rows *dq_npz_rows(const char *path, const char *member, dq_errbuf *e) {
    int err = 0;
    zip_t *zip = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (!zip) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, err);
        dq_err_set(e, "%s: not a readable zip archive (truncated?): %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return NULL;
    }
    char name[256];
    snprintf(name, sizeof name, "%s.npy", member);
    zip_int64_t index = zip_name_locate(zip, name, 0);
    zip_stat_t st;
    if (index < 0 || zip_stat_index(zip, (zip_uint64_t)index, 0, &st) != 0 ||
        (st.valid & (ZIP_STAT_SIZE | ZIP_STAT_CRC)) != (ZIP_STAT_SIZE | ZIP_STAT_CRC)) {
        dq_err_set(e, "%s: no member '%s'", path, name);
        zip_discard(zip);
        return NULL;
    }
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE) {
        dq_err_set(e, "%s: member '%s' uses unsupported compression %d", path, name, st.comp_method);
        zip_discard(zip);
        return NULL;
    }
    npz_rows *z = dq_calloc(1, sizeof *z);
    z->zip = zip;
    z->member = index;
    z->size = st.size;
    z->want_crc = st.crc;
    z->base.sequential = st.comp_method != ZIP_CM_STORE;
    z->base.read = npz_read;
    z->base.verify = npz_verify;
    z->base.close = npz_close;
    size_t wn = strlen(path) + strlen(name) + 2;
    z->what = dq_malloc(wn);
    snprintf(z->what, wn, "%s:%s", path, name);
    uint8_t first[12], *head = NULL;
    long size = -1;
    int ok = reopen(z, e) == 0 && read_exact(z, first, 12, e) == 0 &&
             (size = dq_npy_header_size(first, z->what, e)) >= 12;
    if (ok) {
        head = dq_malloc((size_t)size);
        memcpy(head, first, 12);
        ok = read_exact(z, head + 12, (uint64_t)size - 12, e) == 0 &&
             dq_npy_parse(head, (size_t)size, z->what, &z->base.h, e) == 0;
        free(head);
    }
    if (ok) {
        size_t row = (size_t)z->base.h.itemsize, total = 0;
        ok = z->base.h.ndim >= 1;
        for (int i = 1; ok && i < z->base.h.ndim; i++)
            ok = dq_mul_size(row, (size_t)z->base.h.shape[i], &row) == 0;
        z->base.row_bytes = row;
        ok = ok && dq_mul_size(row, (size_t)z->base.h.shape[0], &total) == 0 &&
             total == st.size - z->base.h.data_offset;
        if (!ok) dq_err_set(e, "%s: array data does not fill the member (%llu bytes)", z->what,
                            (unsigned long long)st.size);
    }
    if (!ok) {
        npz_close(&z->base);
        return NULL;
    }
    return &z->base;
}
