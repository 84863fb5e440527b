/* progress.c: see progress.h. */
#include "core/progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The stream of the line shown in place, or NULL. */
static _Atomic(FILE *) shown;

enum { TTY_RATE = 10 }; /* redraws a second: smooth to the eye, cheap */

int dq_progress_is_tty(int fd) {
    const char *term = getenv("TERM");
    return isatty(fd) && !(term && strcmp(term, "dumb") == 0);
}

int dq_progress_width(int fd) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *cols = getenv("COLUMNS");
    char *end;
    long c = cols ? strtol(cols, &end, 10) : 0;
    return cols && *cols && !*end && c > 0 && c < 100000 ? (int)c : 80;
}

size_t dq_progress_fit(const char *line, int width, char *out, size_t n) {
    static const char clear[] = "\033[K";
    if (n < sizeof clear + 1) { /* no room for the frame: nothing */
        if (n) out[0] = 0;
        return 0;
    }
    size_t len = strlen(line), room = n - sizeof clear - 1;
    if (width < 1) width = 1;
    if (len > (size_t)width - 1) len = (size_t)width - 1;
    if (len > room) len = room;
    out[0] = '\r';
    memcpy(out + 1, line, len);
    memcpy(out + 1 + len, clear, sizeof clear);
    return len + sizeof clear;
}

void dq_progress_eta(double sec, char *buf, size_t n) {
    if (!isfinite(sec) || sec < 0) snprintf(buf, n, "?");
    else if (sec < 3600) snprintf(buf, n, "%dm%02ds", (int)sec / 60, (int)sec % 60);
    else snprintf(buf, n, "%dh%02dm", (int)sec / 3600, ((int)sec / 60) % 60);
}

void dq_progress_start(dq_progress *p, FILE *f, double interval, double now) {
    p->f = f;
    p->tty = dq_progress_is_tty(fileno(f));
    p->interval = p->tty ? 1.0 / TTY_RATE : interval;
    p->last = now;
}

int dq_progress_due(dq_progress *p, double now, int final) {
    if (!final && now - p->last < p->interval) return 0;
    p->last = now;
    return 1;
}

void dq_progress_show(dq_progress *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (!p->tty) {
        vfprintf(p->f, fmt, ap);
        fputc('\n', p->f);
    } else {
        char line[1024], out[sizeof line + 8];
        vsnprintf(line, sizeof line, fmt, ap);
        dq_progress_fit(line, dq_progress_width(fileno(p->f)), out, sizeof out);
        fputs(out, p->f);
        fflush(p->f);
        atomic_store(&shown, p->f);
    }
    va_end(ap);
}

void dq_progress_break(void) {
    FILE *f = atomic_exchange(&shown, NULL);
    if (f) fputc('\n', f);
}

/* Whether p's line is shown, no longer counted as shown once this returns. */
static int take_shown(const dq_progress *p) {
    FILE *f = p->f;
    return atomic_compare_exchange_strong(&shown, &f, NULL);
}

void dq_progress_end(dq_progress *p) {
    if (take_shown(p)) fputc('\n', p->f);
}

void dq_progress_clear(dq_progress *p) {
    if (take_shown(p)) fputs("\r\033[K", p->f);
}
