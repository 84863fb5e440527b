# The stream reader under libFuzzer, a bounded number of runs from the
# committed seed corpus (valid streams), with ASan and UBSan.
. "$(dirname "$0")/lib.sh"
fuzz=${BUILD:-$BIN/..}/fuzz/fuzz_stream
if [ ! -x "$fuzz" ]; then
    skip "stream reader fuzzing" "no fuzz binary (needs clang: make fuzz)"
    exit 0
fi
cp -r "$(dirname "$0")/../fixtures/stream" "$T/corpus"
check "stream reader survives 30000 fuzzed inputs" \
    "$fuzz" -runs=30000 -max_len=4096 -seed=1 -rss_limit_mb=1024 -malloc_limit_mb=256 "$T/corpus"
