/* nn_perm.c: the per-latent shuffle that turns samples of q(z) into samples
 * of prod_j q(z_j) for the total-correlation discriminator. */
#include "nn/nn.h"

#include <string.h>

void nn_perm_latents(const float *w, int n, int d, int k, const int32_t *perm, float *out) {
    size_t kbytes = (size_t)k * sizeof *w;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            memcpy(out + ((size_t)i * d + j) * k, w + ((size_t)perm[(size_t)j * n + i] * d + j) * k,
                   kbytes);
}

uint64_t nn_perm_draw(dq_rng r, uint64_t offset, int n, int d, int32_t *perm) {
    uint64_t words = dq_rng_permutation_words(n);
    for (int j = 0; j < d; j++) dq_rng_permutation(r, offset + (uint64_t)j * words, perm + (size_t)j * n, n);
    return (uint64_t)d * words;
}
