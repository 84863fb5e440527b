# common.mk: what the experiments share (included by table1/, table2/, gapst/).
#
#   make [DATASET=shapes3d] [SEEDS="1 2 3"] [JOBS=1] [SSHLOGINFILE=hosts] [QUICK=1] [OUT=dir]
#
# Runs go through GNU parallel: JOBS runs at a time on this machine (one per
# GPU is a good start), or spread over the hosts of SSHLOGINFILE (parallel's
# --sshloginfile: one "N/host" line each; every host needs disq built at the
# same path and OUT on a shared file system).  Finished runs are skipped and
# killed ones resume, so running make again after an interruption only does
# what is left.  QUICK=1 is a smoke-sized version for a 2-core CPU.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
BIN ?= $(TOP)/build/bin
OUT ?= $(CURDIR)
RUNS = $(OUT)/runs
DATASET ?= shapes3d
SEEDS ?= 1
JOBS ?= 1
SSHLOGINFILE ?=
QUICK ?= 0

ifeq ($(QUICK),1)
STEPS = 20
SMALL = --width 8 --dense 32 --batch 16 --disc-hidden 64 --init-std 0.05 --lr 2e-3
EVAL_N = 600
EVAL_TRAIN = 400
EVAL_TEST = 200
DSLOAD_OPTS = --no-cache
else
# the paper's protocol: DCI on 10000 + 5000 samples, MIG/InfoMEC on 10000
STEPS =
SMALL =
EVAL_N = 15000
EVAL_TRAIN = 10000
EVAL_TEST = 5000
DSLOAD_OPTS =
endif

# what run_one.sh reads, exported here and passed to remote hosts by parallel
RUN_ENV = BIN RUNS DATASET STEPS SMALL EVAL_N EVAL_TRAIN EVAL_TEST DSLOAD_OPTS METRICS GAPST
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
