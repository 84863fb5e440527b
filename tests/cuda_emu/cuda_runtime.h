// cuda_runtime.h: the emulated runtime (cuda_emu.h).
#include "cuda_emu.h"
