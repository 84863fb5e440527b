#!/usr/bin/env python3
"""hue_loops.py < STREAM: how a model lays out the three hues of shapes3d.

Reads `dsload shapes3d --sample N | enc -m CK | quant -m CK` (fields s, zq)
and prints, for each hue factor, the two latents whose mean code varies most
with it and those means for each of its 10 values, with the angle of the
point (first, second) about their centre.  Hue is a circle (value 0.9 is
next to 0), and a hue held by two latents whose means go once round as the
value steps through 0..9 is a loop: the two coordinates of a circle, not
two factors mixed.
"""
import math
import sys

import msgpack
import numpy as np

u = msgpack.Unpacker(sys.stdin.buffer, raw=False)
header = next(u)
names = [f["name"] for f in header["factors"]]
s, zq = [], []
for b in u:
    s.append(np.frombuffer(b["s"]["data"], np.int32).reshape(b["s"]["shape"]))
    zq.append(np.frombuffer(b["zq"]["data"], np.float32).reshape(b["zq"]["shape"]))
s, zq = np.concatenate(s), np.concatenate(zq)
for f, name in enumerate(names):
    if not name.endswith("hue"):
        continue
    values = header["factors"][f]["size"]
    means = np.array([zq[s[:, f] == v].mean(axis=0) for v in range(values)])
    a, b = np.argsort(-means.var(axis=0))[:2]
    centre = means[:, [a, b]].mean(axis=0)
    angles = [math.degrees(math.atan2(m[b] - centre[1], m[a] - centre[0])) for m in means]
    turn = sum((angles[(v + 1) % values] - angles[v] + 180) % 360 - 180 for v in range(values))
    print(f"{name}: latents z{a}, z{b}; winding {turn / 360:+.2f} turns")
    for v in range(values):
        print(f"  value {v}: z{a} {means[v, a]:+.2f}  z{b} {means[v, b]:+.2f}  angle {angles[v]:+4.0f}")
