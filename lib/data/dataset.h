/* dataset.h: the datasets disq knows, and how images are addressed.
 *
 * A dataset is a grid of factors; image i is the row-major index of its
 * factor tuple (last factor fastest).  Its pixels come from a source: a
 * procedural renderer (the embedded default for dsprites, shapes3d, mpi3d),
 * a real file the user owns, or the on-disk cache of either.  Every source
 * can hand out any image by index, so sampling, splits, shuffling and
 * intervention batches are all plain lists of indices (dataset_select.c).
 *
 * Errors follow core/error.h. */
#ifndef DISQ_DATASET_H
#define DISQ_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define DQ_DS_MAX_FACTORS 10
struct dq_dataset_spec;
/* Draw one image from its factor indices and values; must be thread-safe. */
typedef void (*dq_render_fn)(const struct dq_dataset_spec *spec, const int *index,
                             const double *value, uint8_t *out);

/* How the real file of a dataset is laid out (dsload(1), FILES). */
typedef enum {
    DQ_FILE_NONE,
    DQ_FILE_DSPRITES_NPZ, /* member imgs (N,64,64) u8 0/1 */
    DQ_FILE_SHAPES3D_H5,  /* dataset images (N,64,64,3) u8 */
    DQ_FILE_MPI3D_NPZ,    /* member images (N,64,64,3) u8 */
    DQ_FILE_ISAAC3D_DIR,  /* images/%06d.png + labels.npy */
    DQ_FILE_SMALLNORB_DIR,/* LeCun binary .mat files, training + testing */
    DQ_FILE_CARS3D_DIR,   /* one MATLAB v5 .mat per car, variable im */
} dq_file_format;

/* A grid dimension: values are linspace(lo, hi, size) (lo alone when size 1). */
typedef struct {
    const char *name;
    int size;
    double lo, hi;
} dq_grid_dim;

typedef struct dq_dataset_spec {
    const char *name;
    int ndims;                /* grid dimensions, including a nuisance one */
    dq_grid_dim dims[DQ_DS_MAX_FACTORS];
    int nuisance;             /* grid dimension not reported as a factor, or -1 */
    int height, width, channels;
    dq_render_fn render;      /* NULL when only a real file provides images */
    int render_version;       /* bumped whenever a renderer's pixels change */
    dq_file_format format;
    const char *files[4];     /* standard names under $DISENTANGLEMENT_LIB_DATA */
    const char *summary;      /* one line for --list and the man page */
} dq_dataset_spec;

/* The built-in table (dsprites, shapes3d, mpi3d, mpi3d-complex, isaac3d,
 * smallnorb, cars3d); NULL when the name is unknown. */
const dq_dataset_spec *dq_dataset_spec_find(const char *name);
int dq_dataset_spec_count(void);
const dq_dataset_spec *dq_dataset_spec_at(int i);

int64_t dq_spec_count(const dq_dataset_spec *s);
double dq_spec_value(const dq_dataset_spec *s, int dim, int k);
/* Factors as reported in the stream: the grid without the nuisance dimension. */
int dq_spec_nfactors(const dq_dataset_spec *s);
int dq_spec_factor_dim(const dq_dataset_spec *s, int factor);
void dq_spec_unravel(const dq_dataset_spec *s, int64_t index, int *grid);
int64_t dq_spec_ravel(const dq_dataset_spec *s, const int *grid);
size_t dq_spec_image_bytes(const dq_dataset_spec *s);

/* A source of images by index.  Sequential sources (a deflated zip member)
 * need ascending indices; dq_dataset_read sorts for them. */
typedef struct dq_source {
    int sequential;
    /* 0 ok, -1 error (message in e), DQ_SOURCE_CORRUPT for a damaged cache block */
    int (*read)(struct dq_source *src, const int64_t *idx, int64_t n, uint8_t *out,
                dq_errbuf *e);
    void (*close)(struct dq_source *src);
    char *description; /* "procedural renderer", "/data/3dshapes.h5", ... */
    char *identity;    /* names the pixels exactly: keys the cache file */
} dq_source;

#define DQ_SOURCE_CORRUPT (-2)

void dq_source_close(dq_source *src);

/* Procedural source (spec->render must be set). */
dq_source *dq_source_render(const dq_dataset_spec *spec);
/* Real-file source for spec->format from path (a file or a directory). */
dq_source *dq_source_file(const dq_dataset_spec *spec, const char *path, dq_errbuf *e);

/* The first real file of the dataset found under $DISENTANGLEMENT_LIB_DATA, or
 * NULL (malloc'd path). */
char *dq_dataset_find_file(const dq_dataset_spec *spec);

/* An opened dataset: its spec and where its pixels come from. */
typedef struct {
    dq_dataset_spec spec;
    dq_source *origin;  /* renderer or real file */
    dq_source *cache;   /* the verified cache of origin, or NULL */
    char *cache_path;   /* where origin's cache lives (whether or not it exists) */
} dq_dataset;

/* Open origin: the real file at path (NULL: look under DISENTANGLEMENT_LIB_DATA,
 * then fall back to the renderer); `procedural` forces the renderer.  An
 * existing valid cache is used; a damaged one is removed with a warning.
 * On failure errno is ENOENT when there is no input at all.  d holds the
 * spec its sources point to, so it must stay where it was opened. */
int dq_dataset_open(dq_dataset *d, const dq_dataset_spec *spec, const char *path,
                    int procedural, dq_errbuf *e);
void dq_dataset_close(dq_dataset *d);
/* Render/read every image of origin into the cache (atomically), then use it. */
int dq_dataset_build_cache(dq_dataset *d, int progress, dq_errbuf *e);
/* n images in the given order into out (n * image_bytes).  A cache block found
 * damaged makes the cache be rebuilt (with a warning) and the read retried. */
int dq_dataset_read(dq_dataset *d, const int64_t *idx, int64_t n, uint8_t *out, dq_errbuf *e);

/* Cache files (cache.c). */
char *dq_cache_dir(void); /* $XDG_CACHE_HOME/disq or ~/.cache/disq, malloc'd */
char *dq_cache_path(const dq_dataset_spec *spec, const dq_source *origin);
/* Write every image of origin to path atomically; -1 leaves no file behind. */
int dq_cache_build(const dq_dataset_spec *spec, dq_source *origin, const char *path,
                   int progress, dq_errbuf *e);
/* Open a cache for spec/origin; NULL with e set when missing (errno ENOENT) or invalid. */
dq_source *dq_cache_open(const dq_dataset_spec *spec, const dq_source *origin,
                         const char *path, dq_errbuf *e);

/* Index lists (dataset_select.c); all deterministic in the seed. */
typedef struct {
    int64_t *index;
    int32_t *vote, *fixed; /* intervention batches only, else NULL */
    int64_t n;
} dq_selection;

void dq_selection_free(dq_selection *s);
void dq_select_all(const dq_dataset_spec *s, dq_selection *out);
/* n tuples with every grid dimension drawn uniformly (the evaluation protocol). */
void dq_select_sample(const dq_dataset_spec *s, int64_t n, uint64_t seed, dq_selection *out);
/* 0 train, 1 val, 2 test: the seeded 80/10/10 split, in its shuffled order. */
void dq_select_split(const dq_dataset_spec *s, int which, uint64_t seed, dq_selection *out);
/* Fisher-Yates permutation of sel->index in place for epoch `epoch`. */
void dq_select_shuffle(dq_selection *sel, uint64_t seed, uint64_t epoch);
/* n uniform draws from sel (with replacement). */
void dq_select_subsample(dq_selection *sel, int64_t n, uint64_t seed);
typedef enum { DQ_VOTES_FACTORVAE, DQ_VOTES_BETAVAE } dq_vote_kind;
/* votes of group G: factorvae G rows sharing factor `fixed`; betavae G pairs
 * (rows 2j, 2j+1) sharing it. */
void dq_select_votes(const dq_dataset_spec *s, dq_vote_kind kind, int64_t votes, int group,
                     uint64_t seed, dq_selection *out);

#endif
