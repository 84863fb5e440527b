/* error.h: how library functions report failure.
 *
 * A library function never exits.  On bad input or a failed system call it
 * returns an error value (-1 or NULL, as its header says) and leaves one line
 * (no newline, no program name) in the caller's dq_errbuf; the tool adds its
 * name and exits with the status of util.h's table.  A function that exits
 * instead ends in _or_die and is called only from tools (bin/). */
#ifndef DISQ_ERROR_H
#define DISQ_ERROR_H

#define DQ_ERRLEN 512

typedef struct {
    char msg[DQ_ERRLEN];
} dq_errbuf;

/* Format the message into e (truncated to DQ_ERRLEN - 1 bytes). */
void dq_err_set(dq_errbuf *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
