/* test_model_golden.c: two FactorQVAE iterations of a tiny config (n=8,
 * batch 4, 8x8x3 images) against PyTorch (tests/golden/gen_golden_factorqvae.py),
 * with the reference's Gumbel noise and permutations injected. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "harness.h"
#include "model/trainer.h"

#define FIXTURES "tests/fixtures/model/"

static int rel_close(double a, double b, double rtol, double atol) {
    return fabs(a - b) <= atol + rtol * fabs(b);
}

TEST(golden_factorqvae_two_steps) {
    dq_trainer t;
    dq_errbuf e;
    int rc = dq_checkpoint_load(FIXTURES "golden_init.safetensors", &t, 0, NULL, &e);
    CHECK_MSG(rc == 0, "%s", e.msg);
    dq_safetensors io, after;
    CHECK_MSG(dq_st_read(FIXTURES "golden_io.safetensors", &io, &e) == 0, "%s", e.msg);
    CHECK_MSG(dq_st_read(FIXTURES "golden_after.safetensors", &after, &e) == 0, "%s", e.msg);
    const dq_st_tensor *x = dq_st_find(&io, "x"), *g1 = dq_st_find(&io, "g1"),
                       *g2 = dq_st_find(&io, "g2"), *perm = dq_st_find(&io, "perm"),
                       *losses = dq_st_find(&io, "losses");
    CHECK(x && g1 && g2 && perm && losses);
    const int steps = (int)x->shape[0], batch = (int)x->shape[1];
    const size_t xs = x->nbytes / steps, gs = g1->nbytes / steps, ps = perm->nbytes / steps;
    dq_step_noise nz = {batch / 2, malloc(gs), malloc(gs), malloc(ps)};
    float *want = malloc(losses->nbytes);
    memcpy(want, losses->data, losses->nbytes);
    for (int s = 0; s < steps; s++) {
        memcpy(nz.g1, (const char *)g1->data + s * gs, gs);
        memcpy(nz.g2, (const char *)g2->data + s * gs, gs);
        memcpy(nz.perm, (const char *)perm->data + s * ps, ps);
        dq_step_stats st;
        dq_train_step(&t, (const uint8_t *)x->data + s * xs, batch, &nz, &st);
        const double got[5] = {st.loss, st.recon, st.kl, st.tc, st.disc};
        for (int k = 0; k < 5; k++)
            CHECK_MSG(rel_close(got[k], want[5 * s + k], 1e-4, 1e-7),
                      "step %d loss term %d: %.9g, PyTorch %.9g", s, k, got[k], want[5 * s + k]);
    }
    const dq_param_set *P = &t.model.params;
    double worst = 0;
    const char *worst_name = "";
    for (int i = 0; i < P->n; i++) {
        const dq_st_tensor *ref = dq_st_find(&after, P->p[i].name);
        CHECK_MSG(ref && ref->nbytes == P->p[i].t.n * sizeof(float), "%s", P->p[i].name);
        float *r = malloc(ref->nbytes);
        memcpy(r, ref->data, ref->nbytes);
        for (size_t j = 0; j < P->p[i].t.n; j++) {
            double e = fabs(P->p[i].t.data[j] - r[j]) / (2e-6 + 1e-4 * fabs(r[j]));
            if (e > worst) {
                worst = e;
                worst_name = P->p[i].name;
            }
        }
        free(r);
    }
    CHECK_MSG(worst <= 1, "weights after %d steps differ from PyTorch: %s at %.3g x tolerance",
              steps, worst_name, worst);
    free(nz.g1);
    free(nz.g2);
    free(nz.perm);
    free(want);
    dq_st_free(&io);
    dq_st_free(&after);
    dq_trainer_free(&t);
}
