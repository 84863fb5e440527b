#!/bin/sh
# cli_train.sh: train / enc / quant / dec on small synthetic streams.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
# OpenMP threads that spin while waiting cost more than they give on tiny
# models on a shared machine
export OMP_WAIT_POLICY=passive

for tool in train enc quant dec; do
    check "$tool --help" "$tool" --help
done

if ! "$PY" -c 'import numpy, msgpack' 2>/dev/null; then
    skip "streams" "$PY lacks numpy or msgpack"
    exit 0
fi
stream() { "$PY" "$here/model_stream.py" "$@"; }
stream 80 10 16 16 3 1 >"$T/s10"
stream 80 3 16 16 3 1 >"$T/s3"
stream 400 10 16 16 3 1 >"$T/long"
stream 20 10 8 8 3 2 >"$T/small"
tiny="--width 8 --dense 16 --codebook 8 --disc-hidden 16 --batch 8 --save-every 3"

check "train a tiny FactorQVAE" sh -c "train -o $T/a.st $tiny --steps 10 --log $T/a.tsv <$T/s10"
check "log has a line per step" test "$(wc -l <"$T/a.tsv")" -eq 11
check "checkpoint is safetensors" sh -c "head -c 200 $T/a.st | tail -c 190 | grep -q __metadata__"
check "re-batching: any input batch size gives the same run" sh -c \
    "train -o $T/b.st $tiny --steps 10 <$T/s3 2>/dev/null && cmp $T/a.st $T/b.st"
check "resume 5+5 equals 10 bit for bit" sh -c \
    "train -o $T/r.st $tiny --steps 5 --log $T/r.tsv <$T/s10 2>/dev/null &&
     train -o $T/r.st --resume --steps 10 --log $T/r.tsv <$T/s10 2>/dev/null && cmp $T/a.st $T/r.st"
check "a resumed run's log keeps the earlier steps: the same losses as one run" sh -c \
    "cut -f1-8 $T/a.tsv >$T/a8 && cut -f1-8 $T/r.tsv >$T/r8 && cmp $T/a8 $T/r8"
check "a stream that ends early still leaves a checkpoint" sh -c \
    "train -o $T/e.st $tiny --steps 100 <$T/s10 2>$T/e.err && grep -q 'stream ended at step 10' $T/e.err && test -f $T/e.st"

# signal_when_checkpointed SIG PID CKPT: send SIG to the training PID once
# it is under way (CKPT, its first periodic checkpoint, is there), however
# slow the machine: a signal during start-up ends the process before it
# trains.  st is then its exit status.
signal_when_checkpointed() {
    n=0
    while [ ! -f "$3" ] && [ $n -lt 400 ]; do sleep 0.05; n=$((n + 1)); done
    kill -"$1" "$2" 2>/dev/null
    wait "$2"
    st=$?
}

# SIGTERM in the middle, then resume: the same weights as a run never stopped
train -o "$T/full.st" $tiny --steps 50 --log "$T/full.tsv" <"$T/long" 2>/dev/null
train -o "$T/k.st" $tiny --steps 50 <"$T/long" 2>"$T/k.err" &
signal_when_checkpointed TERM $! "$T/k.st"
if [ "$st" = 143 ] || [ "$st" = 0 ]; then ok "SIGTERM leaves a checkpoint (status $st)"; else notok "SIGTERM" "status $st: $(cat "$T/k.err")"; fi
check "killed + resumed equals uninterrupted" sh -c \
    "train -o $T/k.st --resume --steps 50 <$T/long 2>/dev/null && cmp $T/full.st $T/k.st"
check "no temporary files left" sh -c "! ls $T | grep -q tmp"

# SIGKILL (nothing to catch: GNU parallel's last resort, a machine gone) once
# the first checkpoint is there: the log holds the rows up to a checkpoint
# (every 3 steps), and the resumed run's log is the uninterrupted run's
train -o "$T/x.st" $tiny --steps 50 --log "$T/x.tsv" <"$T/long" 2>/dev/null &
signal_when_checkpointed KILL $! "$T/x.st"
if [ "$st" != 137 ]; then
    skip "SIGKILL mid-run" "the run ended (status $st) before the signal"
else
    check "SIGKILL leaves the log up to a checkpoint" \
        awk -F'\t' 'END { exit !(NR > 1 && $1 == NR - 1 && $1 % 3 == 0) }' "$T/x.tsv"
    check "killed outright + resumed: the log is the uninterrupted run's" sh -c \
        "train -o $T/x.st --resume --steps 50 --log $T/x.tsv <$T/long 2>/dev/null &&
         cut -f1-8 $T/x.tsv >$T/x8 && cut -f1-8 $T/full.tsv >$T/full8 && cmp $T/x8 $T/full8"
fi
rm -f "$T"/x.*tmp*

# SIGHUP (terminal closed, ssh dropped) once training is under way (the first
# periodic checkpoint is there): the checkpoint is written, status 129.  train
# keeps a SIGHUP ignored on entry ignored, so it starts with the default
# disposition whether or not the tests themselves run under nohup
stream 2000 10 16 16 3 1 >"$T/huge"
env --default-signal=HUP train -o "$T/h.st" $tiny --steps 250 <"$T/huge" 2>"$T/h.err" &
signal_when_checkpointed HUP $! "$T/h.st"
check "SIGHUP writes the checkpoint and exits 129" sh -c \
    "test $st = 129 && grep -q 'hung up at step [0-9]*; checkpoint $T/h.st written' $T/h.err ||
     { echo status $st; tail -c 200 $T/h.err; false; }"
check "a SIGHUP ignored on entry (nohup) stays ignored" sh -c \
    "(trap '' HUP; exec train -o $T/n.st $tiny --steps 50 <$T/long 2>/dev/null) & pid=\$!
     sleep 0.3; kill -HUP \$pid 2>/dev/null; wait \$pid && cmp $T/full.st $T/n.st"

# Divergence: status 1, the one line says so, and no non-finite checkpoint
# replaces a finite one.  FactorQVAE's discriminator loss is nan at step 1
cp "$T/a.st" "$T/d.st"
check_err "a diverging run (--lr 1e30) stops with status 1" 1 \
    "training diverged at step 1: non-finite loss .*disc -?nan\\); checkpoint .*d.st not written" \
    sh -c "train -o $T/d.st $tiny --lr 1e30 --steps 10 --log $T/d.tsv <$T/s10"
check "... leaves the file at CKPT as it was" cmp "$T/a.st" "$T/d.st"
check "... and keeps its log, the non-finite row last" sh -c \
    "test \$(wc -l <$T/d.tsv) = 2 && tail -n 1 $T/d.tsv | grep -q nan"
# QVAE's loss stays finite at step 1 and is nan at step 2
train -o "$T/q1.st" -m qvae $tiny --lr 1e30 --steps 1 <"$T/s10" 2>/dev/null
check_err "a diverging run says the step of the last finite checkpoint" 1 \
    "diverged at step 2: non-finite loss.*q.st kept from step 1" \
    sh -c "train -o $T/q.st -m qvae $tiny --save-every 1 --lr 1e30 --steps 10 <$T/s10"
check "... and leaves that checkpoint byte for byte" cmp "$T/q1.st" "$T/q.st"
train -o "$T/z.st" $tiny --lr 1e30 --steps 0 <"$T/s10" 2>/dev/null
cp "$T/z.st" "$T/z0.st"
check_err "--resume: a diverging run keeps the checkpoint it resumed" 1 \
    "diverged at step 1: non-finite loss.*z.st kept from step 0" \
    sh -c "train -o $T/z.st --resume --steps 10 <$T/s10"
check "... byte for byte" cmp "$T/z0.st" "$T/z.st"
# an update of 1e39 overflows the weights while step 1's loss is finite
check_err "non-finite weights are caught before the checkpoint is written" 1 \
    "diverged at step 1: non-finite weights in encoder\\.[a-z_.]*; checkpoint .*w.st not written" \
    sh -c "train -o $T/w.st -m qvae $tiny --lr 1e39 --steps 1 <$T/s10"
check "... and none is" test ! -e "$T/w.st"

check "enc | quant | dec" sh -c "enc -m $T/a.st <$T/s10 | quant -m $T/a.st | dec -m $T/a.st >$T/out"
check "fields and shapes" "$PY" -c "
import msgpack, numpy as np, sys
u = msgpack.Unpacker(open('$T/out', 'rb'), raw=False)
h = next(u)
assert h['model'] == 'factorqvae' and h['latents'] == 6 and h['codebook'] == 8, h
n = 0
for b in u:
    sh = {k: tuple(v['shape']) for k, v in b.items()}
    B = sh['x'][0]
    assert sh['z'] == (B, 6) and sh['code'] == (B, 6) and sh['zq'] == (B, 6), sh
    assert sh['xhat'] == (B, 16, 16, 3) and sh['s'] == (B, 3), sh
    code = np.frombuffer(b['code']['data'], np.int32)
    assert code.min() >= 0 and code.max() < 8
    n += B
assert n == 80, n
"
check "quant --sample is deterministic" sh -c \
    "enc -m $T/a.st <$T/s10 | quant -m $T/a.st --sample >$T/q1 && enc -m $T/a.st <$T/s10 | quant -m $T/a.st --sample >$T/q2 && cmp $T/q1 $T/q2"
check_err "enc refuses images of another size" 65 "stream images are 8x8x3 but .*16x16x3" \
    sh -c "enc -m $T/a.st <$T/small"
check_err "dec refuses a stream without zq" 65 "lacks field 'zq'" sh -c "dec -m $T/a.st <$T/s10"
head -c 1000 "$T/a.st" >"$T/trunc.st"
check_err "truncated checkpoint" 65 "trunc.st: header length .* exceeds" sh -c "enc -m $T/trunc.st <$T/s10"
printf 'garbage' >"$T/garbage.st"
check_err "garbage checkpoint" 65 "garbage.st: truncated safetensors" sh -c "quant -m $T/garbage.st <$T/s10"
check_err "missing checkpoint" 66 "nope.st: No such file" sh -c "enc -m $T/nope.st <$T/s10"
check_err "resume refuses a checkpoint of other images" 65 "stream images are 8x8x3" \
    sh -c "train -o $T/a.st --resume --steps 20 <$T/small"
check_err "bad option value" 2 "bad value 'x' for n" sh -c "train -o $T/z.st --width x <$T/s10"
check_err "width not a multiple of 4" 2 "multiple of 4" sh -c "train -o $T/z.st --width 6 <$T/s10"
check_err "negative --init-gain" 2 "init_gain must be >= 0" sh -c "train -o $T/z.st --init-gain -1 <$T/s10"

if "$PY" -c 'import torch' 2>/dev/null; then
    check "PyTorch loads the checkpoint and reproduces enc" sh -c \
        "$PY $here/model_stream.py 12 4 8 8 3 3 | enc -m $here/../fixtures/model/golden_init.safetensors --device cpu |
         $PY $here/../../examples/python/load_checkpoint.py $here/../fixtures/model/golden_init.safetensors 2>/dev/null"
else
    skip "PyTorch reproduces enc" "$PY has no torch"
fi
