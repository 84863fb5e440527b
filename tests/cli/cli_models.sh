#!/bin/sh
# cli_models.sh: every model kind through train | enc | quant | dec on a tiny
# synthetic stream: field presence and shapes, and --sample of Gaussian models.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
export OMP_WAIT_POLICY=passive

check_err "unknown model named" 2 "nosuch" train -o "$T/x.st" --model nosuch </dev/null
if ! "$PY" -c 'import numpy, msgpack' 2>/dev/null; then
    skip "streams" "$PY lacks numpy or msgpack"
    exit 0
fi
"$PY" "$here/model_stream.py" 16 8 8 8 3 1 >"$T/s"
tiny="--width 4 --dense 8 --codebook 5 --disc-hidden 8 --batch 4 --steps 2 --save-every 0"

# kind, fields expected after quant (beyond x), z width, zq width (d = 6)
while read -r kind fields zw qw; do
    check "train $kind" sh -c "train -o $T/$kind.st --model $kind $tiny <$T/s 2>/dev/null"
    check "$kind: enc | quant | dec" sh -c \
        "enc -m $T/$kind.st <$T/s | quant -m $T/$kind.st | dec -m $T/$kind.st >$T/$kind.out"
    check "$kind: fields and widths" "$PY" -c "
import msgpack, sys
u = msgpack.Unpacker(open('$T/$kind.out', 'rb'), raw=False)
next(u)
b = next(u)
want = {f for f in '$fields'.split(',') if f != '-'} | {'x', 's', 'z', 'zq', 'xhat'}
assert set(b) == want, sorted(b)
assert b['z']['shape'] == [8, $zw] and b['zq']['shape'] == [8, $qw], (b['z']['shape'], b['zq']['shape'])
"
done <<TABLE
ae - 6 6
bioae - 6 6
betavae - 6 6
factorvae - 6 6
qlae code 6 6
dvae code 30 6
factordvae code 30 6
vqvae code 48 48
factorvqvae code 48 48
TABLE

check "betavae: dec reads z when there is no zq" sh -c \
    "enc -m $T/betavae.st <$T/s | dec -m $T/betavae.st >/dev/null"
check "betavae: --sample differs from the mean" sh -c \
    "enc -m $T/betavae.st <$T/s >$T/mean && enc -m $T/betavae.st --sample <$T/s >$T/draw && ! cmp -s $T/mean $T/draw"
check "betavae: --sample is deterministic" sh -c \
    "enc -m $T/betavae.st --sample <$T/s | cmp - $T/draw"

# Fields the stages compute with must be finite; errors name the batch (craft.py).
craft() { "$PY" "$here/craft.py" "$@"; }
Z="np.zeros((4, 30), np.float32)"
craft "{'disq': 1}" "{'z': $Z}" "{'z': np.where(np.arange(120).reshape(4, 30) == 65, np.nan, $Z).astype(np.float32)}" >"$T/nan"
check_err "quant refuses a NaN in z" 65 "^quant: stdin: batch 2: field 'z' row 2 holds NaN" quant -m "$T/dvae.st" <"$T/nan"
check "and writes no batch for it" sh -c "quant -m $T/dvae.st <$T/nan 2>/dev/null | $PY -c '
import msgpack, sys
assert len(list(msgpack.Unpacker(sys.stdin.buffer))) == 2'"
craft "{'disq': 1}" "{'zq': np.full((3, 6), -np.inf, np.float32)}" >"$T/inf"
check_err "dec refuses an infinite zq" 65 "^dec: stdin: batch 1: field 'zq' row 0 holds an infinity" dec -m "$T/dvae.st" <"$T/inf"
craft "{'disq': 1}" "{'z': np.zeros((0, 6), np.float32)}" "{'z': np.array([[0, 0, 0, 0, 0, np.inf]], np.float32)}" >"$T/inf"
check_err "dec of an ae refuses an infinite z after an empty batch" 65 "^dec: stdin: batch 2: field 'z' row 0 holds an infinity" \
    dec -m "$T/ae.st" <"$T/inf"
craft "{'disq': 1}" "{'z': $Z}" "{'y': $Z}" >"$T/noz"
check_err "a missing field names its batch" 65 "^quant: stdin: batch 2: lacks field 'z'" quant -m "$T/dvae.st" <"$T/noz"
craft "{'disq': 1}" "{'z': $Z}" "{'z': np.zeros((4, 29), np.float32)}" >"$T/noz"
check_err "a field of the wrong shape names its batch" 65 "^quant: stdin: batch 2: field 'z' is f32 with 2 dims" \
    quant -m "$T/dvae.st" <"$T/noz"

check "gapst of a dvae" sh -c "metric gapst -m $T/dvae.st --tsv <$T/s | grep -q '^gapst	images	16$'"
check "gapst of a vqvae in one pass with mse" sh -c "enc -m $T/vqvae.st <$T/s | quant -m $T/vqvae.st | dec -m $T/vqvae.st | metric mse gapst -m $T/vqvae.st | grep -q '^gapst  *gapst '"
check_err "gapst refuses a continuous model" 65 "no categorical posterior" metric gapst -m "$T/ae.st" <"$T/s"
check_err "gapst needs -m" 2 "gapst needs the model's checkpoint" metric gapst <"$T/s"
check_err "-m without gapst is refused" 2 "-m CKPT is for gapst" metric mse -m "$T/ae.st" <"$T/s"

# Friede et al.'s pair on 16x16 images (their network halves the size four times)
"$PY" "$here/model_stream.py" 16 8 16 16 3 1 >"$T/s16"
for kind in dvae-friede factordvae-friede; do
    check "train $kind" sh -c "train -o $T/$kind.st --model $kind $tiny --latents 4 <$T/s16 2>/dev/null"
    check "$kind: enc | quant | dec" sh -c \
        "enc -m $T/$kind.st <$T/s16 | quant -m $T/$kind.st | dec -m $T/$kind.st >$T/$kind.out"
    check "$kind: logits, codes, expected values, sigmoid output" "$PY" -c "
import msgpack, numpy as np
u = msgpack.Unpacker(open('$T/$kind.out', 'rb'), raw=False)
next(u)
b = next(u)
assert b['z']['shape'] == [8, 20] and b['code']['shape'] == [8, 4] and b['zq']['shape'] == [8, 4]
zq = np.frombuffer(b['zq']['data'], np.float32)
xhat = np.frombuffer(b['xhat']['data'], np.float32)
assert (abs(zq) <= 1).all() and (xhat > 0).all() and (xhat < 1).all()
"
    check "$kind: gapst" sh -c "metric gapst -m $T/$kind.st --tsv <$T/s16 | grep -q '^gapst	gapst	[0-9]'"
done
check_err "enc: a header of other images is the stream's fault" 65 "^enc: stdin: stream images are 16x16x3" \
    enc -m "$T/dvae.st" <"$T/s16"
check_err "Friede network needs multiples of 16" 2 "multiples of 16" \
    sh -c "train -o $T/f8.st --model dvae-friede $tiny <$T/s"
check "dvae-friede preset: d = 10, K = 64, batch 64, tau 1" sh -c \
    "train -o $T/fp.st --model dvae-friede --steps 0 --width 8 --dense 8 <$T/s16 2>/dev/null"
check "dvae-friede preset values" "$PY" -c "
import json, struct
raw = open('$T/fp.st', 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
c = json.loads(json.loads(raw[8:8 + n])['__metadata__']['config'])
assert (c['d'], c['K'], c['batch'], c['tau_rate'], c['lr'], c['beta']) == (10, 64, 64, 0, 1e-4, 1), c
"

# the random numbers of an iteration depend only on the seed and the step
"$PY" "$here/model_stream.py" 40 8 8 8 3 2 >"$T/s40"
for kind in betavae factordvae; do
    check "$kind: resume 2+3 equals 5 bit for bit" sh -c \
        "train -o $T/r1.st --model $kind ${tiny%--steps 2*} --steps 5 --save-every 0 <$T/s40 2>/dev/null &&
         train -o $T/r2.st --model $kind ${tiny%--steps 2*} --steps 2 --save-every 0 <$T/s40 2>/dev/null &&
         train -o $T/r2.st --resume --steps 5 --save-every 0 <$T/s40 2>/dev/null && cmp $T/r1.st $T/r2.st"
done
