/* json.h: the small JSON subset disq reads and writes — safetensors headers
 * and the model configuration stored in a checkpoint's __metadata__.
 *
 * The parser builds a tree from untrusted bytes: it bounds nesting, rejects
 * trailing garbage and reports the byte offset of the first error.  Numbers
 * are kept as doubles and, when they are whole, as exact int64 too (tensor
 * offsets exceed 2^53 only in files we refuse anyway). */
#ifndef DISQ_JSON_H
#define DISQ_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef enum { DQ_JSON_NULL, DQ_JSON_BOOL, DQ_JSON_NUMBER, DQ_JSON_STRING, DQ_JSON_ARRAY,
               DQ_JSON_OBJECT } dq_json_type;

typedef struct dq_json {
    dq_json_type type;
    int boolean;
    double number;
    int is_int;         /* number is a whole value that fits int64 */
    int64_t integer;
    char *string;       /* NUL-terminated; strings with embedded NUL are rejected */
    int n;              /* array items / object members */
    struct dq_json *items;
    char **keys;        /* object member names, parallel to items */
} dq_json;

/* Parse len bytes; 0 ok, -1 with "what at byte N" in e (core/error.h). */
int dq_json_parse(const char *text, size_t len, dq_json *out, dq_errbuf *e);
void dq_json_free(dq_json *v);
/* Member of an object, or NULL (also when v is not an object). */
const dq_json *dq_json_get(const dq_json *v, const char *key);

/* Growing output buffer for writing JSON. */
typedef struct {
    char *s;
    size_t len, cap;
} dq_jbuf;

void dq_jbuf_puts(dq_jbuf *b, const char *s);
void dq_jbuf_printf(dq_jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dq_jbuf_string(dq_jbuf *b, const char *s); /* quoted and escaped */

#endif
