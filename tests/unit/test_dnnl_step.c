/* test_dnnl_step.c: whole training steps and inference passes on the CPU
 * with the convolutions on oneDNN's float layers (op_use_cpu_dnnl, what the
 * tools' default --precision tf32 selects on the CPU) against the same runs
 * on nn.h's reference layers.
 *
 * The arithmetic is the same float arithmetic summed in another order, so
 * the tolerances are those of the GPU in fp32 (test_cuda_step.c): every
 * kind's step gradients within 1e-3 relative L2 per tensor, two steps'
 * losses within 1e-4 and their weights close; enc and dec outputs within
 * 1e-4 of each array's scale.  A 500-step run of FactorQVAE tracks the
 * reference's loss curve (loss_curve_tracks_cpu): over many steps the
 * order of the sums makes another model, as another thread count does.
 * The same run twice is bitwise the same.  On
 * a processor for which oneDNN has no float convolutions both sides run
 * nn.h's and agree exactly. */
#include "harness.h"
#include "nn/nn_dnnl.h"
#include "step_compare.h"

/* As test_bf16_step.c: the long run takes minutes under ASan, and
 * test_nn_dnnl.c's layer tests cover the code there. */
#ifdef __SANITIZE_ADDRESS__
#define SKIP_UNDER_ASAN() SKIP("minutes under ASan; the plain build runs it")
#else
#define SKIP_UNDER_ASAN() (void)0
#endif

TEST(every_kind_two_steps_dnnl_match_reference) {
    for (int k = 0; k < DQ_NMODEL_KINDS; k++) two_steps(DQ_DEVICE_CPU, (dq_model_kind)k, DQ_PRECISION_TF32, 1e-4, 1e-3);
}

TEST(loss_curve_500_steps_dnnl_tracks_reference) {
    SKIP_UNDER_ASAN();
    loss_curve_tracks_cpu(DQ_DEVICE_CPU, DQ_PRECISION_TF32);
}

TEST(encode_and_decode_dnnl_match_reference) {
    static const dq_model_kind kinds[] = {DQ_MODEL_FACTORQVAE, DQ_MODEL_BETAVAE, DQ_MODEL_DVAE_FRIEDE};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        encode_and_decode(DQ_DEVICE_CPU, DQ_PRECISION_TF32, kinds[i], 1e-4);
}

/* Bitwise repeatable, and not the reference in disguise: where oneDNN has
 * the first convolution, its sums in another order change the last bits. */
TEST(dnnl_steps_repeat_bitwise) {
    dq_model_config c;
    step_config(&c, DQ_MODEL_FACTORQVAE, 64);
    run_result a, b, ref;
    run_on(DQ_DEVICE_CPU, DQ_PRECISION_TF32, &c, 3, &a);
    run_on(DQ_DEVICE_CPU, DQ_PRECISION_TF32, &c, 3, &b);
    run_on(DQ_DEVICE_CPU, DQ_PRECISION_FP32, &c, 3, &ref);
    int same = memcmp(a.values, b.values, a.nvalues * sizeof(float)) == 0;
    for (int s = 0; s < 3; s++) same = same && a.loss[s] == b.loss[s];
    const int as_reference = memcmp(a.values, ref.values, a.nvalues * sizeof(float)) == 0;
    run_free(&a);
    run_free(&b);
    run_free(&ref);
    CHECK_MSG(same, "two runs of the same steps on oneDNN's convolutions differ");
    nn_conv first = {c.batch, c.H, c.W, c.channels, c.n, 3, 3, 1, 1};
    const char *impl = nn_dnnl_conv_impl(NN_DNNL_F32, &first, 0);
    CHECK_MSG(!impl || !as_reference, "oneDNN has %s, yet the run equals the reference bitwise", impl);
}
