/* DCI and its gradient-boosting classifier against sklearn references. */
#include <math.h>
#include <stdlib.h>

#include "metric/dci.h"
#include "harness.h"
#include "metric_fixture.h"

static void check_dci_fixture(const char *name) {
    dq_metric_input in;
    CHECK_MSG(fixture_load(name, &in, 0) == 0, "cannot open fixture %s", name);
    int64_t tr = (int64_t)fixture_ref1(name, "train"), te = (int64_t)fixture_ref1(name, "test");
    CHECK(in.rows >= tr + te);
    dq_gbdt_params p = DQ_GBDT_DEFAULTS;
    double *imp = malloc((size_t)(in.d * in.f) * sizeof *imp), ref[256];
    dq_dci_scores sc;
    int bad = -1;
    int st = dq_dci(&p, in.latent, in.s, tr, in.latent + tr * in.d, in.s + tr * in.f, te, in.d, in.f,
                    imp, &sc, &bad);
    CHECK(st == 0);
    CHECK_NEAR(sc.disentanglement, fixture_ref1(name, "dci.disentanglement"), 0.01);
    CHECK_NEAR(sc.completeness, fixture_ref1(name, "dci.completeness"), 0.01);
    CHECK_NEAR(sc.informativeness_test, fixture_ref1(name, "dci.informativeness_test"), 0.01);
    CHECK_NEAR(sc.informativeness_train, fixture_ref1(name, "dci.informativeness_train"), 0.01);
    CHECK(fixture_ref(name, "dci.importance", ref, 256) == in.d * in.f);
    for (int i = 0; i < in.d * in.f; i++) CHECK_NEAR(imp[i], ref[i], 0.02);
    free(imp);
    dq_metric_input_free(&in);
}

TEST(dci_continuous) { check_dci_fixture("continuous"); }
TEST(dci_discrete) { check_dci_fixture("discrete"); }
TEST(dci_degenerate) { check_dci_fixture("degenerate"); }
TEST(dci_binary) { check_dci_fixture("binary"); }
TEST(dci_manyclass) { check_dci_fixture("manyclass"); }
TEST(dci_identity) { check_dci_fixture("identity"); }

TEST(dci_identity_importance_is_perfect) {
    double r[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    CHECK_NEAR(dq_dci_disentanglement(r, 3, 3), 1.0, 1e-9);
    CHECK_NEAR(dq_dci_completeness(r, 3, 3), 1.0, 1e-9);
    double u[4] = {1, 1, 1, 1}; /* every code informs every factor equally */
    CHECK_NEAR(dq_dci_disentanglement(u, 2, 2), 0.0, 1e-9);
    CHECK_NEAR(dq_dci_completeness(u, 2, 2), 0.0, 1e-9);
}

TEST(dci_factorial_identity_is_perfect) {
    enum { N = FACTORIAL_ROWS(5) };
    int32_t s[2 * N];
    float z[2 * N];
    factorial_identity(5, s, z);
    dq_gbdt_params p = DQ_GBDT_DEFAULTS;
    double imp[4];
    dq_dci_scores sc;
    int bad;
    CHECK(dq_dci(&p, z, s, N, z, s, N, 2, 2, imp, &sc, &bad) == 0);
    CHECK(imp[1] < 1e-12 && imp[2] < 1e-12); /* rounding-level splits only */
    CHECK_NEAR(sc.disentanglement, 1.0, 1e-9);
    CHECK_NEAR(sc.completeness, 1.0, 1e-9);
    CHECK_NEAR(sc.informativeness_test, 1.0, 1e-12);
}

TEST(dci_single_class_factor_is_refused) {
    float z[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    int32_t s[16] = {0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1}; /* [8, 2]: column 1 constant */
    dq_gbdt_params p = DQ_GBDT_DEFAULTS;
    double imp[2];
    dq_dci_scores sc;
    int bad = -1;
    CHECK(dq_dci(&p, z, s, 8, z, s, 0, 1, 2, imp, &sc, &bad) == -1);
    CHECK(bad == 1);
}

/* A single threshold separates the classes: one split, perfect accuracy. */
TEST(gbdt_separable_binary) {
    enum { N = 40 };
    float x[N * 2];
    int32_t y[N], pred[N];
    for (int i = 0; i < N; i++) {
        x[2 * i] = (float)((i * 7) % N);
        x[2 * i + 1] = (float)((i * 13) % 5);
        y[i] = x[2 * i] >= 20;
    }
    dq_gbdt_data g;
    dq_gbdt_data_init(&g, x, N, 2);
    dq_gbdt_params p = DQ_GBDT_DEFAULTS;
    double imp[2];
    dq_gbdt_classify(&p, &g, y, 2, NULL, 0, imp, pred, NULL);
    dq_gbdt_data_free(&g);
    for (int i = 0; i < N; i++) CHECK(pred[i] == y[i]);
    CHECK_NEAR(imp[0], 1.0, 1e-12);
}
