#!/bin/sh
# traverse end to end: a tiny model trained for one step on procedural
# Shapes3D images, every picture mode, animation frames, and bad input.
. "$(dirname "$0")/lib.sh"

# PNG width and height from the IHDR chunk (bytes 16..23, big-endian).
png_size() {
    od -An -tu1 -j16 -N8 "$1" | awk '{printf "%dx%d\n", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8}'
}

# check_png DESC FILE WxH
check_png() {
    got=$(png_size "$2" 2>/dev/null)
    if [ "$got" = "$3" ]; then ok "$1"; else notok "$1" "size '$got', wanted $3"; fi
}

dsload shapes3d --sample 16 --batch 8 --procedural --no-cache >"$T/s.dqs" 2>/dev/null
train -o "$T/m.safetensors" --model factorqvae --width 4 --dense 8 --codebook 6 --latents 3 \
    --disc-hidden 8 --batch 8 --steps 1 --save-every 0 <"$T/s.dqs" 2>/dev/null
M="$T/m.safetensors"

check "help" traverse --help
# Sizes follow imgrid's layout at scale 1: cells 64+2, captions 6 px a
# character + 4, header band 7 px (+9 per extra line) + 4.
check "traversal" sh -c "traverse -m $M -o $T/t.png --steps 4 <$T/s.dqs"
# 3 latents labelled "z0 <factor> 0.00"-style (at most 4+20+5 chars) vary in
# width, so only the height is fixed: 11 + 3*66.
h=$(png_size "$T/t.png" | cut -dx -f2)
if [ "$h" = 209 ]; then ok "traversal height"; else notok "traversal height" "$h"; fi
w=$(png_size "$T/t.png" | cut -dx -f1)
# 5 columns (input + 4 steps) after the caption column
cap=$((w - 5 * 66))
if [ $(((cap - 4) % 6)) = 0 ] && [ "$cap" -ge 16 ]; then ok "traversal width"; else notok "traversal width" "$w"; fi

check "swap" sh -c "traverse -m $M -o $T/sw.png --mode swap -n 2 <$T/s.dqs"
check_png "swap size: 28 + 6 columns, 29 + 4 rows with a group gap" "$T/sw.png" "$((28 + 6 * 66))x$((29 + 4 * 66 + 6))"
check "recon" sh -c "traverse -m $M -o $T/r.png --mode recon -n 5 --scale 2 --text-scale 2 <$T/s.dqs"
check_png "recon size at scale 2" "$T/r.png" "$((5 * 12 + 8 + 5 * 132))x$((14 + 8 + 2 * 132))"
check "usage" sh -c "traverse -m $M -o $T/u.png --mode usage --sample 12 <$T/s.dqs"
check "range sweep with frames" sh -c "traverse -m $M -o $T/f.png --sweep range --range 2 --steps 3 --frames $T/frames <$T/s.dqs"
n=$(ls "$T/frames" | grep -c '^frame_00[0-2]\.png$')
if [ "$n" = 3 ] && [ "$(ls "$T/frames" | wc -l)" = 3 ]; then ok "three frames"; else notok "three frames" "$(ls "$T/frames")"; fi
check "deterministic" sh -c "traverse -m $M -o $T/t2.png --steps 4 <$T/s.dqs && cmp $T/t.png $T/t2.png"

check_err "unknown mode" 2 "unknown --mode" sh -c "traverse -m $M -o $T/x.png --mode spin <$T/s.dqs"
check_err "no output" 2 "no output" sh -c "traverse -m $M <$T/s.dqs"
check_err "frames outside traversal" 2 "frames" sh -c "traverse -m $M -o $T/x.png --mode swap --frames $T/fr <$T/s.dqs"
check_err "missing checkpoint" 66 "nope" sh -c "traverse -m $T/nope -o $T/x.png <$T/s.dqs"
check_err "too few images" 65 "ends after 16 images" sh -c "traverse -m $M -o $T/x.png --mode swap -n 10 <$T/s.dqs"
check_err "empty stream" 65 "" sh -c "traverse -m $M -o $T/x.png </dev/null"
dsload dsprites --sample 4 --procedural --no-cache >"$T/d.dqs" 2>/dev/null
check_err "images of another size" 65 "^traverse: stdin: stream images are 64x64x1" sh -c "traverse -m $M -o $T/x.png <$T/d.dqs"
if [ -e "$T/x.png" ]; then notok "no output after errors"; else ok "no output after errors"; fi
check_err "unwritable output" 74 "nodir" sh -c "traverse -m $M -o $T/nodir/x.png <$T/s.dqs"

# every family of models: continuous ones sweep -3..3 by default and have no
# codes to count; qlae sweeps each latent's own values; the Friede network
# decodes its expected values
for kind in ae betavae qlae dvae dvae-friede; do
    train -o "$T/$kind.st" -m "$kind" --width 4 --dense 8 --latents 3 --codebook 6 --disc-hidden 8 \
        --batch 8 --steps 1 --save-every 0 <"$T/s.dqs" 2>/dev/null
    check "$kind: traversal" sh -c "traverse -m $T/$kind.st -o $T/$kind.png --steps 4 <$T/s.dqs"
    h=$(png_size "$T/$kind.png" | cut -dx -f2)
    if [ "$h" = 209 ]; then ok "$kind: one row per latent"; else notok "$kind: one row per latent" "$h"; fi
    check "$kind: swap" sh -c "traverse -m $T/$kind.st -o $T/$kind-swap.png --mode swap <$T/s.dqs"
done
check_err "ae: usage needs codes" 2 "no codes to count" traverse -m "$T/ae.st" -o "$T/u.png" --mode usage <"$T/s.dqs"
check_err "ae: no codebook to sweep" 2 "use --sweep range" traverse -m "$T/ae.st" -o "$T/u.png" --sweep codes <"$T/s.dqs"

# Batches the stream reader accepts but traverse cannot use name their number.
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import numpy, msgpack' 2>/dev/null; then
    skip "crafted streams" "$PY lacks numpy or msgpack"
    exit 0
fi
# edit IN OUT EXPR: the stream IN with its batches replaced by EXPR, a list
# made from b (the batches) and empty(f) (f with no rows)
edit() {
    "$PY" -c "
import sys, msgpack
u = msgpack.Unpacker(open('$1', 'rb'), raw=False)
head = next(u)
b = list(u)
empty = lambda f: {k: dict(v, shape=[0] + v['shape'][1:], data=b'') for k, v in f.items()}
out = open('$2', 'wb')
for r in [head] + $3: out.write(msgpack.packb(r))
"
}
edit "$T/s.dqs" "$T/e.dqs" "[empty(b[0])] + b"
check "an empty first batch" sh -c "traverse -m $M -o $T/e.png --mode recon -n 4 <$T/e.dqs"
edit "$T/s.dqs" "$T/e.dqs" "[b[0], {'x': b[1]['x']}]"
check_err "a later batch without s" 65 "^traverse: stdin: batch 2: lacks the factor labels 's'" \
    traverse -m "$M" -o "$T/e.png" --sample 16 <"$T/e.dqs"
edit "$T/s.dqs" "$T/e.dqs" "[b[0], {'s': b[1]['s']}]"
check_err "a later batch without x" 65 "^traverse: stdin: batch 2: lacks field 'x'" \
    traverse -m "$M" -o "$T/e.png" --sample 16 <"$T/e.dqs"
