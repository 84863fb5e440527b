/* gbdt.c: sklearn-compatible gradient-boosted classification trees (gbdt.h). */
#include "metric/gbdt.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MAX_NODES ((1 << (DQ_GBDT_MAX_DEPTH + 1)) - 1)
/* sklearn's splitter treats values closer than this as equal (float32). */
#define FEATURE_THRESHOLD 1e-7f

typedef struct {
    int feature;            /* -1 for a leaf */
    double threshold;       /* x <= threshold goes left */
    int left, right;
    int64_t start;          /* first row of the node's group in tree_work */
    int64_t n;
    double sum, sq, impurity;
    double value;           /* leaf output after the Newton step */
} tree_node;

typedef struct {
    tree_node node[MAX_NODES];
    int count;
} tree;

/* Per-node state of one pass over a feature's sorted samples. */
typedef struct {
    int64_t n_left;
    double sum_left;
    float last;
    double best_proxy;
    int best_feature;
    double best_threshold;
} scan_state;

static int cmp_sort_key(const void *a, const void *b) {
    float x = ((const dq_gbdt_entry *)a)->value, y = ((const dq_gbdt_entry *)b)->value;
    return (x > y) - (x < y);
}

void dq_gbdt_data_init(dq_gbdt_data *g, const float *x, int64_t n, int d) {
    g->n = n;
    g->d = d;
    g->x = x;
    g->sorted = dq_malloc((size_t)n * (size_t)d * sizeof *g->sorted);
    #pragma omp parallel for schedule(dynamic)
    for (int f = 0; f < d; f++) {
        dq_gbdt_entry *e = g->sorted + (int64_t)f * n;
        for (int64_t i = 0; i < n; i++) e[i] = (dq_gbdt_entry){x[i * d + f], (int32_t)i};
        qsort(e, (size_t)n, sizeof *e, cmp_sort_key);
    }
}

void dq_gbdt_data_free(dq_gbdt_data *g) {
    free(g->sorted);
    g->sorted = NULL;
}

static double mse_impurity(int64_t n, double sum, double sq) {
    double mean = sum / (double)n;
    return sq / (double)n - mean * mean;
}

/* Scan one node's rows of feature f, given in ascending order of value, the
 * way sklearn's BestSplitter does: a candidate between two consecutive rows
 * whose values differ by more than FEATURE_THRESHOLD, kept when its
 * friedman_mse proxy (n_r s_l - n_l s_r)^2 / (n_l n_r) beats the best so far.
 * The test multiplies out the denominator (it runs for nearly every row);
 * the division happens only for new records. */
static void scan_node(const dq_gbdt_params *p, const dq_gbdt_entry *sorted, int f, const double *r,
                      const tree_node *nd, scan_state *s) {
    const int64_t n = nd->n, min_leaf = p->min_samples_leaf;
    const double total = nd->sum;
    double best = s->best_proxy, sum_left = r[sorted[0].row];
    float last = sorted[0].value;
    for (int64_t q = 1; q < n; q++) {
        float v = sorted[q].value;
        if (!(v <= last + FEATURE_THRESHOLD) && q >= min_leaf && n - q >= min_leaf) {
            double nl = (double)q, nr = (double)(n - q);
            double diff = nr * sum_left - nl * (total - sum_left);
            double den = nl * nr, sq = diff * diff;
            if (sq > best * den && sq / den > best) {
                best = sq / den;
                s->best_feature = f;
                double thr = last / 2.0 + v / 2.0;
                if (thr == v || isinf(thr)) thr = last;
                s->best_threshold = thr;
            }
        }
        sum_left += r[sorted[q].row];
        last = v;
    }
    s->best_proxy = best;
}

/* Rows grouped by node, each group in ascending order of each feature, so a
 * node's scan reads contiguous memory with its running sums in registers.
 * Splitting a node partitions its group stably, keeping every order. */
typedef struct {
    dq_gbdt_entry *sorted, *spill; /* [d, n], [n] */
} tree_work;

static void partition(const dq_gbdt_data *g, tree_work *w, const tree *t, const unsigned char *split,
                      int first, int end, const uint16_t *node_of, int from_presorted) {
    int64_t n = g->n;
    for (int f = 0; f < g->d; f++) {
        const dq_gbdt_entry *src = (from_presorted ? g->sorted : w->sorted) + (int64_t)f * n;
        dq_gbdt_entry *dst = w->sorted + (int64_t)f * n, *spill = w->spill;
        for (int j = first; j < end; j++) {
            if (!split[j]) continue;
            const tree_node *nd = &t->node[j];
            int64_t left = nd->start, right = 0, stop = nd->start + nd->n;
            uint16_t to_left = (uint16_t)nd->left;
            /* branch-free: each entry is written to both sides, one cursor moves */
            for (int64_t q = nd->start; q < stop; q++) {
                dq_gbdt_entry e = src[q];
                int go_left = node_of[e.row] == to_left;
                dst[left] = e;
                spill[right] = e;
                left += go_left;
                right += !go_left;
            }
            memcpy(dst + left, spill, (size_t)right * sizeof *dst);
        }
    }
}

/* Grow one friedman_mse regression tree on residuals r; node_of[i] ends as
 * the leaf of training row i; importance[f] += this tree's un-normalised
 * impurity decrease / n.  Returns the node count. */
static int grow_tree(const dq_gbdt_params *p, const dq_gbdt_data *g, const double *r,
                     uint16_t *node_of, tree_work *w, tree *t, double *importance) {
    int64_t n = g->n;
    tree_node *root = &t->node[0];
    memset(root, 0, sizeof *root);
    root->feature = -1;
    root->n = n;
    for (int64_t i = 0; i < n; i++) {
        node_of[i] = 0;
        root->sum += r[i];
        root->sq += r[i] * r[i];
    }
    root->impurity = mse_impurity(n, root->sum, root->sq);
    t->count = 1;

    unsigned char splittable[MAX_NODES];
    scan_state st[MAX_NODES];
    int first = 0, end = 1;
    for (int depth = 0; depth < p->max_depth && first < end; depth++) {
        int any = 0;
        memset(splittable, 0, sizeof splittable);
        for (int j = first; j < end; j++) {
            tree_node *nd = &t->node[j];
            splittable[j] = nd->n >= p->min_samples_split && nd->n >= 2 * p->min_samples_leaf &&
                            !(nd->impurity <= DBL_EPSILON);
            st[j].best_proxy = -INFINITY;
            st[j].best_feature = -1;
            any |= splittable[j];
        }
        if (!any) break;
        for (int f = 0; f < g->d; f++) {
            const dq_gbdt_entry *sorted = (depth == 0 ? g->sorted : w->sorted) + (int64_t)f * n;
            for (int j = first; j < end; j++)
                if (splittable[j]) scan_node(p, sorted + t->node[j].start, f, r, &t->node[j], &st[j]);
        }

        int next = end;
        for (int j = first; j < end; j++) {
            splittable[j] = splittable[j] && st[j].best_feature >= 0;
            if (!splittable[j]) continue;
            tree_node *nd = &t->node[j];
            nd->feature = st[j].best_feature;
            nd->threshold = st[j].best_threshold;
            nd->left = next++;
            nd->right = next++;
            for (int c = nd->left; c <= nd->right; c++) {
                memset(&t->node[c], 0, sizeof t->node[c]);
                t->node[c].feature = -1;
            }
        }
        if (next == end) break;
        for (int64_t i = 0; i < n; i++) {
            int j = node_of[i];
            if (!splittable[j]) continue;
            const tree_node *nd = &t->node[j];
            int c = g->x[i * g->d + nd->feature] <= nd->threshold ? nd->left : nd->right;
            node_of[i] = (uint16_t)c;
            t->node[c].n++;
            t->node[c].sum += r[i];
            t->node[c].sq += r[i] * r[i];
        }
        for (int j = first; j < end; j++) {
            if (!splittable[j]) continue;
            tree_node *nd = &t->node[j], *L = &t->node[nd->left], *R = &t->node[nd->right];
            L->impurity = mse_impurity(L->n, L->sum, L->sq);
            R->impurity = mse_impurity(R->n, R->sum, R->sq);
            L->start = nd->start;
            R->start = nd->start + L->n;
            importance[nd->feature] += ((double)nd->n * nd->impurity - (double)L->n * L->impurity -
                                        (double)R->n * R->impurity) / (double)n;
        }
        if (depth + 1 < p->max_depth) partition(g, w, t, splittable, first, end, node_of, depth == 0);
        first = end;
        end = next;
        t->count = next;
    }
    return t->count;
}

/* Replace each leaf's mean by sklearn's one-step Newton estimate. */
static void newton_leaves(tree *t, const uint16_t *node_of, const double *r, const int32_t *y,
                          int klass, int k, int64_t n) {
    double num[MAX_NODES] = {0}, den[MAX_NODES] = {0};
    for (int64_t i = 0; i < n; i++) {
        double yi = y[i] == klass;
        num[node_of[i]] += r[i];
        den[node_of[i]] += (yi - r[i]) * (1.0 - yi + r[i]);
    }
    for (int j = 0; j < t->count; j++) {
        if (t->node[j].feature >= 0) continue;
        double nu = k > 2 ? num[j] * (double)(k - 1) / (double)k : num[j];
        t->node[j].value = fabs(den[j]) < 1e-150 ? 0.0 : nu / den[j];
    }
}

static double tree_predict(const tree *t, const float *x) {
    const tree_node *nd = &t->node[0];
    while (nd->feature >= 0) nd = &t->node[x[nd->feature] <= nd->threshold ? nd->left : nd->right];
    return nd->value;
}

static void init_raw(const int32_t *y, int64_t n, int k, double *prior_raw) {
    double eps = FLT_EPSILON;
    double *count = dq_calloc((size_t)k, sizeof *count);
    for (int64_t i = 0; i < n; i++) count[y[i]] += 1;
    if (k == 2) {
        double p1 = fmin(fmax(count[1] / (double)n, eps), 1 - eps);
        prior_raw[0] = log(p1 / (1 - p1));
    } else {
        for (int c = 0; c < k; c++) prior_raw[c] = log(fmin(fmax(count[c] / (double)n, eps), 1 - eps));
    }
    free(count);
}

/* Negative gradients of the log-loss at the stage's starting raw scores. */
static void residuals(const double *raw, const int32_t *y, int64_t n, int k, int trees, double *r) {
    for (int64_t i = 0; i < n; i++) {
        const double *ri = raw + i * trees;
        if (k == 2) {
            r[i] = (double)(y[i] == 1) - 1.0 / (1.0 + exp(-ri[0]));
            continue;
        }
        double m = ri[0], e[k], s = 0;
        for (int c = 1; c < k; c++) m = fmax(m, ri[c]);
        for (int c = 0; c < k; c++) s += (e[c] = exp(ri[c] - m));
        for (int c = 0; c < k; c++) r[(int64_t)c * n + i] = (double)(y[i] == c) - e[c] / s;
    }
}

static void decide(const double *raw, int64_t n, int k, int trees, int32_t *pred) {
    for (int64_t i = 0; i < n; i++) {
        const double *ri = raw + i * trees;
        if (k == 2) {
            double p1 = 1.0 / (1.0 + exp(-ri[0]));
            pred[i] = p1 > 1.0 - p1;
            continue;
        }
        int best = 0;
        for (int c = 1; c < k; c++)
            if (ri[c] > ri[best]) best = c;
        pred[i] = best;
    }
}

void dq_gbdt_classify(const dq_gbdt_params *p, const dq_gbdt_data *g, const int32_t *y, int k,
                      const float *x_test, int64_t n_test, double *importance,
                      int32_t *pred_train, int32_t *pred_test) {
    int64_t n = g->n;
    int d = g->d;
    int trees = k == 2 ? 1 : k;
    double prior_raw[trees];
    init_raw(y, n, k, prior_raw);
    double *raw = dq_malloc((size_t)n * (size_t)trees * sizeof *raw);
    double *raw_test = dq_malloc((size_t)(n_test > 0 ? n_test : 1) * (size_t)trees * sizeof *raw_test);
    for (int64_t i = 0; i < n; i++) memcpy(raw + i * trees, prior_raw, sizeof prior_raw);
    for (int64_t i = 0; i < n_test; i++) memcpy(raw_test + i * trees, prior_raw, sizeof prior_raw);
    double *r = dq_malloc((size_t)n * (size_t)trees * sizeof *r);
    uint16_t *node_of = dq_malloc((size_t)n * (size_t)trees * sizeof *node_of);
    double *tree_imp = dq_malloc((size_t)trees * (size_t)d * sizeof *tree_imp);
    int *tree_split = dq_malloc((size_t)trees * sizeof *tree_split);
    tree *tr = dq_malloc((size_t)trees * sizeof *tr);
    tree_work *work = dq_malloc((size_t)trees * sizeof *work);
    for (int c = 0; c < trees; c++) {
        work[c].sorted = dq_malloc((size_t)n * d * sizeof *work[c].sorted);
        work[c].spill = dq_malloc((size_t)n * sizeof *work[c].spill);
    }
    double *imp_sum = dq_calloc((size_t)d, sizeof *imp_sum);
    int64_t relevant = 0;

    for (int stage = 0; stage < p->n_estimators; stage++) {
        residuals(raw, y, n, k, trees, r);
        #pragma omp parallel for schedule(dynamic) if (trees > 1 && n * trees >= 20000)
        for (int c = 0; c < trees; c++) {
            const double *rc = r + (int64_t)c * n;
            uint16_t *nc = node_of + (int64_t)c * n;
            double *ic = tree_imp + (int64_t)c * d;
            memset(ic, 0, (size_t)d * sizeof *ic);
            tree_split[c] = grow_tree(p, g, rc, nc, &work[c], &tr[c], ic) > 1;
            newton_leaves(&tr[c], nc, rc, y, k == 2 ? 1 : c, k, n);
            for (int64_t i = 0; i < n; i++)
                raw[i * trees + c] += p->learning_rate * tr[c].node[nc[i]].value;
            for (int64_t i = 0; i < n_test; i++)
                raw_test[i * trees + c] += p->learning_rate * tree_predict(&tr[c], x_test + i * d);
        }
        for (int c = 0; c < trees; c++) {
            if (!tree_split[c]) continue;
            relevant++;
            for (int f = 0; f < d; f++) imp_sum[f] += tree_imp[(int64_t)c * d + f];
        }
    }

    double total = 0;
    for (int f = 0; f < d; f++) {
        importance[f] = relevant ? imp_sum[f] / (double)relevant : 0.0;
        total += importance[f];
    }
    if (relevant)
        for (int f = 0; f < d; f++) importance[f] /= total;
    if (pred_train) decide(raw, n, k, trees, pred_train);
    if (pred_test && n_test > 0) decide(raw_test, n_test, k, trees, pred_test);
    free(raw);
    free(raw_test);
    free(r);
    free(node_of);
    free(tree_imp);
    free(tree_split);
    for (int c = 0; c < trees; c++) {
        free(work[c].sorted);
        free(work[c].spill);
    }
    free(work);
    free(tr);
    free(imp_sum);
}
