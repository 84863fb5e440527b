/* progress.h: a progress line on a stream (stderr, in the tools).
 *
 * On a terminal (the stream a TTY and TERM not "dumb") the line is redrawn
 * in place, at most 10 times a second, cut to the terminal's width so that it
 * never wraps; the last line drawn stays, ended by a newline.  Elsewhere (a
 * pipe, a file) each update is a line of its own, at most once per the
 * caller's interval, as logs want.
 *
 * One line is shown in place at a time in the process: any other message on
 * its stream must first call dq_progress_break (dq_warn and dq_die do).
 * Uses nothing of core/util, which calls it. */
#ifndef DISQ_PROGRESS_H
#define DISQ_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    int tty;         /* redrawn in place */
    double interval; /* seconds between updates */
    double last;     /* time of the last update */
} dq_progress;

/* Start reporting on f at time now (seconds on the caller's clock: dq_now);
 * interval spaces the lines off a terminal. */
void dq_progress_start(dq_progress *p, FILE *f, double interval, double now);
/* Whether an update is due at now (always when final); when it is, the
 * caller shows one, and the next is due an interval later. */
int dq_progress_due(dq_progress *p, double now, int final);
/* Show a line (no newline in it), formatted as by printf.  Off a terminal it
 * is written with a newline: byte for byte what fprintf would write. */
void dq_progress_show(dq_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The end of the reporting: p's line shown in place is ended by a newline. */
void dq_progress_end(dq_progress *p);
/* The end of the reporting, for a caller whose next message sums it up:
 * p's line shown in place is erased. */
void dq_progress_clear(dq_progress *p);
/* Before any other message: ends a line shown in place with a newline, so
 * the message starts a line of its own (the next update is drawn below it).
 * Nothing when no line is shown; from any thread. */
void dq_progress_break(void);

/* Whether fd is a terminal that takes "\r" and "\033[K": a TTY, TERM not "dumb". */
int dq_progress_is_tty(int fd);
/* The columns of the terminal at fd: its window size, else COLUMNS, else 80. */
int dq_progress_width(int fd);
/* The bytes that redraw line in place on a terminal width columns wide: "\r",
 * at most width - 1 bytes of line (the last column stays free: some
 * terminals wrap on it), "\033[K" (clears what an older, longer line left).
 * Writes at most n - 1 bytes and a NUL to out, cutting line shorter where n
 * requires; returns the length. */
size_t dq_progress_fit(const char *line, int width, char *out, size_t n);
/* A time left for a progress line: "4m07s", "2h15m"; "?" when not finite or
 * negative. */
void dq_progress_eta(double sec, char *buf, size_t n);

#endif
