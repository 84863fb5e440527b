/* test_bf16_step.c: whole training steps and inference passes on the CPU in
 * bf16 (op_use_cpu_bf16) against the same runs in fp32.
 *
 * Tolerances are those of the GPU's bf16 (test_cuda_step.c), whose
 * arithmetic is the same: products of bf16-rounded inputs summed in float.
 * Every kind: one step's gradients within 0.5 relative L2 per tensor (a
 * dropped or doubled gradient path gives 1 or more), two steps' losses
 * within 5%.  enc and dec outputs within 2% of each array's scale (8-bit
 * mantissa inputs through about 20 layers).  A 500-step run of FactorQVAE
 * tracks the fp32 run's loss curve (loss_curve_tracks_cpu).  The same run
 * twice is bitwise the same. */
#include "harness.h"
#include "step_compare.h"

/* The long runs take minutes under ASan, which test_nn_dnnl.c's layer tests
 * cover for the bf16 code; the plain build runs them. */
#ifdef __SANITIZE_ADDRESS__
#define SKIP_UNDER_ASAN() SKIP("minutes under ASan; the plain build runs it")
#else
#define SKIP_UNDER_ASAN() (void)0
#endif

TEST(every_kind_two_steps_bf16_close_to_fp32) {
    SKIP_UNDER_ASAN();
    for (int k = 0; k < DQ_NMODEL_KINDS; k++) two_steps(DQ_DEVICE_CPU, (dq_model_kind)k, DQ_PRECISION_BF16, 5e-2, 0.5);
}

TEST(loss_curve_500_steps_bf16_tracks_fp32) {
    SKIP_UNDER_ASAN();
    loss_curve_tracks_cpu(DQ_DEVICE_CPU, DQ_PRECISION_BF16);
}

TEST(encode_and_decode_bf16_close_to_fp32) {
    static const dq_model_kind kinds[] = {DQ_MODEL_FACTORQVAE, DQ_MODEL_DVAE, DQ_MODEL_BETAVAE, DQ_MODEL_BIOAE,
                                          DQ_MODEL_QLAE, DQ_MODEL_DVAE_FRIEDE};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        encode_and_decode(DQ_DEVICE_CPU, DQ_PRECISION_BF16, kinds[i], 2e-2);
}

TEST(bf16_steps_repeat_bitwise) {
    dq_model_config c;
    step_config(&c, DQ_MODEL_FACTORDVAE_FRIEDE, 64);
    run_result a, b;
    run_on(DQ_DEVICE_CPU, DQ_PRECISION_BF16, &c, 3, &a);
    run_on(DQ_DEVICE_CPU, DQ_PRECISION_BF16, &c, 3, &b);
    int same = memcmp(a.values, b.values, a.nvalues * sizeof(float)) == 0;
    for (int s = 0; s < 3; s++) same = same && a.loss[s] == b.loss[s];
    run_free(&a);
    run_free(&b);
    CHECK_MSG(same, "two bf16 runs of the same steps differ");
}
