/* source_render.c: the procedural source, one image per thread at a time. */
#include <stdio.h>
#include <stdlib.h>

#include "data/source.h"
#include "core/util.h"

typedef struct {
    dq_source base;
    const dq_dataset_spec *spec;
} render_source;

static int render_read(dq_source *src, const int64_t *idx, int64_t n, uint8_t *out,
                       dq_errbuf *e) {
    (void)e;
    const dq_dataset_spec *spec = ((render_source *)src)->spec;
    size_t bytes = dq_spec_image_bytes(spec);
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t i = 0; i < n; i++) {
        int grid[DQ_DS_MAX_FACTORS];
        double value[DQ_DS_MAX_FACTORS];
        dq_spec_unravel(spec, idx[i], grid);
        for (int k = 0; k < spec->ndims; k++) value[k] = dq_spec_value(spec, k, grid[k]);
        spec->render(spec, grid, value, out + (size_t)i * bytes);
    }
    return 0;
}

static void render_close(dq_source *src) { free(src); }

dq_source *dq_source_render(const dq_dataset_spec *spec) {
    render_source *r = dq_calloc(1, sizeof *r);
    r->spec = spec;
    r->base.read = render_read;
    r->base.close = render_close;
    r->base.description = dq_strdup("procedural renderer");
    char id[256];
    int len = snprintf(id, sizeof id, "procedural:%s:v%d:", spec->name, spec->render_version);
    for (int k = 0; k < spec->ndims && len < (int)sizeof id - 16; k++)
        len += snprintf(id + len, sizeof id - (size_t)len, "%d,", spec->dims[k].size);
    r->base.identity = dq_strdup(id);
    return &r->base;
}
