# The experiments of examples/ in QUICK=1 mode: the whole pipeline (dsload,
# train, enc, quant, dec, metric, gapst) for every model, the result files
# complete and well-formed, and a second make that skips finished runs.
. "$(dirname "$0")/lib.sh"
ex=$(cd "$(dirname "$0")/../../examples" && pwd)
if ! command -v parallel >/dev/null; then
    skip "experiments" "GNU parallel is not installed (make deps)"
    exit 0
fi
export XDG_CACHE_HOME=$T/cache

# well_formed RESULTS.tsv ROWS: ROWS data rows, all as wide as the header,
# every score a number (nan allowed: metric warns when a score is undefined).
well_formed() {
    awk -F'\t' -v rows="$2" '
        NR == 1 { width = NF; if (NF < 6) exit 1; next }
        NF != width { exit 1 }
        { for (i = 6; i <= NF; i++) if ($i !~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/ && $i != "nan") exit 1 }
        END { exit NR - 1 != rows }' "$1"
}

for e in table1:9 table2:5 gapst:12; do
    dir=${e%:*} rows=${e#*:}
    dest=$T/$dir
    check "$dir: make QUICK=1 runs" make -s -C "$ex/$dir" QUICK=1 OUT="$dest" BIN="$BIN"
    check "$dir: results.tsv has $rows well-formed rows" well_formed "$dest/results.tsv" "$rows"
    check "$dir: results.md is a table" grep -q "^| " "$dest/results.md"
    check "$dir: curves.png of every run" sh -c "[ -s $dest/curves.png ] && ls $dest/runs/*/curves.png >/dev/null"
done
check "table1: every model trained its 20 iterations" \
    sh -c "for f in $T/table1/runs/*/train.tsv; do [ \$(tail -n 1 \$f | cut -f1) = 20 ] || exit 1; done"
check "table1: the published numbers stand beside the measured ones" grep -q '| factorqvae | .* / 0.86 |' "$T/table1/results.md"
make -s -C "$ex/table1" QUICK=1 OUT="$T/seeds" SEEDS_qvae="1 2" MODELS="ae qvae" "$T/seeds/runs.list"
check "table1: SEEDS_<model> gives that model its own seeds" \
    sh -c "[ \"\$(cut -f1 $T/seeds/runs.list | tr '\n' ' ')\" = 'ae-1 qvae-1 qvae-2 ' ]"
# TRAIN_OPTS go to every run after the scale's options, so they override them
# (QUICK's SMALL has --lr 2e-3)
check "table1: TRAIN_OPTS override the scale's train options" \
    make -s -C "$ex/table1" QUICK=1 OUT="$T/opts" BIN="$BIN" MODELS=ae TRAIN_OPTS="--lr 5e-4"
check "table1: the TRAIN_OPTS run trained at its own learning rate" \
    awk -F'\t' 'NR == 2 { ok = $8 > 4.9e-4 && $8 < 5.1e-4 } END { exit !ok }' "$T/opts/runs/ae-1/train.tsv"
# IMAGE_OPTS (SCALE=cpu's --size 32) reaches both streams: a model trained
# on 64x64 images could not encode 32x32 ones, nor be scored on them
check "table1: IMAGE_OPTS resizes the training and the evaluation images" \
    make -s -C "$ex/table1" QUICK=1 OUT="$T/size" BIN="$BIN" MODELS=ae IMAGE_OPTS="--size 32"
check "table1: the IMAGE_OPTS run encodes 32x32 images" \
    sh -c "'$BIN/dsload' shapes3d --sample 8 --size 32 --no-cache 2>/dev/null | '$BIN/enc' -m $T/size/runs/ae-1/model.safetensors >/dev/null"
# ... and SCALE=cpu's own value reaches the runs' environment (exported, not
# only a command-line variable), while gapst keeps 64x64 images
env_of() {
    make -s -C "$ex/$1" SCALE=cpu OUT="$T/env" --eval 'envcheck: ; @echo "[$$IMAGE_OPTS] $$STEPS"' envcheck
}
check "table1: SCALE=cpu runs get IMAGE_OPTS=--size 32" [ "$(env_of table1)" = "[--size 32] 12000" ]
check "gapst: SCALE=cpu runs keep their images and 2000 iterations" [ "$(env_of gapst)" = "[] 2000" ]
check "gapst: a rank correlation per score" sh -c "[ \$(grep -c '^| [a-z]*\.[a-z]* | -\?[0-9]' $T/gapst/results.md) = 6 ]"

# a second make skips every finished run; a run whose scores were lost is
# redone from its checkpoint without training again
before=$(md5sum "$T/table2/runs/64x1-1/train.tsv")
rm "$T/table2/runs/64x1-1/scores.tsv"
make -s -C "$ex/table2" QUICK=1 OUT="$T/table2" BIN="$BIN" >"$T/again.out" 2>"$T/again.err"
check "table2: rerun skips the finished runs" sh -c "[ \$(grep -c 'finished earlier, skipped' $T/again.err) = 4 ]"
check "table2: the redone run resumed at its last step" grep -q '64x1-1: resuming' "$T/again.err"
check "table2: resuming did not train again" sh -c "[ '$before' = \"\$(md5sum $T/table2/runs/64x1-1/train.tsv)\" ]"
check "table2: results complete again" well_formed "$T/table2/results.tsv" 5
