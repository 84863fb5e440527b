/* FactorVAE, BetaVAE and unsupervised scores against references. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metric/intervention.h"
#include "metric_fixture.h"
#include "metric/unsupervised.h"

static void check_intervention(const char *name, int pairs) {
    dq_metric_input in;
    CHECK(fixture_load(name, &in, 1) == 0);
    int64_t tr = (int64_t)fixture_ref1(name, "train"), te = (int64_t)fixture_ref1(name, "test");
    dq_votes v;
    dq_errbuf e;
    CHECK_MSG(dq_votes_split(in.vote, in.fixed, in.rows, in.f, 2, pairs, &v, &e) == 0, "%s", e.msg);
    CHECK(v.count == tr + te);
    dq_intervention_scores sc;
    if (pairs) {
        CHECK(dq_betavae(in.latent, in.d, &v, tr, te, &sc) == 0);
    } else {
        dq_factorvae(in.latent, in.rows, in.d, in.f, &v, tr, te, &sc);
        CHECK(sc.active_dims == (int)fixture_ref1(name, "factorvae.num_active_dims"));
    }
    char key[64];
    snprintf(key, sizeof key, "%s.train_accuracy", name);
    CHECK_NEAR(sc.train_accuracy, fixture_ref1(name, key), pairs ? 0.01 : 1e-9);
    snprintf(key, sizeof key, "%s.eval_accuracy", name);
    CHECK_NEAR(sc.eval_accuracy, fixture_ref1(name, key), pairs ? 0.01 : 1e-9);
    dq_votes_free(&v);
    dq_metric_input_free(&in);
}

TEST(factorvae_fixture) { check_intervention("factorvae", 0); }
TEST(betavae_fixture) { check_intervention("betavae", 1); }

TEST(votes_reject_inconsistent_fixed) {
    int32_t vote[4] = {0, 0, 1, 1}, fixed[4] = {0, 1, 1, 1};
    dq_votes v;
    dq_errbuf e;
    CHECK(dq_votes_split(vote, fixed, 4, 2, 2, 0, &v, &e) == -1);
    CHECK(strstr(e.msg, "changes inside the vote") != NULL);
    int32_t odd_vote[3] = {0, 0, 0}, odd_fixed[3] = {0, 0, 0};
    CHECK(dq_votes_split(odd_vote, odd_fixed, 3, 2, 2, 1, &v, &e) == -1);
}

static void check_unsupervised(const char *name) {
    dq_metric_input in;
    CHECK(fixture_load(name, &in, 0) == 0);
    int64_t tr = (int64_t)fixture_ref1(name, "train");
    dq_unsupervised_scores sc;
    dq_unsupervised(in.latent, tr, in.d, !in.discrete, &sc);
    double tc = fixture_ref1(name, "unsupervised.gaussian_total_correlation");
    if (isfinite(tc)) CHECK_NEAR(sc.total_correlation, tc, 1e-6);
    else CHECK(isnan(sc.total_correlation));
    CHECK_NEAR(sc.wasserstein, fixture_ref1(name, "unsupervised.gaussian_wasserstein_correlation"), 1e-6);
    CHECK_NEAR(sc.wasserstein_norm, fixture_ref1(name, "unsupervised.gaussian_wasserstein_correlation_norm"), 1e-6);
    CHECK_NEAR(sc.mutual_info, fixture_ref1(name, "unsupervised.mutual_info_score"), 1e-9);
    dq_metric_input_free(&in);
}

TEST(unsupervised_continuous) { check_unsupervised("continuous"); }
TEST(unsupervised_discrete) { check_unsupervised("discrete"); }
TEST(unsupervised_binary) { check_unsupervised("binary"); }
TEST(unsupervised_manyclass) { check_unsupervised("manyclass"); }
TEST(unsupervised_degenerate) { check_unsupervised("degenerate"); }

TEST(unsupervised_independent_axes) {
    /* Uncorrelated latents: total correlation 0 and Wasserstein correlation 0. */
    float z[8] = {1, 1, -1, 1, 1, -1, -1, -1};
    dq_unsupervised_scores sc;
    dq_unsupervised(z, 4, 2, 1, &sc);
    CHECK_NEAR(sc.total_correlation, 0.0, 1e-12);
    CHECK_NEAR(sc.wasserstein, 0.0, 1e-12);
}

TEST(symmetric_eigenvalues) {
    double a[4] = {2, 1, 1, 2}, e[2];
    dq_symmetric_eigenvalues(a, 2, e);
    CHECK_NEAR(fmin(e[0], e[1]), 1.0, 1e-12);
    CHECK_NEAR(fmax(e[0], e[1]), 3.0, 1e-12);
}
