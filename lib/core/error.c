/* error.c: see error.h. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

void dq_err_set(dq_errbuf *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}
