#!/bin/bash
# compare.sh TITLE KEY PUBLISHED.tsv RESULTS.tsv COLUMN=LABEL[*SCALE]...
# A Markdown table of RESULTS (mean over seeds, +- sample standard deviation
# when there are several) grouped by column KEY, each cell beside the
# published value of PUBLISHED (a TSV whose header names KEY and the LABELs;
# "-" where the paper gives none).  SCALE multiplies measured values (MSE is
# published x 10^4).
set -euo pipefail
title=$1 key=$2 published=$3 results=$4
shift 4
awk -F'\t' -v title="$title" -v key="$key" -v specs="$*" '
function fmt(x) { return sprintf("%.2f", x) }
BEGIN { ncol = split(specs, spec, " ") }
FNR == 1 {
    for (i = 1; i <= NF; i++) col[FILENAME, $i] = i
    if (FILENAME == ARGV[1]) pubfile = FILENAME
    next
}
FILENAME == pubfile { pub[$col[pubfile, key]] = $0; next }
{
    k = $col[FILENAME, key]
    if (!(k in count)) order[++nkeys] = k
    count[k]++
    for (c = 1; c <= ncol; c++) {
        split(spec[c], a, "=")
        split(a[2], b, "*")
        scale = (2 in b) ? b[2] : 1
        if (!((FILENAME, a[1]) in col)) { print "compare.sh: no column " a[1] " in " FILENAME > "/dev/stderr"; exit 1 }
        v = $col[FILENAME, a[1]] * scale
        sum[k, c] += v; sumsq[k, c] += v * v
    }
}
END {
    printf "### %s\n\nmeasured / published\n\n| %s |", title, key
    for (c = 1; c <= ncol; c++) { split(spec[c], a, "="); split(a[2], b, "*"); printf " %s |", b[1] }
    printf "\n|---|"
    for (c = 1; c <= ncol; c++) printf "---|"
    printf "\n"
    for (i = 1; i <= nkeys; i++) {
        k = order[i]; n = count[k]
        printf "| %s |", k
        np = split(pub[k], p, "\t")
        for (c = 1; c <= ncol; c++) {
            split(spec[c], a, "="); split(a[2], b, "*")
            m = sum[k, c] / n
            cell = fmt(m)
            if (n > 1) { var = (sumsq[k, c] - n * m * m) / (n - 1); cell = cell " +- " fmt(var > 0 ? sqrt(var) : 0) }
            pc = (pubfile, b[1]) in col ? col[pubfile, b[1]] : 0
            pv = (pc && pc <= np && p[pc] != "") ? p[pc] : "-"
            printf " %s / %s |", cell, pv
        }
        printf "\n"
    }
}' "$published" "$results"
