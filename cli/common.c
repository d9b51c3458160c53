/* The helpers every command uses: one way to report an error and to open the host root. Kept out
 * of main.c so that tests can run a command in-process without the command table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("dpuhost: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_fail(const struct dh_error *err, int r, const char *fallback)
{
    if (err && err->code)
        cli_error("%s", err->message);
    else
        cli_error("%s: %s", fallback, strerror(r < 0 ? -r : r));
    return r == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
}

struct dh_host *cli_open_host(struct cli_context *ctx)
{
    struct dh_host *host = NULL;
    struct dh_error err = {0};
    if (dh_host_new(ctx->root, &host, &err) < 0) {
        cli_error("%s", err.message);
        return NULL;
    }
    return host;
}
