/* error.h: how library functions report failure.
 *
 * A library function never exits.  On bad input or a failed system call it
 * returns an error value (-1 or NULL, as its header says) and leaves one line
 * (no newline, no program name) in the caller's dq_errbuf; the tool adds its
 * name and exits with the status of util.h's table.  A function that exits
 * instead ends in _or_die and is called only from tools (bin/) or from
 * another _or_die function.
 *
 * Three failures end the process from inside the library, because no caller
 * could do better: running out of memory (util.h's allocation wrappers), a
 * failed CUDA, cuBLAS or cuDNN call (nn/nn_cuda.h), and a broken contract,
 * a caller's bug that no input can cause (dq_bug). */
#ifndef DISQ_ERROR_H
#define DISQ_ERROR_H

#define DQ_ERRLEN 512

typedef struct {
    char msg[DQ_ERRLEN];
} dq_errbuf;

/* Format the message into e (truncated to DQ_ERRLEN - 1 bytes). */
void dq_err_set(dq_errbuf *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
