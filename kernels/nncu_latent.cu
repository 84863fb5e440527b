// nncu_latent.cu: the CUDA twin of lib/nn/nn_latent.c (Gaussian head, BioAE
// penalty, Friede et al.'s category values).  These arrays are a batch of
// latents, small next to the networks': one thread per element, and the sums
// by nncu_sum_terms (deterministic).
#include "nncu_internal.cuh"

// ---- Gaussian head: z [b, 2d] = (mu, logvar) per image ----

__global__ static void gaussian_sample_kernel(const float *z, const float *eps, int b, int d, float *zq) {
    NNCU_FOR(k, (size_t)b * d) {
        const size_t i = k / d, j = k % d;
        const float mu = z[i * 2 * d + j], lv = z[i * 2 * d + d + j];
        zq[k] = eps ? __fadd_rn(mu, __fmul_rn(eps[k], (float)exp(0.5 * lv))) : mu;
    }
}

struct gaussian_kl_term {
    const float *z;
    int d;
    __device__ double operator()(size_t k) const {
        const size_t i = k / d, j = k % d;
        const double mu = z[i * 2 * d + j], lv = z[i * 2 * d + d + j];
        return -0.5 * (1.0 + lv - mu * mu - exp(lv));
    }
};

__global__ static void gaussian_backward_kernel(const float *z, const float *eps, const float *dzq,
                                                const float *ddisc, int b, int d, float kl_scale, float *dz) {
    NNCU_FOR(k, (size_t)b * d) {
        const size_t i = k / d, j = k % d;
        const float mu = z[i * 2 * d + j], lv = z[i * 2 * d + d + j];
        const float g = dzq[k] + (ddisc ? ddisc[k] : 0.0f), sd = expf(0.5f * lv);
        float dlv = kl_scale * 0.5f * (sd * sd - 1.0f);
        if (eps) dlv += g * eps[k] * 0.5f * sd;
        dz[i * 2 * d + j] = g + kl_scale * mu;
        dz[i * 2 * d + d + j] = dlv;
    }
}

extern "C" void nncu_gaussian_sample_forward(nncu_ctx *ctx, const float *z, const float *eps, int b, int d,
                                             float *zq) {
    NNCU_LAUNCH(gaussian_sample_kernel, (size_t)b * d)(z, eps, b, d, zq);
    NNCU_LAUNCHED();
}

extern "C" void nncu_gaussian_kl_forward(nncu_ctx *ctx, const float *z, int b, int d, double *out) {
    nncu_sum_terms(ctx, gaussian_kl_term{z, d}, (size_t)b * d, b ? (double)b : 1.0, out);
}

extern "C" void nncu_gaussian_backward(nncu_ctx *ctx, const float *z, const float *eps, const float *dzq,
                                       const float *ddisc, int b, int d, float kl_scale, float *dz) {
    NNCU_LAUNCH(gaussian_backward_kernel, (size_t)b * d)(z, eps, dzq, ddisc, b, d, kl_scale, dz);
    NNCU_LAUNCHED();
}

// ---- BioAE penalty ----

struct bio_term {
    const float *z;
    double gamma, beta;
    __device__ double operator()(size_t i) const {
        const double v = z[i];
        return gamma * (v < 0 ? -v : 0.0) + beta * v * v;
    }
};

__global__ static void bio_backward_kernel(const float *z, size_t n, float nonneg, float act, float *dz) {
    NNCU_FOR(i, n) dz[i] += act * z[i] - (z[i] < 0 ? nonneg : 0.0f);
}

extern "C" void nncu_bio_penalty_forward(nncu_ctx *ctx, const float *z, size_t n, double gamma, double beta,
                                         double *out) {
    nncu_sum_terms(ctx, bio_term{z, gamma, beta}, n, n ? (double)n : 1.0, out);
}

extern "C" void nncu_bio_penalty_backward(nncu_ctx *ctx, const float *z, size_t n, double gamma, double beta,
                                          float *dz) {
    if (n == 0) return;
    NNCU_LAUNCH(bio_backward_kernel, n)(z, n, (float)(gamma / (double)n), (float)(2 * beta / (double)n), dz);
    NNCU_LAUNCHED();
}

// ---- Friede et al.'s category values ----

__global__ static void category_values_kernel(const float *w, int rows, int K, float *zq) {
    NNCU_FOR(r, (size_t)rows) {
        double s = 0;
        for (int k = 0; k < K; k++) s += (double)w[r * K + k] * nn_category_value(k, K);
        zq[r] = (float)s;
    }
}

__global__ static void category_values_backward_kernel(const float *dzq, const float *ddisc, int rows, int K,
                                                       float *dw) {
    NNCU_FOR(i, (size_t)rows * K) {
        const size_t r = i / K;
        const float g = dzq[r] + (ddisc ? ddisc[r] : 0.0f);
        dw[i] = g * nn_category_value((int)(i % K), K);
    }
}

extern "C" void nncu_category_values_forward(nncu_ctx *ctx, const float *w, int rows, int K, float *zq) {
    NNCU_LAUNCH(category_values_kernel, (size_t)rows)(w, rows, K, zq);
    NNCU_LAUNCHED();
}

extern "C" void nncu_category_values_backward(nncu_ctx *ctx, const float *dzq, const float *ddisc, int rows,
                                              int K, float *dw) {
    NNCU_LAUNCH(category_values_backward_kernel, (size_t)rows * K)(dzq, ddisc, rows, K, dw);
    NNCU_LAUNCHED();
}
