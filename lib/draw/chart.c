/* chart.c: loss curves (chart.h). */
#include "draw/chart.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "draw/font.h"

static const char *const term_name[DQ_CHART_TERMS] = {"loss", "recon", "kl", "tc", "disc"};

void dq_curves_init(dq_curves *c, const char *name) {
    *c = (dq_curves){.name = dq_strdup(name)};
}

void dq_curves_add(dq_curves *c, long long step, const double v[DQ_CHART_TERMS]) {
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        c->step = dq_realloc(c->step, (size_t)c->cap * sizeof *c->step);
        c->v = dq_realloc(c->v, (size_t)c->cap * sizeof *c->v);
    }
    c->step[c->n] = step;
    memcpy(c->v[c->n++], v, sizeof c->v[0]);
}

void dq_curves_free(dq_curves *c) {
    free(c->name);
    free(c->step);
    free(c->v);
    *c = (dq_curves){0};
}

/* col[t]: the field of term t in the header line, from its column names; -1
 * when a term or the leading "step" is missing. */
static int header_columns(char *line, int col[DQ_CHART_TERMS]) {
    for (int t = 0; t < DQ_CHART_TERMS; t++) col[t] = -1;
    int i = 0;
    for (char *f = strtok(line, "\t\r\n"); f; f = strtok(NULL, "\t\r\n"), i++) {
        if (i == 0 && strcmp(f, "step")) return -1;
        for (int t = 0; t < DQ_CHART_TERMS; t++)
            if (!strcmp(f, term_name[t])) col[t] = i;
    }
    for (int t = 0; t < DQ_CHART_TERMS; t++)
        if (col[t] < 0) return -1;
    return 0;
}

/* One row: its step and the terms' values; -1 when a field is not a number. */
static int parse_row(const char *line, const int col[DQ_CHART_TERMS], long long *step,
                     double v[DQ_CHART_TERMS]) {
    char *end;
    const char *p = line;
    int seen = 0;
    *step = strtoll(p, &end, 10);
    if (end == p || *end != '\t') return -1;
    for (int i = 1; *end == '\t'; i++) {
        p = end + 1;
        double x = strtod(p, &end);
        if (end == p || (*end != '\t' && *end != '\n' && *end != '\r' && *end)) return -1;
        for (int t = 0; t < DQ_CHART_TERMS; t++)
            if (col[t] == i) v[t] = x, seen++;
    }
    return seen == DQ_CHART_TERMS && (*end == '\n' || *end == '\r' || !*end) ? 0 : -1;
}

int dq_curves_read_log(dq_curves *c, const char *path, long long upto, dq_errbuf *e) {
    FILE *f = fopen(path, "r");
    if (!f) {
        dq_err_set(e, "%s: %s", path, strerror(errno));
        return DQ_EXIT_NOINPUT;
    }
    char *line = NULL;
    size_t cap = 0;
    int col[DQ_CHART_TERMS], rc = 0;
    if (getline(&line, &cap, f) < 0 || header_columns(line, col)) {
        dq_err_set(e, "%s: not a train --log file (no header 'step loss recon kl tc disc ...')", path);
        rc = DQ_EXIT_DATA;
    }
    for (long long lineno = 2; !rc && getline(&line, &cap, f) >= 0; lineno++) {
        long long step;
        double v[DQ_CHART_TERMS];
        if (parse_row(line, col, &step, v)) {
            dq_err_set(e, "%s:%lld: not a train --log row", path, lineno);
            rc = DQ_EXIT_DATA;
        } else if (step <= upto) {
            dq_curves_add(c, step, v);
        }
    }
    free(line);
    fclose(f);
    return rc;
}

/* ---- layout (pixels) ---- */
enum {
    PAD = 12,
    AXIS_W = 54,             /* y tick labels left of a plot */
    PLOT_W = 380, PLOT_H = 170,
    PANEL_TOP = 14,          /* the panel's name above its plot */
    PANEL_BOTTOM = 16,       /* x tick labels under a plot */
    CELL_W = AXIS_W + PLOT_W + PAD,
    CELL_H = PANEL_TOP + PLOT_H + PANEL_BOTTOM + PAD,
    COLS = 2,
    WIDTH = PAD + COLS * CELL_W,
    TITLE_H = 2 * DQ_FONT_LINE + 6,
    LEGEND_LINE = 14,
    SWATCH = 10,
};

static const unsigned char white[3] = {255, 255, 255}, black[3] = {0, 0, 0},
                           grid_grey[3] = {232, 232, 232}, text_grey[3] = {110, 110, 110};
static const unsigned char palette[][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},
                                           {214, 39, 40},  {148, 103, 189}, {140, 86, 75},
                                           {227, 119, 194}, {127, 127, 127}, {188, 189, 34},
                                           {23, 190, 207}};
enum { NCOLOURS = sizeof palette / sizeof palette[0] };

static void run_colour(int run, int light, unsigned char out[3]) {
    for (int c = 0; c < 3; c++) {
        int v = palette[run % NCOLOURS][c];
        out[c] = (unsigned char)(light ? (3 * v + 7 * 255) / 10 : v);
    }
}

/* One axis: data range [lo, hi] (log10 values on a log axis). */
typedef struct {
    double lo, hi;
    int log;
} axis;

static double nice_step(double range) {
    double raw = range / 5, mag = pow(10, floor(log10(raw))), norm = raw / mag;
    return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/* The y axis of term t: its scale and range over every run's finite values,
 * with a margin of 5% either side. */
static axis term_axis(const dq_curves *runs, int nruns, int t) {
    double lo = INFINITY, hi = -INFINITY;
    for (int r = 0; r < nruns; r++)
        for (long long i = 0; i < runs[r].n; i++) {
            double x = runs[r].v[i][t];
            if (!isfinite(x)) continue;
            lo = fmin(lo, x);
            hi = fmax(hi, x);
        }
    axis a = {lo, hi, lo > 0 && hi > 10 * lo};
    if (!isfinite(lo)) a.lo = 0, a.hi = 1;
    if (a.log) a.lo = log10(lo), a.hi = log10(hi);
    if (a.hi - a.lo < 1e-12 * fmax(1, fabs(a.hi))) a.lo -= 0.5, a.hi += 0.5;
    double margin = 0.05 * (a.hi - a.lo);
    a.lo -= margin, a.hi += margin;
    return a;
}

static int term_drawn(const dq_curves *runs, int nruns, int t) {
    if (t == 0) return 1; /* the total loss always has a panel */
    for (int r = 0; r < nruns; r++)
        for (long long i = 0; i < runs[r].n; i++)
            if (isfinite(runs[r].v[i][t]) && runs[r].v[i][t] != 0) return 1;
    return 0;
}

/* A value on the axis's scale (NaN where a log axis cannot show it). */
static double scaled(const axis *a, double x) {
    if (!isfinite(x)) return NAN;
    return a->log ? (x > 0 ? log10(x) : NAN) : x;
}

typedef struct {
    dq_image *im;
    int x0, y0; /* the plot's top-left pixel */
    double xlo, xhi;
    axis y;
} panel;

static int px(const panel *p, double step) {
    return p->x0 + (int)lrint((step - p->xlo) / (p->xhi - p->xlo) * (PLOT_W - 1));
}
static int py(const panel *p, double ys) {
    return p->y0 + PLOT_H - 1 - (int)lrint((ys - p->y.lo) / (p->y.hi - p->y.lo) * (PLOT_H - 1));
}

static void plot_pixel(const panel *p, int x, int y, const unsigned char rgb[3]) {
    if (x >= p->x0 && x < p->x0 + PLOT_W && y >= p->y0 && y < p->y0 + PLOT_H)
        memcpy(p->im->rgb + ((size_t)y * p->im->width + x) * 3, rgb, 3);
}

/* Bresenham's line, clipped to the plot. */
static void line(const panel *p, int xa, int ya, int xb, int yb, const unsigned char rgb[3]) {
    int dx = abs(xb - xa), dy = -abs(yb - ya), sx = xa < xb ? 1 : -1, sy = ya < yb ? 1 : -1;
    for (int err = dx + dy;;) {
        plot_pixel(p, xa, ya, rgb);
        if (xa == xb && ya == yb) return;
        int e2 = 2 * err;
        if (e2 >= dy) err += dy, xa += sx;
        if (e2 <= dx) err += dx, ya += sy;
    }
}

/* ys[0..n) (scaled values, NaN for gaps) against the run's steps. */
static void polyline(const panel *p, const long long *step, const double *ys, long long n,
                     const unsigned char rgb[3]) {
    int have = 0, lx = 0, ly = 0;
    for (long long i = 0; i < n; i++) {
        if (isnan(ys[i])) {
            have = 0;
            continue;
        }
        int x = px(p, (double)step[i]), y = py(p, ys[i]);
        if (have) line(p, lx, ly, x, y, rgb);
        else plot_pixel(p, x, y, rgb);
        lx = x, ly = y, have = 1;
    }
}

/* The centred mean of the finite ys over a window of 2% of the rows. */
static void smooth(const double *ys, long long n, double *out) {
    double *sum = dq_malloc((size_t)(n + 1) * sizeof *sum);
    long long *cnt = dq_malloc((size_t)(n + 1) * sizeof *cnt), h = n / 100;
    sum[0] = 0, cnt[0] = 0;
    for (long long i = 0; i < n; i++) {
        sum[i + 1] = sum[i] + (isnan(ys[i]) ? 0 : ys[i]);
        cnt[i + 1] = cnt[i] + !isnan(ys[i]);
    }
    for (long long i = 0; i < n; i++) {
        long long a = i - h < 0 ? 0 : i - h, b = i + h + 1 > n ? n : i + h + 1;
        long long k = cnt[b] - cnt[a];
        out[i] = isnan(ys[i]) || !k ? NAN : (sum[b] - sum[a]) / k;
    }
    free(sum);
    free(cnt);
}

/* v to as many digits as ticks `spacing` apart need to differ. */
static void tick_label(double v, double spacing, int is_step, char *buf, size_t n) {
    int digits = (int)ceil(log10(fmax(fabs(v), spacing) / spacing)) + 1;
    digits = digits < 1 ? 1 : digits > 10 ? 10 : digits;
    if (is_step && fabs(v) >= 10000) snprintf(buf, n, "%gk", v / 1000);
    else if (is_step) snprintf(buf, n, "%g", v);
    else snprintf(buf, n, "%.*g", digits, v);
}

static void x_ticks(const panel *p) {
    double st = nice_step(p->xhi - p->xlo);
    for (double v = ceil(p->xlo / st) * st; v <= p->xhi + 1e-9 * st; v += st) {
        int x = px(p, v);
        char s[32];
        for (int y = p->y0; y < p->y0 + PLOT_H; y++) plot_pixel(p, x, y, grid_grey);
        tick_label(v, st, 1, s, sizeof s);
        int w = dq_font_text_width(s, 1);
        dq_draw_text(p->im, x - w / 2, p->y0 + PLOT_H + 4, s, 1, black);
    }
}

static void y_tick(const panel *p, double ys, double spacing) {
    int y = py(p, ys);
    char s[32];
    for (int x = p->x0; x < p->x0 + PLOT_W; x++) plot_pixel(p, x, y, grid_grey);
    double v = p->y.log ? pow(10, ys) : ys;
    tick_label(v, p->y.log ? v / 10 : spacing, 0, s, sizeof s);
    dq_draw_text(p->im, p->x0 - 4 - dq_font_text_width(s, 1), y - DQ_FONT_HEIGHT / 2, s, 1, black);
}

/* Powers of 10 on a log axis, with their 2x and 5x when fewer than 3 fit. */
static void y_ticks(const panel *p) {
    if (!p->y.log) {
        double st = nice_step(p->y.hi - p->y.lo);
        for (double v = ceil(p->y.lo / st) * st; v <= p->y.hi; v += st) y_tick(p, fabs(v) < 1e-9 * st ? 0 : v, st);
        return;
    }
    static const int mult[] = {1, 2, 5};
    int dense = floor(p->y.hi) - ceil(p->y.lo) < 2;
    for (int k = (int)floor(p->y.lo); k <= (int)floor(p->y.hi); k++)
        for (int m = 0; m < (dense ? 3 : 1); m++) {
            double v = k + log10(mult[m]);
            if (v >= p->y.lo && v <= p->y.hi) y_tick(p, v, 0);
        }
}

static void draw_panel(dq_image *im, const dq_curves *runs, int nruns, int t, int x, int y,
                       double xlo, double xhi) {
    panel p = {im, x + AXIS_W, y + PANEL_TOP, xlo, xhi, term_axis(runs, nruns, t)};
    char name[32];
    snprintf(name, sizeof name, "%s%s", term_name[t], p.y.log ? " (log scale)" : "");
    dq_draw_text(im, p.x0, y + 2, name, 1, black);
    y_ticks(&p);
    x_ticks(&p);
    for (int pass = 0; pass < 2; pass++) /* every run's raw values behind every smoothed line */
        for (int r = 0; r < nruns; r++) {
            const dq_curves *c = &runs[r];
            double *ys = dq_malloc((size_t)(c->n + 1) * sizeof *ys), *sm = NULL;
            for (long long i = 0; i < c->n; i++) ys[i] = scaled(&p.y, c->v[i][t]);
            if (pass) smooth(ys, c->n, sm = dq_malloc((size_t)(c->n + 1) * sizeof *sm));
            unsigned char rgb[3];
            run_colour(r, !pass, rgb);
            polyline(&p, c->step, pass ? sm : ys, c->n, rgb);
            free(ys);
            free(sm);
        }
    unsigned char frame[3] = {120, 120, 120};
    dq_image_fill_rect(im, p.x0 - 1, p.y0 - 1, PLOT_W + 2, 1, frame);
    dq_image_fill_rect(im, p.x0 - 1, p.y0 + PLOT_H, PLOT_W + 2, 1, frame);
    dq_image_fill_rect(im, p.x0 - 1, p.y0 - 1, 1, PLOT_H + 2, frame);
    dq_image_fill_rect(im, p.x0 + PLOT_W, p.y0 - 1, 1, PLOT_H + 2, frame);
}

static const char note[] = "light: raw values; line: centred mean over 2% of the rows";

/* Lay out (draw when im is not NULL) the legend's entries from the top-left
 * (x, y), wrapping at the image's width; returns its number of lines. */
static int legend(dq_image *im, const dq_curves *runs, int nruns, int y) {
    int lines = 1, x = PAD;
    for (int r = 0; r <= nruns; r++) {
        const char *s = r < nruns ? runs[r].name : note;
        int w = (r < nruns ? SWATCH + 4 : 0) + dq_font_text_width(s, 1) + 2 * PAD;
        if (x > PAD && x + w > WIDTH) x = PAD, lines++, y += LEGEND_LINE;
        if (im && r < nruns) {
            unsigned char rgb[3];
            run_colour(r, 0, rgb);
            dq_image_fill_rect(im, x, y, SWATCH, SWATCH - 2, rgb);
            dq_draw_text(im, x + SWATCH + 4, y, s, 1, black);
        } else if (im) {
            dq_draw_text(im, x, y, s, 1, text_grey);
        }
        x += w;
    }
    return lines;
}

int dq_chart_draw(const dq_curves *runs, int nruns, const char *title, dq_image *im, dq_errbuf *e) {
    int shown[DQ_CHART_TERMS], npanels = 0;
    double xlo = INFINITY, xhi = -INFINITY;
    for (int t = 0; t < DQ_CHART_TERMS; t++)
        if (term_drawn(runs, nruns, t)) shown[npanels++] = t;
    for (int r = 0; r < nruns; r++)
        for (long long i = 0; i < runs[r].n; i++) {
            xlo = fmin(xlo, (double)runs[r].step[i]);
            xhi = fmax(xhi, (double)runs[r].step[i]);
        }
    if (!isfinite(xlo)) xlo = 0, xhi = 1;
    if (xhi <= xlo) xhi = xlo + 1;
    int top = PAD + TITLE_H + legend(NULL, runs, nruns, 0) * LEGEND_LINE + PAD;
    int rows = (npanels + COLS - 1) / COLS;
    if (dq_image_init(im, WIDTH, top + rows * CELL_H + DQ_FONT_LINE + PAD, white, e)) return -1;
    dq_draw_text(im, PAD, PAD, title, 2, black);
    legend(im, runs, nruns, PAD + TITLE_H);
    for (int i = 0; i < npanels; i++)
        draw_panel(im, runs, nruns, shown[i], PAD + (i % COLS) * CELL_W, top + (i / COLS) * CELL_H,
                   xlo, xhi);
    const char *xname = "step";
    dq_draw_text(im, (WIDTH - dq_font_text_width(xname, 1)) / 2, top + rows * CELL_H, xname, 1, black);
    return 0;
}
