/* Strict parsing of what clients send: query strings and JSON bodies. An unknown parameter or
 * field, a wrong type or a duplicate key is an error naming it; nothing is guessed. */
#include "api-internal.h"

#include <ctype.h>

#include "util/macro.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int api_url_decode(const char *in, size_t len, char **ret)
{
    char *out = malloc(len + 1);
    if (!out)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '%') {
            /* %00 would cut a C string short: refused */
            int hi = i + 1 < len ? hexval(in[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(in[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return -EINVAL;
            }
            out[n++] = (char)(hi << 4 | lo);
            i += 2;
            continue;
        }
        out[n++] = in[i] == '+' ? ' ' : in[i];
    }
    out[n] = '\0';
    *ret = out;
    return 0;
}

void api_query_clear(struct api_query *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->keys[i]);
        free(q->values[i]);
    }
    q->n = 0;
}

int api_query_parse(const char *query, struct api_query *ret, const char *const *allowed,
                    struct dh_error *err)
{
    *ret = (struct api_query){0};
    if (!query || !*query)
        return 0;
    for (const char *p = query; *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (len == 0) {
            p = amp ? amp + 1 : p + len;
            continue;
        }
        if (!eq) {
            api_query_clear(ret);
            return dh_error_set(err, -EINVAL, "query parameter '%.*s' has no value", (int)len, p);
        }
        char *key = NULL, *value = NULL;
        if (api_url_decode(p, (size_t)(eq - p), &key) < 0 ||
            api_url_decode(eq + 1, len - (size_t)(eq - p) - 1, &value) < 0) {
            free(key);
            api_query_clear(ret);
            return dh_error_set(err, -EINVAL, "query parameter '%.*s' is not properly %%-encoded", (int)len,
                                p);
        }
        bool ok = false;
        for (size_t i = 0; allowed && allowed[i] && !ok; i++)
            ok = streq(allowed[i], key);
        bool dup = api_query_get(ret, key) != NULL;
        if (!ok || dup || ret->n == ELEMENTSOF(ret->keys) || !*value) {
            int r = dh_error_set(err, -EINVAL, "query parameter '%s' %s", key,
                                 !ok       ? "is not known here"
                                 : dup     ? "is given twice"
                                 : !*value ? "is empty"
                                           : "is one too many");
            free(key);
            free(value);
            api_query_clear(ret);
            return r;
        }
        ret->keys[ret->n] = key;
        ret->values[ret->n++] = value;
        p = amp ? amp + 1 : p + len;
    }
    return 0;
}

const char *api_query_get(const struct api_query *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++)
        if (streq(q->keys[i], key))
            return q->values[i];
    return NULL;
}

int api_body_object(const char *body, size_t len, const char *const *allowed, json_t **ret,
                    struct dh_error *err)
{
    if (!body || len == 0)
        return dh_error_set(err, -EBADMSG, "the request needs a JSON object body");
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return dh_error_set(err, -EBADMSG, "the body is not valid JSON: %s (line %d, column %d)", jerr.text,
                            jerr.line, jerr.column);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return dh_error_set(err, -EINVAL, "the body must be a JSON object");
    }
    const char *key;
    json_t *v;
    json_object_foreach (doc, key, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = streq(allowed[i], key);
        if (!ok) {
            char list[256] = "";
            for (size_t i = 0; allowed[i]; i++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", allowed[i]);
            }
            int r = dh_error_set(err, -EINVAL, "unknown field '%s'; the fields are: %s", key, list);
            json_decref(doc);
            return r;
        }
    }
    *ret = doc;
    return 0;
}

static const char *type_name(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

int api_get_string(json_t *o, const char *key, const char **ret, struct dh_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return dh_error_set(err, -EINVAL, "field '%s' must be a string, not %s", key, type_name(v));
    if (memchr(json_string_value(v), '\0', json_string_length(v)))
        return dh_error_set(err, -EINVAL, "field '%s' contains a NUL character", key);
    *ret = json_string_value(v);
    return 0;
}

int api_get_int(json_t *o, const char *key, long long min, long long max, long long *ret,
                struct dh_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v))
        return dh_error_set(err, -EINVAL, "field '%s' must be an integer, not %s", key, type_name(v));
    long long x = json_integer_value(v);
    if (x < min || x > max)
        return dh_error_set(err, -EINVAL, "field '%s' is %lld; give %lld to %lld", key, x, min, max);
    *ret = x;
    return 0;
}

int api_get_bool(json_t *o, const char *key, bool *ret, struct dh_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return dh_error_set(err, -EINVAL, "field '%s' must be true or false, not %s", key, type_name(v));
    *ret = json_is_true(v);
    return 0;
}

int api_get_strings(json_t *o, const char *key, size_t max, const char ***ret, size_t *ret_n,
                    struct dh_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > max)
        return dh_error_set(err, -EINVAL, "field '%s' must be a list of 1 to %zu strings", key, max);
    const char **s = calloc(json_array_size(v), sizeof(*s));
    if (!s)
        return -ENOMEM;
    size_t i;
    json_t *e;
    json_array_foreach (v, i, e) {
        if (!json_is_string(e)) {
            free(s);
            return dh_error_set(err, -EINVAL, "field '%s'[%zu] must be a string, not %s", key, i,
                                type_name(e));
        }
        s[i] = json_string_value(e);
    }
    *ret = s;
    *ret_n = json_array_size(v);
    return 0;
}
