#!/bin/sh
# --device and --precision of train, enc, dec and traverse: the CPU choices
# give the default's bytes on a machine without a GPU (--precision fp32, the
# reference layers, the default's values within float rounding), the bad
# ones a usage error naming the argument.  With a usable GPU (a real one, or the CPU
# emulator of an EMU=1 build) the tools' GPU runs are compared with their
# CPU runs instead; the GPU's arithmetic is tested by test_cuda_*.
. "$(dirname "$0")/lib.sh"

dsload shapes3d --sample 8 --batch 8 --procedural --no-cache >"$T/s.dqs" 2>/dev/null
tiny="--model factorqvae --width 4 --dense 8 --codebook 6 --latents 3 --disc-hidden 8 --batch 8 --steps 2 --save-every 0"
train -o "$T/m.safetensors" $tiny <"$T/s.dqs" 2>/dev/null
M="$T/m.safetensors"
enc -m "$M" <"$T/s.dqs" >"$T/auto.dqs" 2>/dev/null
quant -m "$M" <"$T/auto.dqs" >"$T/q.dqs" 2>/dev/null

gpu=0
enc -m "$M" --device cuda <"$T/s.dqs" >/dev/null 2>&1 && gpu=1
PYTHON=${PYTHON:-python3}
# close DESC A B TOL: the tensors of A and B agree to TOL (tests/cli/close.py)
close() {
    if out=$("$PYTHON" "$(dirname "$0")/close.py" "$2" "$3" "$4" 2>&1); then ok "$1"; else notok "$1" "$out"; fi
}

if [ "$gpu" = 0 ]; then
    check "train --device cpu" sh -c "train -o $T/cpu.safetensors $tiny --device cpu --precision tf32 <$T/s.dqs"
    if cmp -s "$M" "$T/cpu.safetensors"; then ok "train: cpu = auto without a GPU"
    else notok "train: cpu = auto without a GPU" "checkpoints differ"; fi
    check "train --precision fp32" sh -c "train -o $T/ref.safetensors $tiny --precision fp32 <$T/s.dqs"
    close "train: fp32 (reference layers) = the default within rounding" "$T/ref.safetensors" "$M" 1e-4
    check "enc --device cpu" sh -c "enc -m $M --device cpu <$T/s.dqs >$T/cpu.dqs"
    if cmp -s "$T/auto.dqs" "$T/cpu.dqs"; then ok "enc: cpu = auto without a GPU"
    else notok "enc: cpu = auto without a GPU" "streams differ"; fi
    dec -m "$M" <"$T/q.dqs" >"$T/d_auto.dqs" 2>/dev/null
    check "dec --device cpu" sh -c "dec -m $M --device cpu --precision tf32 <$T/q.dqs >$T/d_cpu.dqs"
    if cmp -s "$T/d_auto.dqs" "$T/d_cpu.dqs"; then ok "dec: cpu = auto without a GPU"
    else notok "dec: cpu = auto without a GPU" "streams differ"; fi
    check "traverse --device cpu" sh -c "traverse -m $M -o $T/t.png --steps 3 --device cpu <$T/s.dqs"
    check_err "enc --device cuda without a GPU" 2 "^enc: --device cuda: " enc -m "$M" --device cuda <"$T/s.dqs"
    check_err "train --device cuda without a GPU" 2 "^train: --device cuda: " \
        train -o "$T/x.safetensors" $tiny --device cuda <"$T/s.dqs"
    if [ -e "$T/x.safetensors" ]; then notok "refused train writes no checkpoint"; else ok "refused train writes no checkpoint"; fi
else
    skip "cpu = auto" "this machine has a GPU"
    for d in cpu cuda; do
        enc -m "$M" --device $d --precision fp32 <"$T/s.dqs" >"$T/e_$d.dqs" 2>/dev/null
        dec -m "$M" --device $d --precision fp32 <"$T/q.dqs" >"$T/d_$d.dqs" 2>/dev/null
        train -o "$T/t_$d.safetensors" --log "$T/l_$d.tsv" $tiny --device $d --precision fp32 <"$T/s.dqs" 2>/dev/null
    done
    close "enc: cuda fp32 = cpu" "$T/e_cuda.dqs" "$T/e_cpu.dqs" 1e-5
    close "dec: cuda fp32 = cpu" "$T/d_cuda.dqs" "$T/d_cpu.dqs" 1e-3
    # the losses of the first step, before any update, agree closely
    if awk -F'\t' 'NR == FNR && FNR == 2 { want = $2 } NR != FNR && FNR == 2 { got = $2 }
            END { d = got - want; exit !(want != "" && got != "" && (d < 0 ? -d : d) <= 1e-5 * (want < 0 ? -want : want)) }' \
        "$T/l_cpu.tsv" "$T/l_cuda.tsv"; then ok "train: cuda fp32 first loss = cpu"
    else notok "train: cuda fp32 first loss = cpu" "$(sed -n 2p "$T/l_cuda.tsv") vs $(sed -n 2p "$T/l_cpu.tsv")"; fi
    # bf16 with graphs: a longer run replays recorded steps
    dsload shapes3d --sample 32 --batch 8 --procedural --no-cache >"$T/s32.dqs" 2>/dev/null
    check "train --device cuda --precision bf16, graphs" sh -c \
        "train -o $T/bf.safetensors $tiny --batch 4 --steps 6 --device cuda --precision bf16 <$T/s32.dqs"
    check "traverse --device cuda" traverse -m "$M" -o "$T/tc.png" --steps 3 --device cuda <"$T/s.dqs"
    check_err "train --device cuda: a truncated stream" 65 "^train: stdin: truncated input" \
        sh -c "head -c 3000 $T/s32.dqs | train -o $T/trunc.safetensors $tiny --device cuda"
    if [ -e "$T/trunc.safetensors" ]; then notok "the failed GPU run writes no checkpoint"
    else ok "the failed GPU run writes no checkpoint"; fi
fi

check_err "unknown device" 2 "unknown device 'gpu' \(auto, cpu or cuda\)" enc -m "$M" --device gpu <"$T/s.dqs"
check_err "unknown precision" 2 "unknown precision 'fp16' \(tf32, fp32 or bf16\)" dec -m "$M" --precision fp16 <"$T/q.dqs"
check "traverse --precision bf16" traverse -m "$M" -o "$T/b.png" --precision bf16 <"$T/s.dqs"
check_err "train: unknown device" 2 "unknown device 'tpu'" train -o "$T/y.safetensors" $tiny --device tpu <"$T/s.dqs"
quant -m "$M" --device cpu --precision fp32 <"$T/auto.dqs" >"$T/q_cpu.dqs" 2>/dev/null
if cmp -s "$T/q.dqs" "$T/q_cpu.dqs"; then ok "quant takes the device options"
else notok "quant takes the device options" "streams differ"; fi
check_err "quant checks --device" 2 "unknown device 'gpu'" quant -m "$M" --device gpu <"$T/auto.dqs"

# DISQ_PROFILE: a table of op times on stderr at exit, the results unchanged
DISQ_PROFILE=1 train -o "$T/p.safetensors" $tiny <"$T/s.dqs" 2>"$T/prof" >/dev/null
if grep -Eq '^train: DISQ_PROFILE: op calls on the (CPU|GPU)' "$T/prof" &&
    grep -Eq '^ +[0-9.]+ +[0-9.]+% +[0-9]+ +[0-9.]+  conv2d_backward n=4 64x64x1->1 3x3/1( dnnl)?$' "$T/prof" &&
    grep -Eq '^ +[0-9.]+ ms in op calls of [0-9.]+ ms since the first$' "$T/prof"; then
    ok "DISQ_PROFILE=1 prints the op table"
else notok "DISQ_PROFILE=1 prints the op table" "$(head -c 300 "$T/prof")"; fi
if cmp -s "$M" "$T/p.safetensors"; then ok "DISQ_PROFILE leaves the checkpoint alone"
else notok "DISQ_PROFILE leaves the checkpoint alone" "checkpoints differ"; fi
DISQ_PROFILE=0 enc -m "$M" <"$T/s.dqs" 2>"$T/prof" >/dev/null
if grep -q DISQ_PROFILE "$T/prof"; then notok "DISQ_PROFILE=0 is off" "$(head -c 300 "$T/prof")"
else ok "DISQ_PROFILE=0 is off"; fi
