#!/usr/bin/env python3
"""check_layering.py BUILD: the library's layering, from its sources and its
objects.  lib/ has one folder per layer, lowest first:

    core io data nn model metric draw

and kernels/ is the nn layer's CUDA half.  Checks, one result line each:
  - every include of a library header names its folder ("nn/op.h");
  - no file includes a header of a folder above its own;
  - no object of BUILD/obj/lib uses a symbol defined in a folder above its
    own (what an include check misses: a prototype written by hand);
  - no two files use each other, nor any longer circle of files: the graph of
    "object A calls or reads a symbol defined in object B" has no cycle.
A tool (bin/) or test may include any layer."""
import collections
import os
import re
import subprocess
import sys

from tap import finish, result

LAYERS = ["core", "io", "data", "nn", "model", "metric", "draw"]
RANK = {name: i for i, name in enumerate(LAYERS)}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

def sources():
    """(path relative to ROOT, layer) of every library and kernel source."""
    for layer in LAYERS:
        folder = os.path.join(ROOT, "lib", layer)
        for name in sorted(os.listdir(folder)):
            if name.endswith((".c", ".h")):
                yield f"lib/{layer}/{name}", layer
    for name in sorted(os.listdir(os.path.join(ROOT, "kernels"))):
        if name.endswith((".cu", ".cuh")):
            yield f"kernels/{name}", "nn"


def check_includes():
    unqualified, upward = [], []
    for path, layer in sources():
        with open(os.path.join(ROOT, path)) as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            folder = inc.split("/")[0] if "/" in inc else None
            if folder is None:
                if path.startswith("kernels/") and os.path.exists(os.path.join(ROOT, "kernels", inc)):
                    continue  # a kernel's own internal header
                unqualified.append(f"{path} includes \"{inc}\"")
            elif folder in RANK and RANK[folder] > RANK[layer]:
                upward.append(f"{path} ({layer}) includes {inc}")
    stray = sorted(n for n in os.listdir(os.path.join(ROOT, "lib"))
                   if n not in RANK and not n.startswith("."))
    result(not stray, "every library file is in a layer folder", ", ".join(stray))
    result(not unqualified, "library includes name the header's folder", "; ".join(unqualified))
    result(not upward, "no library file includes a header of a higher layer", "; ".join(upward))


def symbols(objdir):
    """defined[symbol] = object; used[object] = undefined symbols."""
    defined, used = {}, collections.defaultdict(set)
    for layer in LAYERS:
        folder = os.path.join(objdir, layer)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".o") or not os.path.exists(
                    os.path.join(ROOT, "lib", layer, name[:-2] + ".c")):
                continue  # not an object, or one whose source is gone
            obj = f"{layer}/{name[:-2]}"
            out = subprocess.run(["nm", os.path.join(folder, name)], capture_output=True,
                                 text=True, check=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[1] in "TDBRC":
                    defined[parts[2]] = obj
                elif len(parts) == 2 and parts[0] == "U":
                    used[obj].add(parts[1])
    return defined, used


def cycles(graph):
    """The strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def check_objects(build):
    objdir = os.path.join(build, "obj", "lib")
    if not os.path.isdir(objdir):
        print(f"skip - object layering: no {objdir}")
        return
    defined, used = symbols(objdir)
    graph, upward = collections.defaultdict(set), set()
    for obj, syms in used.items():
        for sym in syms:
            owner = defined.get(sym)
            if owner is None or owner == obj:
                continue
            graph[obj].add(owner)
            if RANK[owner.split("/")[0]] > RANK[obj.split("/")[0]]:
                upward.add(f"{obj} uses {sym} of {owner}")
    result(not upward, "no library object uses a symbol of a higher layer", "; ".join(sorted(upward)))
    pairs = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if a in graph.get(b, ())})
    result(not pairs, "no two library files use each other",
           "; ".join(f"{a} <-> {b}" for a, b in pairs))
    result(not (c := cycles(graph)), "no circle of library files using each other",
           "; ".join(" -> ".join(comp) for comp in c))


check_includes()
check_objects(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
finish()
