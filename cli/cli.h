/* The dpuhost CLI: shared context and the subcommand table's entry type. */
#pragma once

#include <stdbool.h>

#include <stddef.h>

#include <dpuhost/error.h>
#include <dpuhost/host.h>
#include <dpuhost/jsonw.h>

struct out_column;
struct dh_nl;
struct dh_devlink;

/* Exit statuses: 0 success, 1 the operation failed, 2 bad input (usage, malformed address,
 * unusable --root). Bad input never changes anything. */
#define EXIT_FAIL 1
#define EXIT_USAGE 2

struct cli_context {
    const char *root;      /* --root DIR, else $DPUHOST_ROOT, else "/" */
    bool json;             /* --json */
    bool pretty;           /* --pretty: indent the JSON (implies --json) */
    const char *state_dir; /* --state-dir DIR, else $DPUHOST_STATE_DIR, else /var/lib/dpuhost */
    const char *socket;    /* --socket PATH, else $DPUHOST_SOCKET, else /run/dpuhost/dpuhost.sock */
    const char *prog;
    /* How commands reach the kernel's netlink: dh_nl_open() and dh_devlink_open() in dpuhost,
     * connections to the fake peers in the tests that run a command in-process. Commands open
     * through these, never through the library's openers, so a command that uses one needs it set. */
    int (*nl_open)(struct dh_nl **ret, struct dh_error *err);
    int (*devlink_open)(struct dh_devlink **ret, struct dh_error *err);
};

struct cli_command {
    const char *name;
    const char *usage; /* arguments, for help */
    const char *summary;
    int (*run)(struct cli_context *ctx, int argc, char **argv);
};

/* Opens the host root; on failure prints the reason and returns NULL (exit status 2). */
struct dh_host *cli_open_host(struct cli_context *ctx);

/* Prints "dpuhost: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints err's message (or fallback with strerror(-r)) and returns the exit status for r. */
int cli_fail(const struct dh_error *err, int r, const char *fallback);

/* A writer for the command's JSON document (pretty when --pretty). NULL after printing an error. */
struct dh_jsonw *cli_writer(struct cli_context *ctx);
/* Prints the finished document: as JSON with --json, else as a table of doc[rows_key] with cols,
 * or as a key/value view when cols is NULL. Frees w. Returns 0 or an exit status. */
int cli_emit(struct cli_context *ctx, struct dh_jsonw *w, const char *rows_key, const struct out_column *cols,
             size_t n_cols);
/* "2.5" seconds -> 2500 ms; -1 when malformed. */
int cli_parse_seconds_ms(const char *s);

/* Commands */
int cmd_functions(struct cli_context *ctx, int argc, char **argv);
int cmd_show(struct cli_context *ctx, int argc, char **argv);
int cmd_cards(struct cli_context *ctx, int argc, char **argv);
int cmd_check(struct cli_context *ctx, int argc, char **argv);
int cmd_bind(struct cli_context *ctx, int argc, char **argv);
int cmd_restore(struct cli_context *ctx, int argc, char **argv);
int cmd_sriov(struct cli_context *ctx, int argc, char **argv);
int cmd_vf(struct cli_context *ctx, int argc, char **argv);
int cmd_representors(struct cli_context *ctx, int argc, char **argv);
int cmd_representor(struct cli_context *ctx, int argc, char **argv);
/* dpuhostd's API (cmd-claims.c) */
int cmd_status(struct cli_context *ctx, int argc, char **argv);
int cmd_pools(struct cli_context *ctx, int argc, char **argv);
int cmd_claim(struct cli_context *ctx, int argc, char **argv);
int cmd_claims(struct cli_context *ctx, int argc, char **argv);
int cmd_release(struct cli_context *ctx, int argc, char **argv);
int cmd_events(struct cli_context *ctx, int argc, char **argv);
/* dpuhostd's VMs (cmd-vm.c) */
int cmd_vm(struct cli_context *ctx, int argc, char **argv);
