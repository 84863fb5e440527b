/* MIG, SAP, modularity/explicitness and InfoMEC against sklearn references. */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "metric/infomec.h"
#include "metric_fixture.h"
#include "metric/mi.h"
#include "metric/mig.h"
#include "metric/modularity.h"
#include "metric/sap.h"

#define FIXTURES(test) \
    test(continuous) test(discrete) test(degenerate) test(binary) test(manyclass) test(identity)

typedef struct {
    dq_metric_input in;
    int64_t tr, te;
} fixture;

static int open_fixture(const char *name, fixture *fx) {
    if (fixture_load(name, &fx->in, 0)) return -1;
    fx->tr = (int64_t)fixture_ref1(name, "train");
    fx->te = (int64_t)fixture_ref1(name, "test");
    return fx->in.rows >= fx->tr + fx->te ? 0 : -1;
}

static void check_matrix(const char *name, const char *key, const double *m, int n, double tol) {
    double ref[256];
    CHECK_MSG(fixture_ref(name, key, ref, 256) == n, "%s: %s has the wrong size", name, key);
    for (int i = 0; i < n; i++) CHECK_NEAR(m[i], ref[i], tol);
}

static void check_mig_modularity(const char *name) {
    fixture fx;
    CHECK(open_fixture(name, &fx) == 0);
    dq_metric_input *in = &fx.in;
    double *mi = malloc((size_t)(in->d * in->f) * sizeof *mi);
    dq_binned_mi_matrix(in->latent, fx.tr, in->d, !in->discrete, 20, in->s, in->f, mi);
    check_matrix(name, "mig.mi", mi, in->d * in->f, 1e-9);
    CHECK_NEAR(dq_mig(mi, in->d, in->f, in->s, fx.tr), fixture_ref1(name, "mig.mig"), 1e-9);
    CHECK_NEAR(dq_modularity(mi, in->d, in->f), fixture_ref1(name, "modularity.modularity"), 1e-9);
    double etr, ete;
    dq_explicitness(in->latent, in->s, fx.tr, in->latent + fx.tr * in->d, in->s + fx.tr * in->f, fx.te,
                    in->d, in->f, &etr, &ete);
    CHECK_NEAR(etr, fixture_ref1(name, "modularity.explicitness_train"), 0.01);
    CHECK_NEAR(ete, fixture_ref1(name, "modularity.explicitness_test"), 0.01);
    free(mi);
    dq_metric_input_free(in);
}

static void check_sap(const char *name) {
    fixture fx;
    CHECK(open_fixture(name, &fx) == 0);
    dq_metric_input *in = &fx.in;
    double *score = malloc((size_t)(in->d * in->f) * sizeof *score);
    double sap = dq_sap(in->latent, in->s, fx.tr, in->latent + fx.tr * in->d, in->s + fx.tr * in->f, fx.te,
                        in->d, in->f, score);
    CHECK_NEAR(sap, fixture_ref1(name, "sap.sap"), 0.01);
    check_matrix(name, "sap.matrix", score, in->d * in->f, 0.02);
    free(score);
    dq_metric_input_free(in);
}

static void check_infomec(const char *name) {
    fixture fx;
    CHECK(open_fixture(name, &fx) == 0);
    dq_metric_input *in = &fx.in;
    double *nmi = malloc((size_t)(in->d * in->f) * sizeof *nmi);
    unsigned char active[64];
    dq_infomec_scores sc;
    int bad;
    CHECK(dq_infomec(in->latent, in->s, fx.tr, in->d, in->f, in->discrete, 3, nmi, active, &sc, &bad) == 0);
    /* Tie-breaking noise gives a constant (inactive) latent a spurious NMI
     * that depends on the draw; only active latents are compared. */
    double ref[256];
    CHECK(fixture_ref(name, "infomec.nmi", ref, 256) == in->d * in->f);
    for (int i = 0; i < in->d * in->f; i++)
        if (active[i / in->f]) CHECK_NEAR(nmi[i], ref[i], in->discrete ? 1e-9 : 0.02);
    /* With repeated continuous values sklearn's own score varies with its
     * noise draw; the generator records that spread. */
    double tol = fmax(0.01, fixture_ref1(name, "infomec.spread"));
    CHECK_NEAR(sc.infom, fixture_ref1(name, "infomec.infom"), tol);
    CHECK_NEAR(sc.infoc, fixture_ref1(name, "infomec.infoc"), tol);
    CHECK_NEAR(sc.infoe, fixture_ref1(name, "infomec.infoe"), 0.01);
    free(nmi);
    dq_metric_input_free(in);
}

#define MIG_TEST(n) TEST(mig_modularity_##n) { check_mig_modularity(#n); }
#define SAP_TEST(n) TEST(sap_##n) { check_sap(#n); }
#define INFOMEC_TEST(n) TEST(infomec_##n) { check_infomec(#n); }
FIXTURES(MIG_TEST)
FIXTURES(SAP_TEST)
FIXTURES(INFOMEC_TEST)

TEST(identity_codes_score_one) {
    enum { N = FACTORIAL_ROWS(5) };
    int32_t s[2 * N];
    float z[2 * N];
    factorial_identity(5, s, z);
    double mi[4], nmi[4];
    dq_binned_mi_matrix(z, N, 2, 0, 20, s, 2, mi);
    CHECK(mi[1] == 0 && mi[2] == 0);
    CHECK_NEAR(dq_mig(mi, 2, 2, s, N), 1.0, 1e-12);
    CHECK_NEAR(dq_modularity(mi, 2, 2), 1.0, 1e-12);
    unsigned char active[2];
    dq_infomec_scores sc;
    int bad;
    CHECK(dq_infomec(z, s, N, 2, 2, 1, 3, nmi, active, &sc, &bad) == 0);
    CHECK_NEAR(nmi[0], 1.0, 1e-12);
    CHECK_NEAR(nmi[3], 1.0, 1e-12);
    CHECK_NEAR(sc.infom, 1.0, 1e-12);
    CHECK_NEAR(sc.infoc, 1.0, 1e-12);
    CHECK_NEAR(sc.infoe, 1.0, 1e-3); /* separable: the unpenalised fit only approaches 0 loss */
}

TEST(mutual_info_matches_definition) {
    int32_t a[8] = {0, 0, 1, 1, 2, 2, 3, 3}, b[8] = {5, 5, 5, 5, 9, 9, 9, 9};
    CHECK_NEAR(dq_entropy(a, 1, 8), log(4.0), 1e-12);
    CHECK_NEAR(dq_mutual_info(a, 1, b, 1, 8), log(2.0), 1e-12);
    int32_t c[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    CHECK(dq_mutual_info(a, 1, c, 1, 8) == 0.0);
}

TEST(histogram_edges_as_numpy) {
    /* np.digitize(v, np.histogram(v, 4)[1][:-1]) for v = 0..8: edges 0,2,4,6 */
    float v[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    int32_t out[9], want[9] = {1, 1, 2, 2, 3, 3, 4, 4, 4};
    dq_histogram_discretize(v, 9, 1, 4, 0, out);
    for (int i = 0; i < 9; i++) CHECK(out[i] == want[i]);
    float flat[3] = {2, 2, 2};
    dq_histogram_discretize(flat, 3, 1, 20, 1, out);
    for (int i = 0; i < 3; i++) CHECK(out[i] == 11); /* range 1.5..2.5: 2.0 is edge 10 */
}

TEST(roc_auc_counts_ties_half) {
    double s[4] = {0.1, 0.4, 0.4, 0.8};
    unsigned char pos[4] = {0, 0, 1, 1};
    CHECK_NEAR(dq_roc_auc(s, 1, pos, 4), 0.875, 1e-12);
}
