// cuda_emu.h: a CPU emulation of the part of the CUDA runtime, cuBLAS and
// cuDNN that kernels/*.cu use, so that the CUDA backend's host logic and
// kernels run (slowly) on a machine without a GPU: `make EMU=1` compiles
// kernels/*.cu as C++ against this header (tests/cuda_emu/rewrite.sh turns
// each `k<<<grid, block, shm, stream>>>(args)` into an emu_call) and links
// tests/cuda_emu/*.cpp in place of the NVIDIA libraries.
//
// What it checks: every kernel's indexing and arithmetic over each thread
// and block of its real launch shape (threads of a block as fibers, so
// __shared__ and __syncthreads behave; in a random order per launch with
// DISQ_EMU_SHUFFLE=seed, so races change the numbers), stream order (work
// runs only when the host waits for it, so a result read before the wait,
// or a pinned buffer rewritten before its queued copy, gives wrong numbers),
// what a graph records (arguments by value at capture, memory read at
// replay) and what capture forbids, cuBLAS's column-major operand
// conventions and cuDNN's NHWC/KRSC layouts and alpha/beta rules,
// device-memory overruns (a guard page ends every allocation) and reads of
// never-written device memory (allocations start as NaN).  What it cannot:
// real concurrency, NVIDIA's libraries' own arithmetic (cuBLAS/cuDNN are
// replaced by plain loops that round inputs to tf32 or bf16 as the mode
// says), device math functions' last bits, speed.
#ifndef DISQ_CUDA_EMU_H
#define DISQ_CUDA_EMU_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <functional>
#include <initializer_list>

// ---- device-code vocabulary ----
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
// Threads of a block are fibers of one OS thread: block-shared storage is a
// function-static, one per OS thread.
#define __shared__ static thread_local

struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
extern thread_local uint3 threadIdx, blockIdx;
extern thread_local dim3 blockDim, gridDim;
void __syncthreads();

// The _rn intrinsics round each operation on its own: the empty asm keeps
// the compiler from contracting them into a fused multiply-add, as nvcc
// never contracts them.
static inline float emu_opaque(float x) {
    __asm__("" : "+x"(x));
    return x;
}
static inline float __fadd_rn(float a, float b) { return emu_opaque(a + b); }
static inline float __fsub_rn(float a, float b) { return emu_opaque(a - b); }
static inline float __fmul_rn(float a, float b) { return emu_opaque(a * b); }
static inline uint64_t __umul64hi(uint64_t a, uint64_t b) {
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

struct __nv_bfloat16 {
    uint16_t bits;
    __nv_bfloat16() = default;
    explicit __nv_bfloat16(float f); // nearest even, as __float2bfloat16_rn
    operator float() const {
        uint32_t u = (uint32_t)bits << 16;
        float f;
        memcpy(&f, &u, sizeof f);
        return f;
    }
};
static inline uint16_t emu_bf16_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); // quiet NaN
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}
inline __nv_bfloat16::__nv_bfloat16(float f) : bits(emu_bf16_bits(f)) {}
static inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16(f); }
static inline float __bfloat162float(__nv_bfloat16 h) { return (float)h; }

// ---- runtime ----
typedef enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorCudartUnloading = 4,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidDevicePointer = 17,
    cudaErrorInvalidMemcpyDirection = 21,
    cudaErrorNoDevice = 100,
    cudaErrorStreamCaptureUnsupported = 900,
    cudaErrorStreamCaptureInvalidated = 901,
    cudaErrorStreamCaptureUnmatched = 903,
    cudaErrorGraphExecUpdateFailure = 910,
} cudaError_t;

typedef struct emu_stream *cudaStream_t;
typedef struct emu_graph *cudaGraph_t;
typedef struct emu_graph *cudaGraphExec_t;

enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
};
enum cudaStreamCaptureMode {
    cudaStreamCaptureModeGlobal = 0,
    cudaStreamCaptureModeThreadLocal = 1,
    cudaStreamCaptureModeRelaxed = 2,
};
enum cudaStreamCaptureStatus {
    cudaStreamCaptureStatusNone = 0,
    cudaStreamCaptureStatusActive = 1,
    cudaStreamCaptureStatusInvalidated = 2,
};
#define cudaStreamNonBlocking 0x01u
#define cudaHostAllocDefault 0x00u

struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    int major, minor;
};
struct cudaGraphExecUpdateResultInfo {
    int result;
};

cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device);
cudaError_t cudaGetLastError();
const char *cudaGetErrorString(cudaError_t e);
cudaError_t cudaMalloc(void **p, size_t bytes);
template <class T> cudaError_t cudaMalloc(T **p, size_t bytes) { return cudaMalloc((void **)p, bytes); }
cudaError_t cudaFree(void *p);
cudaError_t cudaHostAlloc(void **p, size_t bytes, unsigned flags);
cudaError_t cudaFreeHost(void *p);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s);
cudaError_t cudaMemsetAsync(void *p, int value, size_t bytes, cudaStream_t s);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *graph);
cudaError_t cudaStreamIsCapturing(cudaStream_t s, cudaStreamCaptureStatus *status);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t *exec, cudaGraph_t graph, unsigned long long flags);
cudaError_t cudaGraphExecUpdate(cudaGraphExec_t exec, cudaGraph_t graph, cudaGraphExecUpdateResultInfo *info);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);

// ---- kernel launches ----
// One launch site (one rewritten <<<>>>): whether its kernel has been seen
// to call __syncthreads, which decides whether later launches need fibers.
struct emu_site {
    const char *kernel;
    bool syncs;
    bool seen;
};

// Queues body(), run once per thread of grid x block, on stream s (runs it
// now unless s is capturing); the launch error, if any, is left for
// cudaGetLastError as the runtime does.
void emu_launch(emu_site *site, dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t s,
                std::function<void()> body);

template <class Kernel> struct emu_kernel_call {
    emu_site *site;
    Kernel kernel;
    dim3 grid, block;
    size_t shared_bytes;
    cudaStream_t stream;
    template <class... Args> void operator()(Args... args) const {
        emu_launch(site, grid, block, shared_bytes, stream, [k = kernel, args...]() { k(args...); });
    }
};

// What rewrite.sh makes of `name<<<grid, block[, shm[, stream]]>>>`: the
// kernel wrapped in a lambda (so a template kernel still deduces its
// arguments) and a site that lives as long as the program.
#define EMU_CALL(name, ...)                                                                          \
    ([](auto kernel_) {                                                                              \
        static emu_site site_ = {#name, false, false};                                              \
        return [kernel_](dim3 g_, dim3 b_, size_t s_ = 0, cudaStream_t st_ = nullptr) {              \
            return emu_kernel_call<decltype(kernel_)>{&site_, kernel_, g_, b_, s_, st_};             \
        };                                                                                           \
    }([](auto... args_) { name(args_...); }))(__VA_ARGS__)

// Runs `op` in stream order on s: now, or at replay when s is capturing.
// kind names the graph node's kind, which cudaGraphExecUpdate compares.
cudaError_t emu_enqueue(cudaStream_t s, const char *kind, std::function<void()> op);
// Whether [p, p+bytes) lies in emulated device memory.
bool emu_is_device(const void *p, size_t bytes);
// Dies unless every operand of library call `call` is 16-byte aligned.
// cuBLAS and cuDNN take less, but their tensor-core kernels read and write
// 16-byte vectors, and on other operands they refuse or run slower kernels.
void emu_require_aligned(const char *call, std::initializer_list<const void *> operands);
// Dies with "cuda emulator: <message>".
[[noreturn]] void emu_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
