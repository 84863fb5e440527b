// cuda_bf16.h: the emulated runtime (cuda_emu.h).
#include "cuda_emu.h"
