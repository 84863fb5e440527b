#!/bin/sh
# --precision bf16 on the CPU: train, enc, dec and traverse run their
# convolutions and linear layers in bf16 (oneDNN's, or the emulation where
# the processor has none), say so on stderr, repeat bitwise, and stay close
# to fp32.  With oneDNN capped below the bf16 instruction sets
# (ONEDNN_MAX_CPU_ISA=AVX2 or AVX512_CORE) the layer tests still pass and
# training still matches.  Layer and step tolerances: test_nn_dnnl.c,
# test_bf16_step.c.
. "$(dirname "$0")/lib.sh"
PYTHON=${PYTHON:-python3}
TESTS=$BIN/../tests

dsload shapes3d --sample 16 --batch 8 --procedural --no-cache >"$T/s.dqs" 2>/dev/null
tiny="--model factorqvae --width 8 --dense 16 --codebook 6 --latents 3 --disc-hidden 16 --batch 8 --steps 3 --save-every 0"
train -o "$T/fp32.safetensors" --log "$T/fp32.tsv" $tiny --device cpu <"$T/s.dqs" 2>/dev/null

check_err "train --precision bf16 names its arithmetic" 0 "^train: computing on the CPU in bf16 \((oneDNN on|emulated in float)" \
    train -o "$T/bf16.safetensors" --log "$T/bf16.tsv" $tiny --device cpu --precision bf16 <"$T/s.dqs"
train -o "$T/again.safetensors" $tiny --device cpu --precision bf16 <"$T/s.dqs" 2>/dev/null
if cmp -s "$T/bf16.safetensors" "$T/again.safetensors"; then ok "train bf16 repeats bitwise"
else notok "train bf16 repeats bitwise" "checkpoints differ"; fi
if cmp -s "$T/bf16.safetensors" "$T/fp32.safetensors"; then notok "train bf16 is not fp32" "the checkpoints are equal"
else ok "train bf16 is not fp32"; fi

# first_loss_close DESC LOG: LOG's first loss within 5% of fp32's
first_loss_close() {
    if awk -F'\t' 'NR == FNR && FNR == 2 { want = $2 } NR != FNR && FNR == 2 { got = $2 }
            END { d = got - want; exit !(want != "" && got != "" && (d < 0 ? -d : d) <= 0.05 * (want < 0 ? -want : want)) }' \
        "$T/fp32.tsv" "$2"; then ok "$1"
    else notok "$1" "$(sed -n 2p "$2" | cut -f1-3) vs fp32 $(sed -n 2p "$T/fp32.tsv" | cut -f1-3)"; fi
}
first_loss_close "train bf16: first loss within 5% of fp32" "$T/bf16.tsv"

M="$T/fp32.safetensors"
enc -m "$M" --device cpu <"$T/s.dqs" >"$T/e32.dqs" 2>/dev/null
check_err "enc --precision bf16" 0 "in bf16" sh -c "enc -m $M --device cpu --precision bf16 <$T/s.dqs >$T/e16.dqs"
quant -m "$M" <"$T/e32.dqs" >"$T/q.dqs" 2>/dev/null
dec -m "$M" --device cpu <"$T/q.dqs" >"$T/d32.dqs" 2>/dev/null
check "dec --precision bf16" sh -c "dec -m $M --device cpu --precision bf16 <$T/q.dqs >$T/d16.dqs"
check "traverse --precision bf16" traverse -m "$M" -o "$T/t.png" --steps 3 --device cpu --precision bf16 <"$T/s.dqs"
if "$PYTHON" -c 'import numpy, msgpack' 2>/dev/null; then
    # z of a network at initialisation, and images through ~20 bf16 layers
    for p in "enc e32 e16 0.05" "dec d32 d16 0.02"; do
        set -- $p
        if out=$("$PYTHON" "$(dirname "$0")/close.py" "$T/$2.dqs" "$T/$3.dqs" "$4" 2>&1); then ok "$1 bf16 close to fp32"
        else notok "$1 bf16 close to fp32" "$out"; fi
    done
else
    skip "enc/dec bf16 close to fp32" "$PYTHON lacks numpy or msgpack"
fi

for isa in AVX2 AVX512_CORE; do
    if out=$(ONEDNN_MAX_CPU_ISA=$isa "$TESTS/test_nn_dnnl" 2>&1) && ! echo "$out" | grep -q '^not ok'; then
        ok "layer tests under ONEDNN_MAX_CPU_ISA=$isa"
    else notok "layer tests under ONEDNN_MAX_CPU_ISA=$isa" "$(echo "$out" | grep '^not ok' | head -2)"; fi
    ONEDNN_MAX_CPU_ISA=$isa train -o "$T/$isa.safetensors" --log "$T/$isa.tsv" $tiny --device cpu --precision bf16 \
        <"$T/s.dqs" 2>/dev/null
    first_loss_close "train bf16 under ONEDNN_MAX_CPU_ISA=$isa: first loss within 5% of fp32" "$T/$isa.tsv"
done
