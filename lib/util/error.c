/* struct dh_error: a caller-owned error slot filled once by the innermost failure. */
#include <dpuhost/error.h>

#include <stdio.h>
#include <string.h>

int dh_error_setv(struct dh_error *err, int code, const char *fmt, va_list ap)
{
    if (code >= 0)
        code = -5; /* -EIO: a caller passed a non-error; still report a failure */
    if (!err || err->code != 0)
        return code;
    err->code = code;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    return code;
}

int dh_error_set(struct dh_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    code = dh_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void dh_error_clear(struct dh_error *err)
{
    if (!err)
        return;
    err->code = 0;
    err->message[0] = '\0';
}

int dh_error_is_set(const struct dh_error *err)
{
    return err && err->code != 0;
}
