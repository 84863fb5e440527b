#!/bin/sh
# bench_metric.sh: time `metric dci` and `metric infomec` on 10000 training
# (+ 5000 test) rows, d = 12 continuous latents, F = 6 factors (and infomec
# on the same latents quantised to 16-entry codes), and the
# sklearn references (disentanglement_lib's DCI, FactorQVAE's InfoMEC) on the
# same stream in the same run; print the speed-up ratios.  The reference DCI
# takes minutes.  Needs $PYTHON with numpy and msgpack to write the stream,
# and sklearn for the reference (else only disq's times are printed).
# Environment: BIN (built tools), PYTHON (default /usr/bin/python3).
set -u
BIN=${BIN:-build/bin}
PYTHON=${PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-metric.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if ! "$PYTHON" -c 'import numpy, msgpack' 2>/dev/null; then
    echo "bench_metric: skipped: $PYTHON lacks numpy or msgpack to write the benchmark stream"
    exit 0
fi
"$PYTHON" "$here/bench_metric_ref.py" make "$tmp/bench.dqs" || exit 1
have_sklearn=0
"$PYTHON" -c 'import sklearn, scipy' 2>/dev/null && have_sklearn=1
threads=$(nproc 2>/dev/null || echo 1)

for m in dci infomec infomec-code; do
    field=z
    [ "$m" = infomec-code ] && field=code
    start=$(date +%s.%N)
    "$BIN/metric" "${m%-code}" --field "$field" --train 10000 --test 5000 --tsv <"$tmp/bench.dqs" \
        >"$tmp/$m.tsv" 2>/dev/null || exit 1
    end=$(date +%s.%N)
    ours=$(echo "$start $end" | awk '{ printf "%.3f", $2 - $1 }')
    scores=$(awk -F '\t' '$1 != "rows" && $2 !~ /train|active/ { printf "%s=%.4f ", $2, $3 }' "$tmp/$m.tsv")
    echo "bench_metric: metric $m (--field $field): ${ours} s on $threads threads ($scores)"
    if [ "$have_sklearn" = 1 ]; then
        set -- $("$PYTHON" "$here/bench_metric_ref.py" "$m" "$tmp/bench.dqs" 2>/dev/null)
        [ $# -ge 4 ] || { echo "bench_metric: reference $m failed"; exit 1; }
        ref_time=$1
        shift
        echo "bench_metric: sklearn $m: $ref_time s ($*)"
        echo "$ref_time $ours" | awk -v m="$m" '{ printf "bench_metric: %s speed-up over sklearn: %.1fx\n", m, $1 / $2 }'
    else
        echo "bench_metric: sklearn not available: no reference timing for $m"
    fi
done
