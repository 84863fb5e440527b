/* labels.c: dense class indices for integer labels (see labels.h). */
#include "metric/labels.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int find_class(const int32_t *classes, int k, int32_t value) {
    int lo = 0, hi = k - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (classes[mid] == value) return mid;
        if (classes[mid] < value) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

int dq_labels_encode(const int32_t *v, int64_t n, int64_t stride, int32_t *codes,
                     int32_t **classes) {
    int32_t *sorted = dq_malloc((size_t)(n > 0 ? n : 1) * sizeof *sorted);
    for (int64_t i = 0; i < n; i++) sorted[i] = v[i * stride];
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_i32);
    int k = 0;
    for (int64_t i = 0; i < n; i++)
        if (k == 0 || sorted[i] != sorted[k - 1]) sorted[k++] = sorted[i];
    dq_labels_lookup(v, n, stride, sorted, k, codes);
    if (classes) *classes = dq_realloc(sorted, (size_t)(k > 0 ? k : 1) * sizeof *sorted);
    else free(sorted);
    return k;
}

void dq_labels_lookup(const int32_t *v, int64_t n, int64_t stride, const int32_t *classes,
                      int k, int32_t *codes) {
    for (int64_t i = 0; i < n; i++) codes[i] = find_class(classes, k, v[i * stride]);
}
