#!/bin/sh
# cli_tcdisc.sh: tcdisc on streams of known total correlation.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
export OMP_WAIT_POLICY=passive

check "tcdisc --help" tcdisc --help
check_err "bad field refused" 2 "field" tcdisc --field w </dev/null
if ! "$PY" -c 'import numpy, msgpack' 2>/dev/null; then
    skip "streams" "$PY lacks numpy or msgpack"
    exit 0
fi
# codes [N,3] over K = 4: independent, or latent 1 copying latent 0 (TC = ln 4)
gen() {
    "$PY" -c "
import sys, msgpack, numpy as np
rng = np.random.default_rng(3)
out = sys.stdout.buffer
out.write(msgpack.packb({'disq': 1, 'dataset': 't', 'factors': [], 'shape': [1, 1, 1], 'codebook': 4}))
for _ in range($2):
    c = rng.integers(0, 4, size=($3, 3)).astype(np.int32)
    if '$1' == 'copy': c[:, 1] = c[:, 0]
    z = c.astype(np.float32)
    t = lambda a, d: {'dtype': d, 'shape': list(a.shape), 'data': a.tobytes()}
    out.write(msgpack.packb({'code': t(c, 'i32'), 'z': t(z, 'f32')}))
"
}
gen indep 6 500 >"$T/indep"
gen copy 6 500 >"$T/copy"
gen copy 1 3 >"$T/few"
gen copy 0 0 >"$T/none"
opts="--hidden 32 --steps 300 --batch 64 --lr 3e-3"
check "json output" sh -c "tcdisc $opts --json <$T/copy >$T/c.json"
check "copied latent: TC near ln 4" "$PY" -c "
import json; r = json.load(open('$T/c.json'))
assert r['field'] == 'code' and r['latents'] == 3 and r['slice'] == 4 and r['n_eval'] == 600, r
assert 0.8 < r['tc'] < 2.5 and r['se'] < 0.2, r"
check "independent codes: TC near 0" sh -c \
    "tcdisc $opts --json <$T/indep | $PY -c 'import json,sys; r = json.load(sys.stdin); assert abs(r[\"tc\"]) < 0.15, r'"
check "z field" sh -c "tcdisc $opts --field z <$T/copy | grep -q '^TC .*(z, 3 latents'"
check_err "too few samples" 65 "too few" sh -c "tcdisc <$T/few"
check_err "no latents" 65 "no latents" sh -c "tcdisc <$T/none"
check_err "truncated stream" 65 "truncated" sh -c "head -c 300 $T/copy | tcdisc"

# Crafted streams (craft.py): bad values are refused with their batch and row.
craft() { "$PY" "$(dirname "$0")/craft.py" "$@"; }
craft "{'disq': 1}" "{'z': np.zeros((10, 3), np.float32)}" "{'z': np.full((10, 3), np.nan, np.float32)}" >"$T/nan"
check_err "NaN in z" 65 "^tcdisc: stdin: batch 2: field 'z' row 0 holds NaN" tcdisc --steps 2 <"$T/nan"
craft "{'disq': 1}" "{'z': np.zeros((10, 3, 2), np.float32)}" "{'z': np.full((1, 3, 2), -np.inf, np.float32)}" >"$T/inf"
check_err "infinity in z [B,d,C]" 65 "^tcdisc: stdin: batch 2: field 'z' row 0 holds an infinity" tcdisc --steps 2 <"$T/inf"
craft "{'disq': 1}" "{'z': np.zeros((10, 12, 0), np.float32)}" >"$T/empty"
check_err "z without values" 65 "^tcdisc: stdin: batch 1: field 'z' has no values per row" tcdisc --steps 2 <"$T/empty"
craft "{'disq': 1}" "{'code': np.full((10, 3), 2**31 - 1, np.int32)}" >"$T/big"
check_err "the largest i32 code without a header codebook" 65 "^tcdisc: stdin: codes reach 2147483647; one-hot rows take at most 1000000" \
    tcdisc --steps 2 <"$T/big"
craft "{'disq': 1, 'codebook': 4}" "{'code': np.zeros((10, 3), np.int32)}" "{'code': np.full((10, 3), 4, np.int32)}" >"$T/outside"
check_err "a code outside the header's codebook names batch and row" 65 \
    "^tcdisc: stdin: batch 2: code\[0\]\[0\] = 4 is outside the codebook of 4" tcdisc --steps 2 <"$T/outside"
craft "{'disq': 1}" "{'code': np.zeros((0, 3), np.int32)}" "{'code': np.array([[0, 1, -3]], np.int32)}" >"$T/neg"
check_err "a negative code after an empty batch" 65 "^tcdisc: stdin: batch 2: code\[0\]\[2\] = -3 is negative" \
    tcdisc --steps 2 <"$T/neg"
check_err "--codebook beyond the limit" 2 "at most 1000000" tcdisc --codebook 1000001 </dev/null
