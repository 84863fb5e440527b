# dsload on the command line: modes, determinism, PNG dumps and bad input.
# Only small selections are rendered; the cache lives in $T.
. "$(dirname "$0")/lib.sh"
export XDG_CACHE_HOME=$T/cache
unset DISENTANGLEMENT_LIB_DATA
PY=${PYTHON:-/usr/bin/python3}

check "help" dsload --help
check_err "unknown dataset" 2 "unknown dataset 'shapes4d'" dsload shapes4d --sample 2
check_err "bad option value" 2 "--sample: expected an integer" dsload shapes3d --sample x
check_err "--size 0" 2 "--size: expected an integer >= 1, got '0'" dsload shapes3d --sample 2 --size 0
check_err "--size too large" 2 "--size: at most 4096" dsload shapes3d --sample 2 --size 5000
check_err "bad split" 2 "--split: expected train, val or test" dsload dsprites --split dev
check_err "no real file for smallnorb" 66 "no procedural generator" dsload smallnorb --sample 2
check_err "missing source" 66 "nothere.npz" dsload mpi3d --source "$T/nothere.npz" --sample 2

dsload --list >"$T/list"
dsload --help | sed -n 's/^Datasets: //p' | tr ' ' '\n' >"$T/names"
if [ "$(wc -l <"$T/names")" -gt 1 ] && tail -n +2 "$T/list" | cut -d' ' -f1 | cmp -s - "$T/names"
then ok "--list and --help name the same datasets"
else notok "--list and --help name the same datasets" "$(cat "$T/list" "$T/names")"; fi
dsload shapes3d --list >"$T/list"
if grep -q '^orientation  *15  -30 .. 30' "$T/list" && grep -q '480000 images' "$T/list"
then ok "--list shows factors"; else notok "--list shows factors" "$(cat "$T/list")"; fi

dsload shapes3d --sample 20 --seed 4 --batch 8 >"$T/a" 2>"$T/err"
dsload shapes3d --sample 20 --seed 4 --batch 8 >"$T/b" 2>/dev/null
dsload shapes3d --sample 20 --seed 5 --batch 8 >"$T/c" 2>/dev/null
if cmp -s "$T/a" "$T/b" && ! cmp -s "$T/a" "$T/c"; then ok "same seed same stream"
else notok "same seed same stream"; fi
if grep -q 'shapes3d: source procedural renderer' "$T/err"; then ok "stderr names the source"
else notok "stderr names the source" "$(cat "$T/err")"; fi
if [ ! -e "$T/cache" ] || [ -z "$(ls "$T/cache/disq" 2>/dev/null)" ]; then ok "a sample builds no cache"
else notok "a sample builds no cache" "$(ls -R "$T/cache")"; fi

check "png dump" dsload mpi3d-complex --sample 5 --png "$T/png"
if [ "$(ls "$T/png" | grep -c '\.png$')" = 5 ]; then ok "png dump writes 5 files"
else notok "png dump writes 5 files" "$(ls "$T/png")"; fi

# An endless stream stops quietly when the reader goes away.
(dsload dsprites --shuffle --repeat --no-cache --batch 32 2>/dev/null; echo $? >"$T/rc") | head -c 300000 >/dev/null
if [ "$(cat "$T/rc")" = 0 ]; then ok "--repeat ends with the pipe"; else notok "--repeat ends with the pipe" "exit $(cat "$T/rc")"; fi

# A cold pass in index order streams while it caches: the first batch comes at
# once, and a reader that goes away (or a signal) leaves no cache, no temp file.
rm -rf "$T/cold"
start=$(date +%s)
(XDG_CACHE_HOME=$T/cold dsload shapes3d 2>/dev/null; echo $? >"$T/rc") | head -c 100000 >"$T/first"
if [ "$(wc -c <"$T/first")" = 100000 ] && [ $(($(date +%s) - start)) -le 5 ]; then ok "cold stream: first image within 5 s"
else notok "cold stream: first image within 5 s" "$(($(date +%s) - start)) s"; fi
if [ "$(cat "$T/rc")" = 0 ] && [ -z "$(ls -A "$T/cold/disq")" ]; then ok "closed pipe: no cache, no temp file"
else notok "closed pipe: no cache, no temp file" "exit $(cat "$T/rc"); $(ls -A "$T/cold/disq")"; fi
XDG_CACHE_HOME=$T/cold dsload shapes3d >/dev/null 2>/dev/null &
pid=$!
i=0
while [ -z "$(ls -A "$T/cold/disq" 2>/dev/null)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid
wait $pid
if [ -z "$(ls -A "$T/cold/disq")" ]; then ok "SIGTERM: no cache, no temp file"
else notok "SIGTERM: no cache, no temp file" "$(ls -A "$T/cold/disq")"; fi
XDG_CACHE_HOME=$T/cold dsload dsprites --batch 512 2>/dev/null | head -c 20000000 >"$T/streamed"
dsload dsprites --batch 512 --no-cache 2>/dev/null | head -c 20000000 >"$T/rendered"
if cmp -s "$T/streamed" "$T/rendered"; then ok "streamed while caching = rendered"; else notok "streamed while caching = rendered"; fi
XDG_CACHE_HOME=$T/cold timeout 5 dsload shapes3d --split val >/dev/null 2>"$T/err"
if grep -q 'shapes3d: building the cache first: ETA [0-9]' "$T/err" && [ -z "$(ls -A "$T/cold/disq")" ]
then ok "--split waits for the cache, with an ETA"; else notok "--split waits for the cache, with an ETA" "$(cat "$T/err")"; fi

# Bad real files: one line, data error, nothing left in the cache.
head -c 5000 /dev/urandom >"$T/junk.npz"
check_err "corrupt npz" 65 "junk.npz: not a readable zip archive" dsload mpi3d --source "$T/junk.npz" --all
if [ "$(wc -l <"$T/err")" = 1 ]; then ok "corrupt npz: one line"; else notok "corrupt npz: one line" "$(cat "$T/err")"; fi
if [ -z "$(ls "$T/cache/disq" 2>/dev/null)" ]; then ok "no partial cache"; else notok "no partial cache" "$(ls "$T/cache/disq")"; fi

if ! "$PY" -c 'import msgpack, numpy' 2>/dev/null; then
    skip "stream contents" "$PY lacks msgpack/numpy"
    exit 0
fi
# Header, fields and intervention structure, read back in Python.
cat >"$T/check.py" <<'EOF'
import sys, msgpack, numpy as np
mode = sys.argv[1]
u = msgpack.Unpacker(sys.stdin.buffer, raw=False)
h = next(u)
assert h["dataset"] == "shapes3d" and h["shape"] == [64, 64, 3], h
assert [f["size"] for f in h["factors"]] == [10, 10, 10, 8, 4, 15]
assert abs(h["factors"][3]["values"][-1] - 1.25) < 1e-12
def arr(b, k, t):
    return np.frombuffer(b[k]["data"], t).reshape(b[k]["shape"])
rows = {k: [] for k in ("x", "s", "index", "vote", "fixed")}
for b in u:
    for k in rows:
        if k in b: rows[k].append(arr(b, k, np.uint8 if k == "x" else np.int32))
s = np.concatenate(rows["s"]); idx = np.concatenate(rows["index"])
sizes = np.array([10, 10, 10, 8, 4, 15])
bases = np.array([np.prod(sizes[i + 1:]) for i in range(6)])
assert (s @ bases == idx).all(), "s and index disagree"
if mode == "factorvae":
    vote = np.concatenate(rows["vote"]); fixed = np.concatenate(rows["fixed"])
    assert len(s) == 3 * 4 and (vote == np.repeat(np.arange(3), 4)).all()
    for v in range(3):
        f = fixed[vote == v][0]
        assert len(set(s[vote == v][:, f])) == 1, "vote does not share its factor"
else:
    assert len(s) == 20
print("fine")
EOF
dsload shapes3d --fix-factor factorvae --votes 3 --group 4 --batch 5 2>/dev/null | "$PY" "$T/check.py" factorvae >"$T/py" 2>&1
if grep -q fine "$T/py"; then ok "factorvae votes"; else notok "factorvae votes" "$(tail -n 3 "$T/py")"; fi
"$PY" "$T/check.py" sample <"$T/a" >"$T/py" 2>&1
if grep -q fine "$T/py"; then ok "sample stream"; else notok "sample stream" "$(tail -n 3 "$T/py")"; fi

# --size: the same images and labels at 32x32, each close to the 2x2 means of
# its 64x64 original (the triangle filter also weighs the neighbours), and
# PNG dumps of that size.
dsload shapes3d --sample 20 --seed 4 --batch 8 --size 32 >"$T/a32" 2>/dev/null
"$PY" -c '
import sys, msgpack, numpy as np
def read(path):
    u = msgpack.Unpacker(open(path, "rb"), raw=False)
    h = next(u)
    bs = list(u)
    x = np.concatenate([np.frombuffer(b["x"]["data"], np.uint8).reshape(b["x"]["shape"]) for b in bs])
    s = b"".join(b["s"]["data"] for b in bs)
    return h, x.astype(float), s
h64, x64, s64 = read(sys.argv[1])
h32, x32, s32 = read(sys.argv[2])
assert h32["shape"] == [32, 32, 3] and x32.shape == (20, 32, 32, 3), (h32["shape"], x32.shape)
assert s32 == s64, "labels differ"
means = x64.reshape(20, 32, 2, 32, 2, 3).mean(axis=(2, 4))
err = np.abs(means - x32).mean()
assert err < 6, "mean distance %.2f from the 2x2 means" % err
print("fine")' "$T/a" "$T/a32" >"$T/py" 2>&1
if grep -q fine "$T/py"; then ok "--size 32 resizes the images"; else notok "--size 32 resizes the images" "$(tail -n 3 "$T/py")"; fi
dsload shapes3d --sample 2 --size 16 --png "$T/png16" 2>/dev/null
"$PY" -c '
import sys, glob, struct
files = sorted(glob.glob(sys.argv[1] + "/*.png"))
assert len(files) == 2, files
for f in files:
    w, h = struct.unpack(">II", open(f, "rb").read()[16:24])
    assert (w, h) == (16, 16), (f, w, h)
print("fine")' "$T/png16" >"$T/py" 2>&1
if grep -q fine "$T/py"; then ok "--size with --png"; else notok "--size with --png" "$(tail -n 3 "$T/py")"; fi

# A dSprites-shaped .npz (blank images; the real grid's labels) whose
# deflated imgs member has one flipped byte: no image leaves dsload, whichever
# way it is read, and the one error line names the file and the member.
cat >"$T/mkds.py" <<'EOF2'
import sys, struct, zipfile, numpy as np
path, bad = sys.argv[1], sys.argv[2]
N = 737280
def npy(descr, shape):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    n = (10 + len(d) + 1 + 63) // 64 * 64
    return b"\x93NUMPY\x01\x00" + (n - 10).to_bytes(2, "little") + (d.ljust(n - 11) + "\n").encode()
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
    with z.open("imgs.npy", "w", force_zip64=True) as f:
        f.write(npy("|u1", (N, 64, 64)))
        for _ in range(N // 4096): f.write(bytes(4096 * 4096))
    lc = np.indices((1, 3, 6, 40, 32, 32)).reshape(6, -1).T.astype("<i8")
    with z.open("latents_classes.npy", "w") as f:
        f.write(npy("<i8", (N, 6)) + lc.tobytes())
    i = z.getinfo("imgs.npy")
data = open(path, "rb").read()
name_len, extra_len = struct.unpack("<HH", data[i.header_offset + 26:i.header_offset + 30])
at = i.header_offset + 30 + name_len + extra_len + i.compress_size // 2
open(bad, "wb").write(data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1:])
EOF2
"$PY" "$T/mkds.py" "$T/ds.npz" "$T/dsbad.npz"
for mode in "--sample 64" "--all --no-cache" "--build-cache"; do
    dsload dsprites --source "$T/dsbad.npz" $mode >"$T/out" 2>"$T/err"
    rc=$?
    grep -v ': source ' "$T/err" >"$T/errline"
    if [ "$rc" = 65 ] && [ ! -s "$T/out" ] && [ "$(wc -l <"$T/errline")" = 1 ] &&
        grep -q 'dsbad\.npz:imgs\.npy: ' "$T/errline"
    then ok "damaged member, $mode: exit 65, one line, empty stdout"
    else notok "damaged member, $mode: exit 65, one line, empty stdout" \
        "exit $rc, $(wc -c <"$T/out") bytes out: $(head -c 300 "$T/err")"; fi
done
if [ -z "$(ls "$T/cache/disq" 2>/dev/null)" ]; then ok "damaged member: no cache"
else notok "damaged member: no cache" "$(ls "$T/cache/disq")"; fi
dsload dsprites --source "$T/ds.npz" --sample 64 2>/dev/null | "$PY" -c '
import sys, msgpack
u = msgpack.Unpacker(sys.stdin.buffer, raw=False)
next(u)
x = b"".join(b["x"]["data"] for b in u)
assert len(x) == 64 * 4096 and not any(x), "wrong pixels"
print("fine")' >"$T/py" 2>&1
if grep -q fine "$T/py"; then ok "intact member reads"; else notok "intact member reads" "$(tail -n 3 "$T/py")"; fi
