/* params.c: the registry of named parameter tensors and their blocks (see
 * model.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "nn/op.h"
#include "core/util.h"

int dq_params_add(dq_param_set *P, int group, const char *name, int ndim, const int64_t *shape) {
    if (P->n == P->cap) {
        P->cap = P->cap ? 2 * P->cap : 64;
        P->p = dq_realloc(P->p, (size_t)P->cap * sizeof *P->p);
    }
    dq_named_param *q = &P->p[P->n];
    memset(q, 0, sizeof *q);
    q->name = dq_strdup(name);
    q->group = group;
    q->ndim = ndim;
    q->t.n = 1;
    for (int i = 0; i < ndim; i++) {
        q->shape[i] = shape[i];
        q->t.n *= (size_t)shape[i];
    }
    return P->n++;
}

/* Each tensor starts on a 256-byte boundary, as cudaMalloc's blocks do: on
 * the GPU cuBLAS and cuDNN read weights and write gradients in place, and
 * their tensor-core kernels want 16-byte aligned operands. */
static size_t padded(size_t n) { return (n + 63) / 64 * 64; }

size_t dq_params_block_floats(const dq_param_set *P) {
    size_t total = 0;
    for (int i = 0; i < P->n; i++) total += padded(P->p[i].t.n);
    return total;
}

void dq_params_alloc(dq_param_set *P) {
    size_t total = dq_params_block_floats(P);
    P->values = dq_alloc_aligned((total ? total : 1) * sizeof(float));
    P->grads = dq_alloc_aligned((total ? total : 1) * sizeof(float));
    memset(P->values, 0, total * sizeof(float));
    memset(P->grads, 0, total * sizeof(float));
    size_t off = 0;
    for (int g = 0; g < DQ_NGROUPS; g++)
        for (int i = 0; i < P->n; i++) {
            if (P->p[i].group != g) continue;
            P->p[i].offset = off;
            P->p[i].t.data = P->values + off;
            P->p[i].t.grad = P->grads + off;
            off += padded(P->p[i].t.n);
        }
}

void dq_params_free(dq_param_set *P) {
    for (int i = 0; i < P->n; i++) free(P->p[i].name);
    free(P->p);
    free(P->values);
    free(P->grads);
    op_free(P->dev_values);
    op_free(P->dev_grads);
    memset(P, 0, sizeof *P);
}

int dq_params_find(const dq_param_set *P, const char *name) {
    for (int i = 0; i < P->n; i++)
        if (strcmp(P->p[i].name, name) == 0) return i;
    return -1;
}

dq_param *dq_params_group(const dq_param_set *P, int group, size_t *count) {
    dq_param *list = dq_malloc((size_t)(P->n ? P->n : 1) * sizeof *list);
    size_t k = 0;
    for (int i = 0; i < P->n; i++)
        if (P->p[i].group == group) list[k++] = P->p[i].t;
    *count = k;
    return list;
}

void dq_params_zero_grad(dq_param_set *P, int group) {
    for (int i = 0; i < P->n; i++)
        if (P->p[i].group == group) op_zero(P->p[i].t.grad, P->p[i].t.n * sizeof(float));
}

void dq_params_to_device(dq_param_set *P) {
    if (!op_on_gpu() || P->dev_values) return;
    const size_t bytes = dq_params_block_floats(P) * sizeof(float);
    P->dev_values = op_alloc(bytes);
    P->dev_grads = op_alloc(bytes);
    op_upload(P->dev_values, P->values, bytes);
    op_zero(P->dev_grads, bytes);
    for (int i = 0; i < P->n; i++) {
        P->p[i].t.data = P->dev_values + P->p[i].offset;
        P->p[i].t.grad = P->dev_grads + P->p[i].offset;
    }
}

void dq_params_download(dq_param_set *P) {
    if (P->dev_values) op_download(P->values, P->dev_values, dq_params_block_floats(P) * sizeof(float));
}

dq_layer dq_layer_add(dq_param_set *P, int group, const char *prefix, int cin, int cout, int k) {
    char name[160];
    dq_layer L = {0, 0, cin, cout, k};
    int64_t wshape[4] = {cout, cin, k, k};
    snprintf(name, sizeof name, "%s.weight", prefix);
    L.w = dq_params_add(P, group, name, k ? 4 : 2, wshape);
    int64_t bshape[1] = {cout};
    snprintf(name, sizeof name, "%s.bias", prefix);
    L.b = dq_params_add(P, group, name, 1, bshape);
    return L;
}

