#!/usr/bin/python3
"""The semantic corpus of tests/cli/cli_semantic.sh: streams that are valid
msgpack, and mostly valid disq-stream syntax, but wrong in what they say
(or odd in their keys), and the verdicts of the tools on them.  Needs only numpy and msgpack.

  semantic_corpus.py write DIR < BASE
      BASE is a well-formed stream of 3 batches of 8 rows with the fields of a
      discrete model after dec (x s z code zq xhat); writes DIR/base.dqs (BASE
      with an index field) and one DIR/CASE.dqs per case, the broken batch
      first, so a tool that refuses a case has written nothing of any batch;
      and DIR/manifest, a line per case:
      NAME GROUP RULE WHERE OPTIONS (tab-separated, see CASES).

  semantic_corpus.py check DIR TOOLS RESULTS
      TOOLS: a line per tool: NAME KIND READS WRITES NEXT (KIND stage: a
      stream filter; consumer: reads the stream, writes a report or a file;
      READS, WRITES: comma-separated fields; NEXT: the tool that must accept
      what it writes, or -).
      RESULTS: a directory of TOOL.CASE.{rc,out,err}, TOOL.CASE.file when the
      tool wrote its output file, and next.TOOL.CASE.{rc,out,err} for the
      run of TOOL's NEXT on what it wrote (which NEXT must accept unless it
      refuses the case itself).  Prints one ok/not ok line per tool and
      group of cases, and every (tool, case) result to DIR/verdicts.tsv.
"""
import math
import os
import re
import struct
import sys

import msgpack
import numpy as np

# ---- writing streams with arbitrary (even invalid UTF-8 or repeated) keys ----


def pack_str(b):
    n = len(b)
    if n < 32:
        return bytes([0xA0 | n]) + b
    if n < 256:
        return b"\xd9" + bytes([n]) + b
    return b"\xda" + struct.pack(">H", n) + b


def pack_map(pairs):
    """pairs: (key bytes, value); a value of type bytes-in-a-Raw is written as is."""
    n = len(pairs)
    out = [bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)]
    for k, v in pairs:
        out.append(pack_str(k))
        out.append(v.raw if isinstance(v, Raw) else msgpack.packb(v, use_bin_type=True))
    return b"".join(out)


class Raw:
    def __init__(self, raw):
        self.raw = raw


def tensor(a, dtype):
    return {"dtype": dtype, "shape": [int(n) for n in a.shape], "data": np.ascontiguousarray(a).tobytes()}


NP = {"u8": np.uint8, "i32": "<i4", "f32": "<f4", "f16": "<f2"}


def array(t):
    return np.frombuffer(t["data"], NP[t["dtype"]]).reshape(t["shape"]).copy()


def bf16(a):
    return (np.asarray(a, "<f4").view("<u4") >> 16).astype("<u2")


# ---- the cases ----
#
# A case is a function of the base (header pairs, batches as lists of pairs)
# returning (header, batches).  RULE says which tools must refuse it:
#   all        every tool
#   none       no tool
#   any        a tool may refuse it or accept it (but cleanly)
#   consumers  the tools that consume the whole stream (not the stage filters)
#   F,G...     the tools that read one of these fields (TOOLS' READS)
# WHERE is what a refusal message must locate: batch ("batch N" or "byte N"),
# header or stream (nothing).  OPTIONS: "chain" (run the next tool of the
# pipeline on an accepted output: it must accept it), TOOL=VERDICT or
# stages=VERDICT (VERDICT refuse, accept or any) overriding the rule.

CASES = []


def case(name, group, rule, where="batch", options=""):
    def register(f):
        CASES.append((name, group, rule, where, options, f))
        return f
    return register


def first(base, change):
    """The base with its first batch changed by change(dict of field -> value)."""
    header, batches = base
    b = dict(batches[0])
    change(b)
    return header, [list(b.items())] + batches[1:]


def set_array(field, fn, dtype=None):
    def change(b):
        a = fn(array(b[field.encode()]))
        b[field.encode()] = tensor(a, dtype or b[field.encode()]["dtype"])
    return change


def without(header, *keys):
    return [(k, v) for k, v in header if k not in {x.encode() for x in keys}]


ROW_FIELDS = ["x", "s", "index", "z", "code", "zq", "xhat"]
for f in ROW_FIELDS:
    case(f"rows-{f}", "row mismatch", "all")(
        lambda base, f=f: first(base, set_array(f, lambda a: a[:-1])))
case("rows-x0", "row mismatch", "all")(lambda base: first(base, set_array("x", lambda a: a[:0])))
case("rows-extra", "row mismatch", "all")(
    lambda base: first(base, lambda b: b.__setitem__(b"extra", tensor(np.zeros((7, 2), "<f4"), "f32"))))


@case("rows0-first", "zero rows", "none")
def rows0_first(base):
    return first(base, lambda b: b.update({k: tensor(array(v)[:0], v["dtype"]) for k, v in b.items()}))


@case("rows0-only", "zero rows", "consumers", "stream", "train=any")
def rows0_only(base):
    header, batches = rows0_first(base)
    return header, batches[:1]


for f, shape in [("z", (8, 0)), ("code", (8, 0)), ("zq", (8, 0)), ("s", (8, 0))]:
    case(f"width0-{f}", "zero width", f)(
        lambda base, f=f, shape=shape: first(base, set_array(f, lambda a: np.zeros(shape, a.dtype))))
case("width0-z3", "zero width", "z")(
    lambda base: first(base, set_array("z", lambda a: np.zeros((8, 12, 0), "<f4"))))
case("width0-x", "zero width", "x")(
    lambda base: first(base, set_array("x", lambda a: np.zeros((8, 8, 8, 0), np.uint8))))


@case("width0-s-nofactors", "zero width", "s", "batch", "traverse=accept")
def width0_s_nofactors(base):
    header, batches = first(base, set_array("s", lambda a: np.zeros((8, 0), "<i4")))
    header = [(k, v if k != b"factors" else []) for k, v in header]
    return header, batches


@case("width0-extra", "zero width", "none")
def width0_extra(base):
    def change(b):
        b[b"extra0"] = tensor(np.zeros((8, 0), "<f4"), "f32")
        b[b"extra1"] = tensor(np.zeros((8, 12, 0), "<f4"), "f32")
    return first(base, change)


@case("dim-over-int32", "zero width", "all")
def dim_over_int32(base):
    huge = {"dtype": "f32", "shape": [8, 0, 2**31], "data": b""}
    return first(base, lambda b: b.__setitem__(b"extra", huge))


def poke(a, at, value):
    """a with value at flat index at ("mid": the middle element)."""
    flat = a.reshape(-1)
    flat[flat.size // 2 if at == "mid" else at] = value
    return a


def put(field, at, value):
    return set_array(field, lambda a: poke(a, at, value))


for name, at, value in [("neg", 0, -1), ("intmin", 20, -2**31), ("K", 47, "K"), ("1e6", 3, 10**6),
                        ("intmax", 5, 2**31 - 1)]:
    @case(f"code-{name}", "out-of-range codes", "code")
    def code_range(base, at=at, value=value):
        k = dict(base[0])[b"codebook"] if value == "K" else value
        return first(base, put("code", at, k))


case("code-neg-nocodebook", "out-of-range codes", "code")(
    lambda base: first((without(base[0], "codebook"), base[1]), put("code", 0, -1)))
# without a codebook, tcdisc's K is the largest code + 1: a property of the stream
case("code-intmax-nocodebook", "out-of-range codes", "code", "stream", "metric-code=any")(
    lambda base: first((without(base[0], "codebook"), base[1]), put("code", 0, 2**31 - 1)))
case("s-neg", "out-of-range codes", "s", "batch", "traverse=accept")(
    lambda base: first(base, put("s", 1, -1)))
case("s-size", "out-of-range codes", "s", "batch", "traverse=accept")(
    lambda base: first(base, put("s", 4, 4)))

for f in ["z", "zq", "xhat"]:
    for name, value, at in [("nan", math.nan, 0), ("inf", math.inf, "mid"), ("ninf", -math.inf, -1)]:
        case(f"{name}-{f}", "non-finite", f)(
            lambda base, f=f, value=value, at=at: first(base, set_array(f, lambda a: poke(a, at, value))))


case("nan-z-f16", "non-finite", "z")(
    lambda base: first(base, set_array("z", lambda a: poke(a, 7, math.nan).astype("<f2"), "f16")))
case("inf-zq-bf16", "non-finite", "zq")(
    lambda base: first(base, set_array("zq", lambda a: bf16(poke(a, 9, math.inf)), "bf16")))
case("nan-extra", "non-finite", "none")(
    lambda base: first(base, lambda b: b.__setitem__(
        b"extra", tensor(np.array([[math.nan, math.inf, -math.inf]] * 8, "<f4"), "f32"))))


@case("nan-factor-values", "non-finite", "none", "header", "chain")
def nan_factor_values(base):
    header = dict(base[0])
    factors = [dict(f) for f in header[b"factors"]]
    factors[0]["values"] = [math.nan, math.inf, -math.inf, 0.5]
    return [(k, factors if k == b"factors" else v) for k, v in base[0]], base[1]


def odd_field(key, value, header_key=None):
    def make(base):
        header, batches = first(base, lambda b: b.__setitem__(key, value))
        return header + ([(header_key, "v")] if header_key is not None else []), batches
    return make


F32_2 = tensor(np.ones((8, 2), "<f4"), "f32")
case("key-newline", "odd keys", "none", "batch", "chain")(odd_field(b"odd\nfield", F32_2, b"odd\nkey"))
case("key-empty", "odd keys", "none", "batch", "chain")(odd_field(b"", 7, b""))
case("key-255", "odd keys", "none", "batch", "chain")(odd_field(b"k" * 255, F32_2, b"h" * 255))
case("key-control", "odd keys", "none", "batch", "chain")(
    odd_field(b"\x1b[31mred\x1b[0m\r\t\x7f", F32_2, b"\x01\x02bell\x07"))
case("key-non-utf8", "odd keys", "none", "batch", "chain")(
    odd_field("\u00e9\u2713".encode(), F32_2, b"\xff\xfe\xc3"))
case("key-256", "odd keys", "all")(odd_field(b"k" * 256, F32_2))
case("key-256-header", "odd keys", "all", "header")(lambda base: (base[0] + [(b"h" * 256, 1)], base[1]))
case("key-nul", "odd keys", "all")(odd_field(b"a\x00b", F32_2))
case("key-nul-header", "odd keys", "all", "header")(lambda base: (base[0] + [(b"a\x00b", 1)], base[1]))


@case("key-newline-twice", "odd keys", "all")
def key_newline_twice(base):
    header, batches = odd_field(b"dup\nkey", F32_2)(base)
    return header, [batches[0] + [(b"dup\nkey", F32_2)]] + batches[1:]


case("key-control-twice-header", "odd keys", "all", "header")(
    lambda base: (base[0] + [(b"\x1b[2J\rdup", 1), (b"\x1b[2J\rdup", 2)], base[1]))
case("dtype-newline", "odd keys", "all")(
    odd_field(b"bad\nname", {"dtype": "f\n64", "shape": [8], "data": bytes(64)}))


@case("factor-names", "odd keys", "none", "header", "chain")
def factor_names(base):
    names = ["fg\nsecond line", "\x1b[31mbg\r", "x\u00e9"]
    factors = [dict(f, name=n) for f, n in zip(dict(base[0])[b"factors"], names)]
    return [(k, factors if k == b"factors" else v) for k, v in base[0]], base[1]


@case("factor-newline-s-range", "odd keys", "s", "batch", "traverse=accept")
def factor_newline_s_range(base):
    header, batches = factor_names(base)
    return first((header, batches), put("s", 0, -1))


@case("header-keys-1024", "odd keys", "none", "header", "chain stages=any")
def header_keys_1024(base):
    """1024 keys, the limit, before the stages add model, latents and codebook."""
    header = without(base[0], "model", "latents", "codebook")
    return header + [(b"pad%04d" % i, i) for i in range(1024 - len(header))], base[1]


case("header-keys-1025", "odd keys", "all", "header")(
    lambda base: (base[0] + [(b"pad%04d" % i, i) for i in range(1025 - len(base[0]))], base[1]))


@case("batch-fields-1024", "odd keys", "xhat", "batch", "chain stages=any")
def batch_fields_1024(base):
    """1024 fields, the limit, before dec adds xhat."""
    def change(b):
        del b[b"xhat"]
        b.update({b"pad%04d" % i: i for i in range(1024 - len(b))})
    return first(base, change)


case("batch-fields-1025", "odd keys", "all")(
    lambda base: first(base, lambda b: b.update({b"pad%04d" % i: i for i in range(1025 - len(b))})))
case("plain-values", "odd keys", "none", "batch", "chain")(
    odd_field(b"note", ["a\nb", None, True, 2.5, math.nan, [b"\x00bin"], {"k": -math.inf},
                        2**64 - 1, -2**63]))
case("scalar-tensor", "odd keys", "any")(odd_field(b"scalar", tensor(np.float32(1.5).reshape(()), "f32")))
case("base", "valid", "none", "batch", "chain")(lambda base: base)


def read_base(f):
    u = msgpack.Unpacker(f, raw=False)
    header = list(next(u).items())
    batches = []
    start = 0
    for b in u:
        rows = b["x"]["shape"][0]
        b.setdefault("index", tensor(np.arange(start, start + rows, dtype="<i4"), "i32"))
        start += rows
        batches.append([(k.encode(), v) for k, v in b.items()])
    header = [(k.encode(), v) for k, v in header]
    if len(batches) != 3 or start != 24:
        sys.exit("semantic_corpus.py: the base must have 3 batches of 8 rows")
    return header, batches


def write(out_dir):
    base = read_base(sys.stdin.buffer)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "manifest"), "w") as manifest:
        for name, group, rule, where, options, make in CASES:
            header, batches = make(base)
            with open(os.path.join(out_dir, name + ".dqs"), "wb") as f:
                f.write(pack_map(header))
                for b in batches:
                    f.write(pack_map(b))
            manifest.write("\t".join([name, group, rule, where, options]) + "\n")


# ---- judging the runs ----

SANITIZER = (b"runtime error", b"Sanitizer")
STAGE_KEYS = {b"model", b"latents", b"codebook"}


def expected(tool, case_):
    name, kind, reads = tool["name"], tool["kind"], tool["reads"]
    _, _, rule, _, options = case_
    for opt in options.split():
        key, _, verdict = opt.partition("=")
        if verdict and (key == name or (key == "stages" and kind == "stage")):
            return verdict
    if rule in ("all", "none", "any"):
        return {"all": "refuse", "none": "accept", "any": "any"}[rule]
    if rule == "consumers":
        return "refuse" if kind == "consumer" else "accept"
    return "refuse" if set(rule.split(",")) & reads else "accept"


def load(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def objects(data):
    """The msgpack objects of data and whether they end exactly at its end."""
    u = msgpack.Unpacker(raw=True, strict_map_key=False, max_buffer_size=1 << 30)
    u.feed(data)
    out = []
    try:
        for o in u:
            out.append(o)
    except Exception:
        return out, False
    return out, u.tell() == len(data)


def crash_problems(rc, err):
    if rc == 124:
        return ["timed out"]
    if rc >= 128:
        return [f"killed by signal {rc - 128}"]
    if any(s in err for s in SANITIZER):
        line = next(l for l in err.splitlines() if any(s in l for s in SANITIZER))
        return ["sanitizer: " + line.decode(errors="replace")[:160]]
    return []


def refusal_problems(tool, case_, rc, out, err, wrote_file):
    name = tool["name"].split("-")[0]
    where = case_[3]
    p = []
    if rc != 65:
        p.append(f"exit {rc}, wanted 65")
    lines = err.split(b"\n")
    if len(lines) != 2 or lines[1]:
        p.append(f"{len(lines) - 1 if not lines[-1] else len(lines)} stderr lines, wanted 1")
    elif any(c < 0x20 or c == 0x7F for c in lines[0]):
        p.append("control bytes in the message")
    line = lines[0].decode(errors="replace")
    if not re.match(f"{name}: std(in|out): ", line):  # stdout: no room for the tool's own keys
        p.append(f"message lacks '{name}: stdin: '")
    elif where == "batch" and not re.search(r"\b(batch|byte) [0-9]+", line):
        p.append("message names neither batch nor byte")
    if tool["kind"] == "stage":
        objs, whole = objects(out)
        if out and (len(objs) != 1 or not whole):
            p.append(f"{len(objs) - 1} batches written" if whole else "stdout is not a whole stream")
    elif out:
        p.append(f"{len(out)} bytes on stdout")
    if wrote_file:
        p.append("wrote its output file")
    return p, line


def passed_through(inp, out, writes):
    """Fields and header keys of inp that out lost or changed."""
    a, _ = objects(inp)
    b, whole = objects(out)
    if not whole or len(a) != len(b):
        return [f"wrote {len(b) - 1} batches of {len(a) - 1}"]
    p = []
    for i, (x, y) in enumerate(zip(a, b)):
        skip = STAGE_KEYS if i == 0 else writes
        for k, v in x.items():
            if k not in skip and repr(y.get(k, KeyError)) != repr(v):
                p.append(f"{'header key' if i == 0 else f'batch {i} field'} {k!r} not passed on")
        for k in (skip if i else ()):
            if k not in y:
                p.append(f"batch {i} lacks {k!r}")
    return p[:2]


def printable(text):
    """text with its unprintable characters escaped, for one TSV cell."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def judge(corpus, tool, case_, res):
    stem = os.path.join(res, f"{tool['name']}.{case_[0]}")
    rc = int(load(stem + ".rc") or b"-1")
    out, err = load(stem + ".out") or b"", load(stem + ".err") or b""
    want = expected(tool, case_)
    problems = crash_problems(rc, err)
    got = "refuse" if rc else "accept"
    line = ""
    if problems:
        got = "crash"
    elif rc and want == "accept":
        problems.append(f"refused (exit {rc}): {err.decode(errors='replace').strip()[:160]}")
    elif not rc and want == "refuse":
        problems.append("exit 0, wanted a refusal")
    elif rc:
        problems, line = refusal_problems(tool, case_, rc, out, err, os.path.exists(stem + ".file"))
    else:
        if tool["kind"] == "stage":
            inp = load(os.path.join(corpus, case_[0] + ".dqs"))
            problems += passed_through(inp, out, tool["writes"])
        elif tool["name"] in ("train", "traverse") and not os.path.exists(stem + ".file"):
            problems.append("exit 0 without its output file")
        nxt = os.path.join(res, f"next.{tool['name']}.{case_[0]}")
        if tool["next"] != "-" and os.path.exists(nxt + ".rc"):
            nrc = int(load(nxt + ".rc"))
            nerr = load(nxt + ".err") or b""
            problems += crash_problems(nrc, nerr)
            direct = int(load(os.path.join(res, f"{tool['next']}.{case_[0]}.rc")) or b"-1")
            if nrc and not direct:  # it may refuse what it refuses in the case itself
                why = nerr.decode(errors="replace").strip()[:160]
                problems.append(f"{tool['next']} refuses its output: {why}")
    return want, got, problems, line


def check(corpus, tools_file, res):
    cases = [l.rstrip("\n").split("\t") for l in open(os.path.join(corpus, "manifest"))]
    tools = []
    for l in open(tools_file):
        name, kind, reads, writes, nxt = l.split()
        tools.append({"name": name, "kind": kind, "reads": set(reads.split(",")),
                      "writes": {w.encode() for w in writes.split(",")}, "next": nxt})
    groups = []
    for c in cases:
        if c[1] not in groups:
            groups.append(c[1])
    with open(os.path.join(corpus, "verdicts.tsv"), "w") as tsv:
        tsv.write("tool\tcase\twanted\tgot\tproblems\tmessage\n")
        for tool in tools:
            for g in groups:
                bad = []
                members = [c for c in cases if c[1] == g]
                for c in members:
                    want, got, problems, line = judge(corpus, tool, c, res)
                    fields = [tool["name"], c[0], want, got, "; ".join(problems), line]
                    tsv.write("\t".join(map(printable, fields)) + "\n")
                    if problems:
                        bad.append(printable(f"{c[0]}: {'; '.join(problems)}"))
                desc = f"{tool['name']}: {g} ({len(members)} cases)"
                if bad:
                    more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
                    print(f"not ok - cli_semantic: {desc}: {len(bad)} wrong: " + " | ".join(bad[:3]) + more)
                else:
                    print(f"ok - cli_semantic: {desc}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        check(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
