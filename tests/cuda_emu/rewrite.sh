#!/bin/sh
# rewrite.sh IN OUT: kernels/*.cu or *.cuh as C++ for the emulator
# (cuda_emu.h): each `kernel<<<config>>>` becomes EMU_CALL(kernel, config);
# lines keep their numbers and errors name IN.
set -e
{
    printf '#line 1 "%s"\n' "$1"
    perl -pe 's/\b(\w+)<<<(.*?)>>>/EMU_CALL($1, $2)/g' "$1"
} >"$2.tmp"
mv "$2.tmp" "$2"
