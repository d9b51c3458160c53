/* Streaming JSON writer: see jsonw.h. */
#include <dpuhost/jsonw.h>

#include <stdint.h>

#include "util/macro.h"

#define MAX_DEPTH 64

struct dh_jsonw {
    char *buf;
    size_t len, cap;
    int err;
    bool pretty;
    int depth;
    bool after_key;            /* a key was written; the next value follows it directly */
    bool has_items[MAX_DEPTH]; /* whether the container at each depth has an element yet */
    char kinds[MAX_DEPTH];     /* '{' or '[' */
};

struct dh_jsonw *dh_jsonw_new(bool pretty)
{
    struct dh_jsonw *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->pretty = pretty;
    w->cap = 4096;
    w->buf = malloc(w->cap);
    if (!w->buf) {
        free(w);
        return NULL;
    }
    return w;
}

void dh_jsonw_free(struct dh_jsonw *w)
{
    if (!w)
        return;
    free(w->buf);
    free(w);
}

static bool reserve(struct dh_jsonw *w, size_t n)
{
    if (w->err)
        return false;
    if (w->len + n + 1 <= w->cap)
        return true;
    size_t cap = w->cap;
    while (w->len + n + 1 > cap)
        cap *= 2;
    char *b = realloc(w->buf, cap);
    if (!b) {
        w->err = -ENOMEM;
        return false;
    }
    w->buf = b;
    w->cap = cap;
    return true;
}

static void put(struct dh_jsonw *w, const char *s, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void putc_(struct dh_jsonw *w, char c)
{
    if (!reserve(w, 1))
        return;
    w->buf[w->len++] = c;
}

static void newline(struct dh_jsonw *w)
{
    if (!w->pretty)
        return;
    putc_(w, '\n');
    for (int i = 0; i < w->depth; i++)
        put(w, "  ", 2);
}

/* Separator and indentation before a value or a key. */
static void before_item(struct dh_jsonw *w, bool is_key)
{
    if (w->after_key) {
        if (is_key)
            w->err = w->err ? w->err : -EINVAL; /* two keys in a row */
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        bool in_object = w->kinds[w->depth - 1] == '{';
        if (in_object != is_key) {
            w->err = w->err ? w->err : -EINVAL; /* value without key in an object, or key in an array */
            return;
        }
        if (w->has_items[w->depth - 1])
            putc_(w, ',');
        w->has_items[w->depth - 1] = true;
        newline(w);
    } else if (w->len > 0)
        w->err = w->err ? w->err : -EINVAL; /* a second top-level value */
}

static void begin(struct dh_jsonw *w, char kind)
{
    before_item(w, false);
    if (w->depth >= MAX_DEPTH) {
        w->err = w->err ? w->err : -EINVAL;
        return;
    }
    putc_(w, kind);
    w->kinds[w->depth] = kind;
    w->has_items[w->depth] = false;
    w->depth++;
}

static void end(struct dh_jsonw *w, char kind)
{
    if (w->depth == 0 || w->kinds[w->depth - 1] != kind || w->after_key) {
        w->err = w->err ? w->err : -EINVAL;
        return;
    }
    bool had = w->has_items[w->depth - 1];
    w->depth--;
    if (had)
        newline(w);
    putc_(w, kind == '{' ? '}' : ']');
}

void dh_jsonw_begin_object(struct dh_jsonw *w)
{
    begin(w, '{');
}
void dh_jsonw_end_object(struct dh_jsonw *w)
{
    end(w, '{');
}
void dh_jsonw_begin_array(struct dh_jsonw *w)
{
    begin(w, '[');
}
void dh_jsonw_end_array(struct dh_jsonw *w)
{
    end(w, '[');
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), or 0 when invalid (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

static void put_string(struct dh_jsonw *w, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    putc_(w, '"');
    size_t run = 0; /* bytes copied verbatim in one go */
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            run++;
            i++;
            continue;
        }
        put(w, (const char *)s + i - run, run);
        run = 0;
        if (c >= 0x80) {
            size_t l = utf8_len(s + i, n - i);
            if (l)
                put(w, (const char *)s + i, l);
            else
                put(w, "\\ufffd", 6);
            i += l ? l : 1;
            continue;
        }
        char esc[8];
        switch (c) {
        case '"':
            put(w, "\\\"", 2);
            break;
        case '\\':
            put(w, "\\\\", 2);
            break;
        case '\n':
            put(w, "\\n", 2);
            break;
        case '\t':
            put(w, "\\t", 2);
            break;
        case '\r':
            put(w, "\\r", 2);
            break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put(w, esc, 6);
        }
        i++;
    }
    put(w, (const char *)s + n - run, run);
    putc_(w, '"');
}

void dh_jsonw_key(struct dh_jsonw *w, const char *key)
{
    before_item(w, true);
    put_string(w, key);
    putc_(w, ':');
    if (w->pretty)
        putc_(w, ' ');
    w->after_key = true;
}

void dh_jsonw_string(struct dh_jsonw *w, const char *s)
{
    before_item(w, false);
    if (s)
        put_string(w, s);
    else
        put(w, "null", 4);
}

void dh_jsonw_int(struct dh_jsonw *w, long long v)
{
    char b[32];
    before_item(w, false);
    put(w, b, (size_t)snprintf(b, sizeof(b), "%lld", v));
}

void dh_jsonw_bool(struct dh_jsonw *w, bool v)
{
    before_item(w, false);
    if (v)
        put(w, "true", 4);
    else
        put(w, "false", 5);
}

void dh_jsonw_null(struct dh_jsonw *w)
{
    before_item(w, false);
    put(w, "null", 4);
}

void dh_jsonw_raw(struct dh_jsonw *w, const char *json, size_t len)
{
    before_item(w, false);
    put(w, json, len);
}

void dh_jsonw_kv_string(struct dh_jsonw *w, const char *key, const char *s)
{
    dh_jsonw_key(w, key);
    dh_jsonw_string(w, s);
}

void dh_jsonw_kv_int(struct dh_jsonw *w, const char *key, long long v)
{
    dh_jsonw_key(w, key);
    dh_jsonw_int(w, v);
}

void dh_jsonw_kv_int_or_null(struct dh_jsonw *w, const char *key, long long v)
{
    dh_jsonw_key(w, key);
    if (v < 0)
        dh_jsonw_null(w);
    else
        dh_jsonw_int(w, v);
}

void dh_jsonw_kv_bool(struct dh_jsonw *w, const char *key, bool v)
{
    dh_jsonw_key(w, key);
    dh_jsonw_bool(w, v);
}

void dh_jsonw_kv_null(struct dh_jsonw *w, const char *key)
{
    dh_jsonw_key(w, key);
    dh_jsonw_null(w);
}

void dh_jsonw_kv_hex(struct dh_jsonw *w, const char *key, long long v, int digits)
{
    dh_jsonw_key(w, key);
    if (v < 0) {
        dh_jsonw_null(w);
        return;
    }
    char b[32];
    before_item(w, false);
    put(w, b, (size_t)snprintf(b, sizeof(b), "\"0x%0*llx\"", digits, v));
}

void dh_jsonw_fail(struct dh_jsonw *w, int code)
{
    if (w && !w->err)
        w->err = code < 0 ? code : -EINVAL;
}

int dh_jsonw_finish(struct dh_jsonw *w, char **ret, size_t *ret_len)
{
    if (!w)
        return -EINVAL;
    if (!w->err && (w->depth != 0 || w->after_key || w->len == 0))
        w->err = -EINVAL;
    if (w->err)
        return w->err;
    w->buf[w->len] = '\0';
    if (ret_len)
        *ret_len = w->len;
    *ret = TAKE_PTR(w->buf);
    w->len = w->cap = 0;
    w->err = -EINVAL; /* finished: further use is misuse */
    return 0;
}
