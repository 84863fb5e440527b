# lib.sh: helpers for command-line tests (tests/cli/cli_*.sh).  Each check prints
# one "ok - ..." / "not ok - ..." line for tests/run.sh to count.
# BIN is the directory of built tools; T a scratch directory removed at exit.
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
PATH=$BIN:$PATH
T=$(mktemp -d "${TMPDIR:-/tmp}/disq-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
name=$(basename "$0" .sh)

ok() { echo "ok - $name: $1"; }
notok() { echo "not ok - $name: $1${2:+: $2}"; }
skip() { echo "skip - $name: $1: $2"; }

# check DESC CMD...: passes when CMD exits 0.
check() {
    local desc=$1; shift
    if out=$("$@" 2>&1); then ok "$desc"; else notok "$desc" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi
}

# check_status DESC WANT CMD...: passes when CMD exits with status WANT.
check_status() {
    local desc=$1 want=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    if [ "$got" = "$want" ]; then ok "$desc"; else notok "$desc" "exit $got, wanted $want: $(head -c 300 "$T/err")"; fi
}

# check_err DESC WANT REGEX CMD...: status WANT and stderr matches REGEX (grep -E).
check_err() {
    local desc=$1 want=$2 re=$3; shift 3
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    if [ "$got" != "$want" ]; then notok "$desc" "exit $got, wanted $want: $(head -c 300 "$T/err")"
    elif ! grep -Eq -- "$re" "$T/err"; then notok "$desc" "stderr '$(head -c 300 "$T/err")' lacks /$re/"
    else ok "$desc"; fi
}
