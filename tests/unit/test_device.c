/* Device selection, and the CUDA toolchain end to end where a GPU exists. */
#include <string.h>

#include "nn/device.h"
#include "harness.h"

TEST(cpu_and_auto_always_resolve) {
    dq_device d;
    char why[256];
    CHECK(dq_device_select("cpu", &d, why, sizeof why) == 0 && d == DQ_DEVICE_CPU);
    CHECK(dq_device_select("auto", &d, why, sizeof why) == 0);
    char desc[256];
    CHECK((d == DQ_DEVICE_CUDA) == (dq_cuda_probe(desc, sizeof desc) > 0));
}

TEST(unknown_device_is_refused) {
    dq_device d;
    char why[256];
    CHECK(dq_device_select("tpu", &d, why, sizeof why) == -1);
    CHECK_MSG(strcmp(why, "unknown device 'tpu' (auto, cpu or cuda)") == 0, "%s", why);
}

TEST(cuda_without_gpu_is_an_error_with_a_reason) {
    char desc[256], why[512];
    dq_device d;
    if (dq_cuda_probe(desc, sizeof desc) > 0) SKIP("a GPU is present: %s", desc);
    CHECK(dq_device_select("cuda", &d, why, sizeof why) == -1);
    CHECK_MSG(strncmp(why, "--device cuda: ", 15) == 0 && strlen(why) > 20, "%s", why);
}

TEST(cuda_selftest_kernel_matches_cpu) {
    char desc[256], why[256];
    if (dq_cuda_probe(desc, sizeof desc) == 0) SKIP("%s", desc);
    CHECK_MSG(dq_cuda_selftest(why, sizeof why) == 0, "%s", why);
}
