# common.mk: what the experiments share (included by table1/, table2/, gapst/).
#
#   make [DATASET=shapes3d] [SEEDS="1 2 3"] [JOBS=1] [SSHLOGINFILE=hosts]
#        [SCALE=paper|cpu|quick] [QUICK=1] [OUT=dir]
#
# Runs go through GNU parallel: JOBS runs at a time on this machine (one per
# GPU is a good start), or spread over the hosts of SSHLOGINFILE (parallel's
# --sshloginfile: one "N/host" line each; every host needs disq built at the
# same path and OUT on a shared file system).  Finished runs are skipped and
# killed ones resume, so running make again after an interruption only does
# what is left.
#
# SCALE chooses the size of every run:
#   paper  (default) the reference: n = m = 128, 50k iterations of 512 for the
#          Factor models, 100k of 256 for the others, scored on 15000 samples.
#   cpu    a small network for a 2-core CPU, about ten minutes a model on
#          32x32 images (n = 16, m = 64, 12000 iterations of 32 for the Factor
#          models, of 16 for the others, Adam 8e-3 annealed to 1e-5 and the
#          temperature schedule scaled to 12000 iterations; scored on 10000
#          samples).  The training stream reads dsload's cache, which the
#          first run builds (minutes, once).  Its results go under OUT=cpu/
#          unless OUT is given.  The sweeps that chose it are in
#          examples/cpu-sweeps/.
#   quick  (also QUICK=1) a smoke test: 20 iterations, numbers that mean nothing.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
BIN ?= $(TOP)/build/bin
QUICK ?= 0
SCALE ?= $(if $(filter 1,$(QUICK)),quick,paper)
OUT ?= $(if $(filter cpu,$(SCALE)),$(CURDIR)/cpu,$(CURDIR))
RUNS = $(OUT)/runs
DATASET ?= shapes3d
SEEDS ?= 1
JOBS ?= 1
SSHLOGINFILE ?=

BATCH =
IMAGE_OPTS =
ifeq ($(SCALE),quick)
STEPS = 20
SMALL = --width 8 --dense 32 --batch 16 --disc-hidden 64 --init-std 0.05 --lr 2e-3
EVAL_N = 600
EVAL_TRAIN = 400
EVAL_TEST = 200
DSLOAD_OPTS = --no-cache
else ifeq ($(SCALE),cpu)
# BATCH is the Factor models' (both halves); run_one.sh gives the others half
# of it, as the reference does (512 and 256)
STEPS = 12000
BATCH = 32
SMALL = --width 16 --dense 64 --disc-hidden 256 --init-std 0.1 --lr 8e-3 --lr-min 1e-5 \
        --lr-period 12000 --tau-rate 8.33333e-05
IMAGE_OPTS = --size 32
EVAL_N = 10000
EVAL_TRAIN = 7500
EVAL_TEST = 2500
DSLOAD_OPTS =
else ifeq ($(SCALE),paper)
# the paper's protocol: DCI on 10000 + 5000 samples, MIG/InfoMEC on 10000
STEPS =
SMALL =
EVAL_N = 15000
EVAL_TRAIN = 10000
EVAL_TEST = 5000
DSLOAD_OPTS =
else
$(error SCALE=$(SCALE): one of paper, cpu, quick)
endif

# what run_one.sh reads, exported here and passed to remote hosts by parallel
RUN_ENV = BIN RUNS DATASET STEPS BATCH SMALL EVAL_N EVAL_TRAIN EVAL_TEST DSLOAD_OPTS IMAGE_OPTS \
          METRICS GAPST
export $(RUN_ENV)

EXAMPLES = $(TOP)/examples
PARALLEL = parallel --jobs $(JOBS) --halt now,fail=1 --colsep '\t' \
           $(if $(SSHLOGINFILE),--sshloginfile $(SSHLOGINFILE) --workdir $(CURDIR) \
               $(foreach v,$(RUN_ENV),--env $(v)))

# $(OUT)/runs.list holds one "name<TAB>model<TAB>seed<TAB>options" line per
# run; each experiment's Makefile writes it with $(call run_line,...).
run_line = printf '%s\t%s\t%s\t%s\n' '$(1)' '$(2)' '$(3)' '$(4)'

.PHONY: all runs clean FORCE
all: $(OUT)/results.md $(OUT)/curves.png

runs: $(OUT)/runs.list
	$(PARALLEL) $(EXAMPLES)/run_one.sh {1} {2} {3} {4} :::: $<

$(OUT)/results.tsv: runs
	$(EXAMPLES)/collect.sh $(OUT)/runs.list $(RUNS) >$@.tmp && mv $@.tmp $@

# every run's loss curves on one picture (curves(1))
$(OUT)/curves.png: runs
	$(BIN)/curves -o $@ -t "$(notdir $(CURDIR)), $(DATASET): training losses" \
	    $$(cut -f1 $(OUT)/runs.list | sed 's|.*|$(RUNS)/&/train.tsv|')

clean:
	rm -rf $(RUNS) $(OUT)/runs.list $(OUT)/results.tsv $(OUT)/results.md $(OUT)/curves.png
