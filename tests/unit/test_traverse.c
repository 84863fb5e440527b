/* test_traverse.c: sweeps, latent edits, statistics and picture layouts of
 * traverse on a tiny random model (4x4 images, width 4). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "draw/font.h"
#include "harness.h"
#include "draw/imgrid.h"
#include "model/kinds.h"
#include "draw/travpics.h"
#include "core/util.h"

enum { D = 3, K = 5, HW = 4, CH = 3 };

static void tiny_kind(dq_model *m, dq_model_kind kind, int C) {
    dq_model_config c;
    dq_config_defaults(&c, kind);
    c.n = 4;
    c.m = 8;
    c.d = D;
    c.K = K;
    c.C = C;
    c.H = c.W = HW;
    c.channels = CH;
    c.disc_hidden = 8;
    c.seed = 7;
    dq_errbuf err;
    if (dq_config_check(&c, &err) != 0) dq_die(1, "tiny config: %s", err.msg);
    dq_model_build(m, &c);
    dq_model_init_weights(m);
    /* N(0, 0.02^2) weights move the output by less than one grey level; a
     * large output layer makes every latent's effect visible in u8 pixels */
    const dq_named_param *out = &m->params.p[m->dec.conv_out.w];
    for (size_t i = 0; i < out->t.n; i++) out->t.data[i] *= 2e4f;
}

static void tiny_model(dq_model *m, int C) { tiny_kind(m, DQ_MODEL_QVAE, C); }

/* Make the decoder blind to latent j: zero its columns of the first Linear. */
static void ignore_latent(dq_model *m, int j) {
    const dq_layer *fc = &m->dec.fc_in;
    float *w = DQ_W(&m->params, fc->w); /* [cout, cin] */
    const int C = m->cfg.C;
    for (int o = 0; o < fc->cout; o++)
        for (int c = 0; c < C; c++) w[(size_t)o * fc->cin + j * C + c] = 0;
}

static void random_images(uint8_t *x, int n, unsigned seed) {
    for (int i = 0; i < n * HW * HW * CH; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (uint8_t)(seed >> 16);
    }
}

static int same_image(const uint8_t *a, const uint8_t *b) { return !memcmp(a, b, HW * HW * CH); }

TEST(sweep_codes_min_to_max) {
    dq_model m;
    tiny_model(&m, 1);
    dq_sweep sw;
    dq_errbuf err;
    CHECK(dq_sweep_make(&m, DQ_SWEEP_CODES, 3, 0, &sw, &err) == 0);
    CHECK(sw.n == K && sw.C == 1);
    const float *M = DQ_W(&m.params, m.codebook);
    for (int i = 0; i < K; i++) CHECK(sw.value[i] == M[sw.code[i]]);
    for (int i = 1; i < K; i++) CHECK(sw.value[i - 1] <= sw.value[i]);
    dq_sweep_free(&sw);
    /* three steps: smallest, middle, largest */
    CHECK(dq_sweep_make(&m, DQ_SWEEP_CODES, 3, 3, &sw, &err) == 0);
    float lo = M[0], hi = M[0];
    for (int k = 1; k < K; k++) lo = M[k] < lo ? M[k] : lo, hi = M[k] > hi ? M[k] : hi;
    CHECK(sw.n == 3 && sw.value[0] == lo && sw.value[2] == hi);
    char label[32];
    dq_sweep_label(&sw, 2, label, sizeof label);
    char want[32];
    snprintf(want, sizeof want, "%.2f", hi);
    CHECK(!strcmp(label, want));
    dq_sweep_free(&sw);
    dq_model_free(&m);
}

TEST(sweep_range_and_vectors) {
    dq_model m;
    tiny_model(&m, 1);
    dq_sweep sw;
    dq_errbuf err;
    CHECK(dq_sweep_make(&m, DQ_SWEEP_RANGE, 3, 7, &sw, &err) == 0);
    CHECK(sw.n == 7 && sw.value[0] == -3.0f && sw.value[3] == 0.0f && sw.value[6] == 3.0f);
    CHECK(sw.code[0] == -1);
    dq_sweep_free(&sw);
    CHECK(dq_sweep_make(&m, DQ_SWEEP_RANGE, 3, 1, &sw, &err) == -1);
    CHECK(dq_sweep_make(&m, DQ_SWEEP_RANGE, 0, 5, &sw, &err) == -1);
    dq_model_free(&m);
    /* vector codebooks: every code in index order, captioned by index */
    tiny_model(&m, 2);
    CHECK(dq_sweep_make(&m, DQ_SWEEP_CODES, 3, 0, &sw, &err) == 0);
    CHECK(sw.n == K && sw.C == 2);
    for (int i = 0; i < K; i++) CHECK(sw.code[i] == i);
    CHECK(!memcmp(sw.value, DQ_W(&m.params, m.codebook), (size_t)K * 2 * sizeof(float)));
    char label[32];
    dq_sweep_label(&sw, 4, label, sizeof label);
    CHECK(!strcmp(label, "#4"));
    dq_sweep_free(&sw);
    CHECK(dq_sweep_make(&m, DQ_SWEEP_RANGE, 3, 5, &sw, &err) == -1);
    CHECK_MSG(strstr(err.msg, "scalar latents"), "err: %s", err.msg);
    dq_model_free(&m);
}

/* The latent the decoder ignores gives identical columns; the others do not. */
static void check_ignored_latent(int C) {
    dq_model m;
    tiny_model(&m, C);
    ignore_latent(&m, 1);
    dq_painter p;
    dq_painter_init(&p, &m);
    uint8_t x[HW * HW * CH];
    random_images(x, 1, 3);
    float zq[D * 2];
    dq_paint_encode(&p, x, 1, NULL, zq);
    dq_sweep sw;
    dq_errbuf err;
    CHECK(dq_sweep_make(&m, DQ_SWEEP_CODES, 3, 0, &sw, &err) == 0);
    const size_t img = dq_painter_image_bytes(&p);
    uint8_t *tiles = malloc((size_t)D * sw.n * img);
    dq_paint_traversal(&p, zq, &sw, tiles);
    for (int j = 0; j < D; j++) {
        int identical = 1;
        for (int k = 1; k < sw.n; k++)
            identical &= same_image(tiles + ((size_t)j * sw.n + k) * img, tiles + (size_t)j * sw.n * img);
        CHECK_MSG(identical == (j == 1), "C=%d latent %d: columns %s", C, j,
                  identical ? "identical" : "differ");
    }
    free(tiles);
    dq_sweep_free(&sw);
    dq_painter_free(&p);
    dq_model_free(&m);
}

TEST(traversal_of_ignored_latent_is_constant) {
    check_ignored_latent(1);
    if (!dq_test_failed_now) check_ignored_latent(2);
}

TEST(swaps) {
    dq_model m;
    tiny_model(&m, 1);
    ignore_latent(&m, 2);
    dq_painter p;
    dq_painter_init(&p, &m);
    /* two codings that differ in every latent */
    const float *M = DQ_W(&m.params, m.codebook);
    const float zq_a[D] = {M[0], M[1], M[2]}, zq_b[D] = {M[4], M[3], M[1]};
    uint8_t recon[HW * HW * CH], tiles[D * HW * HW * CH];
    dq_paint_decode(&p, zq_a, 1, recon);
    /* swapping with itself changes nothing */
    dq_paint_swap(&p, zq_a, zq_a, tiles);
    for (int j = 0; j < D; j++) CHECK_MSG(same_image(tiles + j * sizeof recon, recon), "latent %d", j);
    /* taking b's value of the ignored latent changes nothing, of the others
     * changes the picture */
    dq_paint_swap(&p, zq_a, zq_b, tiles);
    for (int j = 0; j < D; j++)
        CHECK_MSG(same_image(tiles + j * sizeof recon, recon) == (j == 2), "latent %d", j);
    dq_painter_free(&p);
    dq_model_free(&m);
}

TEST(code_usage_and_latent_factors) {
    /* latent 0 copies factor 1, latent 1 is constant, latent 2 copies factor 0 */
    enum { N = 40, F = 2 };
    int32_t code[N * 3], s[N * F];
    for (int i = 0; i < N; i++) {
        s[i * F] = i % 2;
        s[i * F + 1] = (i / 2) % 4;
        code[i * 3] = s[i * F + 1];
        code[i * 3 + 1] = 3;
        code[i * 3 + 2] = s[i * F];
    }
    int64_t counts[3 * 5];
    dq_code_usage(code, N, 3, 5, counts);
    CHECK(counts[0] == 10 && counts[3] == 10 && counts[4] == 0);
    CHECK(counts[5 + 3] == N && counts[5 + 0] == 0);
    CHECK(counts[10 + 0] == 20 && counts[10 + 1] == 20);
    const int sizes[F] = {2, 4};
    int best[3];
    double nmi[3];
    dq_latent_factors(code, N, 3, 5, s, F, sizes, best, nmi);
    CHECK(best[0] == 1 && best[2] == 0);
    CHECK_NEAR(nmi[0], 1.0, 1e-12);
    CHECK_NEAR(nmi[2], 1.0, 1e-12);
    CHECK_NEAR(nmi[1], 0.0, 1e-12);
}

TEST(latent_labels) {
    dq_header h;
    dq_header_init(&h);
    const dq_factor factors[2] = {{"color", 2, NULL}, {"position", 4, NULL}};
    dq_header_set_factors(&h, 2, factors);
    enum { N = 8 };
    int32_t code[N * 2], s[N * 2];
    for (int i = 0; i < N; i++) {
        s[2 * i] = i % 2;
        s[2 * i + 1] = i % 4;
        code[2 * i] = i % 4;
        code[2 * i + 1] = 0;
    }
    dq_trav_input in = {.n = N, .code = code, .F = 2, .s = s};
    char labels[2][DQ_LATENT_LABEL];
    dq_latent_labels(&in, &h, 2, 4, labels);
    CHECK_MSG(!strcmp(labels[0], "z0 position 1.00"), "%s", labels[0]);
    CHECK_MSG(!strcmp(labels[1], "z1"), "%s", labels[1]);
    in.F = 0; /* no factor labels: indices only */
    dq_latent_labels(&in, &h, 2, 4, labels);
    CHECK(!strcmp(labels[0], "z0"));
    dq_header_free(&h);
}

static int black_pixels(const dq_grid *g, int x0, int y0, int x1, int y1) {
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            const uint8_t *px = g->rgb + ((size_t)y * g->W + x) * 3;
            n += !px[0] && !px[1] && !px[2];
        }
    return n;
}

TEST(grid_layout_and_captions) {
    dq_grid g;
    /* 2 rows x 3 columns of 4x4 images at scale 2, captions of 3 characters */
    dq_grid_init(&g, 2, 3, 0, 4, 4, 2, 1, 3, 1);
    CHECK(g.cell_h == 8 && g.cell_w == 8 && g.gap == 2);
    CHECK(g.left == 3 * DQ_FONT_ADVANCE + 4 && g.top == DQ_FONT_HEIGHT + 4);
    CHECK(g.W == g.left + 3 * (8 + 2) && g.H == g.top + 2 * (8 + 2));
    CHECK(black_pixels(&g, 0, 0, g.W, g.H) == 0);
    dq_grid_row_label(&g, 1, "z1");
    CHECK(black_pixels(&g, 0, g.top + 10, g.left, g.H) > 0);
    CHECK(black_pixels(&g, 0, 0, g.W, g.top + 10) == 0);
    dq_grid_col_label(&g, 2, "9");
    CHECK(black_pixels(&g, g.left + 20, 0, g.W, g.top) > 0);
    /* a grey 4x4 image lands magnified in its cell, replicated to RGB */
    uint8_t grey[16];
    memset(grey, 77, sizeof grey);
    dq_grid_put(&g, 0, 1, grey, 1);
    const uint8_t *px = g.rgb + ((size_t)(g.top + 7) * g.W + g.left + 10) * 3;
    CHECK(px[0] == 77 && px[1] == 77 && px[2] == 77);
    CHECK(px[3 * 8] == 255); /* the gap after the cell stays white */
    dq_grid_free(&g);
    /* groups add a wider gap; two header lines a taller band */
    dq_grid_init(&g, 4, 1, 2, 4, 4, 1, 2, 0, 2);
    CHECK(g.top == (DQ_FONT_LINE + DQ_FONT_HEIGHT) * 2 + 8);
    CHECK(g.H == g.top + 4 * (4 + 4) + 3 * 4);
    dq_grid_free(&g);
}

TEST(histogram_bars) {
    const int64_t counts[4] = {0, 10, 5, 1000};
    uint8_t rgb[20 * 8 * 3];
    dq_draw_histogram(counts, 4, 20, 8, rgb);
    /* column x of bin x/2: bin 0 empty above the axis, bin 3 full height,
     * bin 1 a single pixel (rare codes stay visible) */
    const uint8_t *top3 = rgb + (1 * 8 + 6) * 3, *bin0 = rgb + (18 * 8 + 0) * 3;
    const uint8_t *bin1 = rgb + (18 * 8 + 2) * 3, *bin1_above = rgb + (17 * 8 + 2) * 3;
    CHECK(top3[0] != 255 && bin0[0] == 255 && bin1[0] != 255 && bin1_above[0] == 255);
}

TEST(picture_sizes) {
    dq_model m;
    tiny_model(&m, 1);
    dq_painter p;
    dq_painter_init(&p, &m);
    enum { NSRC = 2 };
    uint8_t x[NSRC * HW * HW * CH];
    random_images(x, NSRC, 5);
    float zq[NSRC * D];
    int32_t code[NSRC * D];
    dq_paint_encode(&p, x, NSRC, code, zq);
    dq_trav_input in = {.n = NSRC, .nsrc = NSRC, .x = x, .zq = zq, .code = code};
    char labels[D][DQ_LATENT_LABEL] = {"z0", "z1", "z2"};
    const dq_pic_style st = {3, 1, labels};
    dq_sweep sw;
    dq_errbuf err;
    CHECK(dq_sweep_make(&m, DQ_SWEEP_CODES, 3, 4, &sw, &err) == 0);
    const int cell = HW * 3, gap = 2, left2 = 2 * DQ_FONT_ADVANCE + 4;
    const int top1 = DQ_FONT_HEIGHT + 4, top3 = 2 * DQ_FONT_LINE + DQ_FONT_HEIGHT + 4;
    dq_grid g;
    dq_pic_traversal(&p, &in, &sw, &st, &g);
    CHECK(g.W == left2 + (1 + 4) * (cell + gap));
    CHECK(g.H == top1 + NSRC * D * (cell + gap) + 3 * gap);
    dq_grid_free(&g);
    dq_pic_swap(&p, &in, &st, &g);
    CHECK(g.W == 4 * DQ_FONT_ADVANCE + 4 + (3 + D) * (cell + gap));
    CHECK(g.H == top3 + NSRC * (cell + gap));
    dq_grid_free(&g);
    dq_pic_recon(&p, &in, &st, &g);
    CHECK(g.W == 5 * DQ_FONT_ADVANCE + 4 + NSRC * (cell + gap) && g.H == top1 + 2 * (cell + gap));
    dq_grid_free(&g);
    dq_pic_usage(&m, &in, &st, &g);
    CHECK(g.W == left2 + 120 * 3 + gap && g.H == top1 + D * (40 * 3 + gap));
    dq_grid_free(&g);
    dq_pic_frame(&p, &in, &sw, 3, &st, &g);
    char value[32];
    dq_sweep_label(&sw, 3, value, sizeof value);
    CHECK(g.W == (int)strlen(value) * DQ_FONT_ADVANCE + 4 + D * (cell + gap));
    CHECK(g.H == top3 + NSRC * (cell + gap));
    dq_grid_free(&g);
    dq_sweep_free(&sw);
    dq_painter_free(&p);
    dq_model_free(&m);
}

/* Every kind outside the Friede pair (whose network needs 16x16 images;
 * cli_traverse.sh paints theirs): the painter's reconstruction is the tools'
 * encode, quantize, decode, and each latent's sweep takes that latent's own
 * candidate values. */
TEST(every_kind_paints_what_the_tools_decode) {
    uint8_t x[2 * HW * HW * CH], painted[2 * HW * HW * CH], direct[2 * HW * HW * CH];
    random_images(x, 2, 11);
    for (int i = 0; i < DQ_NMODEL_KINDS; i++) {
        const dq_model_kind kind = (dq_model_kind)i;
        if (dq_kind_head(kind)->net == &dq_friede_network) continue;
        dq_model m;
        tiny_kind(&m, kind, kind == DQ_MODEL_VQVAE || kind == DQ_MODEL_FACTORVQVAE ? 2 : 1);
        const dq_model_config *c = &m.cfg;
        dq_painter p;
        dq_painter_init(&p, &m);
        const size_t zw = (size_t)dq_kind_z_width(c), qw = dq_painter_zq_width(&p);
        float *z = dq_alloc_aligned(2 * zw * sizeof *z), *zq = dq_alloc_aligned(2 * qw * sizeof *zq);
        int32_t code[2 * D];
        dq_paint_encode(&p, x, 2, code, zq);
        dq_paint_decode(&p, zq, 2, painted);
        dq_net_state enc = {0}, dec = {0};
        float *xhat = dq_malloc(sizeof direct * sizeof *xhat);
        dq_model_encode(&m, &enc, x, 2, z);
        dq_model_quantize(&m, z, 2, 0, 0, code, zq);
        dq_model_decode(&m, &dec, zq, 2, xhat);
        for (size_t k = 0; k < sizeof direct; k++) {
            const float v = xhat[k] * 255.0f;
            direct[k] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)lrintf(v);
        }
        CHECK_MSG(!memcmp(painted, direct, sizeof direct), "%s", dq_model_kind_name(kind));
        dq_sweep sw;
        dq_errbuf err;
        const int discrete = dq_kind_is_discrete(kind);
        CHECK_MSG(dq_sweep_make(&m, DQ_SWEEP_CODES, 3, 0, &sw, &err) == (discrete ? 0 : -1), "%s",
                  dq_model_kind_name(kind));
        if (discrete) {
            CHECK(sw.d == D && sw.n == K && (size_t)(D * sw.C) == qw);
            if (kind == DQ_MODEL_QLAE) { /* latent 1 sweeps its own sorted values */
                const float *values = DQ_W(&m.params, m.codebook) + K;
                float lo = values[0];
                for (int k = 1; k < K; k++) lo = values[k] < lo ? values[k] : lo;
                CHECK(!sw.shared && sw.value[K] == lo);
            }
            uint8_t *tiles = dq_malloc((size_t)D * sw.n * HW * HW * CH);
            dq_paint_traversal(&p, zq, &sw, tiles);
            free(tiles);
            dq_sweep_free(&sw);
        }
        free(xhat);
        free(z);
        free(zq);
        dq_net_state_free(&enc);
        dq_net_state_free(&dec);
        dq_painter_free(&p);
        dq_model_free(&m);
    }
}
