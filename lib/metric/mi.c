/* mi.c: mutual-information estimators (mi.h). */
#include "metric/mi.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metric/labels.h"
#include "core/util.h"

void dq_histogram_discretize(const float *v, int64_t n, int64_t stride, int nbins, int single,
                             int32_t *out) {
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        lo = fminf(lo, v[i * stride]);
        hi = fmaxf(hi, v[i * stride]);
    }
    double first = lo, last = hi;
    if (first == last) {
        first -= 0.5;
        last += 0.5;
    }
    /* np.linspace: start + i * (delta / div), the last edge set to stop. */
    double edges_d[nbins + 1];
    float edges_f[nbins + 1];
    if (single) {
        float f0 = (float)first, step = ((float)last - f0) / (float)nbins;
        for (int i = 0; i <= nbins; i++) edges_f[i] = (float)i * step + f0;
        edges_f[nbins] = (float)last;
    } else {
        double step = (last - first) / nbins;
        for (int i = 0; i <= nbins; i++) edges_d[i] = (double)i * step + first;
        edges_d[nbins] = last;
    }
    /* digitize against the nbins left edges: the number of edges <= value. */
    for (int64_t i = 0; i < n; i++) {
        float x = v[i * stride];
        int lo_i = 0, hi_i = nbins;
        while (lo_i < hi_i) {
            int mid = (lo_i + hi_i) / 2;
            int le = single ? edges_f[mid] <= x : edges_d[mid] <= (double)x;
            if (le) lo_i = mid + 1;
            else hi_i = mid;
        }
        out[i] = lo_i;
    }
}

void dq_binned_mi_matrix(const float *z, int64_t n, int d, int single, int nbins,
                         const int32_t *s, int f, double *out) {
    int32_t *bins = dq_malloc((size_t)(n > 0 ? n : 1) * (size_t)d * sizeof *bins);
    for (int i = 0; i < d; i++) dq_histogram_discretize(z + i, n, d, nbins, single, bins + (int64_t)i * n);
    #pragma omp parallel for collapse(2) schedule(dynamic)
    for (int i = 0; i < d; i++)
        for (int j = 0; j < f; j++) out[i * f + j] = dq_mutual_info(bins + (int64_t)i * n, 1, s + j, f, n);
    free(bins);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

double dq_mutual_info(const int32_t *a, int64_t sa, const int32_t *b, int64_t sb, int64_t n) {
    if (n <= 0) return 0;
    int32_t *ca = dq_malloc((size_t)n * sizeof *ca), *cb = dq_malloc((size_t)n * sizeof *cb);
    int ka = dq_labels_encode(a, n, sa, ca, NULL), kb = dq_labels_encode(b, n, sb, cb, NULL);
    double mi = 0;
    if (ka > 1 && kb > 1) {
        int64_t *pi = dq_calloc((size_t)ka, sizeof *pi), *pj = dq_calloc((size_t)kb, sizeof *pj);
        int64_t *cell = dq_malloc((size_t)n * sizeof *cell);
        for (int64_t i = 0; i < n; i++) {
            pi[ca[i]]++;
            pj[cb[i]]++;
            cell[i] = (int64_t)ca[i] * kb + cb[i];
        }
        qsort(cell, (size_t)n, sizeof *cell, cmp_i64);
        double log_n = log((double)n);
        for (int64_t i = 0; i < n;) {
            int64_t j = i;
            while (j < n && cell[j] == cell[i]) j++;
            double nz = (double)(j - i), nm = nz / (double)n;
            double outer = (double)(pi[cell[i] / kb] * pj[cell[i] % kb]);
            double term = nm * (log(nz) - log_n) + nm * (-log(outer) + 2 * log_n);
            if (fabs(term) >= DBL_EPSILON) mi += term;
            i = j;
        }
        free(pi);
        free(pj);
        free(cell);
    }
    free(ca);
    free(cb);
    return mi > 0 ? mi : 0;
}

double dq_entropy(const int32_t *a, int64_t sa, int64_t n) {
    return dq_mutual_info(a, sa, a, sa, n);
}

double dq_digamma(double x) {
    double r = 0;
    while (x < 6) {
        r -= 1 / x;
        x += 1;
    }
    double f = 1 / (x * x);
    return r + log(x) - 0.5 / x -
           f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
}

typedef struct {
    double v;
    int32_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
    double x = ((const keyed *)a)->v, y = ((const keyed *)b)->v;
    return (x > y) - (x < y);
}

void dq_argsort(const double *c, int64_t n, int32_t *order) {
    keyed *k = dq_malloc((size_t)(n > 0 ? n : 1) * sizeof *k);
    for (int64_t i = 0; i < n; i++) k[i] = (keyed){c[i], (int32_t)i};
    qsort(k, (size_t)n, sizeof *k, cmp_keyed);
    for (int64_t i = 0; i < n; i++) order[i] = k[i].i;
    free(k);
}

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double standard_normal(uint64_t *state) {
    double u1 = ((double)(splitmix64(state) >> 11) + 1.0) * 0x1.0p-53;
    double u2 = (double)(splitmix64(state) >> 11) * 0x1.0p-53;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

void dq_mi_knn_jitter(const float *v, int64_t stride, int64_t n, uint64_t seed, double *out) {
    double mean = 0, var = 0, mean_abs = 0;
    for (int64_t i = 0; i < n; i++) mean += v[i * stride];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++) var += ((double)v[i * stride] - mean) * ((double)v[i * stride] - mean);
    double sd = sqrt(var / (double)n);
    if (sd == 0) sd = 1;
    for (int64_t i = 0; i < n; i++) {
        out[i] = (double)v[i * stride] / sd;
        mean_abs += fabs(out[i]);
    }
    double scale = 1e-10 * fmax(1.0, mean_abs / (double)n);
    uint64_t state = seed;
    for (int64_t i = 0; i < n; i++) out[i] += scale * standard_normal(&state);
}

/* Distance to the k-th nearest other point of a sorted run, in 1-D: merge
 * outwards from position p. */
static double kth_distance(const double *run, int64_t len, int64_t p, int k) {
    int64_t l = p - 1, r = p + 1;
    double d = 0;
    for (int found = 0; found < k; found++) {
        double dl = l >= 0 ? run[p] - run[l] : INFINITY;
        double dr = r < len ? run[r] - run[p] : INFINITY;
        if (dl <= dr) {
            d = dl;
            l--;
        } else {
            d = dr;
            r++;
        }
    }
    return d;
}

double dq_mi_knn(const double *c, const int32_t *labels, int k_classes, int64_t n, int k) {
    int32_t *order = dq_malloc((size_t)(n > 0 ? n : 1) * sizeof *order);
    dq_argsort(c, n, order);
    double mi = dq_mi_knn_sorted(c, order, labels, k_classes, n, k);
    free(order);
    return mi;
}

double dq_mi_knn_sorted(const double *c, const int32_t *order, const int32_t *labels, int k_classes,
                        int64_t n, int k) {
    int64_t *count = dq_calloc((size_t)k_classes + 1, sizeof *count);
    for (int64_t i = 0; i < n; i++) count[labels[i] + 1]++;
    int64_t *start = dq_malloc((size_t)(k_classes + 1) * sizeof *start);
    start[0] = 0;
    for (int c2 = 0; c2 < k_classes; c2++) start[c2 + 1] = start[c2] + count[c2 + 1];
    /* Values grouped by class, ascending within each class (a counting sort
     * of the global order), and the values of rows whose class has company. */
    double *by_class = dq_malloc((size_t)(n > 0 ? n : 1) * sizeof *by_class);
    double *kept = dq_malloc((size_t)(n > 0 ? n : 1) * sizeof *kept);
    int64_t *fill = dq_malloc((size_t)(k_classes + 1) * sizeof *fill);
    memcpy(fill, start, (size_t)(k_classes + 1) * sizeof *fill);
    int64_t m = 0;
    for (int64_t q = 0; q < n; q++) {
        int32_t i = order[q], lab = labels[i];
        by_class[fill[lab]++] = c[i];
        if (count[lab + 1] > 1) kept[m++] = c[i];
    }
    /* Points alone in their class are left out, as sklearn does. */
    double sum_k = 0, sum_label = 0, sum_m = 0;
    for (int lab = 0; lab < k_classes; lab++) {
        int64_t len = count[lab + 1];
        if (len < 2) continue;
        int kk = (int)(k < len - 1 ? k : len - 1);
        const double *run = by_class + start[lab];
        double psi_k = dq_digamma(kk), psi_len = dq_digamma((double)len);
        for (int64_t p = 0; p < len; p++) {
            double x = run[p], r = nextafter(kth_distance(run, len, p, kk), 0);
            sum_k += psi_k;
            sum_label += psi_len;
            /* rows of any class within r of x: first with x - v <= r, first with v - x > r */
            int64_t lo = 0, hi = m;
            while (lo < hi) {
                int64_t mid = lo + (hi - lo) / 2;
                if (x - kept[mid] <= r) hi = mid;
                else lo = mid + 1;
            }
            int64_t left = lo;
            hi = m;
            while (lo < hi) {
                int64_t mid = lo + (hi - lo) / 2;
                if (kept[mid] - x <= r) lo = mid + 1;
                else hi = mid;
            }
            sum_m += dq_digamma((double)(lo - left));
        }
    }
    double mi = m > 0 ? dq_digamma((double)m) + (sum_k - sum_label - sum_m) / (double)m : 0;
    free(count);
    free(start);
    free(by_class);
    free(kept);
    free(fill);
    return mi > 0 ? mi : 0;
}

double dq_column_top2_gap(const double *m, int d, int f, int j) {
    double top = -INFINITY, second = -INFINITY;
    for (int i = 0; i < d; i++) {
        double v = m[i * f + j];
        if (v > top) {
            second = top;
            top = v;
        } else if (v > second) {
            second = v;
        }
    }
    return top - second;
}
