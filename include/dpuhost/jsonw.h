/* A streaming JSON writer into a growable buffer (the iproute2 json_writer idea). The inventory is
 * serialized with it because building a jansson tree of 1,500 functions, dumping and freeing it
 * costs about five times the instructions of the scan itself (bench/README.md); everything else
 * uses jansson. Errors (allocation failure, misuse) are sticky: check dh_jsonw_finish(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct dh_jsonw;

/* pretty: two-space indentation and newlines; otherwise compact. NULL on allocation failure. */
struct dh_jsonw *dh_jsonw_new(bool pretty);
void dh_jsonw_free(struct dh_jsonw *w);

void dh_jsonw_begin_object(struct dh_jsonw *w);
void dh_jsonw_end_object(struct dh_jsonw *w);
void dh_jsonw_begin_array(struct dh_jsonw *w);
void dh_jsonw_end_array(struct dh_jsonw *w);
/* The key of the next value inside an object. */
void dh_jsonw_key(struct dh_jsonw *w, const char *key);

/* A string (escaped per RFC 8259; invalid UTF-8 becomes U+FFFD), or null when s is NULL. */
void dh_jsonw_string(struct dh_jsonw *w, const char *s);
void dh_jsonw_int(struct dh_jsonw *w, long long v);
void dh_jsonw_bool(struct dh_jsonw *w, bool v);
void dh_jsonw_null(struct dh_jsonw *w);
/* Appends already-serialized JSON as one value (the caller vouches for it). */
void dh_jsonw_raw(struct dh_jsonw *w, const char *json, size_t len);

/* key + value shorthands */
void dh_jsonw_kv_string(struct dh_jsonw *w, const char *key, const char *s);
void dh_jsonw_kv_int(struct dh_jsonw *w, const char *key, long long v);
/* An integer, or null when v < 0 (the inventory's "unknown"). */
void dh_jsonw_kv_int_or_null(struct dh_jsonw *w, const char *key, long long v);
void dh_jsonw_kv_bool(struct dh_jsonw *w, const char *key, bool v);
void dh_jsonw_kv_null(struct dh_jsonw *w, const char *key);
/* "0x%0*x", or null when v < 0. */
void dh_jsonw_kv_hex(struct dh_jsonw *w, const char *key, long long v, int digits);

/* Marks the writer failed with code (e.g. -ENOMEM from the caller's own allocation). */
void dh_jsonw_fail(struct dh_jsonw *w, int code);

/* Checks that every object and array was closed and nothing failed; on success hands over the
 * NUL-terminated text (caller frees) and its length. Returns 0, -ENOMEM or -EINVAL (misuse). The
 * writer must still be freed. */
int dh_jsonw_finish(struct dh_jsonw *w, char **ret, size_t *ret_len);
