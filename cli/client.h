/* The CLI's client of dpuhostd: HTTP/1.1 over its Unix socket (libcurl), JSON in and out. The
 * commands that talk to the daemon (cmd-claims.c, and bind/restore/sriov in cmd-host.c while it
 * runs) go through here, so that an unreachable daemon and the API's errors read the same
 * everywhere. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

struct out_column;

struct cli_reply {
    long status;
    char *body; /* NUL-terminated; owned */
    size_t len;
};
void cli_reply_clear(struct cli_reply *r);

/* Sends one request (body: JSON text or NULL) to ctx->socket. Returns 0 with the reply (whatever
 * its status), or, after printing why ("cannot reach dpuhostd at PATH: is it running?"), -EHOSTDOWN
 * when nobody answers or another negative errno. */
int cli_api(struct cli_context *ctx, const char *method, const char *path, const char *body,
            struct cli_reply *ret);
/* True when something answers on ctx->socket (quietly; used to decide between the daemon and local
 * work). */
bool cli_daemon_answers(struct cli_context *ctx);

/* The API's error message of a reply, printed as "dpuhost: WHAT: MESSAGE"; returns the exit status:
 * 2 for malformed or invalid input (400, 422), 1 otherwise. */
int cli_api_fail(const char *what, const struct cli_reply *r);

/* Prints a reply's JSON document through the one output path (cli_emit): as it came with --json
 * (indented with --pretty), else as a table of doc[rows_key] with cols (or key/value lines). When
 * wrap_key is set, the document is one row: it is rendered as {wrap_key: [doc]}. */
int cli_emit_reply(struct cli_context *ctx, const struct cli_reply *r, const char *wrap_key,
                   const char *rows_key, const struct out_column *cols, size_t n_cols);

/* Streams path (GET), calling on_line for each complete line (heartbeat newlines included, as empty
 * lines) until the daemon ends the stream or on_line returns non-zero. Returns the exit status: 0
 * when the daemon ended it (it stopped), on_line's value, or 1/2 after printing the error. */
int cli_api_stream(struct cli_context *ctx, const char *path,
                   int (*on_line)(void *userdata, const char *line), void *userdata);

/* s %-encoded for a path segment or query value (caller frees). */
char *cli_url_escape(const char *s);
