/* mi.h: mutual-information estimators the metrics share.
 *
 * Discrete: sklearn.metrics.mutual_info_score (plug-in estimate from the
 * contingency table, nats), which disentanglement_lib calls for MIG,
 * modularity and the unsupervised scores and InfoMEC for discrete codes.
 * Continuous-discrete: the k-nearest-neighbour estimator of Ross (2014) as
 * sklearn's mutual_info_classif computes it (_compute_mi_cd).  sklearn first
 * adds Gaussian noise of scale 1e-10 * max(1, mean |x|) to break ties
 * (repeated latent values, which quantised models produce, otherwise give
 * zero radii and no information); dq_mi_knn_jitter does the same with a
 * fixed seed, so results are deterministic but, like sklearn's, equal the
 * noiseless estimate only when no values repeat. */
#ifndef DISQ_MI_H
#define DISQ_MI_H

#include <stdint.h>

/* disentanglement_lib's _histogram_discretize for one code: edges of
 * np.histogram(v, nbins) (a constant code gets the range v +- 0.5), then
 * np.digitize(v, edges[:-1]), giving bins 1..nbins.  numpy keeps float32
 * arithmetic for float32 input, so `single` selects float32 edges (latents
 * from a float field) or float64 ones (integer codes). Values are read at
 * v[i * stride]. */
void dq_histogram_discretize(const float *v, int64_t n, int64_t stride, int nbins, int single,
                             int32_t *out);

/* disentanglement_lib's discrete_mutual_info(make_discretizer(z), s): out
 * [d, f] (row-major) holds I(bin(z_i); s_j) for latents z [n, d] binned into
 * nbins and factors s [n, f]. */
void dq_binned_mi_matrix(const float *z, int64_t n, int d, int single, int nbins,
                         const int32_t *s, int f, double *out);

/* mutual_info_score(a, b) for integer labels (any values), nats. */
double dq_mutual_info(const int32_t *a, int64_t sa, const int32_t *b, int64_t sb, int64_t n);
/* Entropy H(a) = mutual_info_score(a, a), nats. */
double dq_entropy(const int32_t *a, int64_t sa, int64_t n);

/* I(c; labels) for continuous c[n] and labels (0..k_classes-1) with the k-NN
 * estimator, k neighbours (sklearn's default 3), clipped at 0. */
double dq_mi_knn(const double *c, const int32_t *labels, int k_classes, int64_t n, int k);

/* The same given order[n], the indices of c in ascending order of value
 * (dq_argsort), so that several label sets can share one sort. */
double dq_mi_knn_sorted(const double *c, const int32_t *order, const int32_t *labels, int k_classes,
                        int64_t n, int k);
void dq_argsort(const double *c, int64_t n, int32_t *order);

/* sklearn's preprocessing of a continuous feature for that estimator: v
 * (read at v[i * stride]) scaled to unit standard deviation, plus the
 * tie-breaking noise drawn from `seed`; out[n]. */
void dq_mi_knn_jitter(const float *v, int64_t stride, int64_t n, uint64_t seed, double *out);

double dq_digamma(double x);

/* Largest minus second largest entry of column j of a [d, f] row-major
 * matrix: the gap MIG and SAP average over factors. */
double dq_column_top2_gap(const double *m, int d, int f, int j);

#endif
