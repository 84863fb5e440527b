#!/bin/sh
# cli_semantic.sh: the semantic corpus (semantic_corpus.py) through every tool
# that reads a stream: row mismatches, zero rows, zero-width tensors,
# out-of-range codes, NaN and Inf in every float field, odd keys.  A refusal
# must exit 65 with one line "TOOL: stdin: ..." on stderr (naming the batch
# or byte when a batch is at fault; "TOOL: stdout: ..." when the input leaves
# no room for what the tool adds) and write no batch (stages: at most the
# header; the others: nothing on stdout and no output file); an acceptance
# exits 0 and passes every field it does not write on untouched.  Never a
# crash or a sanitizer report.  With a sanitizer build in BUILD/asan (make
# test builds one) its tools are the ones tested.  Every (tool, case) result
# goes to BUILD/cli_semantic.tsv.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import numpy, msgpack' 2>/dev/null; then
    skip "semantic corpus" "$PY lacks numpy or msgpack"
    exit 0
fi
TOOLS=$BIN
if [ -x "${BUILD:-}/asan/bin/enc" ]; then
    TOOLS=$BUILD/asan/bin
    ok "tools under ASan and UBSan: $TOOLS"
else
    skip "ASan and UBSan" "no sanitizer build in ${BUILD:-BUILD}/asan (make test builds it); plain tools"
fi
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive

# The base: a tiny dvae (d = 6, K = 5) and 24 images through enc | quant | dec.
tiny="--model dvae --width 4 --dense 8 --codebook 5 --disc-hidden 8 --batch 4 --save-every 0"
"$PY" "$here/model_stream.py" 24 8 8 8 3 1 >"$T/images"
if ! "$TOOLS/train" -o "$T/ck.st" $tiny --steps 2 <"$T/images" 2>"$T/err" ||
    ! "$TOOLS/enc" -m "$T/ck.st" <"$T/images" | "$TOOLS/quant" -m "$T/ck.st" |
    "$TOOLS/dec" -m "$T/ck.st" >"$T/base" 2>"$T/err"; then
    notok "the base stream" "$(tail -n 3 "$T/err")"
    exit 0
fi
C=$T/corpus R=$T/runs
mkdir -p "$R"
"$PY" "$here/semantic_corpus.py" write "$C" <"$T/base" || { notok "writing the corpus"; exit 0; }

# NAME KIND READS WRITES NEXT: READS are the fields the tool computes with
# (and so validates); NEXT a tool that must accept what it writes, unless it
# refuses the case itself.
cat >"$T/tools" <<EOF
enc stage x z quant
quant stage z code,zq dec
dec stage zq xhat metric-z
tcdisc consumer code - -
tcdisc-z consumer z - -
metric-code consumer s,code,x - -
metric-z consumer s,z - -
metric-zq consumer s,zq,x,xhat - -
traverse consumer x,s - -
train consumer x - enc
EOF
# run.sh TOOL CASE IN STEM CKPT: TOOL on IN (-: the case's stream) into
# STEM.{rc,out,err} (-: $R/TOOL.CASE) and, for train and traverse, STEM.file;
# CKPT (-: the tiny model) for the tools that take one.
cat >"$T/run.sh" <<EOF
tool=\$1 case=\$2 in=\$3 o=\$4 ck=\$5
[ "\$in" = - ] && in=$C/\$case.dqs
[ "\$o" = - ] && o=$R/\$tool.\$case
[ "\$ck" = - ] && ck=$T/ck.st
case \$tool in
enc | quant | dec) set -- $TOOLS/\$tool -m \$ck ;;
tcdisc) set -- $TOOLS/tcdisc --steps 5 --hidden 8 --batch 8 ;;
tcdisc-z) set -- $TOOLS/tcdisc --steps 5 --hidden 8 --batch 8 --field z ;;
metric-code) set -- $TOOLS/metric mig gapst -m \$ck --train 12 --tsv ;;
metric-z) set -- $TOOLS/metric mig --field z --train 12 --tsv ;;
metric-zq) set -- $TOOLS/metric mse mig --field zq --train 12 --tsv ;;
traverse) set -- $TOOLS/traverse -m \$ck --mode recon -n 2 -o \$o.png ;;
train) set -- $TOOLS/train $tiny --latents 6 --steps 1 -o \$o.st ;;
esac
timeout 120 "\$@" <"\$in" >"\$o.out" 2>"\$o.err"
echo \$? >"\$o.rc"
for f in \$o.png \$o.st; do [ -f \$f ] && mv \$f \$o.file; done
exit 0
EOF
tools=$(cut -d' ' -f1 "$T/tools")
cut -f1 "$C/manifest" | while read -r c; do
    for t in $tools; do echo "$t $c - - -"; done
done | xargs -r -P 2 -n 5 sh "$T/run.sh"

# The next tool of the pipeline on what a tool accepted of the chain cases
# (after train: enc with the checkpoint it wrote, on the base stream).
awk -F '\t' '$5 ~ /chain/ { print $1 }' "$C/manifest" | while read -r c; do
    while read -r t _ _ _ next; do
        [ "$next" != - ] && [ "$(cat "$R/$t.$c.rc")" = 0 ] || continue
        if [ "$t" = train ]; then echo "enc $c $C/base.dqs $R/next.$t.$c $R/$t.$c.file"
        else echo "$next $c $R/$t.$c.out $R/next.$t.$c -"; fi
    done <"$T/tools"
done | xargs -r -P 2 -n 5 sh "$T/run.sh"

"$PY" "$here/semantic_corpus.py" check "$C" "$T/tools" "$R"
[ -n "${BUILD:-}" ] && cp "$C/verdicts.tsv" "$BUILD/cli_semantic.tsv"
exit 0
