#!/bin/sh
# run.sh BUILD_DIR [LABEL]: run every unit-test binary in BUILD_DIR/tests and,
# unless LABEL is given, every tests/source/check_*.py (checks of the sources
# and objects) and tests/cli/cli_*.sh; print each result line, then
# "N passed, N failed, N skipped" for this group (to stdout) and append the
# counts to BUILD_DIR/test-counts.  A program that dies without reporting a
# failure counts as one failure.  ONLY="test_x cli_y.sh ..." runs just the
# programs and scripts named there (scripts too when LABEL is given).
build=$(cd "$1" && pwd)
label=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
counts=${COUNTS:-$build/test-counts}
pass=0 fail=0 skip=0
run_one() {
    prog=$1
    shift
    out=$("$@" 2>"$build/last-stderr")
    status=$?
    printf '%s\n' "$out" | grep -E '^(ok|not ok|skip) - ' | sed "s|^|${label:+[$label] }|"
    p=$(printf '%s\n' "$out" | grep -c '^ok - ')
    f=$(printf '%s\n' "$out" | grep -c '^not ok - ')
    s=$(printf '%s\n' "$out" | grep -c '^skip - ')
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $prog: exited with status $status: $(tail -n 5 "$build/last-stderr")"
        f=1
    fi
    if [ "$f" -gt 0 ] && [ -s "$build/last-stderr" ]; then
        sed 's/^/    # /' "$build/last-stderr" | tail -n 20
    fi
    pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}
selected() {
    [ -z "${ONLY:-}" ] && return 0
    case " $ONLY " in *" $1 "*) return 0 ;; esac
    return 1
}
for t in "$build"/tests/test_*; do
    [ -x "$t" ] && selected "$(basename "$t")" || continue
    run_one "$(basename "$t")" "$t"
done
if [ -z "$label" ] || [ -n "${ONLY:-}" ]; then
    for t in "$here"/source/check_*.py; do
        [ -f "$t" ] && selected "$(basename "$t")" || continue
        run_one "$(basename "$t")" "${PYTHON:-python3}" "$t" "$build"
    done
    for t in "$here"/cli/cli_*.sh; do
        [ -f "$t" ] && selected "$(basename "$t")" || continue
        run_one "$(basename "$t")" env BIN="$build/bin" BUILD="$build" sh "$t"
    done
fi
echo "$pass $fail $skip" >>"$counts"
echo "${label:+$label: }$pass passed, $fail failed, $skip skipped"
