// runtime.cpp: the emulated CUDA runtime of cuda_emu.h: device memory,
// streams, graphs and kernel launches.
#include "cuda_emu.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

thread_local uint3 threadIdx, blockIdx;
thread_local dim3 blockDim, gridDim;

void emu_fatal(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("cuda emulator: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

// One lock serializes the emulated device: the prefetch reader's thread
// allocates and frees page-locked buffers while the main thread launches.
static std::recursive_mutex device_lock;
#define LOCKED std::lock_guard<std::recursive_mutex> guard_(device_lock)

static thread_local cudaError_t last_error = cudaSuccess;

static cudaError_t fail(cudaError_t e) {
    if (e != cudaSuccess) last_error = e;
    return e;
}

cudaError_t cudaGetLastError() {
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}

const char *cudaGetErrorString(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorCudartUnloading: return "driver shutting down";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureUnmatched: return "the capture was not initiated in this stream";
    case cudaErrorGraphExecUpdateFailure: return "the graph update was not performed";
    }
    return "unknown error";
}

cudaError_t cudaGetDeviceCount(int *n) {
    const char *off = getenv("DISQ_EMU_NO_DEVICE"); // lets a test see the no-GPU path
    *n = off && *off == '1' ? 0 : 1;
    return *n ? cudaSuccess : fail(cudaErrorNoDevice);
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device) {
    if (device != 0) return fail(cudaErrorInvalidValue);
    memset(prop, 0, sizeof *prop);
    snprintf(prop->name, sizeof prop->name, "CUDA emulator on the CPU (tests/cuda_emu)");
    prop->totalGlobalMem = (size_t)16 << 30;
    prop->major = 9;
    return cudaSuccess;
}

// ---- device memory ----
// One reserved range, never reused: each allocation gets its own pages,
// ends at a page that stays inaccessible (so an overrun faults) and is made
// inaccessible again when freed (so a use after free faults).  Fresh memory
// holds all-ones bytes, a NaN in every float, as never-written device memory
// must not pass for zeros.  Between device operations allocations of up to
// GUARDED_BYTES are inaccessible, so host code that reads or writes one
// faults as it would on a GPU (DISQ_EMU_HOST_ACCESS=1 allows it).
static const size_t ARENA_BYTES = (size_t)1 << 38;
static const size_t ALIGN = 16, GUARDED_BYTES = 256 << 10;
static char *arena, *arena_next;
static size_t page_bytes;
struct allocation {
    char *pages;
    size_t page_span, bytes;
};
static std::map<uintptr_t, allocation> device_allocs; // by start address
static std::map<uintptr_t, size_t> host_allocs;       // page-locked (cudaHostAlloc), by start

static thread_local int capturing_here; // captures begun by this thread and not ended
static int device_depth;                // device operations running (nested: a graph's nodes)
static thread_local const char *device_doing; // what the running device operation is, for faults

static bool host_access_allowed() {
    static int allowed = -1;
    if (allowed < 0) {
        const char *e = getenv("DISQ_EMU_HOST_ACCESS");
        allowed = e && *e == '1';
    }
    return allowed;
}

// Whether host code is kept out of allocation a: small ones only, as a
// protection change costs time in proportion to the pages it covers, and
// what host code could wrongly read (a loss, a label, a count) is small.
static bool guarded(const allocation &a) { return !host_access_allowed() && a.page_span <= GUARDED_BYTES; }

static void set_access(const allocation &a) {
    mprotect(a.pages, a.page_span, guarded(a) && device_depth == 0 ? PROT_NONE : PROT_READ | PROT_WRITE);
}

// Runs fn as device work named `what`: guarded allocations accessible while it runs.
static void set_guarded_access() {
    for (auto &entry : device_allocs)
        if (guarded(entry.second)) set_access(entry.second);
}

template <class F> static void on_device(const char *what, F fn) {
    const char *outer = device_doing;
    if (device_depth++ == 0) set_guarded_access();
    device_doing = what;
    fn();
    device_doing = outer;
    if (--device_depth == 0) set_guarded_access();
}

static void arena_init() {
    if (arena) return;
    page_bytes = (size_t)sysconf(_SC_PAGESIZE);
    void *p = mmap(nullptr, ARENA_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) emu_fatal("cannot reserve the emulated device memory");
    arena = arena_next = (char *)p;
}

bool emu_is_device(const void *p, size_t bytes) {
    LOCKED;
    auto it = device_allocs.upper_bound((uintptr_t)p);
    if (it == device_allocs.begin()) return false;
    --it;
    return (uintptr_t)p + bytes <= it->first + it->second.bytes;
}

void emu_require_aligned(const char *call, std::initializer_list<const void *> operands) {
    for (const void *p : operands)
        if ((uintptr_t)p % 16) emu_fatal("%s: operand %p is not 16-byte aligned", call, p);
}

static void run_all_pending(); // below, with the streams

cudaError_t cudaMalloc(void **p, size_t bytes) {
    LOCKED;
    if (capturing_here) return fail(cudaErrorStreamCaptureUnsupported);
    arena_init();
    size_t rounded = (bytes + ALIGN - 1) / ALIGN * ALIGN;
    if (rounded == 0) rounded = ALIGN;
    size_t span = (rounded + page_bytes - 1) / page_bytes * page_bytes;
    if ((size_t)(arena_next - arena) + span + page_bytes > ARENA_BYTES) return fail(cudaErrorMemoryAllocation);
    char *pages = arena_next;
    arena_next += span + page_bytes; // the page after stays PROT_NONE
    char *start = pages + span - rounded;
    const allocation &a = device_allocs[(uintptr_t)start] = allocation{pages, span, rounded};
    set_access(a);
    on_device("cudaMalloc", [&] { memset(start, 0xff, rounded); });
    *p = start;
    return cudaSuccess;
}

cudaError_t cudaFree(void *p) {
    LOCKED;
    if (!p) return cudaSuccess;
    if (capturing_here) return fail(cudaErrorStreamCaptureUnsupported);
    auto it = device_allocs.find((uintptr_t)p);
    if (it == device_allocs.end()) emu_fatal("cudaFree(%p): not the start of a device allocation", p);
    run_all_pending(); // cudaFree waits for the device
    madvise(it->second.pages, it->second.page_span, MADV_DONTNEED);
    mprotect(it->second.pages, it->second.page_span, PROT_NONE);
    device_allocs.erase(it);
    return cudaSuccess;
}

cudaError_t cudaHostAlloc(void **p, size_t bytes, unsigned flags) {
    LOCKED;
    if (flags != cudaHostAllocDefault) return fail(cudaErrorInvalidValue);
    if (capturing_here) return fail(cudaErrorStreamCaptureUnsupported);
    *p = malloc(bytes ? bytes : 1);
    if (!*p) return fail(cudaErrorMemoryAllocation);
    host_allocs[(uintptr_t)*p] = bytes;
    return cudaSuccess;
}

cudaError_t cudaFreeHost(void *p) {
    LOCKED;
    if (capturing_here) return fail(cudaErrorStreamCaptureUnsupported);
    if (host_allocs.find((uintptr_t)p) == host_allocs.end()) emu_fatal("cudaFreeHost(%p): not from cudaHostAlloc", p);
    run_all_pending(); // cudaFreeHost waits for the device
    host_allocs.erase((uintptr_t)p);
    free(p);
    return cudaSuccess;
}

static bool is_pinned(const void *p, size_t bytes) {
    auto it = host_allocs.upper_bound((uintptr_t)p);
    if (it == host_allocs.begin()) return false;
    --it;
    return (uintptr_t)p + bytes <= it->first + it->second;
}

// Checks that the two sides of a copy are where `kind` says.
static void check_copy(const char *call, void *dst, const void *src, size_t bytes, cudaMemcpyKind kind) {
    bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (kind == cudaMemcpyHostToHost) emu_fatal("%s: host-to-host copies are not used by disq", call);
    if (dst_dev != emu_is_device(dst, bytes))
        emu_fatal("%s: destination %p (%zu bytes) is %s device memory", call, dst, bytes,
                  dst_dev ? "not" : "in");
    if (src_dev != emu_is_device(src, bytes))
        emu_fatal("%s: source %p (%zu bytes) is %s device memory", call, src, bytes, src_dev ? "not" : "in");
}

// ---- streams and graphs ----
// Work issued to a stream runs not when issued but when host code waits for
// it (cudaStreamSynchronize, a copy that returns only once done, cudaFree),
// the latest a GPU may run it.  Host code that reads a result before it
// waits, or rewrites a pinned buffer that a queued copy has yet to read,
// then sees what it would see behind a busy GPU, and the tests fail.
struct emu_node {
    std::string kind;
    std::function<void()> op;
};
struct emu_graph {
    std::vector<emu_node> nodes;
};
struct emu_stream {
    bool capturing = false, invalidated = false;
    bool blocking = true; // ordered with the legacy stream (created without cudaStreamNonBlocking)
    emu_graph *graph = nullptr;
    std::vector<emu_node> pending; // issued, not yet run
};
static emu_stream legacy_stream; // stream 0
static std::vector<emu_stream *> created_streams;

static emu_stream *stream_of(cudaStream_t s) { return s ? s : &legacy_stream; }

static void run_pending(emu_stream *st) {
    std::vector<emu_node> work;
    work.swap(st->pending);
    for (const emu_node &n : work) on_device(n.kind.c_str(), n.op);
}

// The legacy stream waits for the blocking streams' earlier work, and they for its.
static void order_with_legacy(emu_stream *st) {
    if (st == &legacy_stream) {
        for (emu_stream *other : created_streams)
            if (other->blocking) run_pending(other);
    } else if (st->blocking) {
        run_pending(&legacy_stream);
    }
}

static void run_all_pending() {
    run_pending(&legacy_stream);
    for (emu_stream *st : created_streams) run_pending(st);
}

cudaError_t emu_enqueue(cudaStream_t s, const char *kind, std::function<void()> op) {
    LOCKED;
    emu_stream *st = stream_of(s);
    if (st->capturing) {
        st->graph->nodes.push_back(emu_node{kind, std::move(op)});
        return cudaSuccess;
    }
    order_with_legacy(st);
    st->pending.push_back(emu_node{kind, std::move(op)});
    return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags) {
    LOCKED;
    if (flags & ~cudaStreamNonBlocking) return fail(cudaErrorInvalidValue);
    *s = new emu_stream;
    (*s)->blocking = !(flags & cudaStreamNonBlocking);
    created_streams.push_back(*s);
    return cudaSuccess;
}

// Work already issued still runs, as on a GPU.
cudaError_t cudaStreamDestroy(cudaStream_t s) {
    LOCKED;
    if (s->capturing) emu_fatal("cudaStreamDestroy on a capturing stream");
    run_pending(s);
    created_streams.erase(std::find(created_streams.begin(), created_streams.end(), s));
    delete s;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
    LOCKED;
    if (stream_of(s)->capturing) {
        stream_of(s)->invalidated = true;
        return fail(cudaErrorStreamCaptureUnsupported);
    }
    if (capturing_here) return fail(cudaErrorStreamCaptureUnsupported);
    run_pending(stream_of(s));
    return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode) {
    LOCKED;
    if (!s) return fail(cudaErrorStreamCaptureUnsupported); // the legacy stream cannot be captured
    if (mode != cudaStreamCaptureModeThreadLocal) emu_fatal("only thread-local capture is emulated");
    if (s->capturing) return fail(cudaErrorInvalidValue);
    s->capturing = true;
    s->invalidated = false;
    s->graph = new emu_graph;
    capturing_here++;
    return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *graph) {
    LOCKED;
    if (!s || !s->capturing) return fail(cudaErrorStreamCaptureUnmatched);
    s->capturing = false;
    capturing_here--;
    if (s->invalidated) {
        delete s->graph;
        s->graph = nullptr;
        *graph = nullptr;
        return fail(cudaErrorStreamCaptureInvalidated);
    }
    *graph = s->graph;
    s->graph = nullptr;
    return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t s, cudaStreamCaptureStatus *status) {
    emu_stream *st = stream_of(s);
    *status = !st->capturing ? cudaStreamCaptureStatusNone
              : st->invalidated ? cudaStreamCaptureStatusInvalidated
                                : cudaStreamCaptureStatusActive;
    return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *exec, cudaGraph_t graph, unsigned long long flags) {
    if (!graph || flags) return fail(cudaErrorInvalidValue);
    *exec = new emu_graph(*graph);
    return cudaSuccess;
}

// As the runtime: an update keeps the topology and takes the new parameters
// of each node, and fails when the nodes differ in number or kind.
cudaError_t cudaGraphExecUpdate(cudaGraphExec_t exec, cudaGraph_t graph, cudaGraphExecUpdateResultInfo *info) {
    bool same = exec->nodes.size() == graph->nodes.size();
    for (size_t i = 0; same && i < graph->nodes.size(); i++) same = exec->nodes[i].kind == graph->nodes[i].kind;
    info->result = same ? 0 : 1;
    if (!same) return fail(cudaErrorGraphExecUpdateFailure);
    exec->nodes = graph->nodes;
    return cudaSuccess;
}

// A launch runs the nodes as they are now: a later update or destruction of
// exec does not reach a launch already issued.
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s) {
    LOCKED;
    if (stream_of(s)->capturing) emu_fatal("cudaGraphLaunch into a capturing stream is not emulated");
    return emu_enqueue(s, "cudaGraphLaunch", [nodes = exec->nodes] {
        for (const emu_node &n : nodes) on_device(n.kind.c_str(), n.op);
    });
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
    delete graph;
    return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
    delete exec;
    return cudaSuccess;
}

// ---- copies ----
// On the legacy stream, and back when done: streams created with
// cudaStreamNonBlocking may still hold work that writes src.
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind) {
    LOCKED;
    if (capturing_here) return fail(cudaErrorStreamCaptureUnsupported);
    check_copy("cudaMemcpy", dst, src, bytes, kind);
    emu_enqueue(nullptr, "cudaMemcpy", [=] { memcpy(dst, src, bytes); });
    run_pending(&legacy_stream);
    return cudaSuccess;
}

// A recorded copy reads and writes host memory when the graph runs, so the
// host side must be page-locked, stable memory: a pageable source may be
// gone or reused by then (stricter than the runtime, which copies what the
// address holds at replay).  Outside graphs, as the runtime does, a copy
// from pageable memory takes src as it is at the call, and one to pageable
// memory returns when done; a pinned side is read or written when the copy
// runs.
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s) {
    LOCKED;
    check_copy("cudaMemcpyAsync", dst, src, bytes, kind);
    if (kind == cudaMemcpyDeviceToDevice) return emu_enqueue(s, "memcpy", [=] { memcpy(dst, src, bytes); });
    const bool pinned = is_pinned(kind == cudaMemcpyHostToDevice ? src : dst, bytes);
    if (stream_of(s)->capturing && !pinned)
        emu_fatal("cudaMemcpyAsync of %zu bytes between device and pageable host memory %p inside a graph", bytes,
                  kind == cudaMemcpyHostToDevice ? src : dst);
    if (pinned) return emu_enqueue(s, "memcpy", [=] { memcpy(dst, src, bytes); });
    if (kind == cudaMemcpyHostToDevice) {
        std::vector<char> staged((const char *)src, (const char *)src + bytes);
        return emu_enqueue(s, "memcpy", [=, staged = std::move(staged)] { memcpy(dst, staged.data(), bytes); });
    }
    emu_enqueue(s, "memcpy", [=] { memcpy(dst, src, bytes); });
    run_pending(stream_of(s));
    return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *p, int value, size_t bytes, cudaStream_t s) {
    LOCKED;
    if (!emu_is_device(p, bytes)) emu_fatal("cudaMemsetAsync: %p (%zu bytes) is not device memory", p, bytes);
    return emu_enqueue(s, "memset", [=] { memset(p, value, bytes); });
}

// ---- kernels ----
// Threads of a block that may call __syncthreads run as fibers, switched at
// each barrier; other kernels run their threads one after the other.  A
// launch site's first launch always uses fibers and tells.
//
// Blocks, and a block's threads in each stretch between barriers, run in
// index order, or with DISQ_EMU_SHUFFLE=seed in an order drawn afresh for
// every launch (and for every stretch of a block that has barriers).  A GPU
// promises no order, so a kernel whose numbers change with it has a race:
// threads that read what others write before the barrier that would order
// them, or blocks that read what other blocks write.  The tests that compare
// with the CPU, or graph replays with eager runs, then fail.
static uint64_t shuffle_state = [] {
    const char *seed = getenv("DISQ_EMU_SHUFFLE");
    return seed ? strtoull(seed, nullptr, 10) : 0;
}();

static uint64_t next_random() {  // splitmix64
    uint64_t z = (shuffle_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void draw_order(std::vector<unsigned> &order, unsigned n) {
    order.resize(n);
    for (unsigned i = 0; i < n; i++) order[i] = i;
    if (shuffle_state == 0) return;
    for (unsigned i = n - 1; i > 0; i--) std::swap(order[i], order[next_random() % (i + 1)]);
}
//
// emu_switch(&save, load) saves the callee-saved registers and stack
// pointer of the running context into *save and resumes the one saved at
// load (the System V x86-64 ABI leaves nothing else to keep): ucontext's
// swapcontext would make a system call per switch.
extern "C" void emu_switch(void **save_sp, void *load_sp);
__asm__(".text\n"
        ".globl emu_switch\n"
        ".type emu_switch,@function\n"
        "emu_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size emu_switch, .-emu_switch\n");

enum { FIBER_STACK = 256 << 10, MAX_BLOCK = 1024 };
struct fiber {
    void *sp;
    uint3 tid;
    bool done;
};
static thread_local void *scheduler_sp;
static thread_local fiber *running;
static thread_local const std::function<void()> *running_body;
static thread_local emu_site *running_site;
static thread_local char *stacks;
static thread_local std::vector<fiber> *fibers;

void __syncthreads() {
    if (!running)
        emu_fatal("kernel %s called __syncthreads on a launch that ran without fibers (a barrier that "
                  "depends on the data?)", running_site ? running_site->kernel : "?");
    running_site->syncs = true;
    emu_switch(&running->sp, scheduler_sp);
}

[[noreturn]] static void fiber_main() {
    (*running_body)();
    running->done = true;
    emu_switch(&running->sp, scheduler_sp);
    emu_fatal("a finished fiber was resumed");
}

// A stack whose first switch "returns" into fiber_main with the alignment
// of a function entry, the six saved registers zero.
static void *fresh_stack(char *base) {
    uintptr_t top = ((uintptr_t)base + FIBER_STACK) & ~(uintptr_t)15;
    void **sp = (void **)top;
    *--sp = nullptr;                 // fiber_main's own return address: never used
    *--sp = (void *)fiber_main;      // where emu_switch's ret goes
    for (int r = 0; r < 6; r++) *--sp = nullptr;
    return sp;
}

static void run_block_in_fibers(dim3 block) {
    unsigned n = block.x * block.y * block.z;
    if (!stacks) {
        void *p = mmap(nullptr, (size_t)FIBER_STACK * MAX_BLOCK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) emu_fatal("no memory for fiber stacks");
        stacks = (char *)p;
        fibers = new std::vector<fiber>(MAX_BLOCK);
    }
    std::vector<fiber> &f = *fibers;
    for (unsigned t = 0; t < n; t++) {
        f[t].tid = uint3{t % block.x, t / block.x % block.y, t / (block.x * block.y)};
        f[t].done = false;
        f[t].sp = fresh_stack(stacks + (size_t)t * FIBER_STACK);
    }
    // One round runs every live thread up to its next barrier or its end;
    // a round that ends some threads at a barrier and others finished is a
    // barrier not every thread reaches.
    static thread_local std::vector<unsigned> order;
    for (;;) {
        unsigned live = 0, finished = 0;
        draw_order(order, n);
        for (unsigned t : order) {
            if (f[t].done) continue;
            running = &f[t];
            threadIdx = f[t].tid;
            emu_switch(&scheduler_sp, f[t].sp);
            if (f[t].done) finished++;
            else live++;
        }
        running = nullptr;
        if (live == 0) break;
        if (finished > 0)
            emu_fatal("kernel %s: %u threads of a block wait at a barrier that %u others never reach",
                      running_site->kernel, live, finished);
    }
}

static cudaError_t check_config(dim3 grid, dim3 block, size_t shared_bytes) {
    size_t threads = (size_t)block.x * block.y * block.z;
    if (threads == 0 || threads > MAX_BLOCK || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
        grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535 || shared_bytes > 48 << 10)
        return cudaErrorInvalidConfiguration;
    return cudaSuccess;
}

static void run_grid(emu_site *site, dim3 grid, dim3 block, const std::function<void()> &body) {
    emu_site *outer_site = running_site;
    running_site = site;
    running_body = &body;
    gridDim = grid;
    blockDim = block;
    const bool use_fibers = !site->seen || site->syncs;
    uint64_t grid_blocks = (uint64_t)grid.x * grid.y * grid.z;
    if (grid_blocks > UINT32_MAX) emu_fatal("kernel %s: a grid of %llu blocks is more than the emulator walks",
                                            site->kernel, (unsigned long long)grid_blocks);
    std::vector<unsigned> blocks, threads;
    draw_order(blocks, (unsigned)grid_blocks);
    draw_order(threads, block.x * block.y * block.z);
    for (unsigned b : blocks) {
        blockIdx = uint3{b % grid.x, b / grid.x % grid.y, b / (grid.x * grid.y)};
        if (use_fibers) {
            run_block_in_fibers(block);
            continue;
        }
        for (unsigned t : threads) {
            threadIdx = uint3{t % block.x, t / block.x % block.y, t / (block.x * block.y)};
            body();
        }
    }
    site->seen = true;
    running_site = outer_site;
}

void emu_launch(emu_site *site, dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t s,
                std::function<void()> body) {
    LOCKED;
    cudaError_t e = check_config(grid, block, shared_bytes);
    if (e != cudaSuccess) {
        fail(e);
        return;
    }
    emu_enqueue(s, site->kernel, [=] { run_grid(site, grid, block, body); });
}

// A fault names the kernel or device operation that made it (an overrun or
// a use after free), or host code (which may not touch device memory).
static void on_fault(int sig) {
    const char *what = running_site ? running_site->kernel : device_doing;
    char msg[256];
    int n = snprintf(msg, sizeof msg, "cuda emulator: %s in %s\n", sig == SIGSEGV ? "segmentation fault" : "bus error",
                     what ? what : "host code (an access to device memory?)");
    if (n > 0) (void)!write(2, msg, (size_t)n);
    signal(sig, SIG_DFL);
    raise(sig);
}

__attribute__((constructor)) static void install_fault_handler() {
    if (getenv("DISQ_EMU_NO_HANDLER")) return;
    signal(SIGSEGV, on_fault);
    signal(SIGBUS, on_fault);
}
