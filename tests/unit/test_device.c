/* Device selection, and the CUDA toolchain end to end where a GPU exists. */
#include <string.h>

#include "nn/device.h"
#include "harness.h"

TEST(cpu_and_auto_always_resolve) {
    dq_device d;
    dq_errbuf e;
    CHECK(dq_device_select("cpu", &d, &e) == 0 && d == DQ_DEVICE_CPU);
    CHECK(dq_device_select("auto", &d, &e) == 0);
    char desc[256];
    CHECK((d == DQ_DEVICE_CUDA) == (dq_cuda_probe(desc, sizeof desc) > 0));
}

TEST(unknown_device_is_refused) {
    dq_device d;
    dq_errbuf e;
    CHECK(dq_device_select("tpu", &d, &e) == -1);
    CHECK_MSG(strcmp(e.msg, "unknown device 'tpu' (auto, cpu or cuda)") == 0, "%s", e.msg);
}

TEST(cuda_without_gpu_is_an_error_with_a_reason) {
    char desc[256];
    dq_errbuf e;
    dq_device d;
    if (dq_cuda_probe(desc, sizeof desc) > 0) SKIP("a GPU is present: %s", desc);
    CHECK(dq_device_select("cuda", &d, &e) == -1);
    CHECK_MSG(strncmp(e.msg, "--device cuda: ", 15) == 0 && strlen(e.msg) > 20, "%s", e.msg);
}

TEST(cuda_selftest_kernel_matches_cpu) {
    char desc[256];
    dq_errbuf e;
    if (dq_cuda_probe(desc, sizeof desc) == 0) SKIP("%s", desc);
    CHECK_MSG(dq_cuda_selftest(&e) == 0, "%s", e.msg);
}
