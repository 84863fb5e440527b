#!/bin/sh
# cli_progress.sh: train's progress line, redrawn in place on a terminal
# (a pseudo-terminal here), a line per second on a pipe.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
export OMP_WAIT_POLICY=passive LC_ALL=C

if ! "$PY" -c 'import numpy, msgpack, pty, termios' 2>/dev/null; then
    skip "progress" "$PY lacks numpy, msgpack or pty"
    exit 0
fi
"$PY" "$here/model_stream.py" 320 10 16 16 3 1 >"$T/s"
tiny="--width 8 --dense 16 --codebook 8 --disc-hidden 16 --batch 8 --save-every 100"
ontty() { TERM=xterm "$PY" "$here/pty_run.py" "$@"; }

ontty 40 "$T/s" train -o "$T/a.st" $tiny --steps 40 >"$T/tty"
st=$?
if [ $st = 77 ]; then
    skip "progress" "no pseudo-terminal here"
    exit 0
fi
check "train on a terminal succeeds" test $st = 0
check "the line is redrawn in place" test "$(tr -cd '\r' <"$T/tty" | wc -c)" -ge 2
check "... and ended by one newline, at the end" sh -c \
    "test \$(tr -cd '\n' <$T/tty | wc -c) = 1 && test \"\$(tail -c 1 $T/tty | od -An -c | tr -d ' ')\" = '\n'"
check "... each draw clears the rest of the line" test \
    "$(grep -o "$(printf '\033')\[K" "$T/tty" | wc -l)" = "$(tr -cd '\r' <"$T/tty" | wc -c)"
check "no draw takes more than 39 of the 40 columns" sh -c \
    "sed 's/$(printf '\033')\[K//g' $T/tty | tr '\r' '\n' | awk 'length > 39 { bad = 1 } END { exit bad }'"
check "the last draw: all the steps, in percent" sh -c \
    "tr '\r' '\n' <$T/tty | grep . | tail -n 1 | grep -Eq '^train: 100% step 40/40 [0-9.]+ img/s'"

# the stream ends at step 40 of 50: the message after the line has one of its own
ontty 200 "$T/s" train -o "$T/w.st" $tiny --steps 50 >"$T/wide"
check "a wide terminal: percent, steps, rate, time left and losses" sh -c \
    "tr '\r' '\n' <$T/wide | grep . | tail -n 2 | head -n 1 |
     grep -Eq '^train: [0-9]+% step [0-9]+/50 [0-9.]+ img/s ETA [0-9]+m[0-9]{2}s loss [-0-9.e]+ recon .* lr [-0-9.e]+.\[K$'"
check "a message after the line starts on a fresh line" sh -c \
    "tr '\r' '\n' <$T/wide | grep -q '^train: stream ended at step 40 of 50; checkpoint .* written$' &&
     test \$(tr -cd '\n' <$T/wide | wc -c) = 2"

TERM=dumb "$PY" "$here/pty_run.py" 80 "$T/s" train -o "$T/d.st" $tiny --steps 40 >"$T/dumb"
check "TERM=dumb: a line per update, as on a pipe" sh -c \
    "! grep -q \"\$(printf '\r')\" $T/dumb && tail -n 1 $T/dumb | grep -q '^train: step 40/40 loss '"

train -o "$T/p.st" $tiny --steps 40 <"$T/s" 2>&1 >/dev/null | cat >"$T/pipe"
check "on a pipe: no redraw, lines as ever, the last at the last step" sh -c \
    "! grep -q \"\$(printf '\r\|\033')\" $T/pipe &&
     ! grep -Ev '^train: step [0-9]+/40 loss [-0-9.e]+ recon [-0-9.e]+ kl .* lr [-0-9.e]+ [0-9.]+ img/s ETA [0-9]+m[0-9]{2}s$' $T/pipe &&
     tail -n 1 $T/pipe | grep -q '^train: step 40/40 '"
