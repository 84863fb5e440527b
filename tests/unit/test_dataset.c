/* Dataset catalog, index arithmetic, selections, renderers and the cache. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/cache.h"
#include "data/catalog.h"
#include "data/dataset.h"
#include "data/selection.h"
#include "harness.h"
#include "core/util.h"

/* A copy of a built-in spec with smaller grid sizes (values stay linspaces of
 * the same ranges), so tests touch every image of a dataset cheaply. */
static dq_dataset_spec shrunk(const char *name, const int *sizes) {
    dq_dataset_spec s = *dq_dataset_spec_find(name);
    for (int k = 0; k < s.ndims; k++) s.dims[k].size = sizes[k];
    return s;
}

static void use_tmp_cache(void) { setenv("XDG_CACHE_HOME", dq_test_tmpdir(), 1); }

/* Every row of the catalog is a usable dataset, found by its name. */
TEST(catalog_rows_are_consistent) {
    CHECK(dq_dataset_spec_count() > 0);
    for (int i = 0; i < dq_dataset_spec_count(); i++) {
        const dq_dataset_spec *s = dq_dataset_spec_at(i);
        CHECK_MSG(dq_dataset_spec_find(s->name) == s, "%s: not found by name", s->name);
        CHECK_MSG(s->render || s->read_file, "%s: neither renderer nor file reader", s->name);
        CHECK_MSG(!s->render || s->render_version > 0, "%s: renderer without a version", s->name);
        CHECK_MSG(!s->read_file || s->files[0], "%s: file reader without a file name", s->name);
        CHECK_MSG(s->summary && *s->summary, "%s: no summary", s->name);
        CHECK(s->ndims > 0 && s->ndims <= DQ_DS_MAX_FACTORS);
        CHECK(s->nuisance >= -1 && s->nuisance < s->ndims);
        CHECK(s->height > 0 && s->width > 0 && (s->channels == 1 || s->channels == 3));
        for (int k = 0; k < s->ndims; k++)
            CHECK_MSG(s->dims[k].name && s->dims[k].size > 0, "%s: bad dimension %d", s->name, k);
        CHECK(dq_spec_nfactors(s) == s->ndims - (s->nuisance >= 0));
    }
}

/* The published datasets keep their sizes and factor values. */
TEST(known_datasets_match_their_publications) {
    struct { const char *name; int64_t count; int nf; } want[] = {
        {"dsprites", 737280, 5}, {"shapes3d", 480000, 6}, {"mpi3d", 1036800, 7},
        {"mpi3d-complex", 460800, 7}, {"isaac3d", 737280, 9}, {"smallnorb", 48600, 4},
        {"cars3d", 17568, 3}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const dq_dataset_spec *s = dq_dataset_spec_find(want[i].name);
        CHECK_MSG(s, "%s missing", want[i].name);
        CHECK_MSG(dq_spec_count(s) == want[i].count, "%s: %lld images", want[i].name,
                  (long long)dq_spec_count(s));
        CHECK(dq_spec_nfactors(s) == want[i].nf);
    }
    CHECK(!dq_dataset_spec_find("shapes4d"));
    const dq_dataset_spec *d = dq_dataset_spec_find("dsprites");
    CHECK_NEAR(dq_spec_value(d, 1, 5), 1.0, 1e-12);
    CHECK_NEAR(dq_spec_value(d, 2, 39), 6.283185307179586, 1e-12);
    CHECK_NEAR(dq_spec_value(d, 3, 31), 1.0, 1e-12);
    const dq_dataset_spec *s3 = dq_dataset_spec_find("shapes3d");
    CHECK_NEAR(dq_spec_value(s3, 0, 9), 0.9, 1e-12);
    CHECK_NEAR(dq_spec_value(s3, 3, 0), 0.75, 1e-12);
    CHECK_NEAR(dq_spec_value(s3, 5, 7), 0.0, 1e-12);
    const dq_dataset_spec *norb = dq_dataset_spec_find("smallnorb");
    CHECK(dq_spec_factor_dim(norb, 0) == 0 && dq_spec_factor_dim(norb, 1) == 2);
}

TEST(ravel_unravel_round_trip) {
    const dq_dataset_spec *s = dq_dataset_spec_find("mpi3d");
    int grid[DQ_DS_MAX_FACTORS];
    for (int64_t i = 0; i < dq_spec_count(s); i += 9973) {
        dq_spec_unravel(s, i, grid);
        CHECK(dq_spec_ravel(s, grid) == i);
    }
    dq_spec_unravel(s, 1, grid);
    CHECK(grid[6] == 1 && grid[5] == 0); /* last factor fastest */
    dq_spec_unravel(s, 40, grid);
    CHECK(grid[6] == 0 && grid[5] == 1);
}

TEST(sample_is_seeded_and_uniform) {
    const dq_dataset_spec *s = dq_dataset_spec_find("shapes3d");
    dq_selection a, b, c;
    dq_select_sample(s, 20000, 7, &a);
    dq_select_sample(s, 20000, 7, &b);
    dq_select_sample(s, 20000, 8, &c);
    CHECK(!memcmp(a.index, b.index, 20000 * sizeof *a.index));
    CHECK(memcmp(a.index, c.index, 20000 * sizeof *a.index));
    int counts[15] = {0}, grid[DQ_DS_MAX_FACTORS];
    for (int64_t i = 0; i < a.n; i++) {
        dq_spec_unravel(s, a.index[i], grid);
        counts[grid[5]]++;
    }
    for (int k = 0; k < 15; k++) /* 1333 expected, sd ~35 */
        CHECK_MSG(counts[k] > 1150 && counts[k] < 1520, "orientation %d drawn %d times", k, counts[k]);
    dq_selection_free(&a);
    dq_selection_free(&b);
    dq_selection_free(&c);
}

TEST(splits_partition_the_dataset) {
    int sizes[6] = {4, 5, 3, 2, 4, 5};
    dq_dataset_spec s = shrunk("shapes3d", sizes);
    int64_t n = dq_spec_count(&s);
    char *seen = calloc((size_t)n, 1);
    int64_t got[3];
    for (int w = 0; w < 3; w++) {
        dq_selection sel;
        dq_select_split(&s, w, 3, &sel);
        got[w] = sel.n;
        for (int64_t i = 0; i < sel.n; i++) seen[sel.index[i]]++;
        dq_selection_free(&sel);
    }
    for (int64_t i = 0; i < n; i++) CHECK_MSG(seen[i] == 1, "image %lld in %d splits", (long long)i, seen[i]);
    free(seen);
    CHECK(got[0] == n * 8 / 10 && got[1] == n * 9 / 10 - n * 8 / 10);
    dq_selection a, b;
    dq_select_split(&s, 0, 3, &a);
    dq_select_split(&s, 0, 4, &b);
    CHECK(memcmp(a.index, b.index, (size_t)a.n * sizeof *a.index));
    dq_selection_free(&a);
    dq_selection_free(&b);
}

TEST(shuffle_is_a_new_permutation_each_epoch) {
    int sizes[5] = {3, 2, 4, 4, 4};
    dq_dataset_spec s = shrunk("dsprites", sizes);
    dq_selection e0, e1;
    dq_select_all(&s, &e0);
    dq_select_all(&s, &e1);
    dq_select_shuffle(&e0, 1, 0);
    dq_select_shuffle(&e1, 1, 1);
    CHECK(memcmp(e0.index, e1.index, (size_t)e0.n * sizeof *e0.index));
    int64_t sum = 0;
    for (int64_t i = 0; i < e1.n; i++) sum += e1.index[i];
    CHECK(sum == e1.n * (e1.n - 1) / 2);
    dq_selection_free(&e0);
    dq_selection_free(&e1);
}

TEST(votes_share_the_fixed_factor) {
    const dq_dataset_spec *s = dq_dataset_spec_find("smallnorb");
    int g1[DQ_DS_MAX_FACTORS], g2[DQ_DS_MAX_FACTORS];
    dq_selection fv, bv;
    dq_select_votes(s, DQ_VOTES_FACTORVAE, 50, 8, 2, &fv);
    CHECK(fv.n == 400);
    int fixed_seen[4] = {0};
    for (int64_t i = 0; i < fv.n; i++) {
        CHECK(fv.vote[i] == i / 8 && fv.fixed[i] >= 0 && fv.fixed[i] < 4);
        fixed_seen[fv.fixed[i]] = 1;
        int dim = dq_spec_factor_dim(s, fv.fixed[i]);
        dq_spec_unravel(s, fv.index[i - i % 8], g1);
        dq_spec_unravel(s, fv.index[i], g2);
        CHECK(g1[dim] == g2[dim] && fv.fixed[i] == fv.fixed[i - i % 8]);
    }
    CHECK(fixed_seen[0] && fixed_seen[1] && fixed_seen[2] && fixed_seen[3]);
    dq_select_votes(s, DQ_VOTES_BETAVAE, 20, 5, 2, &bv);
    CHECK(bv.n == 200);
    int varies = 0;
    for (int64_t i = 0; i < bv.n; i += 2) {
        int dim = dq_spec_factor_dim(s, bv.fixed[i]);
        dq_spec_unravel(s, bv.index[i], g1);
        dq_spec_unravel(s, bv.index[i + 1], g2);
        CHECK(g1[dim] == g2[dim] && bv.vote[i] == i / 10);
        for (int k = 0; k < s->ndims; k++) varies += k != dim && g1[k] != g2[k];
    }
    CHECK(varies > 0);
    dq_selection_free(&fv);
    dq_selection_free(&bv);
}

static uint8_t *render(const dq_dataset_spec *s, const int64_t *idx, int64_t n) {
    dq_source *src = dq_source_render(s);
    uint8_t *out = malloc((size_t)n * dq_spec_image_bytes(s));
    dq_errbuf e;
    src->read(src, idx, n, out, &e);
    dq_source_close(src);
    return out;
}

/* Image i rendered alone equals image i rendered among others, and changing
 * any single factor changes the picture. */
static void check_renderer(const dq_dataset_spec *s) {
    const char *name = s->name;
    size_t bytes = dq_spec_image_bytes(s);
    int grid[DQ_DS_MAX_FACTORS];
    for (int k = 0; k < s->ndims; k++) grid[k] = s->dims[k].size / 2;
    int64_t base = dq_spec_ravel(s, grid), idx[DQ_DS_MAX_FACTORS + 1] = {base};
    for (int k = 0; k < s->ndims; k++) {
        int saved = grid[k];
        grid[k] = 0;
        idx[k + 1] = dq_spec_ravel(s, grid);
        grid[k] = saved;
    }
    uint8_t *all = render(s, idx, s->ndims + 1);
    uint8_t *alone = render(s, &idx[3], 1);
    CHECK_MSG(!memcmp(alone, all + 3 * bytes, bytes), "%s: image depends on its batch", name);
    for (int k = 0; k < s->ndims; k++)
        CHECK_MSG(memcmp(all, all + (size_t)(k + 1) * bytes, bytes), "%s: factor %s changes nothing",
                  name, s->dims[k].name);
    free(all);
    free(alone);
}

TEST(renderers_are_addressable_and_every_factor_shows) {
    for (int i = 0; i < dq_dataset_spec_count() && !dq_test_failed_now; i++)
        if (dq_dataset_spec_at(i)->render) check_renderer(dq_dataset_spec_at(i));
}

TEST(dsprites_is_binary_and_moves_with_position) {
    const dq_dataset_spec *s = dq_dataset_spec_find("dsprites");
    int left[5] = {0, 5, 0, 0, 16}, right[5] = {0, 5, 0, 31, 16};
    int64_t idx[2] = {dq_spec_ravel(s, left), dq_spec_ravel(s, right)};
    uint8_t *img = render(s, idx, 2);
    double cx[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        int on = 0;
        for (int p = 0; p < 64 * 64; p++) {
            CHECK(img[i * 4096 + p] == 0 || img[i * 4096 + p] == 255);
            if (img[i * 4096 + p]) on++, cx[i] += p % 64;
        }
        CHECK(on > 100);
        cx[i] /= on;
    }
    CHECK_MSG(cx[0] < 20 && cx[1] > 44, "centres %g %g", cx[0], cx[1]);
    free(img);
}

TEST(shapes3d_colours_follow_hues) {
    const dq_dataset_spec *s = dq_dataset_spec_find("shapes3d");
    int grid[6] = {0, 4, 7, 7, 0, 7}; /* red floor (hue 0), green-cyan wall (0.4) */
    int64_t i = dq_spec_ravel(s, grid);
    uint8_t *img = render(s, &i, 1);
    const uint8_t *floor = img + (63 * 64 + 2) * 3, *wall = img + (2 * 64 + 32) * 3;
    CHECK_MSG(floor[0] > 2 * floor[1] && floor[0] > 2 * floor[2], "floor %d %d %d", floor[0], floor[1], floor[2]);
    CHECK_MSG(wall[1] > 2 * wall[0], "wall %d %d %d", wall[0], wall[1], wall[2]);
    free(img);
}

static int count_files(const char *dir, const char *needle) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) n += strstr(de->d_name, needle) != NULL;
    if (d) closedir(d);
    return n;
}

TEST(cache_round_trip_and_repair) {
    use_tmp_cache();
    int sizes[5] = {3, 2, 2, 3, 2};
    dq_dataset_spec s = shrunk("dsprites", sizes);
    int64_t n = dq_spec_count(&s);
    dq_dataset d;
    dq_errbuf e;
    CHECK(dq_dataset_open(&d, &s, NULL, 1, &e) == 0);
    CHECK(!d.cache);
    CHECK_MSG(dq_dataset_build_cache(&d, 0, &e) == 0, "%s", e.msg);
    CHECK(d.cache && access(d.cache_path, R_OK) == 0);
    dq_selection all;
    dq_select_all(&s, &all);
    uint8_t *want = render(&s, all.index, n), *got = malloc((size_t)n * 4096);
    CHECK(dq_dataset_read(&d, all.index, n, got, &e) == 0);
    CHECK(!memcmp(want, got, (size_t)n * 4096));
    char *path = strdup(d.cache_path);
    dq_dataset_close(&d);

    /* Flip one pixel of the last image: found when read, then rebuilt. */
    FILE *f = fopen(path, "r+b");
    CHECK(f && fseek(f, -100, SEEK_END) == 0 && fputc(7, f) != EOF && fclose(f) == 0);
    CHECK(dq_dataset_open(&d, &s, NULL, 1, &e) == 0 && d.cache);
    memset(got, 0, (size_t)n * 4096);
    CHECK(dq_dataset_read(&d, all.index, n, got, &e) == 0);
    CHECK(!memcmp(want, got, (size_t)n * 4096));
    dq_dataset_close(&d);

    /* A truncated cache is refused on open and removed. */
    CHECK(truncate(path, 5000) == 0);
    CHECK(dq_dataset_open(&d, &s, NULL, 1, &e) == 0 && !d.cache);
    CHECK(access(path, F_OK) != 0);
    dq_dataset_close(&d);
    CHECK(count_files(dq_test_tmpdir(), ".tmp.") == 0);
    free(path);
    free(want);
    free(got);
    dq_selection_free(&all);
}

static int failing_read(dq_source *src, const int64_t *idx, int64_t n, uint8_t *out, dq_errbuf *e) {
    (void)src, (void)idx, (void)n, (void)out;
    dq_err_set(e, "source broke");
    return -1;
}

static void failing_close(dq_source *src) { (void)src; }

TEST(failed_cache_build_leaves_no_file) {
    use_tmp_cache();
    int sizes[5] = {1, 1, 2, 2, 2};
    dq_dataset_spec s = shrunk("dsprites", sizes);
    dq_source broken = {.read = failing_read, .close = failing_close, .identity = "broken"};
    char *path = dq_cache_path(&s, &broken);
    dq_errbuf e;
    CHECK(dq_cache_build(&s, &broken, path, 0, &e) < 0);
    CHECK(strstr(e.msg, "source broke"));
    CHECK(access(path, F_OK) != 0);
    CHECK(count_files(dq_test_tmpdir(), ".tmp.") == 0);
    free(path);
}

static uint8_t *slurp(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0 || (*len = ftell(f)) < 0) abort();
    uint8_t *buf = malloc((size_t)*len + 1);
    rewind(f);
    if (fread(buf, 1, (size_t)*len, f) != (size_t)*len) abort();
    fclose(f);
    return buf;
}

/* Reads n images of an in-order pass from `start`, as dsload --all does. */
static int read_run(dq_dataset *d, int64_t start, int64_t n, uint8_t *out, dq_errbuf *e) {
    int64_t idx[64];
    for (int64_t i = 0; i < n; i++) idx[i] = start + i;
    return dq_dataset_read(d, idx, n, out, e);
}

/* A pass in index order streams its images while it writes the cache: the
 * cache appears only at the end, byte for byte the one a build writes, and
 * an unfinished or out-of-order pass leaves no file at all. */
TEST(cache_written_while_reading) {
    use_tmp_cache();
    int sizes[5] = {3, 2, 2, 3, 2};
    dq_dataset_spec s = shrunk("dsprites", sizes);
    int64_t n = dq_spec_count(&s);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/disq", dq_test_tmpdir());
    dq_dataset d;
    dq_errbuf e;
    CHECK(dq_dataset_open(&d, &s, NULL, 1, &e) == 0 && !d.cache);
    CHECK_MSG(dq_dataset_build_cache(&d, 0, &e) == 0, "%s", e.msg);
    long built_len, streamed_len;
    uint8_t *built = slurp(d.cache_path, &built_len);
    CHECK(unlink(d.cache_path) == 0);
    dq_dataset_close(&d);

    uint8_t *got = malloc((size_t)n * 4096);
    CHECK(dq_dataset_open(&d, &s, NULL, 1, &e) == 0 && !d.cache);
    CHECK_MSG(dq_dataset_cache_while_reading(&d, &e) == 0, "%s", e.msg);
    int64_t runs[] = {5, 1, 64, 2};
    for (int64_t start = 0, r = 0; start < n; start += runs[r % 4], r++) {
        int64_t m = n - start < runs[r % 4] ? n - start : runs[r % 4];
        CHECK(!d.cache && access(d.cache_path, F_OK) != 0);
        CHECK(read_run(&d, start, m, got + (size_t)start * 4096, &e) == 0);
    }
    CHECK(d.cache && !d.building && count_files(dir, ".tmp.") == 0);
    uint8_t *streamed = slurp(d.cache_path, &streamed_len);
    CHECK(streamed_len == built_len && !memcmp(built, streamed, (size_t)built_len));
    CHECK(!memcmp(got, built + built_len - n * 4096, (size_t)n * 4096));
    CHECK(unlink(d.cache_path) == 0);
    dq_dataset_close(&d);

    /* Closed half way (a reader that went away), or read out of order. */
    for (int order = 0; order < 2; order++) {
        CHECK(dq_dataset_open(&d, &s, NULL, 1, &e) == 0);
        CHECK(dq_dataset_cache_while_reading(&d, &e) == 0 && count_files(dir, ".tmp.") == 1);
        CHECK(read_run(&d, 0, 10, got, &e) == 0);
        if (order) CHECK(read_run(&d, 20, 10, got, &e) == 0 && !d.building);
        if (order) CHECK(count_files(dir, ".tmp.") == 0);
        dq_dataset_close(&d);
        CHECK(count_files(dir, ".tmp.") == 0 && count_files(dir, ".cache") == 0);
    }
    free(built);
    free(streamed);
    free(got);
}
