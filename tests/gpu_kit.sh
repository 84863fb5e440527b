#!/bin/sh
# gpu_kit.sh: the GPU checks on a machine that has a GPU, nvcc and cuDNN but
# none of the other libraries disq links (HDF5, libzip, libpng, msgpack-c,
# OpenBLAS) and no way to fetch them, such as the device machines lent to
# development sessions.
#   gpu_kit.sh pack BUILD KIT.tar.xz   (here; `make gpu-kit` does it) packs
#       BUILD's bin/, tests/ and bench/ programs, stripped, with every shared
#       library they load except the C library's and CUDA's own;
#   gpu_kit.sh run KIT.tar.xz [tests] [bench]   (there) unpacks the kit,
#       finds cuDNN and cuBLAS (CUDA's lib64, the loader's cache, or the
#       Python nvidia-* wheels beside PyTorch) and runs
#       tests/cuda_checks.sh on it.
set -u
usage() {
    echo "usage: gpu_kit.sh pack BUILD KIT.tar.xz | run KIT.tar.xz [tests] [bench]" >&2
    exit 2
}
[ $# -ge 2 ] || usage
here=$(cd "$(dirname "$0")" && pwd)
case $1 in
pack)
    [ $# -eq 3 ] || usage
    build=$2 out=$3
    stage=$(mktemp -d "${TMPDIR:-/tmp}/gpu-kit.XXXXXX")
    trap 'rm -rf "$stage"' EXIT
    kit=$stage/gpu-kit
    mkdir -p "$kit/bin" "$kit/tests" "$kit/bench" "$kit/lib"
    for sub in bin tests bench; do
        for f in "$build/$sub"/*; do
            [ -f "$f" ] && [ -x "$f" ] || continue
            cp "$f" "$kit/$sub/" && strip "$kit/$sub/$(basename "$f")" || exit 1
        done
    done
    # the libraries the programs load, by the name they ask for, except the
    # C library's (the machine's own must be used) and CUDA's (the GPU
    # machine has those, matching its driver)
    for f in "$kit"/bin/* "$kit"/tests/* "$kit"/bench/*; do ldd "$f"; done |
        awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u |
        while read -r name path; do
            case $name in
            libc.so* | libm.so* | libdl.so* | librt.so* | libpthread.so* | libresolv.so* | ld-linux* | libcud* | libcublas*) ;;
            *) cp -L "$path" "$kit/lib/$name" || exit 1 ;;
            esac
        done || exit 1
    tar -cJf "$out.tmp" -C "$stage" gpu-kit && mv "$out.tmp" "$out" || exit 1
    echo "gpu_kit: $out ($(du -h "$out" | cut -f1)): $(ls "$kit/lib" | wc -l) libraries"
    ;;
run)
    kit_tar=$2
    shift 2
    [ -f "$kit_tar" ] || { echo "gpu_kit: no kit '$kit_tar' (make gpu-kit builds it)" >&2; exit 2; }
    root=$(mktemp -d "${TMPDIR:-/tmp}/gpu-kit.XXXXXX")
    tar -xJf "$kit_tar" -C "$root" || exit 1
    kit=$root/gpu-kit
    LD_LIBRARY_PATH=$kit/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
    # cuDNN and cuBLAS where the programs' rpath (CUDA's lib64) lacks them
    if ldd "$kit/bin/train" | grep -q 'not found'; then
        sites=$(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null)
        for lib in libcudnn.so.9 libcublas.so.13 libcublasLt.so.13; do
            path=$(ldconfig -p 2>/dev/null | awk -v l="$lib" '$1 == l { print $NF; exit }')
            [ -n "$path" ] || path=$(find /usr/local /usr/lib /opt $sites -name "$lib" 2>/dev/null | head -n 1)
            [ -n "$path" ] && LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$(dirname "$path")
        done
    fi
    if ldd "$kit/bin/train" | grep 'not found'; then
        echo "gpu_kit: libraries missing on this machine (above)" >&2
        exit 1
    fi
    nvidia-smi -L 2>/dev/null
    sh "$here/cuda_checks.sh" "$kit" "$@"
    ;;
*) usage ;;
esac
