/* json.c: bounded recursive-descent JSON parser and an escaping writer. */
#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define JSON_MAX_DEPTH 16

typedef struct {
    const char *s;
    size_t len, pos;
    dq_errbuf *e;
} parser;

static int fail(parser *p, const char *what) {
    dq_err_set(p->e, "%s at byte %zu", what, p->pos);
    return -1;
}

static void skip_space(parser *p) {
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos]) p->pos++;
}

static int parse_value(parser *p, dq_json *v, int depth);

static int hex4(parser *p, unsigned *out) {
    if (p->len - p->pos < 4) return fail(p, "truncated \\u escape");
    unsigned u = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        u <<= 4;
        if (c >= '0' && c <= '9') u |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') u |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') u |= (unsigned)(c - 'A' + 10);
        else return fail(p, "bad \\u escape");
    }
    *out = u;
    return 0;
}

static void put_utf8(char *buf, size_t *n, unsigned cp) {
    if (cp < 0x80) buf[(*n)++] = (char)cp;
    else if (cp < 0x800) {
        buf[(*n)++] = (char)(0xC0 | (cp >> 6));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        buf[(*n)++] = (char)(0xE0 | (cp >> 12));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        buf[(*n)++] = (char)(0xF0 | (cp >> 18));
        buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* A decoded string is never longer than its escaped form, so one allocation
 * of the remaining input length bounded by the closing quote suffices. */
static int parse_string(parser *p, char **out) {
    p->pos++; /* opening quote */
    size_t start = p->pos, end = start;
    while (end < p->len && p->s[end] != '"') end += (p->s[end] == '\\') ? 2 : 1;
    if (end >= p->len) return fail(p, "unterminated string");
    char *buf = dq_malloc(end - start + 1);
    size_t n = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) {
            free(buf);
            return fail(p, "control character in string");
        }
        if (c != '\\') {
            buf[n++] = (char)c;
            p->pos++;
            continue;
        }
        p->pos++;
        char e = p->s[p->pos++];
        unsigned cp = 0;
        switch (e) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u':
            /* \uXXXX is 6 bytes and decodes to at most 3; pairs 12 -> 4 */
            if (hex4(p, &cp) != 0) {
                free(buf);
                return -1;
            }
            if (cp == 0) {
                free(buf);
                return fail(p, "NUL in string");
            }
            if (cp >= 0xD800 && cp < 0xDC00) {
                unsigned lo;
                if (p->pos + 2 > end || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                    free(buf);
                    return fail(p, "unpaired surrogate");
                }
                p->pos += 2;
                if (hex4(p, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
                    free(buf);
                    return fail(p, "unpaired surrogate");
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            put_utf8(buf, &n, cp);
            break;
        default:
            free(buf);
            return fail(p, "bad escape in string");
        }
    }
    if (p->pos != end) {
        free(buf);
        return fail(p, "truncated escape in string");
    }
    p->pos++; /* closing quote */
    buf[n] = 0;
    *out = buf;
    return 0;
}

static int parse_number(parser *p, dq_json *v) {
    size_t start = p->pos;
    while (p->pos < p->len && strchr("+-0123456789.eE", p->s[p->pos]) && p->s[p->pos]) p->pos++;
    char tmp[64];
    size_t n = p->pos - start;
    if (n == 0 || n >= sizeof tmp) return fail(p, "bad number");
    memcpy(tmp, p->s + start, n);
    tmp[n] = 0;
    char *end;
    errno = 0;
    double d = strtod(tmp, &end);
    if (*end || !isfinite(d)) return fail(p, "bad number");
    v->type = DQ_JSON_NUMBER;
    v->number = d;
    if (!strpbrk(tmp, ".eE")) {
        errno = 0;
        long long ll = strtoll(tmp, &end, 10);
        if (!*end && errno == 0) {
            v->is_int = 1;
            v->integer = ll;
        }
    }
    return 0;
}

static int parse_container(parser *p, dq_json *v, int depth, int is_object) {
    char close = is_object ? '}' : ']';
    v->type = is_object ? DQ_JSON_OBJECT : DQ_JSON_ARRAY;
    p->pos++;
    skip_space(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return 0;
    }
    int cap = 0;
    for (;;) {
        skip_space(p);
        if (v->n == cap) {
            cap = cap ? 2 * cap : 8;
            v->items = dq_realloc(v->items, (size_t)cap * sizeof *v->items);
            if (is_object) v->keys = dq_realloc(v->keys, (size_t)cap * sizeof *v->keys);
        }
        dq_json *item = &v->items[v->n];
        memset(item, 0, sizeof *item);
        if (is_object) {
            if (p->pos >= p->len || p->s[p->pos] != '"') return fail(p, "expected member name");
            if (parse_string(p, &v->keys[v->n]) != 0) return -1;
            v->n++; /* counted now so the key is freed on a later error */
            skip_space(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') return fail(p, "expected ':'");
            p->pos++;
            if (parse_value(p, item, depth + 1) != 0) return -1;
        } else {
            v->n++;
            if (parse_value(p, item, depth + 1) != 0) return -1;
        }
        skip_space(p);
        if (p->pos >= p->len) return fail(p, "unterminated container");
        char c = p->s[p->pos++];
        if (c == close) return 0;
        if (c != ',') {
            p->pos--;
            return fail(p, "expected ',' or end of container");
        }
    }
}

static int parse_literal(parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return fail(p, "bad literal");
    p->pos += n;
    return 0;
}

static int parse_value(parser *p, dq_json *v, int depth) {
    if (depth > JSON_MAX_DEPTH) return fail(p, "nesting too deep");
    skip_space(p);
    if (p->pos >= p->len) return fail(p, "unexpected end of JSON");
    char c = p->s[p->pos];
    switch (c) {
    case '{': return parse_container(p, v, depth, 1);
    case '[': return parse_container(p, v, depth, 0);
    case '"': v->type = DQ_JSON_STRING; return parse_string(p, &v->string);
    case 't': v->type = DQ_JSON_BOOL; v->boolean = 1; return parse_literal(p, "true");
    case 'f': v->type = DQ_JSON_BOOL; return parse_literal(p, "false");
    case 'n': v->type = DQ_JSON_NULL; return parse_literal(p, "null");
    default: return parse_number(p, v);
    }
}

int dq_json_parse(const char *text, size_t len, dq_json *out, dq_errbuf *e) {
    parser p = {text, len, 0, e};
    memset(out, 0, sizeof *out);
    if (parse_value(&p, out, 0) != 0) {
        dq_json_free(out);
        return -1;
    }
    skip_space(&p);
    if (p.pos != len) {
        dq_json_free(out);
        return fail(&p, "trailing bytes after JSON");
    }
    return 0;
}

void dq_json_free(dq_json *v) {
    for (int i = 0; i < v->n; i++) {
        dq_json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
    memset(v, 0, sizeof *v);
}

const dq_json *dq_json_get(const dq_json *v, const char *key) {
    if (!v || v->type != DQ_JSON_OBJECT) return NULL;
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0) return &v->items[i];
    return NULL;
}

static void reserve(dq_jbuf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    b->s = dq_realloc(b->s, cap);
    b->cap = cap;
}

void dq_jbuf_puts(dq_jbuf *b, const char *s) {
    size_t n = strlen(s);
    reserve(b, n);
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

void dq_jbuf_printf(dq_jbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void dq_jbuf_string(dq_jbuf *b, const char *s) {
    dq_jbuf_puts(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') dq_jbuf_printf(b, "\\%c", *c);
        else if (*c < 0x20) dq_jbuf_printf(b, "\\u%04x", *c);
        else {
            char one[2] = {(char)*c, 0};
            dq_jbuf_puts(b, one);
        }
    }
    dq_jbuf_puts(b, "\"");
}
