/* Error reporting: every action returns 0 (or a count) or a negative errno, and fills an optional
 * caller-owned struct dh_error once, at the place that knows most about what went wrong. */
#pragma once

#include <stdarg.h>

#define DH_ERROR_MESSAGE_MAX 1024

struct dh_error {
    int code; /* negative errno; 0 while unset */
    char message[DH_ERROR_MESSAGE_MAX];
};

/* Fills err (when err is non-NULL and still unset) and returns code, so that callers can write
 * `return dh_error_set(err, -ENOENT, "...")`. code must be negative. The first message wins: the
 * innermost failure knows the device and the file, the callers only know less. */
int dh_error_set(struct dh_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int dh_error_setv(struct dh_error *err, int code, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

/* Resets err to the unset state. */
void dh_error_clear(struct dh_error *err);

/* True when err holds a message. */
int dh_error_is_set(const struct dh_error *err);
