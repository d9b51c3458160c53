/* Commands that talk to dpuhostd's API: status, pools, claim, claims, release, events. Input is
 * checked here first (a usage error never reaches the daemon, exit 2); the daemon's JSON is printed
 * as it is with --json, else rendered by the one output path. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <dpuhost/inventory.h>

#include "cli.h"
#include "client.h"
#include "output.h"
#include "util/macro.h"

static char *fmt_addresses(json_t *row)
{
    json_t *v = json_array(), *f;
    size_t i;
    json_array_foreach (json_object_get(row, "functions"), i, f)
        json_array_append(v, json_object_get(f, "address"));
    char *s = out_scalar(v);
    json_decref(v);
    return s;
}

static char *fmt_vfio(json_t *row)
{
    json_t *v = json_array(), *f;
    size_t i;
    json_array_foreach (json_object_get(row, "functions"), i, f)
        if (json_is_string(json_object_get(f, "vfio_device")))
            json_array_append(v, json_object_get(f, "vfio_device"));
    char *s = out_scalar(v);
    json_decref(v);
    return s;
}

static const struct out_column claim_columns[] = {
        {"ID", "id", NULL},           {"OWNER", "owner", NULL},           {"POOL", "pool", NULL},
        {"STATE", "state", NULL},     {"FUNCTIONS", NULL, fmt_addresses}, {"VFIO", NULL, fmt_vfio},
        {"CREATED", "created", NULL},
};

/* a released claim no longer has a state worth showing */
static const struct out_column released_columns[] = {
        {"RELEASED", "id", NULL},
        {"OWNER", "owner", NULL},
        {"POOL", "pool", NULL},
        {"FUNCTIONS", NULL, fmt_addresses},
};

static const struct out_column pool_columns[] = {
        {"NAME", "name", NULL},
        {"FORM", "form", NULL},
        {"BIND", "bind", NULL},
        {"TOTAL", "total", NULL},
        {"FREE", "free", NULL},
        {"CLAIMED", "claimed", NULL},
        {"UNAVAILABLE", "unavailable", NULL},
        {"DESCRIPTION", "description", NULL},
};

static const struct out_column check_columns[] = {
        {"CHECK", "name", NULL},
        {"STATUS", "status", NULL},
        {"DETAIL", "detail", NULL},
        {"REMEDY", "remedy", NULL},
};

/* GET path, then print rows_key of the answer as a table. */
static int get_and_emit(struct cli_context *ctx, const char *what, const char *path, const char *rows_key,
                        const struct out_column *cols, size_t n_cols)
{
    struct cli_reply r;
    if (cli_api(ctx, "GET", path, NULL, &r) < 0)
        return EXIT_FAIL;
    int e = r.status == 200 ? cli_emit_reply(ctx, &r, NULL, rows_key, cols, n_cols) : cli_api_fail(what, &r);
    cli_reply_clear(&r);
    return e;
}

static int no_arguments(const char *name, int argc, char **argv, const char *usage)
{
    if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
        printf("Usage: dpuhost %s%s [--json]\n", name, usage);
        return -1;
    }
    if (argc > 1) {
        cli_error("%s: unexpected argument '%s'", name, argv[1]);
        return EXIT_USAGE;
    }
    return 0;
}

int cmd_status(struct cli_context *ctx, int argc, char **argv)
{
    int u = no_arguments("status", argc, argv, "");
    if (u)
        return u < 0 ? 0 : u;
    struct cli_reply r;
    if (cli_api(ctx, "GET", "/v1/host", NULL, &r) < 0)
        return EXIT_FAIL;
    if (r.status != 200) {
        int e = cli_api_fail("status", &r);
        cli_reply_clear(&r);
        return e;
    }
    if (ctx->json) {
        int e = cli_emit_reply(ctx, &r, NULL, NULL, NULL, 0);
        cli_reply_clear(&r);
        return e;
    }
    _cleanup_(json_decrefp) json_t *doc = json_loadb(r.body, r.len, 0, NULL);
    cli_reply_clear(&r);
    json_t *pf = json_object_get(doc, "preflight");
    if (!doc || !pf)
        return cli_error("status: dpuhostd's answer has no preflight"), EXIT_FAIL;
    /* a summary, then the checks: two documents, each through the output path */
    struct dh_jsonw *w = cli_writer(ctx);
    if (!w)
        return EXIT_FAIL;
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "dpuhostd", json_string_value(json_object_get(doc, "version")));
    dh_jsonw_kv_string(w, "socket", ctx->socket);
    dh_jsonw_kv_string(w, "root", json_string_value(json_object_get(doc, "root")));
    dh_jsonw_kv_int(w, "uptime_seconds", json_integer_value(json_object_get(doc, "uptime_seconds")));
    dh_jsonw_kv_bool(w, "ready", json_is_true(json_object_get(doc, "ready")));
    dh_jsonw_kv_bool(w, "passthrough_ok", json_is_true(json_object_get(pf, "passthrough_ok")));
    dh_jsonw_end_object(w);
    int e = cli_emit(ctx, w, NULL, NULL, 0);
    if (e)
        return e;
    putchar('\n');
    _cleanup_free_ char *checks = json_dumps(pf, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!checks || !(w = cli_writer(ctx)))
        return EXIT_FAIL;
    dh_jsonw_raw(w, checks, strlen(checks));
    return cli_emit(ctx, w, "checks", check_columns, ELEMENTSOF(check_columns));
}

int cmd_pools(struct cli_context *ctx, int argc, char **argv)
{
    int u = no_arguments("pools", argc, argv, "");
    if (u)
        return u < 0 ? 0 : u;
    return get_and_emit(ctx, "pools", "/v1/pools", "pools", pool_columns, ELEMENTSOF(pool_columns));
}

static int parse_int(const char *what, const char *s, long min, long max, long *ret)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max) {
        cli_error("claim: bad %s '%s': give %ld to %ld", what, s, min, max);
        return EXIT_USAGE;
    }
    *ret = v;
    return 0;
}

int cmd_claim(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
            {"owner", required_argument, NULL, 'o'},
            {"pool", required_argument, NULL, 'p'},
            {"count", required_argument, NULL, 'n'},
            {"address", required_argument, NULL, 'a'},
            {"numa-node", required_argument, NULL, 'N'},
            {"label", required_argument, NULL, 'l'},
            {"request-id", required_argument, NULL, 'r'},
            {"help", no_argument, NULL, 'h'},
            {},
    };
    _cleanup_(json_decrefp) json_t *body = json_object();
    _cleanup_(json_decrefp) json_t *labels = json_object();
    if (!body || !labels)
        return cli_error("out of memory"), EXIT_FAIL;
    const char *owner = NULL, *pool = NULL, *address = NULL;
    bool has_count = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
        long v;
        switch (c) {
        case 'o':
            owner = optarg;
            json_object_set_new(body, "owner", json_string(optarg));
            break;
        case 'p':
            pool = optarg;
            json_object_set_new(body, "pool", json_string(optarg));
            break;
        case 'a':
            address = optarg;
            json_object_set_new(body, "address", json_string(optarg));
            break;
        case 'n':
            if (parse_int("--count", optarg, 1, 64, &v))
                return EXIT_USAGE;
            has_count = true;
            json_object_set_new(body, "count", json_integer(v));
            break;
        case 'N':
            if (parse_int("--numa-node", optarg, 0, 1023, &v))
                return EXIT_USAGE;
            json_object_set_new(body, "numa_node", json_integer(v));
            break;
        case 'l': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                cli_error("claim: bad --label '%s': give KEY=VALUE", optarg);
                return EXIT_USAGE;
            }
            _cleanup_free_ char *key = strndup(optarg, (size_t)(eq - optarg));
            if (!key)
                return EXIT_FAIL;
            if (json_object_get(labels, key)) {
                cli_error("claim: --label %s is given twice", key);
                return EXIT_USAGE;
            }
            json_object_set_new(labels, key, json_string(eq + 1));
            break;
        }
        case 'r':
            json_object_set_new(body, "request_id", json_string(optarg));
            break;
        case 'h':
            printf("Usage: dpuhost claim --owner O (--pool P [--count N] | --address A) [--numa-node N]\n"
                   "                     [--label K=V]... [--request-id ID] [--json]\n"
                   "  The same request again (or the same --request-id) returns the same claim.\n");
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("claim: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (!owner || !*owner) {
        cli_error("claim: --owner is required (the VM or sandbox the functions are for)");
        return EXIT_USAGE;
    }
    if (!pool == !address) {
        cli_error("claim: give exactly one of --pool P or --address A");
        return EXIT_USAGE;
    }
    if (address && has_count) {
        cli_error("claim: --count goes with --pool; an address names one function");
        return EXIT_USAGE;
    }
    if (address && !dh_func_address_is_valid(address)) {
        cli_error("claim: malformed address '%s': expected DDDD:BB:DD.F (e.g. 0000:03:00.2); nothing was "
                  "changed",
                  address);
        return EXIT_USAGE;
    }
    if (json_object_size(labels))
        json_object_set(body, "labels", labels);
    _cleanup_free_ char *text = json_dumps(body, JSON_COMPACT);
    struct cli_reply r;
    if (!text)
        return cli_error("out of memory"), EXIT_FAIL;
    if (cli_api(ctx, "POST", "/v1/claims", text, &r) < 0)
        return EXIT_FAIL;
    int e = r.status == 200 || r.status == 201
                    ? cli_emit_reply(ctx, &r, "claims", NULL, claim_columns, ELEMENTSOF(claim_columns))
                    : cli_api_fail("claim", &r);
    cli_reply_clear(&r);
    return e;
}

/* The options of claims and release: --owner O and --help (which prints usage). Returns -1 to go
 * on, or the exit status. */
static int parse_owner_option(int argc, char **argv, const char *usage, const char **owner)
{
    static const struct option options[] = {
            {"owner", required_argument, NULL, 'o'},
            {"help", no_argument, NULL, 'h'},
            {},
    };
    int c;
    *owner = NULL;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
        switch (c) {
        case 'o':
            *owner = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            return EXIT_USAGE;
        }
    return -1;
}

int cmd_claims(struct cli_context *ctx, int argc, char **argv)
{
    const char *owner;
    int e = parse_owner_option(argc, argv, "Usage: dpuhost claims [--owner O] [--json]\n", &owner);
    if (e >= 0)
        return e;
    if (optind < argc) {
        cli_error("claims: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (owner && !*owner) {
        cli_error("claims: --owner is empty");
        return EXIT_USAGE;
    }
    _cleanup_free_ char *esc = owner ? cli_url_escape(owner) : NULL;
    _cleanup_free_ char *path = NULL;
    if ((owner && !esc) || asprintf(&path, "/v1/claims%s%s", esc ? "?owner=" : "", esc ? esc : "") < 0)
        return cli_error("out of memory"), EXIT_FAIL;
    return get_and_emit(ctx, "claims", path, "claims", claim_columns, ELEMENTSOF(claim_columns));
}

int cmd_release(struct cli_context *ctx, int argc, char **argv)
{
    const char *owner;
    int e = parse_owner_option(
            argc, argv,
            "Usage: dpuhost release ID [--json]\n"
            "       dpuhost release --owner O [--json]   every claim of owner O\n"
            "  Bound functions go back to their recorded driver. A function still held open (QEMU\n"
            "  running) keeps its claim in state releasing: stop the VM and release again.\n",
            &owner);
    if (e >= 0)
        return e;
    int left = argc - optind;
    if ((owner && left != 0) || (!owner && left != 1)) {
        cli_error("release: give a claim ID, or --owner O (not both)");
        return EXIT_USAGE;
    }
    const char *what = owner ? owner : argv[optind];
    if (!*what) {
        cli_error("release: the %s is empty", owner ? "owner" : "claim ID");
        return EXIT_USAGE;
    }
    _cleanup_free_ char *esc = cli_url_escape(what);
    _cleanup_free_ char *path = NULL;
    if (!esc || asprintf(&path, owner ? "/v1/claims?owner=%s" : "/v1/claims/%s", esc) < 0)
        return cli_error("out of memory"), EXIT_FAIL;
    struct cli_reply r;
    if (cli_api(ctx, "DELETE", path, NULL, &r) < 0)
        return EXIT_FAIL;
    if (r.status != 200)
        e = cli_api_fail("release", &r);
    else if (owner)
        e = cli_emit_reply(ctx, &r, NULL, NULL, NULL, 0);
    else
        e = cli_emit_reply(ctx, &r, "claims", NULL, released_columns, ELEMENTSOF(released_columns));
    cli_reply_clear(&r);
    return e;
}

/* One event per line: --json prints the daemon's line as it is; text is SEQ TIME TYPE and what
 * the event is about. A stream has no end to align columns by, so this is the one place that
 * prints rows without a table. */
static int print_event(void *userdata, const char *line)
{
    struct cli_context *ctx = userdata;
    if (!*line)
        return 0; /* heartbeat */
    if (ctx->json) {
        puts(line);
        fflush(stdout);
        return 0;
    }
    _cleanup_(json_decrefp) json_t *e = json_loads(line, 0, NULL);
    if (!e) {
        cli_error("events: a line from dpuhostd is not JSON: %s", line);
        return EXIT_FAIL;
    }
    json_t *data = json_object_get(e, "data");
    const char *type = json_string_value(json_object_get(e, "type"));
    _cleanup_free_ char *seq = out_scalar(json_object_get(e, "seq"));
    _cleanup_free_ char *when = out_scalar(json_object_get(e, "time"));
    _cleanup_free_ char *what = NULL;
    if (type && streq(type, "vm_state")) {
        if (asprintf(&what, "%s name=%s state=%s reason=\"%s\"",
                     json_string_value(json_object_get(data, "id")),
                     json_string_value(json_object_get(data, "name")),
                     json_string_value(json_object_get(data, "state")),
                     json_string_value(json_object_get(data, "reason")) ?: "") < 0)
            what = NULL;
    } else if (type && streq(type, "vm_device")) {
        if (asprintf(&what, "%s name=%s device=%s address=%s state=%s",
                     json_string_value(json_object_get(data, "vm")),
                     json_string_value(json_object_get(data, "name")),
                     json_string_value(json_object_get(data, "device")),
                     json_string_value(json_object_get(data, "address")),
                     json_string_value(json_object_get(data, "state"))) < 0)
            what = NULL;
    } else if (json_object_get(data, "id")) {
        _cleanup_free_ char *addrs = fmt_addresses(data);
        if (asprintf(&what, "%s owner=%s pool=%s functions=%s",
                     json_string_value(json_object_get(data, "id")),
                     json_string_value(json_object_get(data, "owner")),
                     json_string_value(json_object_get(data, "pool")), addrs ? addrs : "-") < 0)
            what = NULL;
    } else if (json_object_get(data, "address")) {
        _cleanup_free_ char *kind = out_scalar(json_object_get(data, "kind"));
        _cleanup_free_ char *pf = out_scalar(json_object_get(data, "pf"));
        if (asprintf(&what, "%s kind=%s pf=%s", json_string_value(json_object_get(data, "address")), kind,
                     pf) < 0)
            what = NULL;
    } else
        what = json_is_null(data) || !data ? strdup("-") : json_dumps(data, JSON_COMPACT);
    printf("%-6s %-24s %-17s %s\n", seq ? seq : "-", when ? when : "-", type ? type : "?", what ? what : "-");
    fflush(stdout);
    return 0;
}

int cmd_events(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
            {"since", required_argument, NULL, 's'},
            {"help", no_argument, NULL, 'h'},
            {},
    };
    const char *since = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
        switch (c) {
        case 's':
            since = optarg;
            if (!*since || strspn(since, "0123456789") != strlen(since) || strlen(since) > 19) {
                cli_error("events: bad --since '%s': give an event sequence number", since);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            printf("Usage: dpuhost events [--since N] [--json]\n"
                   "  Follows dpuhostd's events (claimed, released, function_added, function_removed, ...)\n"
                   "  until it stops; --since N replays the buffered ones from sequence number N.\n");
            return 0;
        default:
            return EXIT_USAGE;
        }
    if (optind < argc) {
        cli_error("events: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "/v1/events%s%s", since ? "?since=" : "", since ? since : "") < 0)
        return EXIT_FAIL;
    if (!ctx->json)
        printf("%-6s %-24s %-17s %s\n", "SEQ", "TIME", "TYPE", "DETAIL");
    fflush(stdout);
    return cli_api_stream(ctx, path, print_event, ctx);
}
