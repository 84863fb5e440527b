#!/usr/bin/env python3
"""pty_run.py COLS INPUT CMD...: run CMD with stdin from INPUT, stdout to
/dev/null and stderr on a pseudo-terminal COLS columns wide; write what CMD
wrote there, byte for byte (no newline translation), to stdout.  Exits 77
when no pseudo-terminal can be had, else with CMD's status."""
import fcntl
import os
import struct
import subprocess
import sys
import termios

cols, path, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
try:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
except OSError:
    sys.exit(77)
with open(path, "rb") as inp:
    child = subprocess.Popen(cmd, stdin=inp, stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
out = bytearray()
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:  # EIO: every writer is gone
        break
    if not chunk:
        break
    out += chunk
sys.stdout.buffer.write(out)
sys.exit(child.wait())
