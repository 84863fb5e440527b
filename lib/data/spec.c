/* spec.c: index arithmetic on a dataset's factor grid. */
#include "data/spec.h"

int64_t dq_spec_count(const dq_dataset_spec *s) {
    int64_t n = 1;
    for (int i = 0; i < s->ndims; i++) n *= s->dims[i].size;
    return n;
}

double dq_spec_value(const dq_dataset_spec *s, int dim, int k) {
    const dq_grid_dim *g = &s->dims[dim];
    if (g->size < 2) return g->lo;
    return g->lo + (g->hi - g->lo) * k / (g->size - 1);
}

int dq_spec_nfactors(const dq_dataset_spec *s) { return s->ndims - (s->nuisance >= 0); }

int dq_spec_factor_dim(const dq_dataset_spec *s, int factor) {
    return s->nuisance >= 0 && factor >= s->nuisance ? factor + 1 : factor;
}

void dq_spec_unravel(const dq_dataset_spec *s, int64_t index, int *grid) {
    for (int i = s->ndims - 1; i >= 0; i--) {
        grid[i] = (int)(index % s->dims[i].size);
        index /= s->dims[i].size;
    }
}

int64_t dq_spec_ravel(const dq_dataset_spec *s, const int *grid) {
    int64_t index = 0;
    for (int i = 0; i < s->ndims; i++) index = index * s->dims[i].size + grid[i];
    return index;
}

size_t dq_spec_image_bytes(const dq_dataset_spec *s) {
    return (size_t)s->height * s->width * s->channels;
}
