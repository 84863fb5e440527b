/* workspace.c: see workspace.h. */
#include "model/workspace.h"

#include "nn/op.h"

float *dq_ws(dq_trainer *t, int slot, size_t n) {
    op_buf_reserve(&t->buf[slot], &t->cap[slot], n ? n : 1);
    return t->buf[slot];
}
