/* dsload: stream a dataset as disq batches of images (x) and factor labels (s). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/catalog.h"
#include "data/dataset.h"
#include "data/resize.h"
#include "data/selection.h"
#include "io/pngio.h"
#include "core/stream.h"
#include "core/util.h"

static const char usage_text[] =
    "usage: dsload DATASET [MODE] [OPTIONS]\n"
    "Stream DATASET as a disq stream of batches {x, s, index} on stdout.\n"
    "\n"
    "Modes (default --all):\n"
    "  --all                 every image in index order\n"
    "  --sample N            N images with uniformly random factors (evaluation protocol)\n"
    "  --shuffle             a seeded permutation; with --repeat a new one each epoch\n"
    "  --repeat              loop forever (stop it by closing the pipe)\n"
    "  --split train|val|test  the seeded 80/10/10 split, shuffled\n"
    "  --fix-factor factorvae|betavae  intervention batches with fields vote, fixed\n"
    "  --votes N             number of votes for --fix-factor (default 1000)\n"
    "  --group G             rows (factorvae) or pairs (betavae) per vote (default 64)\n"
    "Options:\n"
    "  --batch B             images per batch (default 256)\n"
    "  --seed S              seed for every random choice (default 0)\n"
    "  --size S              resize the images to SxS (antialiased; default: as stored)\n"
    "  --source PATH         read the real dataset file or directory at PATH\n"
    "  --procedural          use the built-in renderer even if a real file is found\n"
    "  --no-cache            never build a cache; render or read images as needed\n"
    "                        (else, with no cache yet, --all streams while it writes\n"
    "                        one; --shuffle and --split build it first, ETA on stderr)\n"
    "  --build-cache         build the cache of the source (unless built) and exit\n"
    "  --png DIR             write the selected images as PNG files to DIR, no stream\n"
    "  --list                print the datasets, or DATASET's factors, and exit\n"
    "  -h, --help            this text\n";

/* The usage text, then the catalog's dataset names. */
static void usage(FILE *f) {
    fputs(usage_text, f);
    fputs("Datasets:", f);
    for (int i = 0; i < dq_dataset_spec_count(); i++)
        fprintf(f, " %s", dq_dataset_spec_at(i)->name);
    fputc('\n', f);
}

typedef struct {
    const char *dataset, *source, *png_dir, *split, *fix_factor;
    int all, shuffle, repeat, list, procedural, no_cache, build_cache;
    long long sample, votes, group, batch, seed, size;
} options;

static long long parse_count(const char *opt, const char *s, long long min) {
    long long v;
    if (dq_parse_ll(s, &v) < 0 || v < min)
        dq_die(DQ_EXIT_USAGE, "%s: expected an integer >= %lld, got '%s'", opt, min, s);
    return v;
}

static void parse_args(int argc, char **argv, options *o) {
    enum { O_ALL = 256, O_SAMPLE, O_SHUFFLE, O_REPEAT, O_SPLIT, O_FIX, O_VOTES, O_GROUP,
           O_BATCH, O_SEED, O_SIZE, O_SOURCE, O_PROC, O_NOCACHE, O_BUILD, O_PNG, O_LIST };
    static const struct option longopts[] = {
        {"all", no_argument, 0, O_ALL},          {"sample", required_argument, 0, O_SAMPLE},
        {"shuffle", no_argument, 0, O_SHUFFLE},  {"repeat", no_argument, 0, O_REPEAT},
        {"split", required_argument, 0, O_SPLIT}, {"fix-factor", required_argument, 0, O_FIX},
        {"votes", required_argument, 0, O_VOTES}, {"group", required_argument, 0, O_GROUP},
        {"batch", required_argument, 0, O_BATCH}, {"seed", required_argument, 0, O_SEED},
        {"size", required_argument, 0, O_SIZE},  {"source", required_argument, 0, O_SOURCE},
        {"procedural", no_argument, 0, O_PROC},
        {"no-cache", no_argument, 0, O_NOCACHE}, {"build-cache", no_argument, 0, O_BUILD},
        {"png", required_argument, 0, O_PNG},    {"list", no_argument, 0, O_LIST},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    *o = (options){.votes = 1000, .group = 64, .batch = 256};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_ALL: o->all = 1; break;
        case O_SAMPLE: o->sample = parse_count("--sample", optarg, 1); break;
        case O_SHUFFLE: o->shuffle = 1; break;
        case O_REPEAT: o->repeat = 1; break;
        case O_SPLIT: o->split = optarg; break;
        case O_FIX: o->fix_factor = optarg; break;
        case O_VOTES: o->votes = parse_count("--votes", optarg, 1); break;
        case O_GROUP: o->group = parse_count("--group", optarg, 1); break;
        case O_BATCH: o->batch = parse_count("--batch", optarg, 1); break;
        case O_SEED: o->seed = parse_count("--seed", optarg, 0); break;
        case O_SIZE:
            o->size = parse_count("--size", optarg, 1);
            if (o->size > 4096) dq_die(DQ_EXIT_USAGE, "--size: at most 4096, got '%s'", optarg);
            break;
        case O_SOURCE: o->source = optarg; break;
        case O_PROC: o->procedural = 1; break;
        case O_NOCACHE: o->no_cache = 1; break;
        case O_BUILD: o->build_cache = 1; break;
        case O_PNG: o->png_dir = optarg; break;
        case O_LIST: o->list = 1; break;
        case 'h': usage(stdout); exit(DQ_EXIT_OK);
        default: usage(stderr); exit(DQ_EXIT_USAGE);
        }
    }
    if (optind < argc) o->dataset = argv[optind++];
    if (optind < argc) dq_die(DQ_EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
    if (!o->dataset && !o->list) dq_die(DQ_EXIT_USAGE, "no dataset given (try --list)");
    if (o->split && strcmp(o->split, "train") && strcmp(o->split, "val") && strcmp(o->split, "test"))
        dq_die(DQ_EXIT_USAGE, "--split: expected train, val or test, got '%s'", o->split);
    if (o->fix_factor && strcmp(o->fix_factor, "factorvae") && strcmp(o->fix_factor, "betavae"))
        dq_die(DQ_EXIT_USAGE, "--fix-factor: expected factorvae or betavae, got '%s'",
               o->fix_factor);
    if (o->fix_factor && (o->all || o->sample || o->shuffle || o->repeat || o->split))
        dq_die(DQ_EXIT_USAGE, "--fix-factor cannot be combined with another mode");
    if (o->all && (o->sample || o->shuffle || o->split))
        dq_die(DQ_EXIT_USAGE, "--all cannot be combined with --sample, --shuffle or --split");
    if (o->png_dir && o->repeat) dq_die(DQ_EXIT_USAGE, "--png cannot be combined with --repeat");
    if (o->procedural && o->source)
        dq_die(DQ_EXIT_USAGE, "--procedural and --source exclude each other");
}

static void list_datasets(void) {
    printf("%-14s %9s  %-8s  %s\n", "dataset", "images", "shape", "description");
    for (int i = 0; i < dq_dataset_spec_count(); i++) {
        const dq_dataset_spec *s = dq_dataset_spec_at(i);
        printf("%-14s %9lld  %dx%dx%d  %s\n", s->name, (long long)dq_spec_count(s), s->height,
               s->width, s->channels, s->summary);
    }
}

static void list_factors(const dq_dataset *d) {
    const dq_dataset_spec *s = &d->spec;
    printf("dataset %s: %lld images, %dx%dx%d\n", s->name, (long long)dq_spec_count(s),
           s->height, s->width, s->channels);
    printf("source: %s\ncache: %s (%s)\n", d->origin->description, d->cache_path,
           d->cache ? "present" : "absent");
    printf("%-20s %5s  %s\n", "factor", "size", "values");
    for (int k = 0; k < s->ndims; k++)
        printf("%-20s %5d  %g .. %g%s\n", s->dims[k].name, s->dims[k].size, dq_spec_value(s, k, 0),
               dq_spec_value(s, k, s->dims[k].size - 1), k == s->nuisance ? "  (nuisance)" : "");
}

/* The streamed image shape: as stored, or size x size. */
typedef struct {
    int h, w;
    size_t bytes;
    int resized;
} image_shape;

static image_shape streamed_shape(const dq_dataset_spec *s, long long size) {
    image_shape o = {size ? (int)size : s->height, size ? (int)size : s->width, 0, 0};
    o.bytes = (size_t)o.h * o.w * s->channels;
    o.resized = o.h != s->height || o.w != s->width;
    return o;
}

static void make_header(const dq_dataset *d, const options *o, dq_header *h) {
    const dq_dataset_spec *s = &d->spec;
    int nf = dq_spec_nfactors(s);
    dq_factor factors[DQ_DS_MAX_FACTORS];
    for (int f = 0; f < nf; f++) {
        int dim = dq_spec_factor_dim(s, f);
        factors[f].name = (char *)s->dims[dim].name;
        factors[f].size = s->dims[dim].size;
        factors[f].values = dq_malloc((size_t)s->dims[dim].size * sizeof(double));
        for (int k = 0; k < s->dims[dim].size; k++) factors[f].values[k] = dq_spec_value(s, dim, k);
    }
    image_shape out = streamed_shape(s, o->size);
    int64_t shape[3] = {out.h, out.w, s->channels};
    dq_header_init(h);
    dq_header_set_dataset(h, s->name);
    dq_header_set_factors(h, nf, factors);
    dq_header_set_shape(h, 3, shape);
    dq_header_set_str(h, "source", d->origin->description);
    dq_header_set_int(h, "seed", o->seed);
    if (o->split) dq_header_set_str(h, "split", o->split);
    if (o->fix_factor) {
        dq_header_set_str(h, "fix_factor", o->fix_factor);
        dq_header_set_int(h, "group", o->group);
    }
    for (int f = 0; f < nf; f++) free(factors[f].values);
}

/* The index list of the chosen mode (before any per-epoch shuffle). */
static void make_selection(const dq_dataset_spec *s, const options *o, dq_selection *sel) {
    uint64_t seed = (uint64_t)o->seed;
    if (o->fix_factor) {
        dq_select_votes(s, strcmp(o->fix_factor, "betavae") ? DQ_VOTES_FACTORVAE : DQ_VOTES_BETAVAE,
                        o->votes, (int)o->group, seed, sel);
        return;
    }
    if (o->split)
        dq_select_split(s, !strcmp(o->split, "train") ? 0 : !strcmp(o->split, "val") ? 1 : 2, seed, sel);
    if (o->sample) {
        if (o->split) dq_select_subsample(sel, o->sample, seed);
        else dq_select_sample(s, o->sample, seed, sel);
    }
    if (!o->split && !o->sample) dq_select_all(s, sel);
}

static void read_or_die(dq_dataset *d, const int64_t *idx, int64_t n, uint8_t *out) {
    dq_errbuf e;
    if (dq_dataset_read(d, idx, n, out, &e) < 0) dq_die(DQ_EXIT_DATA, "%s", e.msg);
}

/* n stored images -> the streamed shape. */
static void resize_images(const dq_dataset_spec *s, const image_shape *o, const uint8_t *src,
                          int64_t n, uint8_t *dst) {
    for (int64_t i = 0; i < n; i++)
        dq_resize_u8(src + (size_t)i * dq_spec_image_bytes(s), s->height, s->width, s->channels,
                     dst + (size_t)i * o->bytes, o->h, o->w);
}

static void write_pngs(dq_dataset *d, const dq_selection *sel, const char *dir, long long size) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) dq_die(DQ_EXIT_IO, "%s: %s", dir, strerror(errno));
    const dq_dataset_spec *s = &d->spec;
    image_shape o = streamed_shape(s, size);
    uint8_t *img = dq_malloc(dq_spec_image_bytes(s)), *out = o.resized ? dq_malloc(o.bytes) : img;
    size_t n = strlen(dir) + 64;
    char *path = dq_malloc(n);
    for (int64_t i = 0; i < sel->n; i++) {
        read_or_die(d, &sel->index[i], 1, img);
        if (o.resized) resize_images(s, &o, img, 1, out);
        snprintf(path, n, "%s/%06lld_%lld.png", dir, (long long)i, (long long)sel->index[i]);
        dq_errbuf e;
        if (dq_png_write(path, out, o.h, o.w, s->channels, &e) < 0) dq_die(DQ_EXIT_IO, "%s", e.msg);
    }
    free(path);
    if (out != img) free(out);
    free(img);
}

/* Timed on a block of images read after a first one (whose read may check a
 * whole member), the time a cache build will take, on stderr. */
static void announce_build(dq_dataset *d) {
    int64_t count = dq_spec_count(&d->spec), n = count < 512 ? count / 2 : 256;
    if (n == 0) return;
    int64_t *idx = dq_malloc((size_t)n * 2 * sizeof *idx);
    for (int64_t i = 0; i < 2 * n; i++) idx[i] = i;
    uint8_t *images = dq_malloc((size_t)n * dq_spec_image_bytes(&d->spec));
    read_or_die(d, idx, n, images);
    double t0 = dq_now();
    read_or_die(d, idx + n, n, images);
    double eta = (dq_now() - t0) * (double)count / (double)n;
    if (eta < 60)
        fprintf(stderr, "%s: %s: building the cache first: ETA %.0f s\n", dq_progname,
                d->spec.name, eta);
    else
        fprintf(stderr, "%s: %s: building the cache first: ETA %.0f min %02.0f s\n", dq_progname,
                d->spec.name, floor(eta / 60), fmod(floor(eta), 60));
    free(idx);
    free(images);
}

/* A deflated member is decompressed from its start on every sorted pass, so
 * without a cache the images of many batches are gathered in one pass. */
#define SEQUENTIAL_GATHER 16384

/* *header, when set, is written (and cleared) after the first read, so that a
 * source that fails its first read (a damaged member fails it whole) leaves
 * stdout empty. */
static void write_batches(dq_dataset *d, dq_writer *w, const dq_selection *sel, int64_t batch,
                          long long size, const dq_header **header) {
    const dq_dataset_spec *s = &d->spec;
    int nf = dq_spec_nfactors(s);
    size_t bytes = dq_spec_image_bytes(s);
    image_shape o = streamed_shape(s, size);
    uint8_t *stored = o.resized ? dq_malloc((size_t)batch * bytes) : NULL;
    /* Whole batches per gather, so that no batch straddles two. */
    int64_t gather = !d->cache && d->origin->sequential && batch < SEQUENTIAL_GATHER
                         ? SEQUENTIAL_GATHER / batch * batch : batch;
    uint8_t *images = gather > batch ? dq_malloc((size_t)gather * bytes) : NULL;
    dq_batch b;
    dq_batch_init(&b);
    for (int64_t start = 0; start < sel->n; start += batch) {
        int64_t n = sel->n - start < batch ? sel->n - start : batch;
        const int64_t *idx = sel->index + start;
        int64_t xs[4] = {n, o.h, o.w, s->channels}, ss[2] = {n, nf}, is[1] = {n};
        dq_batch_clear(&b);
        uint8_t *x = dq_batch_put(&b, "x", DQ_U8, 4, xs)->data, *read = stored ? stored : x;
        if (images) {
            int64_t offset = start % gather;
            if (offset == 0)
                read_or_die(d, idx, sel->n - start < gather ? sel->n - start : gather, images);
            memcpy(read, images + (size_t)offset * bytes, (size_t)n * bytes);
        } else {
            read_or_die(d, idx, n, read);
        }
        if (stored) resize_images(s, &o, stored, n, x);
        if (*header) dq_write_header_or_die(w, *header);
        *header = NULL;
        int32_t *labels = dq_batch_put(&b, "s", DQ_I32, 2, ss)->data;
        int32_t *index = dq_batch_put(&b, "index", DQ_I32, 1, is)->data;
        for (int64_t i = 0; i < n; i++) {
            int grid[DQ_DS_MAX_FACTORS];
            dq_spec_unravel(s, idx[i], grid);
            for (int f = 0; f < nf; f++) labels[i * nf + f] = grid[dq_spec_factor_dim(s, f)];
            index[i] = (int32_t)idx[i];
        }
        if (sel->vote) {
            memcpy(dq_batch_put(&b, "vote", DQ_I32, 1, is)->data, sel->vote + start, (size_t)n * 4);
            memcpy(dq_batch_put(&b, "fixed", DQ_I32, 1, is)->data, sel->fixed + start, (size_t)n * 4);
        }
        dq_write_batch_or_die(w, &b);
    }
    dq_batch_free(&b);
    free(stored);
    free(images);
}

int main(int argc, char **argv) {
    dq_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    if (o.list && !o.dataset) {
        list_datasets();
        return DQ_EXIT_OK;
    }
    const dq_dataset_spec *spec = dq_dataset_spec_find(o.dataset);
    if (!spec) dq_die(DQ_EXIT_USAGE, "unknown dataset '%s' (try --list)", o.dataset);
    dq_dataset d;
    dq_errbuf e;
    if (dq_dataset_open(&d, spec, o.source, o.procedural, &e) < 0)
        dq_die(errno == ENOENT ? DQ_EXIT_NOINPUT : DQ_EXIT_DATA, "%s", e.msg);
    if (o.list) {
        list_factors(&d);
        dq_dataset_close(&d);
        return DQ_EXIT_OK;
    }
    /* Whole-dataset passes read every image, so they pay for one cache build
     * and later runs only stream; small selections are read directly.  A
     * pass in index order caches the images as it streams them; the others
     * read the cache at random, so they wait for it. */
    int whole = !o.fix_factor && !o.sample && !o.png_dir;
    int in_order = whole && !o.shuffle && !o.split;
    int stream_build = in_order && !d.cache && !o.no_cache && !o.build_cache;
    fprintf(stderr, "%s: %s: source %s%s\n", dq_progname, spec->name, d.origin->description,
            d.cache ? " (from its cache)" : stream_build ? " (caching while streaming)" : "");
    if (o.build_cache && d.cache) {
        fprintf(stderr, "%s: %s: cache %s already built (remove it to build it again)\n",
                dq_progname, spec->name, d.cache_path);
        dq_dataset_close(&d);
        return DQ_EXIT_OK;
    }
    if (o.build_cache || (whole && !in_order && !d.cache && !o.no_cache)) {
        if (!o.build_cache) announce_build(&d);
        if (dq_dataset_build_cache(&d, 1, &e) < 0)
            dq_die(errno == EINVAL ? DQ_EXIT_DATA : DQ_EXIT_IO, "%s", e.msg);
        if (o.build_cache) {
            dq_dataset_close(&d);
            return DQ_EXIT_OK;
        }
    }
    if (stream_build && dq_dataset_cache_while_reading(&d, &e) < 0) dq_die(DQ_EXIT_IO, "%s", e.msg);
    dq_selection sel;
    make_selection(&d.spec, &o, &sel);
    if (o.png_dir) {
        if (o.shuffle) dq_select_shuffle(&sel, (uint64_t)o.seed, 0);
        write_pngs(&d, &sel, o.png_dir, o.size);
    } else {
        dq_header h;
        make_header(&d, &o, &h);
        /* A 1 MiB pipe buffer halves the context switches per image batch;
         * refused (not a pipe, or over the limit) it is simply not used. */
        fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1 << 20);
        dq_writer *w = dq_writer_new(stdout, "stdout");
        const dq_header *pending = &h;
        for (uint64_t epoch = 0;; epoch++) {
            if (o.shuffle) dq_select_shuffle(&sel, (uint64_t)o.seed, epoch);
            write_batches(&d, w, &sel, o.batch, o.size, &pending);
            if (!o.repeat) break;
        }
        if (pending) dq_write_header_or_die(w, pending);
        dq_writer_free_or_die(w);
        dq_header_free(&h);
    }
    dq_selection_free(&sel);
    dq_dataset_close(&d);
    return DQ_EXIT_OK;
}
