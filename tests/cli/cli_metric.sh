#!/bin/sh
# metric: output formats, agreement with the committed sklearn references,
# the train/test split rules and every kind of bad input.
. "$(dirname "$0")/lib.sh"
FX=$(cd "$(dirname "$0")" && pwd)/../fixtures/metric

# ref NAME KEY: the first reference value of KEY in NAME.ref.
ref() { awk -v k="$2" '$1 == k { print $2; exit }' "$FX/$1.ref"; }
# near A B TOL: |A - B| <= TOL.
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
# tsv_value FILE METRIC SCORE
tsv_value() { awk -F '\t' -v m="$2" -v s="$3" '$1 == m && $2 == s { print $3 }' "$1"; }

check "--help exits 0" metric --help
check_err "unknown metric is a usage error" 2 "unknown metric 'foo'" metric foo
check_err "no metric named" 2 "name at least one metric" metric
check_err "--png without dci or infomec" 2 "png" metric mig --png "$T/x.png"

# All row metrics in one pass, from a pipe.
cat "$FX/continuous.dqs" | metric dci mig sap modularity infomec unsupervised --train 600 --test 300 --tsv \
    >"$T/all.tsv" 2>"$T/all.err"
check "several metrics share one pass" test -s "$T/all.tsv"
for pair in "dci disentanglement dci.disentanglement" "dci completeness dci.completeness" \
    "dci informativeness dci.informativeness_test" "mig mig mig.mig" "sap sap sap.sap" \
    "modularity modularity modularity.modularity" "modularity explicitness modularity.explicitness_test" \
    "infomec infom infomec.infom" "infomec infoc infomec.infoc" "infomec infoe infomec.infoe" \
    "unsupervised gaussian_total_correlation unsupervised.gaussian_total_correlation"; do
    set -- $pair
    got=$(tsv_value "$T/all.tsv" "$1" "$2")
    want=$(ref continuous "$3")
    check "$1 $2 = $want (sklearn) within 0.01: got $got" near "$got" "$want" 0.01
done

metric dci infomec --train 600 --test 300 --json <"$FX/discrete.dqs" >"$T/out.json" 2>/dev/null
check "json has the importance matrix with factor names" grep -q '"columns": \["shape", "scale", "hue"\]' "$T/out.json"
check "json lists the nmi rows as code fields" grep -q '"rows": \["code0", "code1", "code2", "code3"\]' "$T/out.json"

metric mig <"$FX/discrete.dqs" >"$T/table" 2>/dev/null
check "table output has a header" grep -q '^metric  *score  *value' "$T/table"

# Split rules.
check_err "defaults shrink to 2/3 + 1/3 with a warning" 0 "only 900 rows.*first 600.*next 300" metric dci <"$FX/continuous.dqs"
check_err "explicit sizes that do not fit are refused" 65 "has 900 rows but --train 5000 --test 300 needs 5300" \
    metric dci --train 5000 --test 300 <"$FX/continuous.dqs"
check_err "a bad --train is a usage error" 2 "--train" metric dci --train 1x <"$FX/continuous.dqs"

# Bad input: a clear message and status 65, never a number.
check_err "missing factor field" 65 "no field 's'" metric dci <"$FX/bad_no_s.dqs"
check_err "missing latent field" 65 "no field 'zq'" metric mig --field zq <"$FX/continuous.dqs"
check_err "mismatched row counts" 65 "has 29 rows but 's' has 30" metric mig <"$FX/bad_rows.dqs"
check_err "NaN latent" 65 "is NaN" metric mig <"$FX/bad_nan.dqs"
check_err "infinite latent" 65 "is infinite" metric infomec <"$FX/bad_inf.dqs"
check_err "factor with one class" 65 "factor 'b' takes a single value" metric dci --train 20 --test 10 <"$FX/bad_one_class.dqs"
check_err "empty input" 65 "." metric mig </dev/null
head -c 3000 "$FX/continuous.dqs" >"$T/trunc.dqs"
check_err "truncated stream" 65 "byte" metric mig <"$T/trunc.dqs"
check_err "mse without xhat" 65 "no field 'x'" metric mse <"$FX/continuous.dqs"

# Intervention scores and reconstruction error.
check_err "betavae needs pairs" 65 "vote 0 has 3 rows; want an even number" \
    metric betavae <"$FX/betavae_odd.dqs"
metric factorvae --train 120 --test 60 --tsv <"$FX/factorvae.dqs" >"$T/fv.tsv" 2>/dev/null
check "factorvae accuracy matches" near "$(tsv_value "$T/fv.tsv" factorvae accuracy)" "$(ref factorvae factorvae.eval_accuracy)" 1e-9
metric betavae --train 120 --test 60 --tsv <"$FX/betavae.dqs" >"$T/bv.tsv" 2>/dev/null
check "betavae accuracy matches" near "$(tsv_value "$T/bv.tsv" betavae accuracy)" "$(ref betavae betavae.eval_accuracy)" 0.01
check_err "factorvae needs vote fields" 65 "no field 'vote'" metric factorvae <"$FX/continuous.dqs"
metric mse --tsv <"$FX/mse.dqs" >"$T/mse.tsv" 2>/dev/null
check "mse matches numpy" near "$(tsv_value "$T/mse.tsv" mse mse)" "$(ref mse mse.mse)" 1e-9

# Heatmaps: a PNG, written atomically.
metric dci infomec --train 600 --test 300 --png "$T/h.png" <"$FX/continuous.dqs" >/dev/null 2>&1
check "png written" sh -c "od -An -c -N4 '$T/h.png' | grep -q 'P   N   G'"
check_err "png into a missing directory" 74 "no/such/dir/h.png" \
    metric dci --train 600 --test 300 --png "$T/no/such/dir/h.png" <"$FX/continuous.dqs"
check "no partial png left behind" sh -c "! ls '$T'/no 2>/dev/null"

# Crafted streams (tests/cli/craft.py): values no tool writes.
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import numpy, msgpack' 2>/dev/null; then
    skip "crafted streams" "$PY lacks numpy or msgpack"
    exit 0
fi
craft() { "$PY" "$(dirname "$0")/craft.py" "$@"; }
H="{'disq': 1, 'factors': [{'name': 'a', 'size': 4}, {'name': 'b\\n', 'size': 4}], 'codebook': 64}"
S="np.random.default_rng(1).integers(0, 4, (300, 2)).astype(np.int32)"
C="np.random.default_rng(2).integers(0, 64, (300, 3))"
for bad in -1 -2147483648 64 1000000; do
    craft "$H" "{'s': $S, 'code': np.where(np.arange(900).reshape(300, 3) == 5, $bad, $C).astype(np.int32)}" >"$T/c.dqs"
    check_err "code $bad against a codebook of 64 is refused" 65 \
        "^metric: stdin: batch 1: code\[1\]\[2\] = $bad is (negative|outside the codebook of 64)" metric dci mig <"$T/c.dqs"
done
craft "{'disq': 1}" "{'s': np.zeros((300, 2), np.int32), 'code': np.full((300, 3), -1, np.int32)}" >"$T/c.dqs"
check_err "negative codes are refused without a codebook" 65 "batch 1: code\[0\]\[0\] = -1 is negative" metric mig <"$T/c.dqs"
craft "$H" "{'s': $S, 'code': $C.astype(np.int32)}" "{'s': $S[:0], 'code': np.zeros((0, 3), np.int32)}" \
    "{'s': $S, 'code': np.where(np.arange(900).reshape(300, 3) == 7, np.nan, $C).astype(np.float32)}" >"$T/c.dqs"
check_err "NaN latent after an empty batch" 65 "^metric: stdin: batch 3: code\[2\]\[1\] is NaN" \
    metric mig --train 600 <"$T/c.dqs"
craft "$H" "{'s': $S[:0], 'z': np.zeros((0, 3), np.float32)}" "{'s': $S, 'z': $C.astype(np.float32)}" >"$T/c.dqs"
check "an empty first batch" sh -c "metric mig --tsv <$T/c.dqs 2>/dev/null | grep -q '^mig	mig	0'"
craft "{'disq': 1}" "{'s': np.zeros((300, 0), np.int32), 'z': np.random.default_rng(2).normal(size=(300, 12)).astype(np.float32)}" >"$T/c.dqs"
check_err "s without factors is refused" 65 "^metric: stdin: field 's' has no columns and the header lists no factors" \
    metric dci mig <"$T/c.dqs"
craft "$H" "{'s': np.zeros((300, 2), np.int32), 'code': $C.astype(np.int32)}" >"$T/c.dqs"
check_err "a constant factor is named with its name escaped" 65 "^metric: stdin: factor 'a' takes a single value" \
    metric mig <"$T/c.dqs"
craft "$H" "{'s': $S, 'code': $C.astype(np.int32)}" "{'s': np.full((3, 2), [0, 9], np.int32), 'code': np.zeros((3, 3), np.int32)}" >"$T/c.dqs"
check_err "the s of a later batch: batch number, escaped factor name" 65 \
    "^metric: stdin: batch 2: s\[0\]\[1\] = 9 is outside factor 'b\\\\n'" metric mig <"$T/c.dqs"
craft "{'disq': 1, 'factors': [{'name': 'a', 'size': 8}]}" \
    "{'s': (np.arange(6000) % 8).reshape(6000, 1).astype(np.int32), 'code': np.arange(6000).reshape(6000, 1).astype(np.int32)}" >"$T/c.dqs"
check_err "a latent of more distinct codes than infomec's discrete estimator takes" 65 \
    "latent code0 takes 6000 distinct values .* at most 4096 \(--continuous" metric infomec --train 6000 <"$T/c.dqs"
check "--continuous takes them" sh -c "metric infomec --continuous --train 6000 <$T/c.dqs >/dev/null 2>&1"
craft "{'disq': 1, 'factors': [{'name': 'a', 'size': 8}]}" \
    "{'s': np.zeros((0, 1), np.int32), 'z': np.zeros((0, 2), np.float32)}" >"$T/c.dqs"
check_err "a stream of one empty batch" 65 "stdin: the stream has no rows" metric mig <"$T/c.dqs"
craft "$H" "{'s': $S, 'z': np.random.default_rng(3).normal(size=(300, 1)).astype(np.float32)}" >"$T/c.dqs"
check_err "mig of one latent says what it needs" 0 "mig mig is undefined \(needs at least two latents and a factor that varies\)" \
    metric mig <"$T/c.dqs"
craft "$H" "{'s': $S, 'w': (-np.arange(900).reshape(300, 3)).astype(np.int32)}" >"$T/c.dqs"
check "another integer field is not held to the codebook" sh -c "metric mig --field w <$T/c.dqs >/dev/null 2>&1"
