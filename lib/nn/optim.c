/* optim.c: Adam (torch.optim.Adam's single-tensor arithmetic) and the
 * schedules of the reference training loop. */
#include "nn/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void dq_adam_init(dq_adam *opt, const dq_param *params, size_t nparams, double beta1,
                  double beta2, double eps) {
    memset(opt, 0, sizeof *opt);
    opt->params = dq_malloc((nparams ? nparams : 1) * sizeof *params);
    memcpy(opt->params, params, nparams * sizeof *params);
    opt->nparams = nparams;
    for (size_t i = 0; i < nparams; i++) opt->total += params[i].n;
    opt->m = dq_alloc_aligned((opt->total ? opt->total : 1) * sizeof(float));
    opt->v = dq_alloc_aligned((opt->total ? opt->total : 1) * sizeof(float));
    memset(opt->m, 0, opt->total * sizeof(float));
    memset(opt->v, 0, opt->total * sizeof(float));
    opt->beta1 = beta1;
    opt->beta2 = beta2;
    opt->eps = eps;
}

void dq_adam_free(dq_adam *opt) {
    free(opt->params);
    free(opt->m);
    free(opt->v);
    memset(opt, 0, sizeof *opt);
}

void dq_adam_zero_grad(dq_adam *opt) {
    for (size_t i = 0; i < opt->nparams; i++)
        memset(opt->params[i].grad, 0, opt->params[i].n * sizeof(float));
}

void dq_adam_step(dq_adam *opt, double lr) {
    opt->step++;
    /* Bias corrections in double, as torch computes them in Python. */
    double bc1 = 1.0 - pow(opt->beta1, (double)opt->step);
    double bc2 = 1.0 - pow(opt->beta2, (double)opt->step);
    float step_size = (float)(lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    float b1 = (float)opt->beta1, one_minus_b1 = (float)(1.0 - opt->beta1);
    float b2 = (float)opt->beta2, one_minus_b2 = (float)(1.0 - opt->beta2);
    float eps = (float)opt->eps;
    size_t base = 0;
    for (size_t i = 0; i < opt->nparams; i++) {
        float *p = opt->params[i].data;
        const float *g = opt->params[i].grad;
        float *m = opt->m + base, *v = opt->v + base;
        size_t n = opt->params[i].n;
#pragma omp parallel for schedule(static) if (n > 65536)
        for (size_t j = 0; j < n; j++) {
            m[j] = m[j] * b1 + one_minus_b1 * g[j];
            v[j] = v[j] * b2 + one_minus_b2 * g[j] * g[j];
            p[j] -= step_size * (m[j] / (sqrtf(v[j]) / bc2_sqrt + eps));
        }
        base += n;
    }
}

void dq_cosine_lr_init(dq_cosine_lr *s, double base_lr, double eta_min, long long t_max) {
    s->base_lr = base_lr;
    s->eta_min = eta_min;
    s->t_max = t_max;
    s->epoch = 0;
    s->lr = base_lr;
}

/* torch's CosineAnnealingLR.get_lr: a ratio of consecutive cosine factors,
 * except just past each maximum of the period, where the ratio is 0/0 and
 * torch adds the step explicitly. */
double dq_cosine_lr_step(dq_cosine_lr *s) {
    const double pi = 3.141592653589793;
    long long t = ++s->epoch, T = s->t_max;
    if ((((t - 1 - T) % (2 * T)) + 2 * T) % (2 * T) == 0)
        s->lr = s->lr + (s->base_lr - s->eta_min) * (1 - cos(pi / T)) / 2;
    else
        s->lr = (1 + cos(pi * t / T)) / (1 + cos(pi * (t - 1) / T)) * (s->lr - s->eta_min) + s->eta_min;
    return s->lr;
}

double dq_cosine_lr_closed(double base_lr, double eta_min, long long t_max, long long epoch) {
    const double pi = 3.141592653589793;
    return eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2;
}

double dq_gumbel_tau(double rate, long long step) { return exp(-rate * (double)step); }
