# disq build.  `make` builds build/libdisq.a and every tool in bin/*.c into
# build/bin/.  With nvcc on PATH the CUDA kernels (kernels/*.cu) join the
# library and cuDNN/cuBLAS are linked; `make CUDA=0` builds the CPU-only
# configuration.  Sources are found by name, so a new lib/LAYER/x.c,
# bin/tool.c, kernels/x.cu or tests/unit/test_x.c needs no edit here.

BUILD ?= build
SAN ?= 0
CUDA_HOME ?= /usr/local/cuda
CUDA ?= $(if $(shell command -v nvcc 2>/dev/null),1,0)
PYTHON ?= /usr/bin/python3

CC = gcc
HDF5_CFLAGS := $(shell pkg-config --cflags hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial)
HDF5_LIBS := $(shell pkg-config --libs hdf5 2>/dev/null || echo -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5)
MARCH ?= native
CFLAGS = -std=c11 -O2 -g -march=$(MARCH) -Wall -Wextra -Werror -D_GNU_SOURCE -fopenmp \
         -Ilib $(HDF5_CFLAGS) -MMD -MP
LDFLAGS = -fopenmp
LDLIBS = $(HDF5_LIBS) -lzip -lpng -lz -lmsgpackc -ldnnl -lopenblas -lm -lpthread

ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

# EMU=1: the CUDA backend on the CPU emulator of tests/cuda_emu (see
# cuda_emu.h), for checking it where no GPU is: kernels/*.cu compile as C++
# and the emulated runtime, cuBLAS and cuDNN replace NVIDIA's.
EMU ?= 0
ifeq ($(EMU),1)
override CUDA := 0
CXX = g++
EMU_CXXFLAGS = -std=gnu++17 -O2 -g -fopenmp -march=$(MARCH) -Wall -Wextra -Werror -Itests/cuda_emu -Ilib -MMD -MP
CFLAGS += -DDISQ_CUDA=1
LDLIBS += -lstdc++
EMU_KERNEL_OBJ := $(patsubst %.cu,$(BUILD)/obj/%.o,$(wildcard kernels/*.cu))
EMU_RUNTIME_OBJ := $(patsubst %.cpp,$(BUILD)/obj/%.o,$(wildcard tests/cuda_emu/*.cpp))
EMU_OBJ := $(EMU_KERNEL_OBJ) $(EMU_RUNTIME_OBJ)
EMU_REWRITTEN := $(patsubst kernels/%,$(BUILD)/emu-src/%,$(wildcard kernels/*.cu kernels/*.cuh))
endif

CU_SRC := $(if $(filter 1,$(CUDA)),$(wildcard kernels/*.cu))
ifeq ($(CUDA),1)
NVCC = nvcc
NVCCFLAGS = -O2 -std=c++17 -Ilib -gencode arch=compute_90,code=[sm_90,compute_90] \
            -Xcompiler -Wall,-Wextra,-Werror -MMD -MP
CFLAGS += -DDISQ_CUDA=1 -I$(CUDA_HOME)/include
LDLIBS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudnn -lcublasLt -lcublas \
          -lcudart_static -ldl -lrt -lstdc++
endif

LIB_SRC := $(wildcard lib/*/*.c)
TOOL_SRC := $(wildcard bin/*.c)
TEST_SRC := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard tests/bench/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(CU_SRC:%.cu=$(BUILD)/obj/%.o) $(EMU_OBJ)
TOOLS := $(TOOL_SRC:bin/%.c=$(BUILD)/bin/%)
TESTS := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCHES := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
LIBDISQ := $(BUILD)/libdisq.a

.PHONY: all tests test deps demo bench fuzz clean install uninstall
.DELETE_ON_ERROR:
.SECONDARY:

all: $(LIBDISQ) $(TOOLS)

tests: all $(TESTS) $(BENCHES)

$(LIBDISQ): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

ifeq ($(EMU),1)
$(EMU_REWRITTEN): $(BUILD)/emu-src/%: kernels/% tests/cuda_emu/rewrite.sh
	@mkdir -p $(@D)
	sh tests/cuda_emu/rewrite.sh $< $@

$(EMU_KERNEL_OBJ): $(BUILD)/obj/kernels/%.o: $(BUILD)/emu-src/%.cu $(EMU_REWRITTEN)
	@mkdir -p $(@D)
	$(CXX) $(EMU_CXXFLAGS) -x c++ -c $< -o $@

$(EMU_RUNTIME_OBJ): $(BUILD)/obj/tests/cuda_emu/%.o: tests/cuda_emu/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(EMU_CXXFLAGS) -c $< -o $@
endif

$(BUILD)/bin/%: $(BUILD)/obj/bin/%.o $(LIBDISQ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $< $(LIBDISQ) $(LDLIBS) -o $@

# Benchmark programs (tests/bench/*.c), driven by tests/bench/*.sh.
$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(LIBDISQ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $< $(LIBDISQ) $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/obj/tests/unit/harness.o $(LIBDISQ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $< $(BUILD)/obj/tests/unit/harness.o $(LIBDISQ) $(LDLIBS) -o $@

# libFuzzer target for the stream reader (clang only).
FUZZ_SRC = tests/fuzz/fuzz_stream.c lib/core/stream.c lib/core/util.c lib/core/progress.c
$(BUILD)/fuzz/fuzz_stream: $(FUZZ_SRC) lib/core/stream.h lib/core/util.h lib/core/progress.h
	@mkdir -p $(@D)
	clang -std=c11 -g -O1 -D_GNU_SOURCE -Ilib -fsanitize=fuzzer,address,undefined \
	    $(FUZZ_SRC) -lmsgpackc -lm -o $@
fuzz: $(BUILD)/fuzz/fuzz_stream

# Debian packages the build, the tests and the examples need.  Installed only
# when missing, so a prepared machine pays nothing.
DEB_PACKAGES = gcc g++ make pkg-config libmsgpack-dev libpng-dev libhdf5-dev libzip-dev \
               zlib1g-dev libopenblas-dev libdnnl-dev parallel clang libclang-rt-14-dev \
               python3 python3-numpy python3-msgpack
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	    echo "make deps: installing" $$missing; \
	    sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    $$sudo apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing; \
	fi

# The whole suite: the default build (CUDA when nvcc is present), the CPU-only
# build, the unit tests under ASan+UBSan, the fuzzer, the CUDA backend's
# tests on the CPU emulator (EMU=1), then one summary line.
EMU_TESTS = test_device test_cuda_ops test_cuda_step cli_device.sh
test: deps
	@rm -f $(BUILD)/test-counts
	@$(MAKE) --no-print-directory tests fuzz
	@$(MAKE) --no-print-directory CUDA=0 BUILD=$(BUILD)/nocuda all
	@$(MAKE) --no-print-directory SAN=1 CUDA=0 BUILD=$(BUILD)/asan tests
	@$(MAKE) --no-print-directory EMU=1 BUILD=$(BUILD)/emu all \
	    $(patsubst %,$(BUILD)/emu/tests/%,$(filter test_%,$(EMU_TESTS)))
	@COUNTS=$(BUILD)/test-counts PYTHON=$(PYTHON) sh tests/run.sh $(BUILD)
	@COUNTS=$(BUILD)/test-counts ASAN_OPTIONS=detect_leaks=1 sh tests/run.sh $(BUILD)/asan asan
	@COUNTS=$(BUILD)/test-counts PYTHON=$(PYTHON) DISQ_REQUIRE_GPU=1 DISQ_EMU_SHUFFLE=1 ONLY="$(EMU_TESTS)" \
	    sh tests/run.sh $(BUILD)/emu emu
	@awk '{p+=$$1; f+=$$2; s+=$$3} END {printf "%d passed, %d failed, %d skipped\n", p, f, s; exit f > 0}' \
	    $(BUILD)/test-counts

# Benchmarks: every tests/bench/bench_*.sh, each printing its own figures as
# ratios against a reference measured in the same run.
bench: deps all $(BENCHES)
	@for b in tests/bench/bench_*.sh; do \
	    [ -f "$$b" ] || continue; \
	    BIN=$(BUILD)/bin BUILD=$(BUILD) PYTHON=$(PYTHON) sh "$$b" || exit 1; \
	done

# The quick-start job on the embedded default dataset.
demo: deps all
	@BIN=$(BUILD)/bin sh examples/demo.sh

clean:
	rm -rf $(BUILD)

# ---- install ----------------------------------------------------------------
# `make install` copies what `make` built (the same BUILD, CUDA and EMU; it
# builds nothing when the build is current): the tools, libdisq.a with every
# header under include/disq/LAYER/ (so `#include "core/stream.h"` works with
# -I$(includedir)/disq), disq.pc, the manual pages, the bash completion (one
# file, linked under each tool's name for bash-completion's loading by command
# name) and examples/ as documentation.  PREFIX is where they will live,
# DESTDIR a staging root prepended to every path written (never to disq.pc's
# contents).  `make uninstall` with the same PREFIX and DESTDIR removes them.
PREFIX ?= /usr/local
DESTDIR ?=
VERSION = 0.1
bindir = $(PREFIX)/bin
libdir = $(PREFIX)/lib
includedir = $(PREFIX)/include
datarootdir = $(PREFIX)/share
mandir = $(datarootdir)/man
docdir = $(datarootdir)/doc/disq
exampledir = $(docdir)/examples
pkgconfigdir = $(libdir)/pkgconfig
bashcompdir = $(datarootdir)/bash-completion/completions

TOOL_NAMES = $(TOOL_SRC:bin/%.c=%)
HEADERS = $(wildcard lib/*/*.h)
MANPAGES = $(wildcard man/man1/*.1 man/man5/*.5 man/man7/*.7)
# the examples as the sources hold them: tracked files, or without git every
# file but Python caches and experiment outputs (runs/, results.*)
EXAMPLES = $(shell git ls-files examples 2>/dev/null | grep . || \
             find examples -type f ! -path '*/__pycache__/*' ! -name '*.pyc' \
                  ! -path '*/runs/*' ! -name 'results.*' ! -name 'runs.list' | sort)
# a path under PREFIX as ${prefix}/..., so pkg-config --define-prefix works
pc_path = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

install: all
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(pkgconfigdir) \
	    $(DESTDIR)$(bashcompdir) $(sort $(patsubst lib/%/,$(DESTDIR)$(includedir)/disq/%,$(dir $(HEADERS)))) \
	    $(sort $(patsubst man/%/,$(DESTDIR)$(mandir)/%,$(dir $(MANPAGES))))
	install -m 755 $(TOOLS) $(DESTDIR)$(bindir)/
	install -m 644 $(LIBDISQ) $(DESTDIR)$(libdir)/
	for h in $(HEADERS:lib/%=%); do \
	    install -m 644 lib/$$h $(DESTDIR)$(includedir)/disq/$$h || exit 1; \
	done
	for m in $(MANPAGES:man/%=%); do \
	    install -m 644 man/$$m $(DESTDIR)$(mandir)/$$m || exit 1; \
	done
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call pc_path,$(libdir))|' \
	    -e 's|@INCLUDEDIR@|$(call pc_path,$(includedir))|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@LIBS@|$(strip $(LDFLAGS) $(LDLIBS))|' dist/disq.pc.in >$(BUILD)/disq.pc
	install -m 644 $(BUILD)/disq.pc $(DESTDIR)$(pkgconfigdir)/disq.pc
	sed 's|@TOOLS@|$(TOOL_NAMES)|' dist/disq.bash >$(BUILD)/disq.bash
	install -m 644 $(BUILD)/disq.bash $(DESTDIR)$(bashcompdir)/disq
	for t in $(TOOL_NAMES); do ln -sfn disq $(DESTDIR)$(bashcompdir)/$$t || exit 1; done
	for f in $(EXAMPLES:examples/%=%); do \
	    install -d $(DESTDIR)$(exampledir)/$$(dirname $$f) && \
	    install -m $$([ -x examples/$$f ] && echo 755 || echo 644) examples/$$f \
	        $(DESTDIR)$(exampledir)/$$f || exit 1; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(bindir)/,$(TOOL_NAMES)) $(DESTDIR)$(libdir)/libdisq.a \
	    $(DESTDIR)$(pkgconfigdir)/disq.pc $(DESTDIR)$(bashcompdir)/disq \
	    $(addprefix $(DESTDIR)$(bashcompdir)/,$(TOOL_NAMES)) \
	    $(addprefix $(DESTDIR)$(includedir)/disq/,$(HEADERS:lib/%=%)) \
	    $(addprefix $(DESTDIR)$(mandir)/,$(MANPAGES:man/%=%)) \
	    $(addprefix $(DESTDIR)$(exampledir)/,$(EXAMPLES:examples/%=%))
	for d in $(DESTDIR)$(includedir)/disq $(DESTDIR)$(docdir); do \
	    [ ! -d $$d ] || find $$d -depth -type d -empty -delete; \
	done

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- CUDA backend checks (need a GPU) -------------------------------------
# test-cuda and bench-cuda: tests/cuda_checks.sh's tests and benchmarks on
# this build.  gpu-kit: for a GPU machine without this build's libraries
# (and no way to fetch them), the tools, tests and benchmarks built here
# for any x86-64-v3 processor and packed with the shared libraries they load
# into build/gpu-kit.tar.xz; `sh tests/gpu_kit.sh run build/gpu-kit.tar.xz`
# there runs the same checks.
.PHONY: test-cuda bench-cuda gpu-kit
KIT_BUILD = build/kit

test-cuda bench-cuda:
	@[ "$(CUDA)" = 1 ] || { echo "make $@: needs nvcc (CUDA=1)"; exit 1; }
	@$(MAKE) --no-print-directory tests
	PYTHON=$(PYTHON) sh tests/cuda_checks.sh $(BUILD) $(if $(filter test-cuda,$@),tests,bench)

gpu-kit:
	@[ "$(CUDA)" = 1 ] || { echo "make gpu-kit: needs nvcc (CUDA=1)"; exit 1; }
	@$(MAKE) --no-print-directory BUILD=$(KIT_BUILD) MARCH=x86-64-v3 tests
	sh tests/gpu_kit.sh pack $(KIT_BUILD) build/gpu-kit.tar.xz
