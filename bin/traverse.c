/* traverse: PNG pictures of what a model's latents do (man 1 traverse). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/checkpoint.h"
#include "model/kinds.h"
#include "nn/op.h"
#include "io/pngio.h"
#include "draw/travpics.h"
#include "core/util.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: traverse -m CKPT -o OUT.png [options] < STREAM\n"
            "Draw latent traversals, latent swaps, reconstructions or codebook usage of a\n"
            "model as one PNG, from the images (field x) of a disq stream.\n"
            "  -m, --model CKPT     checkpoint written by train\n"
            "  -o, --output FILE    PNG to write (atomically)\n"
            "  --mode MODE          traversal (default) | swap | recon | usage\n"
            "  -n, --images N       source images: traversal 1, recon 8; swap pairs 1\n"
            "  --sample N           images read for usage and latent captions (default 256;\n"
            "                       never fewer than the source images)\n"
            "  --sweep KIND         codes (default for categorical models: codebook min..max) |\n"
            "                       range (-R..R, the default for continuous models)\n"
            "  --steps N            traversal columns (default 10; 0 = every code)\n"
            "  --range R            bound of a range sweep (default 3)\n"
            "  --scale S            image magnification (default 1)\n"
            "  --text-scale S       caption magnification (default 1)\n"
            "  --frames DIR         traversal: also write an animation, DIR/frame_NNN.png,\n"
            "                       one frame per sweep value\n"
            "  --device DEV         auto (default: the GPU when there is one) | cpu | cuda\n"
            "  --precision P        tf32 (default; the CPU: fp32 on oneDNN) | fp32 | bf16\n"
            "  --help               this text\n");
}

typedef enum { MODE_TRAVERSAL, MODE_SWAP, MODE_RECON, MODE_USAGE } mode;

typedef struct {
    const char *ckpt, *out, *frames, *device, *precision;
    mode mode;
    long long images, sample, steps, scale, text_scale;
    dq_sweep_kind sweep;
    double range;
} options;

static long long int_arg(const char *name, const char *s, long long lo, long long hi) {
    long long v;
    if (dq_parse_ll(s, &v) != 0 || v < lo || v > hi)
        dq_die(DQ_EXIT_USAGE, "--%s must be an integer from %lld to %lld, not '%s'", name, lo, hi, s);
    return v;
}

static void parse(int argc, char **argv, options *o) {
    enum { O_MODE = 1000, O_SAMPLE, O_SWEEP, O_STEPS, O_RANGE, O_SCALE, O_TEXT, O_FRAMES, O_DEVICE,
           O_PRECISION, O_HELP };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},  {"output", required_argument, NULL, 'o'},
        {"images", required_argument, NULL, 'n'}, {"mode", required_argument, NULL, O_MODE},
        {"sample", required_argument, NULL, O_SAMPLE}, {"sweep", required_argument, NULL, O_SWEEP},
        {"steps", required_argument, NULL, O_STEPS}, {"range", required_argument, NULL, O_RANGE},
        {"scale", required_argument, NULL, O_SCALE}, {"text-scale", required_argument, NULL, O_TEXT},
        {"frames", required_argument, NULL, O_FRAMES}, {"device", required_argument, NULL, O_DEVICE},
        {"precision", required_argument, NULL, O_PRECISION}, {"help", no_argument, NULL, O_HELP},
        {0, 0, 0, 0}};
    static const char *const modes[] = {"traversal", "swap", "recon", "usage"};
    *o = (options){.mode = MODE_TRAVERSAL, .images = 0, .sample = 256, .steps = 10, .scale = 1,
                   .text_scale = 1, .sweep = -1, .range = 3};
    int c;
    while ((c = getopt_long(argc, argv, "m:o:n:", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o->ckpt = optarg; break;
        case 'o': o->out = optarg; break;
        case 'n': o->images = int_arg("images", optarg, 1, 1024); break;
        case O_MODE: {
            int k = 0;
            while (k < 4 && strcmp(optarg, modes[k])) k++;
            if (k == 4) dq_die(DQ_EXIT_USAGE, "unknown --mode '%s' (traversal, swap, recon, usage)", optarg);
            o->mode = (mode)k;
            break;
        }
        case O_SAMPLE: o->sample = int_arg("sample", optarg, 1, 1LL << 30); break;
        case O_SWEEP:
            if (!strcmp(optarg, "codes")) o->sweep = DQ_SWEEP_CODES;
            else if (!strcmp(optarg, "range")) o->sweep = DQ_SWEEP_RANGE;
            else dq_die(DQ_EXIT_USAGE, "unknown --sweep '%s' (codes, range)", optarg);
            break;
        case O_STEPS: o->steps = int_arg("steps", optarg, 0, 4096); break;
        case O_RANGE:
            if (dq_parse_double(optarg, &o->range) != 0 || !(o->range > 0))
                dq_die(DQ_EXIT_USAGE, "--range must be a positive number, not '%s'", optarg);
            break;
        case O_SCALE: o->scale = int_arg("scale", optarg, 1, 16); break;
        case O_TEXT: o->text_scale = int_arg("text-scale", optarg, 1, 16); break;
        case O_FRAMES: o->frames = optarg; break;
        case O_DEVICE: o->device = optarg; break;
        case O_PRECISION: o->precision = optarg; break;
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); exit(DQ_EXIT_USAGE);
        }
    }
    if (optind < argc) dq_die(DQ_EXIT_USAGE, "unexpected argument '%s' (the stream comes on stdin)", argv[optind]);
    if (!o->ckpt) dq_die(DQ_EXIT_USAGE, "no checkpoint given (-m CKPT)");
    if (!o->out) dq_die(DQ_EXIT_USAGE, "no output given (-o OUT.png)");
    if (o->frames && o->mode != MODE_TRAVERSAL) dq_die(DQ_EXIT_USAGE, "--frames needs --mode traversal");
    if (!o->images) o->images = o->mode == MODE_RECON ? 8 : 1;
}

static void write_png(const dq_grid *g, const char *path) {
    dq_errbuf e;
    if (dq_png_write(path, g->rgb, g->H, g->W, 3, &e) != 0) dq_die(DQ_EXIT_IO, "%s", e.msg);
}

static void write_frames(dq_painter *p, const dq_trav_input *in, const dq_sweep *sw,
                         const dq_pic_style *st, const char *dir) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) dq_die(DQ_EXIT_IO, "%s: %s", dir, strerror(errno));
    for (int k = 0; k < sw->n; k++) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/frame_%03d.png", dir, k) >= (int)sizeof path)
            dq_die(DQ_EXIT_USAGE, "--frames directory name too long");
        dq_grid g;
        dq_pic_frame(p, in, sw, k, st, &g);
        write_png(&g, path);
        dq_grid_free(&g);
    }
}

int main(int argc, char **argv) {
    dq_init(argv[0]);
    options o;
    parse(argc, argv, &o);
    dq_trainer t;
    dq_checkpoint_load_or_die(o.ckpt, &t, 0, NULL);
    op_select_or_die(o.device, o.precision);
    dq_model_to_device(&t.model);
    const dq_model *mdl = &t.model;
    dq_errbuf e;
    dq_sweep sw = {0};
    const int discrete = dq_kind_is_discrete(mdl->cfg.kind);
    if ((int)o.sweep < 0) o.sweep = discrete ? DQ_SWEEP_CODES : DQ_SWEEP_RANGE;
    if (o.mode == MODE_USAGE && !discrete)
        dq_die(DQ_EXIT_USAGE, "%s: a %s has no codes to count; usage needs a categorical model", o.ckpt,
               dq_model_kind_name(mdl->cfg.kind));
    if (o.mode == MODE_TRAVERSAL &&
        dq_sweep_make(mdl, o.sweep, o.range, (int)o.steps, &sw, &e) != 0)
        dq_die(DQ_EXIT_USAGE, "%s: %s", o.ckpt, e.msg);

    dq_reader *r = dq_reader_new(stdin, "stdin");
    dq_header h;
    dq_read_header_or_die(r, &h);
    if (dq_check_stream_images(&mdl->cfg, &h, o.ckpt, &e)) dq_die(DQ_EXIT_DATA, "stdin: %s", e.msg);
    dq_painter p;
    dq_painter_init(&p, mdl);
    dq_trav_input in;
    const int nsrc = (int)(o.mode == MODE_SWAP ? 2 * o.images : o.mode == MODE_USAGE ? 0 : o.images);
    if (dq_trav_read(&p, r, &h, nsrc, o.sample, &in, &e) != 0) dq_die(DQ_EXIT_DATA, "%s", e.msg);
    if (in.n == 0) dq_die(DQ_EXIT_DATA, "stdin: the stream has no images");

    dq_pic_style st = {(int)o.scale, (int)o.text_scale, dq_malloc((size_t)mdl->cfg.d * DQ_LATENT_LABEL)};
    dq_latent_labels(&in, &h, mdl->cfg.d, mdl->cfg.K, st.latent);
    dq_grid g;
    switch (o.mode) {
    case MODE_TRAVERSAL: dq_pic_traversal(&p, &in, &sw, &st, &g); break;
    case MODE_SWAP: dq_pic_swap(&p, &in, &st, &g); break;
    case MODE_RECON: dq_pic_recon(&p, &in, &st, &g); break;
    case MODE_USAGE: dq_pic_usage(mdl, &in, &st, &g); break;
    }
    write_png(&g, o.out);
    if (o.frames) write_frames(&p, &in, &sw, &st, o.frames);

    dq_grid_free(&g);
    free(st.latent);
    dq_trav_input_free(&in);
    dq_painter_free(&p);
    dq_sweep_free(&sw);
    dq_header_free(&h);
    dq_reader_free(r);
    dq_trainer_free(&t);
    return 0;
}
