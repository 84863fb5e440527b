#!/bin/sh
# train --plot and curves: the loss curves' PNG, its size and drawn pixels
# (draw/chart.c's layout: 904 px wide, two panels a row, 212 px a row).
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}

# pixels FILE [X Y W H]...: the PNG's size, then for each rectangle a line of
# the counts of pixels that are not white, of the first run's colour and of
# the second's (light or dark).  A stdlib-only PNG decoder (8-bit RGB, as
# dq_png_write writes).
cat >"$T/pixels.py" <<'PYEOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
w, h = struct.unpack(">II", data[16:24])
idat, pos = b"", 8
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw, stride, rows, prev = zlib.decompress(idat), w * 3, [], bytearray(w * 3)
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a, b = line[i - 3] if i >= 3 else 0, prev[i]
        c = prev[i - 3] if i >= 3 else 0
        p = a + b - c
        pr = a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c
        line[i] = (line[i] + [0, a, b, (a + b) // 2, pr][f]) & 255
    rows.append(line)
    prev = line
print(f"{w}x{h}")
colours = [{(31, 119, 180), (165, 200, 225)}, {(255, 127, 14), (255, 217, 183)}]
args = list(map(int, sys.argv[2:]))
for x0, y0, rw, rh in zip(*[iter(args)] * 4):
    ink, runs = 0, [0, 0]
    for y in range(y0, min(y0 + rh, h)):
        for x in range(x0, min(x0 + rw, w)):
            px = tuple(rows[y][3 * x:3 * x + 3])
            ink += px != (255, 255, 255)
            for r in range(2):
                runs[r] += px in colours[r]
    print(ink, runs[0], runs[1])
PYEOF

# panel N: the rectangle of panel N's plot
panel() { echo "$((12 + $1 % 2 * 446 + 54)) $((62 + $1 / 2 * 212 + 14)) 380 170"; }
# measure FILE WxH [X Y W H]...: count the rectangles' pixels into $T/counts
# (line k: the k-th rectangle's); checks FILE's size
measure() {
    f=$1 want=$2
    shift 2
    if "$PY" "$T/pixels.py" "$f" "$@" >"$T/counts" 2>&1 && [ "$(head -n 1 "$T/counts")" = "$want" ]
    then ok "$(basename "$f") is $want"; else notok "$(basename "$f") is $want" "$(head -n 3 "$T/counts")"; fi
}
# counted DESC K MIN_INK MIN_RUN1 MIN_RUN2 [MAX_INK]: the K-th rectangle's counts
counted() {
    set -- "$@" $(sed -n "$(($2 + 1))p" "$T/counts")
    if [ "$#" = 8 ] && [ "$6" -ge "$3" ] && [ "$7" -ge "$4" ] && [ "$8" -ge "$5" ]; then ok "$1"
    else notok "$1" "counts '$6 $7 $8', wanted at least $3 $4 $5"; fi
}

dsload shapes3d --sample 320 --batch 8 --procedural --no-cache >"$T/s.dqs" 2>/dev/null
small="--width 4 --dense 8 --codebook 6 --latents 3 --disc-hidden 8 --batch 8"

# The plot appears at the first checkpoint, while the run waits for input.
mkfifo "$T/fifo"
train -o "$T/f.st" $small --steps 40 --save-every 10 --log "$T/f.tsv" --plot "$T/f.png" \
    <"$T/fifo" 2>"$T/train.err" &
pid=$!
exec 3>"$T/fifo"
size=$(wc -c <"$T/s.dqs")
head -c $((size / 2)) "$T/s.dqs" >&3
for i in $(seq 100); do [ -e "$T/f.png" ] && break; sleep 0.2; done
if [ -e "$T/f.png" ] && kill -0 $pid 2>/dev/null; then ok "train --plot draws at --save-every"
else notok "train --plot draws at --save-every" "$(tail -n 2 "$T/train.err")"; fi
tail -c +$((size / 2 + 1)) "$T/s.dqs" >&3
exec 3>&-
wait $pid
st=$?
if [ $st = 0 ]; then ok "train with --plot"; else notok "train with --plot" "exit $st"; fi

# A factor model: five panels (loss recon kl tc disc), three rows; the title
# (scale 2 text at 12, 12) and the legend's line (at 12, 36).
measure "$T/f.png" 904x719 $(panel 0) $(panel 1) $(panel 2) $(panel 3) $(panel 4) $(panel 5) \
    12 12 300 16 12 36 300 10
for i in 0 1 2 3 4; do counted "train --plot: panel $i drawn" $((i + 1)) 400 200 0; done
counted "title has text" 7 60 0 0
counted "legend has the run's swatch and text" 8 100 60 0
if [ "$(sed -n 7p "$T/counts")" = "0 0 0" ]; then ok "no sixth panel"; else notok "no sixth panel"; fi

# Two runs on one PNG: a factor model and an ae (tc, disc: zero).
train -o "$T/a.st" -m ae $small --steps 20 --save-every 0 --log "$T/a.tsv" <"$T/s.dqs" 2>/dev/null
check "plot two runs" curves -o "$T/two.png" "$T/f.tsv" "$T/a.tsv"
measure "$T/two.png" 904x719 $(panel 0) $(panel 1) $(panel 2) 12 36 400 10
for i in 0 1 2; do counted "two runs: panel $i has both colours" $((i + 1)) 400 100 50; done
counted "two runs: legend names both" 4 150 60 60
check "plot one ae run" curves -o "$T/a.png" -t "ae" "$T/a.tsv"
measure "$T/a.png" 904x295 $(panel 1)
counted "ae: loss and recon, one row (kl, tc, disc: zero)" 1 400 200 0
check "curves: deterministic" sh -c "curves -o $T/two2.png $T/f.tsv $T/a.tsv && cmp $T/two.png $T/two2.png"

printf 'step\tloss\n1\t2\n' >"$T/other.tsv"
check_err "not a log" 65 "^curves: .*other.tsv: not a train --log file" curves -o "$T/x.png" "$T/other.tsv"
if [ "$(wc -l <"$T/err")" = 1 ]; then ok "not a log: one line"; else notok "not a log: one line" "$(cat "$T/err")"; fi
{ head -n 3 "$T/a.tsv"; printf '4\t0.1\tx\n'; } >"$T/bad.tsv"
check_err "bad row" 65 "bad.tsv:4: not a train --log row" curves -o "$T/x.png" "$T/bad.tsv"
check_err "missing log" 66 "nope.tsv" curves -o "$T/x.png" "$T/nope.tsv"
check_err "no logs" 2 "no log files" curves -o "$T/x.png"
check_err "no output" 2 "no output" curves "$T/a.tsv"
check_err "unwritable output" 74 "nodir" curves -o "$T/nodir/x.png" "$T/a.tsv"
if [ -e "$T/x.png" ]; then notok "no output after errors"; else ok "no output after errors"; fi

# A plot that cannot be written does not stop training: one warning.
check_err "train: unwritable --plot" 0 "--plot: .*nodir" \
    train -o "$T/u.st" -m ae $small --steps 6 --save-every 2 --plot "$T/nodir/p.png" <"$T/s.dqs"
n=$(grep -c -- "--plot" "$T/err")
if [ "$n" = 1 ]; then ok "warned once"; else notok "warned once" "$n warnings"; fi
