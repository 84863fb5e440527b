/* training.c: see training.h. */
#include "model/training.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/prefetch.h"
#include "core/progress.h"
#include "core/util.h"
#include "model/checkpoint.h"
#include "nn/op.h"

static volatile sig_atomic_t stop_signal;
static void on_stop(int sig) { stop_signal = sig; }

/* A run's state beside the trainer. */
typedef struct {
    dq_trainer *t;
    const dq_training_options *o;
    long long steps, start_step;
    dq_atomic log_file;
    FILE *log; /* NULL without a log */
    double t0;
    dq_progress bar;
    long long saved_step; /* the step of the checkpoint at o->ckpt this run stands on, or -1 */
    int diverged;         /* stopped on a non-finite value: the log is still kept */
} run;

/* Divergence (man 1 train) is caught where it costs nothing.  A
 * step's losses reach the host at its one wait (op_collect) anyway, and a
 * non-finite loss is the first sign of almost every divergence: its gradient
 * is non-finite and Adam spreads it into the weights.  What the losses can
 * miss (a gradient that overflows while the loss stays finite, moments that
 * overflow) ends up in the weights or Adam's moments, which are checked on
 * the host copy a checkpoint is written from, just before each write: so no
 * non-finite checkpoint is ever written, without a per-step scan of the
 * weights or an extra wait on the GPU. */
static int stats_finite(const dq_step_stats *s) {
    return isfinite(s->loss) && isfinite(s->recon) && isfinite(s->kl) && isfinite(s->tc) &&
           isfinite(s->disc);
}

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* What of the trainer's host copies is not finite, in words, or NULL. */
static const char *nonfinite_state(const dq_trainer *t, char *buf, size_t n) {
    const dq_param_set *P = &t->model.params;
    for (int i = 0; i < P->n; i++)
        if (!all_finite(DQ_HOST_W(P, i), P->p[i].t.n)) {
            snprintf(buf, n, "weights in %s", P->p[i].name);
            return buf;
        }
    for (int g = 0; g < DQ_NGROUPS; g++) {
        const dq_adam *o = &t->opt[g];
        if (!all_finite(o->m, o->total) || !all_finite(o->v, o->total))
            return g == DQ_GROUP_DISC ? "Adam moments of the discriminator" : "Adam moments of the model";
    }
    return NULL;
}

/* Stop on divergence, with what went wrong and where the checkpoint stands. */
static int diverged(run *r, const char *what, dq_errbuf *e) {
    const char *why = "training diverged at step";
    if (r->saved_step >= 0)
        dq_err_set(e, "%s %lld: non-finite %s; checkpoint %s kept from step %lld", why, r->t->step,
                   what, r->o->ckpt, r->saved_step);
    else
        dq_err_set(e, "%s %lld: non-finite %s; checkpoint %s not written", why, r->t->step, what,
                   r->o->ckpt);
    r->diverged = 1;
    return DQ_EXIT_FAIL;
}

/* A resumed run's log starts with the rows the earlier runs wrote up to the
 * checkpoint's step, so the file stays one complete record of the training. */
static void keep_logged_steps(const char *path, long long upto, FILE *out) {
    FILE *in = fopen(path, "r");
    if (!in) return; /* no earlier log: nothing to keep */
    char line[1024];
    while (fgets(line, sizeof line, in)) {
        char *end;
        long long step = strtoll(line, &end, 10);
        if (end != line && *end == '\t' && step <= upto) fputs(line, out);
    }
    fclose(in);
}

/* The log under construction, with the rows up to step keep_upto of the one
 * already at its path (none when keep_upto < 0). */
static int open_log(run *r, long long keep_upto, dq_errbuf *e) {
    const char *path = r->o->log_path;
    if (!path) return 0;
    r->log = dq_atomic_open(&r->log_file, path);
    if (!r->log) {
        dq_err_set(e, "%s: %s", path, strerror(errno));
        return DQ_EXIT_IO;
    }
    fprintf(r->log, "step\tloss\trecon\tkl\ttc\tdisc\ttau\tlr\tseconds\n");
    if (keep_upto >= 0) keep_logged_steps(path, keep_upto, r->log);
    return 0;
}

/* Each checkpoint publishes the log up to its step, before the checkpoint is
 * written: a run killed outright (SIGKILL, GNU parallel's last resort, a
 * machine gone) resumes with its earlier rows, never with a gap.  Copying the
 * log (about 100 bytes an iteration) costs less than the checkpoint it goes
 * with. */
static int publish_log(run *r, dq_errbuf *e) {
    if (!r->log) return 0;
    if (dq_atomic_commit(&r->log_file) != 0) {
        r->log = NULL;
        dq_err_set(e, "%s: %s", r->o->log_path, strerror(errno));
        return DQ_EXIT_IO;
    }
    return open_log(r, r->t->step, e);
}

static int save(run *r, dq_errbuf *e) {
    dq_trainer_sync_host(r->t);
    char buf[200];
    const char *bad = nonfinite_state(r->t, buf, sizeof buf);
    if (bad) return diverged(r, bad, e);
    int rc = publish_log(r, e);
    if (rc) return rc;
    if (dq_checkpoint_save(r->o->ckpt, r->t, r->o->dataset_json) != 0) {
        dq_err_set(e, "%s: cannot write checkpoint: %s", r->o->ckpt, strerror(errno));
        return DQ_EXIT_IO;
    }
    r->saved_step = r->t->step;
    if (r->o->on_save) r->o->on_save(r->o->hook, r->t->step);
    return 0;
}

/* The log row of the iteration just done and, when due and at the last
 * iteration, the progress line: once a second off a terminal, the percent,
 * rate and time left first on one (what a narrow terminal cuts is the end). */
static void report(run *r, const dq_step_stats *st) {
    const long long step = r->t->step;
    const int batch = r->t->model.cfg.batch;
    if (r->log)
        fprintf(r->log, "%lld\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%.3f\n", step, st->loss,
                st->recon, st->kl, st->tc, st->disc, st->tau, st->lr, dq_now() - r->t0);
    double now = dq_now();
    if (!dq_progress_due(&r->bar, now, step == r->steps)) return;
    double rate = (double)(step - r->start_step) * batch / (now - r->t0);
    char eta[32];
    dq_progress_eta((double)(r->steps - step) * batch / rate, eta, sizeof eta);
    if (r->bar.tty)
        dq_progress_show(&r->bar, "%s: %.0f%% step %lld/%lld %.1f img/s ETA %s loss %.5g recon %.5g kl %.4g tc %.4g disc %.4g tau %.4g lr %.3g",
                         dq_progname, 100.0 * step / r->steps, step, r->steps, rate, eta, st->loss,
                         st->recon, st->kl, st->tc, st->disc, st->tau, st->lr);
    else
        dq_progress_show(&r->bar, "%s: step %lld/%lld loss %.5g recon %.5g kl %.4g tc %.4g disc %.4g tau %.4g lr %.3g %.1f img/s ETA %s",
                         dq_progname, step, r->steps, st->loss, st->recon, st->kl, st->tc, st->disc,
                         st->tau, st->lr, rate, eta);
}

/* Iterations until the last, the end of the input or a signal, with the
 * checkpoints between: 0, or an exit status with e. */
static int iterate(run *r, dq_prefetch *input, dq_errbuf *e) {
    dq_trainer *t = r->t;
    const long long save_every = r->o->save_every;
    dq_step_stats st = {0};
    while (t->step < r->steps && !stop_signal) {
        const uint8_t *images;
        int rc = dq_prefetch_next(input, &images, e);
        if (rc <= 0) return rc < 0 ? DQ_EXIT_DATA : 0;
        dq_train_step(t, images, t->model.cfg.batch, NULL, &st);
        report(r, &st);
        if (r->o->on_step) r->o->on_step(r->o->hook, t->step, &st);
        if (!stats_finite(&st)) {
            char what[200];
            snprintf(what, sizeof what, "loss (loss %g, recon %g, kl %g, tc %g, disc %g)", st.loss,
                     st.recon, st.kl, st.tc, st.disc);
            return diverged(r, what, e);
        }
        if (save_every && t->step % save_every == 0 && t->step < r->steps && (rc = save(r, e)))
            return rc;
    }
    return 0;
}

/* The iterations and the final checkpoint: 0, or an exit status with e. */
static int train(run *r, dq_reader *in, dq_errbuf *e) {
    const dq_model_config *cfg = &r->t->model.cfg;
    const int image[3] = {cfg->H, cfg->W, cfg->channels};
    /* a resumed run sees the stream from the start again: skip what was used */
    dq_prefetch *input = dq_prefetch_start(in, cfg->batch, image, r->t->step * (long long)cfg->batch,
                                           op_host_alloc, op_host_free, e);
    if (!input) {
        dq_reader_free(in);
        return DQ_EXIT_FAIL;
    }
    r->start_step = r->t->step;
    r->t0 = dq_now();
    dq_progress_start(&r->bar, stderr, 1.0, r->t0);
    int rc = iterate(r, input, e);
    dq_progress_end(&r->bar);
    dq_prefetch_stop(input);
    return rc ? rc : save(r, e);
}

static void say_why_stopped(const run *r) {
    static const char *const said[] = {[SIGHUP] = "hung up", [SIGINT] = "interrupted",
                                       [SIGTERM] = "terminated"};
    if (stop_signal)
        fprintf(stderr, "%s: %s at step %lld; checkpoint %s written\n", dq_progname,
                said[stop_signal], r->t->step, r->o->ckpt);
    else if (r->t->step < r->steps)
        fprintf(stderr, "%s: stream ended at step %lld of %lld; checkpoint %s written\n", dq_progname,
                r->t->step, r->steps, r->o->ckpt);
}

/* The signals that stop a run with a checkpoint: a terminal closed or an ssh
 * connection dropped (SIGHUP) loses no more than SIGINT or SIGTERM would.  A
 * SIGHUP ignored on entry (nohup) stays ignored. */
static const int stop_signals[] = {SIGHUP, SIGINT, SIGTERM};
enum { NSTOP = sizeof stop_signals / sizeof stop_signals[0] };

static void catch_stop_signals(struct sigaction old[NSTOP]) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART;
    stop_signal = 0;
    for (int i = 0; i < NSTOP; i++) {
        sigaction(stop_signals[i], NULL, &old[i]);
        if (!(stop_signals[i] == SIGHUP && old[i].sa_handler == SIG_IGN))
            sigaction(stop_signals[i], &sa, NULL);
    }
}

static void restore_signals(const struct sigaction old[NSTOP]) {
    for (int i = 0; i < NSTOP; i++) sigaction(stop_signals[i], &old[i], NULL);
}

int dq_training_run(dq_trainer *t, dq_reader *in, const dq_training_options *o, int *stopped_by,
                    dq_errbuf *e) {
    run r = {.t = t, .o = o, .steps = o->steps, .saved_step = o->resume ? t->step : -1};
    if (r.steps < 0) /* the reference: 50k iterations of 512 for factor models, 100k of 256 else */
        r.steps = dq_model_kind_is_factor(t->model.cfg.kind) ? 50000 : 100000;
    struct sigaction old[NSTOP];
    catch_stop_signals(old);
    int rc = open_log(&r, o->resume ? t->step : -1, e);
    if (rc) dq_reader_free(in);
    else rc = train(&r, in, e);
    /* a diverged run's log shows how the losses got there */
    if (r.log && rc && !r.diverged) dq_atomic_abort(&r.log_file);
    else if (r.log && dq_atomic_commit(&r.log_file) != 0 && !rc) {
        dq_err_set(e, "%s: %s", o->log_path, strerror(errno));
        rc = DQ_EXIT_IO;
    }
    if (rc == 0) say_why_stopped(&r);
    *stopped_by = stop_signal;
    restore_signals(old);
    return rc;
}
