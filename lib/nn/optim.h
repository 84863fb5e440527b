/* optim.h: Adam and the learning-rate / temperature schedules of the
 * FactorQVAE reference, with PyTorch's semantics. */
#ifndef DISQ_OPTIM_H
#define DISQ_OPTIM_H

#include <stddef.h>

/* One parameter tensor: its values and its gradient, n floats each. */
typedef struct dq_param {
    float *data;
    float *grad;
    size_t n;
} dq_param;

/* Adam over a whole parameter set (torch.optim.Adam, amsgrad off, weight
 * decay 0): per step t (1-based)
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
 * Hyperparameters are doubles cast to float where torch casts its Python
 * scalars, and the arithmetic follows torch's order, so results agree with
 * torch to within an ulp or so.  The state is `step` plus m and v, each `total` floats laid out as the
 * parameters in order, concatenated: saving step, m and v and restoring them
 * into an optimizer over the same parameter list resumes bit-exactly. */
typedef struct dq_adam {
    dq_param *params; /* copy of the list given to dq_adam_init */
    size_t nparams;
    size_t total;     /* sum of params[i].n */
    float *m, *v;     /* first and second moments, zero at init */
    double beta1, beta2, eps;
    long long step;   /* steps taken so far */
} dq_adam;

void dq_adam_init(dq_adam *opt, const dq_param *params, size_t nparams, double beta1,
                  double beta2, double eps);
void dq_adam_free(dq_adam *opt);
void dq_adam_zero_grad(dq_adam *opt);
/* One update of every parameter with learning rate lr, then step++. */
void dq_adam_step(dq_adam *opt, double lr);

/* torch.optim.lr_scheduler.CosineAnnealingLR, reproduced with its recursive
 * update (in double, as Python does) so that lr matches torch to the last
 * bit; after t_max the rate rises again (period 2 t_max), as torch's does.
 * `lr` is the rate to use for the current step: init gives base_lr (epoch 0),
 * each dq_cosine_lr_step (scheduler.step() in torch, called after the
 * optimizer step) advances epoch and returns the new lr.  Save/restore epoch
 * and lr to resume. */
typedef struct dq_cosine_lr {
    double base_lr, eta_min, lr;
    long long t_max, epoch;
} dq_cosine_lr;

void dq_cosine_lr_init(dq_cosine_lr *s, double base_lr, double eta_min, long long t_max);
double dq_cosine_lr_step(dq_cosine_lr *s);
/* The closed form eta_min + (base_lr - eta_min)(1 + cos(pi epoch / t_max)) / 2,
 * equal to the recursion up to rounding. */
double dq_cosine_lr_closed(double base_lr, double eta_min, long long t_max, long long epoch);

/* Gumbel-softmax temperature of the reference: tau = exp(-rate * step). */
double dq_gumbel_tau(double rate, long long step);

#endif
