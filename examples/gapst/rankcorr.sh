#!/bin/bash
# rankcorr.sh RESULTS.tsv SCORE COLUMN...: a Markdown table of the Spearman
# rank correlation between -SCORE (a small straight-through gap ranks first)
# and each COLUMN over all runs of RESULTS (ties get their mean rank).
set -euo pipefail
results=$1 score=$2
shift 2
awk -F'\t' -v score="$score" -v cols="$*" '
function ranks(v, r, n,    i, j, k, order, tmp) {
    for (i = 1; i <= n; i++) order[i] = i
    for (i = 2; i <= n; i++) {          # insertion sort of indices by value
        tmp = order[i]
        for (j = i - 1; j >= 1 && v[order[j]] > v[tmp]; j--) order[j + 1] = order[j]
        order[j + 1] = tmp
    }
    for (i = 1; i <= n; i = j) {
        for (j = i; j <= n && v[order[j]] == v[order[i]]; j++) {}
        for (k = i; k < j; k++) r[order[k]] = (i + j - 1) / 2
    }
}
function pearson(a, b, n,    i, ma, mb, sab, saa, sbb) {
    for (i = 1; i <= n; i++) { ma += a[i]; mb += b[i] }
    ma /= n; mb /= n
    for (i = 1; i <= n; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ^ 2; sbb += (b[i] - mb) ^ 2 }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0
}
NR == 1 {
    for (i = 1; i <= NF; i++) col[$i] = i
    nc = split(cols, names, " ")
    if (!(score in col)) { print "rankcorr.sh: no column " score > "/dev/stderr"; exit 1 }
    for (c = 1; c <= nc; c++) if (!(names[c] in col)) { print "rankcorr.sh: no column " names[c] > "/dev/stderr"; exit 1 }
    next
}
{ n++; s[n] = -$col[score]; for (c = 1; c <= nc; c++) x[c, n] = $col[names[c]] }
END {
    printf "### Straight-through gap as a model-selection score (%d models)\n\n", n
    printf "| score | Spearman rho with -GapST |\n|---|---|\n"
    ranks(s, rs, n)
    for (c = 1; c <= nc; c++) {
        for (i = 1; i <= n; i++) v[i] = x[c, i]
        delete rv
        ranks(v, rv, n)
        printf "| %s | %.3f |\n", names[c], pearson(rs, rv, n)
    }
}' "$results"
