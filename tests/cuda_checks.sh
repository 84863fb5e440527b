#!/bin/sh
# cuda_checks.sh DIR [tests] [bench]: the checks that need a GPU, on the
# programs of a CUDA build directory DIR (bin/, tests/, bench/: a build/ or
# an unpacked GPU kit, see gpu_kit.sh).
#   tests: the CPU/GPU parity tests of lib/nn/nn_cuda.h, of whole training
#          steps (a missing GPU fails instead of skipping) and of the tools'
#          --device cuda runs (cli_device.sh), then the op tests and the
#          two-step tests again under compute-sanitizer (memcheck) when it
#          is installed;
#   bench: every tests/bench/cuda_*.sh, each printing its figures against a
#          reference measured in the same run.
# Both when none is named.  Env: PYTHON (for the PyTorch reference),
# SANITIZER (compute-sanitizer's path).  Exit status 1 when a check fails.
set -u
dir=$1
shift
[ $# -gt 0 ] || set -- tests bench
here=$(dirname "$0")
status=0
run() {
    echo "+ $*"
    "$@" || status=1
}
for what in "$@"; do
    case $what in
    tests)
        run env DISQ_REQUIRE_GPU=1 "$dir/tests/test_cuda_ops"
        run env DISQ_REQUIRE_GPU=1 "$dir/tests/test_cuda_step"
        run "$dir/tests/test_device"
        echo "+ cli_device.sh"
        out=$(BIN="$dir/bin" BUILD="$dir" PYTHON="${PYTHON:-python3}" sh "$here/cli_device.sh")
        printf '%s\n' "$out"
        printf '%s\n' "$out" | grep -q '^not ok' && status=1
        san=${SANITIZER:-$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)}
        if [ -n "$san" ]; then
            run env DISQ_REQUIRE_GPU=1 "$san" --tool memcheck --error-exitcode 1 "$dir/tests/test_cuda_ops"
            run env DISQ_REQUIRE_GPU=1 "$san" --tool memcheck --error-exitcode 1 "$dir/tests/test_cuda_step" \
                factorqvae_two_steps_fp32_match_cpu
        else
            echo "cuda_checks: compute-sanitizer not found, memcheck skipped"
        fi
        ;;
    bench)
        for b in "$here"/bench/cuda_*.sh; do
            run env BIN="$dir/bin" BUILD="$dir" PYTHON="${PYTHON:-python3}" sh "$b"
        done
        ;;
    *)
        echo "cuda_checks: unknown check '$what' (tests or bench)" >&2
        exit 2
        ;;
    esac
done
exit $status
