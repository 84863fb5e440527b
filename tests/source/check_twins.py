#!/usr/bin/env python3
"""check_twins.py [BUILD]: the three declarations of each primitive agree.

Every op in a section of lib/nn/op.h titled "twins:" dispatches op_X to its
CPU twin (nn_X of lib/nn/nn.h, or dq_X of lib/core/rng.h) or to its CUDA twin
nncu_X (lib/nn/nn_cuda.h).  Checks, one result line each:
  - op.h has twin sections, and every op in them has its CPU twin;
  - and its CUDA twin;
  - the parameter lists (types and names) and return types agree: the CPU
    twin's are op_X's, nncu_X's are `nncu_ctx *ctx` and op_X's; an
    op_X_later(..., double *out) is the loss forward nn_X, which returns the
    double op_X_later stores in *out;
  - op_X's definition in lib/nn/op.c calls both twins;
  - tests/unit/test_cuda_ops.c or test_cuda_step.c has a parity test of the
    op: one function (a TEST or a helper) that calls both twins.
The other sections of op.h (device choice, memory, Adam) are no twins and are
not checked.  Reads sources only; BUILD is accepted as every check_*.py's."""
import os
import re

from tap import finish, result

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECTION = re.compile(r"/\*\s*----\s*(.*?)\s*----\s*\*/")
PROTOTYPE = re.compile(r"([A-Za-z_][\w \t\n*]*?)\b(\w+)\s*\(([^()]*)\)\s*;")
TESTS = ["tests/unit/test_cuda_ops.c", "tests/unit/test_cuda_step.c"]


def read(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def tokens(decl):
    """A type or parameter as comparable text: `const float *x` -> 'const float * x'."""
    return " ".join(re.findall(r"\w+|\*", decl))


def prototypes(text):
    """name -> (return type, [parameters]) of the function declarations in text."""
    found = {}
    for ret, name, params in PROTOTYPE.findall(strip_comments(text)):
        params = [tokens(p) for p in params.split(",")] if params.strip() not in ("", "void") else []
        found[name] = (tokens(ret.split(";")[-1].split("}")[-1]), params)
    return found


def twin_ops():
    """name -> (return type, parameters) of the ops in op.h's twin sections."""
    text = read("lib/nn/op.h")
    parts = SECTION.split(text)  # text, title, text, title, text ...
    ops = {}
    for title, body in zip(parts[1::2], parts[2::2]):
        if title.startswith("twins:"):
            ops.update({n: p for n, p in prototypes(body).items() if n.startswith("op_")})
    return ops


def function_bodies(text):
    """(name, body) of the top-level brace blocks of a C file (function
    bodies; name None for other blocks), comments and strings removed."""
    text = re.sub(r'"(\\.|[^"\\])*"', '""', strip_comments(text))
    bodies, depth, start, head = [], 0, 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                name = re.search(r"(\w+)\s*\([^()]*\)\s*$", text[head:start])
                bodies.append((name.group(1) if name else None, text[start:i]))
        if depth == 0 and ch in ";}":
            head = i + 1
    return bodies


def calls(body, name):
    return re.search(r"\b" + name + r"\s*\(", body) is not None


def main():
    cpu = prototypes(read("lib/nn/nn.h"))
    cpu.update(prototypes(read("lib/core/rng.h")))
    cuda = prototypes(read("lib/nn/nn_cuda.h"))
    bodies = [b for path in TESTS for _, b in function_bodies(read(path))]
    dispatch = dict(function_bodies(read("lib/nn/op.c")))
    ops = twin_ops()
    no_cpu, no_cuda, mismatch, misdispatched, untested = [], [], [], [], []
    for op, (ret, params) in sorted(ops.items()):
        base = op[len("op_"):]
        later = base.endswith("_later")
        if later:
            base = base[: -len("_later")]
        cpu_name = next((n for n in ("nn_" + base, "dq_" + base) if n in cpu), None)
        cuda_name = "nncu_" + base
        if cpu_name is None:
            no_cpu.append(f"{op} (no nn_{base} in nn.h, no dq_{base} in rng.h)")
        if cuda_name not in cuda:
            no_cuda.append(f"{op} (no {cuda_name} in nn_cuda.h)")
        if later:
            if ret != "void" or not params or params[-1] != "double * out":
                mismatch.append(f"{op} does not end in `double *out` or returns a value")
                continue
            want_cpu = ("double", params[:-1])
        else:
            want_cpu = (ret, params)
        want_cuda = (ret, ["nncu_ctx * ctx"] + params)
        for name, want, have in ((cpu_name, want_cpu, cpu), (cuda_name, want_cuda, cuda)):
            if name in have and have[name] != want:
                got = have[name]
                mismatch.append(f"{name}({', '.join(got[1])}) -> {got[0]} is not "
                                f"({', '.join(want[1])}) -> {want[0]} of {op}")
        if cpu_name and not (op in dispatch and calls(dispatch[op], cpu_name) and calls(dispatch[op], cuda_name)):
            misdispatched.append(f"{op} (op.c's {op} does not call both {cpu_name} and {cuda_name})")
        if cpu_name and not any(calls(b, cpu_name) and calls(b, cuda_name) for b in bodies):
            untested.append(f"{op} (no function of {' or '.join(TESTS)} calls both {cpu_name} and {cuda_name})")
    result(len(ops) > 0, "op.h has sections of twins", "no section titled \"twins:\" with op_* prototypes")
    result(not no_cpu, "every twin op has its CPU twin", "; ".join(no_cpu))
    result(not no_cuda, "every twin op has its CUDA twin", "; ".join(no_cuda))
    result(not mismatch, "the twins' parameters and return types agree with the op's", "; ".join(mismatch))
    result(not misdispatched, "every twin op dispatches to its twins in op.c", "; ".join(misdispatched))
    result(not untested, "every twin op has a parity test", "; ".join(untested))


main()
finish()
