/* gbdt.h: gradient-boosted decision trees for classification, reproducing
 * sklearn's GradientBoostingClassifier with its default settings, which is what
 * disentanglement_lib's DCI metric trains (disq-metrics(7)):
 *   - log-loss: K > 2 classes fit one regression tree per class per stage on
 *     the multinomial residuals; K = 2 fits a single tree on the binomial ones;
 *   - initial raw scores from the class priors (log p_k, or the log-odds),
 *     priors clipped to [eps32, 1 - eps32];
 *   - trees of sklearn's DecisionTreeRegressor(criterion="friedman_mse"):
 *     best split over every feature, threshold at the midpoint of two adjacent
 *     distinct float32 values, depth-first growth to max_depth, a node is a
 *     leaf when its impurity is <= DBL_EPSILON or it has too few samples;
 *   - leaf values replaced by one Newton step: (K-1)/K * sum r / sum |r|(1-|r|)
 *     for K > 2, sum r / sum p(1-p) for K = 2;
 *   - feature importances: per tree the un-normalised impurity decrease per
 *     feature divided by the root's sample count, averaged over the trees that
 *     have more than one node, then normalised to sum 1 (zeros when no tree
 *     split at all).
 * sklearn visits features in a random order and keeps the first strictly best
 * split; here the order is 0..d-1, so only exact ties between different
 * features (e.g. duplicated columns) can be resolved differently.
 *
 * Speed: features are sorted once (dq_gbdt_data); trees grow level by level,
 * each split partitioning its rows stably so every node keeps its rows in
 * sorted order per feature (no re-sorting, contiguous scans); the K trees of a
 * stage are independent and fitted in parallel (OpenMP). */
#ifndef DISQ_GBDT_H
#define DISQ_GBDT_H

#include <stdint.h>

#define DQ_GBDT_MAX_DEPTH 8

typedef struct {
    int n_estimators;     /* stages (100) */
    double learning_rate; /* shrinkage (0.1) */
    int max_depth;        /* 1..DQ_GBDT_MAX_DEPTH (3) */
    int min_samples_split;/* (2) */
    int min_samples_leaf; /* (1) */
} dq_gbdt_params;

#define DQ_GBDT_DEFAULTS {100, 0.1, 3, 2, 1}

/* Training features, presorted once and shared by every classifier fitted on
 * them (DCI fits one per factor on the same codes). */
typedef struct {
    float value;
    int32_t row;
} dq_gbdt_entry;

typedef struct {
    int64_t n;
    int d;
    const float *x;         /* [n, d] row-major, borrowed */
    dq_gbdt_entry *sorted;  /* [d, n] each feature's (value, row) in ascending order of value */
} dq_gbdt_data;

void dq_gbdt_data_init(dq_gbdt_data *g, const float *x, int64_t n, int d);
void dq_gbdt_data_free(dq_gbdt_data *g);

/* Fit a classifier to y (class indices 0..k-1, k >= 2, each class present)
 * and report: importance[d] (sklearn's feature_importances_), pred_train[n]
 * (predicted class of each training row, may be NULL) and, for the n_test rows
 * of x_test [n_test, d], pred_test (may be NULL when n_test is 0). */
void dq_gbdt_classify(const dq_gbdt_params *p, const dq_gbdt_data *g, const int32_t *y, int k,
                      const float *x_test, int64_t n_test, double *importance,
                      int32_t *pred_train, int32_t *pred_test);

#endif
