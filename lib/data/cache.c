/* cache.c: one file per dataset source holding every image, so that later runs
 * only stream.
 *
 * Layout: a 4096-byte header (magic, geometry, the source identity, hashes),
 * a table of one 64-bit hash per image, then the images at a 4096-aligned
 * offset.  Opening checks the header, the table's own hash and the file size;
 * each image is checked against its table entry the first time it is read, so
 * no damaged byte is ever streamed, without reading gigabytes up front.  A
 * cache is written through dq_atomic_*, so a crash or a full disk never
 * leaves a partial file under the final name. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/cache.h"
#include "core/progress.h"
#include "core/util.h"

#define CACHE_MAGIC "DISQCACHE\0\0\0\0\0\0\1"
#define HEADER_BYTES 4096
#define IDENTITY_MAX 1024
#define CHUNK_IMAGES 2048

typedef struct {
    char magic[16];
    uint64_t count;
    uint32_t height, width, channels, reserved;
    char identity[IDENTITY_MAX];
    uint64_t table_hash;
    uint64_t header_hash; /* of every byte above */
} cache_header;

/* A 4-lane multiply-rotate hash (the xxh64 round): several GB/s, so checking
 * each image as it streams costs little next to the pipe. */
static const uint64_t P1 = 0x9E3779B185EBCA87ull, P2 = 0xC2B2AE3D27D4EB4Full,
                      P3 = 0x165667B19E3779F9ull;

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t round64(uint64_t acc, uint64_t v) { return rotl(acc + v * P2, 31) * P1; }

static uint64_t hash64(const void *data, size_t len, uint64_t seed) {
    const uint8_t *p = data;
    uint64_t a[4] = {seed + P1 + P2, seed + P2, seed, seed - P1};
    size_t i = 0;
    for (; i + 32 <= len; i += 32)
        for (int k = 0; k < 4; k++) {
            uint64_t v;
            memcpy(&v, p + i + 8 * k, 8);
            a[k] = round64(a[k], v);
        }
    uint64_t h = rotl(a[0], 1) + rotl(a[1], 7) + rotl(a[2], 12) + rotl(a[3], 18) + len;
    for (; i < len; i++) h = rotl(h ^ (p[i] * P3), 11) * P1;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    return h;
}

char *dq_cache_dir(void) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    const char *base = xdg && *xdg ? xdg : home && *home ? home : "/tmp";
    const char *sub = xdg && *xdg ? "disq" : home && *home ? ".cache/disq" : "disq-cache";
    size_t n = strlen(base) + strlen(sub) + 2;
    char *dir = dq_malloc(n);
    snprintf(dir, n, "%s/%s", base, sub);
    return dir;
}

char *dq_cache_path(const dq_dataset_spec *spec, const dq_source *origin) {
    char *dir = dq_cache_dir();
    size_t n = strlen(dir) + strlen(spec->name) + 48;
    char *path = dq_malloc(n);
    snprintf(path, n, "%s/%s-%016llx.cache", dir, spec->name,
             (unsigned long long)hash64(origin->identity, strlen(origin->identity), 0));
    free(dir);
    return path;
}

/* mkdir -p for the directory part of path. */
static int make_parent_dirs(const char *path) {
    char *p = dq_strdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    free(p);
    return 0;
}

static size_t data_offset(uint64_t count) {
    size_t end = HEADER_BYTES + count * sizeof(uint64_t);
    return (end + 4095) & ~(size_t)4095;
}

static void fill_header(cache_header *h, const dq_dataset_spec *spec, const dq_source *origin) {
    memset(h, 0, sizeof *h);
    memcpy(h->magic, CACHE_MAGIC, sizeof h->magic);
    h->count = (uint64_t)dq_spec_count(spec);
    h->height = (uint32_t)spec->height;
    h->width = (uint32_t)spec->width;
    h->channels = (uint32_t)spec->channels;
    snprintf(h->identity, sizeof h->identity, "%s", origin->identity);
}

struct dq_cache_writer {
    dq_atomic at;
    FILE *f;
    cache_header h;
    uint64_t *table;
    int64_t done;
    size_t bytes;
};

dq_cache_writer *dq_cache_writer_open(const dq_dataset_spec *spec, const dq_source *origin,
                                      const char *path, dq_errbuf *e) {
    if (make_parent_dirs(path) < 0) {
        int err = errno;
        dq_err_set(e, "%s: cannot create cache directory: %s", path, strerror(err));
        errno = err;
        return NULL;
    }
    dq_cache_writer *w = dq_calloc(1, sizeof *w);
    w->f = dq_atomic_open(&w->at, path);
    if (!w->f) {
        int err = errno;
        dq_err_set(e, "%s: %s", path, strerror(err));
        free(w);
        errno = err;
        return NULL;
    }
    fill_header(&w->h, spec, origin);
    w->bytes = dq_spec_image_bytes(spec);
    w->table = dq_malloc((size_t)w->h.count * sizeof *w->table);
    if (fseeko(w->f, (off_t)data_offset(w->h.count), SEEK_SET) != 0) {
        int err = errno;
        dq_err_set(e, "%s: write error: %s", path, strerror(err));
        dq_cache_writer_abort(w);
        errno = err;
        return NULL;
    }
    return w;
}

int64_t dq_cache_writer_done(const dq_cache_writer *w) { return w->done; }

int dq_cache_writer_append(dq_cache_writer *w, const uint8_t *images, int64_t n, dq_errbuf *e) {
    if (n > (int64_t)w->h.count - w->done) {
        dq_err_set(e, "%s: more images than the dataset holds", w->at.path);
        errno = EINVAL;
        return -1;
    }
    uint64_t *table = w->table + w->done;
    size_t bytes = w->bytes;
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) table[i] = hash64(images + (size_t)i * bytes, bytes, 0);
    if (fwrite(images, bytes, (size_t)n, w->f) != (size_t)n) {
        int err = errno;
        dq_err_set(e, "%s: write error: %s", w->at.path, strerror(err));
        errno = err;
        return -1;
    }
    w->done += n;
    return 0;
}

static void writer_free(dq_cache_writer *w) {
    free(w->table);
    free(w);
}

int dq_cache_writer_finish(dq_cache_writer *w, dq_errbuf *e) {
    cache_header *h = &w->h;
    size_t count = (size_t)h->count;
    if (w->done != (int64_t)count) {
        dq_err_set(e, "%s: only %lld of %zu images written", w->at.path, (long long)w->done,
                   count);
        dq_cache_writer_abort(w);
        errno = EINVAL;
        return -1;
    }
    h->table_hash = hash64(w->table, count * sizeof *w->table, 0);
    h->header_hash = hash64(h, offsetof(cache_header, header_hash), 0);
    char pad[HEADER_BYTES] = {0};
    memcpy(pad, h, sizeof *h);
    if (fseeko(w->f, 0, SEEK_SET) != 0 || fwrite(pad, 1, sizeof pad, w->f) != sizeof pad ||
        fwrite(w->table, sizeof *w->table, count, w->f) != count) {
        int err = errno;
        dq_err_set(e, "%s: write error: %s", w->at.path, strerror(err));
        dq_cache_writer_abort(w);
        errno = err;
        return -1;
    }
    char *path = dq_strdup(w->at.path);
    int rc = dq_atomic_commit(&w->at);
    int err = errno;
    if (rc != 0) dq_err_set(e, "%s: %s", path, strerror(err));
    free(path);
    writer_free(w);
    errno = err;
    return rc;
}

void dq_cache_writer_abort(dq_cache_writer *w) {
    if (!w) return;
    dq_atomic_abort(&w->at);
    writer_free(w);
}

int dq_cache_build(const dq_dataset_spec *spec, dq_source *origin, const char *path,
                   int progress, dq_errbuf *e) {
    int64_t count = dq_spec_count(spec);
    size_t bytes = dq_spec_image_bytes(spec);
    dq_cache_writer *w = dq_cache_writer_open(spec, origin, path, e);
    if (!w) return -1;
    int64_t *idx = dq_malloc(CHUNK_IMAGES * sizeof *idx);
    uint8_t *buf = dq_malloc(CHUNK_IMAGES * bytes);
    int failed = 0;
    double t0 = dq_now();
    dq_progress bar;
    dq_progress_start(&bar, stderr, 2.0, t0);
    for (int64_t start = 0; start < count && !failed; start += CHUNK_IMAGES) {
        int64_t n = count - start < CHUNK_IMAGES ? count - start : CHUNK_IMAGES;
        for (int64_t i = 0; i < n; i++) idx[i] = start + i;
        if (origin->read(origin, idx, n, buf, e) != 0) {
            failed = 2;
            break;
        }
        failed = dq_cache_writer_append(w, buf, n, e) != 0;
        double now = dq_now();
        if (progress && dq_progress_due(&bar, now, 0))
            dq_progress_show(&bar, "%s: %s: caching %lld/%lld images (%.0f%%), %.0f s", dq_progname,
                             spec->name, (long long)(start + n), (long long)count,
                             100.0 * (start + n) / count, now - t0);
    }
    dq_progress_clear(&bar); /* "cached ..." or the error sums it up */
    free(idx);
    free(buf);
    if (failed) {
        int err = failed == 2 ? EINVAL : errno;
        dq_cache_writer_abort(w);
        errno = err;
        return -1;
    }
    if (dq_cache_writer_finish(w, e) != 0) return -1;
    if (progress)
        fprintf(stderr, "%s: %s: cached %lld images in %.1f s: %s\n", dq_progname, spec->name,
                (long long)count, dq_now() - t0, path);
    return 0;
}

typedef struct {
    dq_source base;
    const char *path;
    uint8_t *map;
    size_t map_len;
    const uint64_t *table;
    const uint8_t *images;
    uint8_t *verified;
    size_t bytes;
} cache_source;

static int cache_read(dq_source *src, const int64_t *idx, int64_t n, uint8_t *out,
                      dq_errbuf *e) {
    cache_source *c = (cache_source *)src;
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *img = c->images + (size_t)idx[i] * c->bytes;
        if (!c->verified[idx[i]]) {
            if (hash64(img, c->bytes, 0) != c->table[idx[i]]) {
                dq_err_set(e, "%s: image %lld is damaged", c->path, (long long)idx[i]);
                return DQ_SOURCE_CORRUPT;
            }
            c->verified[idx[i]] = 1;
        }
        memcpy(out + (size_t)i * c->bytes, img, c->bytes);
    }
    return 0;
}

static void cache_close(dq_source *src) {
    cache_source *c = (cache_source *)src;
    munmap(c->map, c->map_len);
    free(c->verified);
    free(c);
}

dq_source *dq_cache_open(const dq_dataset_spec *spec, const dq_source *origin,
                         const char *path, dq_errbuf *e) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        dq_err_set(e, "%s: %s", path, strerror(err));
        errno = err;
        return NULL;
    }
    cache_header want, got;
    fill_header(&want, spec, origin);
    struct stat st;
    const char *bad = NULL;
    if (fstat(fd, &st) != 0 || pread(fd, &got, sizeof got, 0) != (ssize_t)sizeof got)
        bad = "unreadable header";
    else if (memcmp(got.magic, want.magic, sizeof got.magic))
        bad = "not a disq cache file";
    else if (got.header_hash != hash64(&got, offsetof(cache_header, header_hash), 0))
        bad = "damaged header";
    else if (got.count != want.count || got.height != want.height || got.width != want.width ||
             got.channels != want.channels || strcmp(got.identity, want.identity))
        bad = "made from another source";
    else if ((uint64_t)st.st_size != data_offset(got.count) + got.count * dq_spec_image_bytes(spec))
        bad = "wrong size (truncated?)";
    uint8_t *map = NULL;
    if (!bad) {
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) bad = "cannot be mapped";
    }
    close(fd);
    if (!bad && hash64(map + HEADER_BYTES, got.count * sizeof(uint64_t), 0) != got.table_hash) {
        munmap(map, (size_t)st.st_size);
        bad = "damaged hash table";
    }
    if (bad) {
        dq_err_set(e, "cache %s: %s", path, bad);
        errno = EINVAL;
        return NULL;
    }
    cache_source *c = dq_calloc(1, sizeof *c);
    c->map = map;
    c->map_len = (size_t)st.st_size;
    c->table = (const uint64_t *)(map + HEADER_BYTES);
    c->images = map + data_offset(got.count);
    c->verified = dq_calloc(got.count, 1);
    c->bytes = dq_spec_image_bytes(spec);
    c->base.read = cache_read;
    c->base.close = cache_close;
    c->base.description = dq_strdup(path);
    c->base.identity = dq_strdup(origin->identity);
    c->path = c->base.description;
    return &c->base;
}
