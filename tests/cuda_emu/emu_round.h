// emu_round.h: how the emulated libraries read their operands.
#ifndef DISQ_EMU_ROUND_H
#define DISQ_EMU_ROUND_H
#include "cuda_emu.h"

// x rounded to tf32 (10 explicit mantissa bits), nearest with ties away
// from zero, as the tensor cores' conversion (cvt.rna.tf32.f32).
static inline float emu_tf32(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & ~0x1fffu;
    memcpy(&x, &u, sizeof x);
    return x;
}

// Element i of a float or bfloat16 array, optionally through emu_tf32.
static inline float emu_load(const void *p, bool bf16, size_t i, bool tf32) {
    if (bf16) return (float)((const __nv_bfloat16 *)p)[i];
    float v = ((const float *)p)[i];
    return tf32 ? emu_tf32(v) : v;
}

static inline void emu_store(void *p, bool bf16, size_t i, float v) {
    if (bf16) ((__nv_bfloat16 *)p)[i] = __nv_bfloat16(v);
    else ((float *)p)[i] = v;
}
#endif
