/* gpu_skip.h: how a GPU test behaves without a GPU. */
#ifndef DISQ_GPU_SKIP_H
#define DISQ_GPU_SKIP_H

#include <stdlib.h>
#include <string.h>

#include "nn/device.h"
#include "harness.h"

/* Skip, or fail when the environment sets DISQ_REQUIRE_GPU=1 (make
 * test-cuda), where a missing GPU means the suite did not run. */
#define GPU_ABSENT(...)                                                         \
    do {                                                                        \
        const char *req_ = getenv("DISQ_REQUIRE_GPU");                          \
        if (req_ && strcmp(req_, "1") == 0) CHECK_MSG(0, __VA_ARGS__);          \
        SKIP(__VA_ARGS__);                                                      \
    } while (0)

/* GPU_ABSENT, naming why, unless a CUDA device is usable. */
#define SKIP_WITHOUT_GPU()                                                      \
    do {                                                                        \
        char desc_[256];                                                        \
        if (dq_cuda_probe(desc_, sizeof desc_) == 0) GPU_ABSENT("%s", desc_);   \
    } while (0)

#endif
