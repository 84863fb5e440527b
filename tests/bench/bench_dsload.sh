#!/bin/sh
# bench_dsload.sh: images/s that dsload streams from its cache, into /dev/null
# and through a pipe into a consumer (cat), each against a reference measured
# in the same run: cat of the cache file itself (disk/page-cache bandwidth,
# and raw pipe bandwidth).  The cache of DATASET (default shapes3d) is built
# first if missing, which renders the whole set once (minutes on 2 cores) and
# reports the render rate.  Env: BIN, DSLOAD_BENCH_DATASET.
set -eu
BIN=${BIN:-build/bin}
DATASET=${DSLOAD_BENCH_DATASET:-shapes3d}
dsload=$BIN/dsload

cache=$("$dsload" "$DATASET" --procedural --list | sed -n 's/^cache: \(.*\) (\(present\|absent\))$/\1/p')
if [ ! -f "$cache" ]; then
    t0=$(date +%s.%N)
    "$dsload" "$DATASET" --procedural --build-cache
    t1=$(date +%s.%N)
    n=$("$dsload" "$DATASET" --procedural --list | sed -n 's/^dataset [^:]*: \([0-9]*\) images.*/\1/p')
    echo "bench_dsload: $DATASET: rendered $n images in $(echo "$t1 - $t0" | bc) s ($(echo "$n / ($t1 - $t0)" | bc) images/s)"
fi
n=$("$dsload" "$DATASET" --procedural --list | sed -n 's/^dataset [^:]*: \([0-9]*\) images.*/\1/p')
bytes=$(stat -c %s "$cache")
cat "$cache" >/dev/null # warm the page cache

# measure CMD: wall seconds of one whole pass.
measure() {
    t0=$(date +%s.%N)
    sh -c "$1" 2>/dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
t_null=$(measure "'$dsload' '$DATASET' --procedural --all >/dev/null")
t_pipe=$(measure "'$dsload' '$DATASET' --procedural --all | cat >/dev/null")
t_ref_null=$(measure "cat '$cache' >/dev/null")
t_ref_pipe=$(measure "cat '$cache' | cat >/dev/null")
rate() { echo "$n / $1" | bc; }
ratio() { echo "scale=2; $2 / $1" | bc; }
echo "bench_dsload: $DATASET ($n images, cache $((bytes >> 20)) MiB), $(nproc) cores"
echo "bench_dsload: dsload --all > /dev/null:        $(rate "$t_null") images/s, $(ratio "$t_null" "$t_ref_null") x cat of the cache file"
echo "bench_dsload: dsload --all | cat > /dev/null:  $(rate "$t_pipe") images/s, $(ratio "$t_pipe" "$t_ref_pipe") x cat file | cat (raw pipe)"
echo "bench_dsload: references: cat file > /dev/null $(rate "$t_ref_null") images/s-equivalent, cat file | cat $(rate "$t_ref_pipe") images/s-equivalent"
