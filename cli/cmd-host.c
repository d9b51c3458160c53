/* Host preparation commands: check (preflight), bind, restore, sriov. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <limits.h>

#include <dpuhost/inventory.h>
#include <dpuhost/netlink.h>
#include <dpuhost/vfio.h>

#include "cli.h"
#include "client.h"
#include "output.h"
#include "util/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct dh_host *, dh_host_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dh_store *, dh_store_close);

static const struct out_column check_columns[] = {
        {"CHECK", "name", NULL},
        {"STATUS", "status", NULL},
        {"DETAIL", "detail", NULL},
        {"REMEDY", "remedy", NULL},
};

int cmd_check(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
            {"qemu", required_argument, NULL, 'q'},
            {"help", no_argument, NULL, 'h'},
            {},
    };
    struct dh_preflight_options opts = {0};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
        switch (c) {
        case 'q':
            opts.qemu_binary = optarg;
            break;
        case 'h':
            printf("Usage: dpuhost check [--qemu BINARY] [--json]\n"
                   "Exit status 0 when passthrough can work, 1 when a check fails.\n");
            return 0;
        default:
            return EXIT_USAGE;
        }
    if (optind < argc) {
        cli_error("check: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    _cleanup_(dh_host_freep) struct dh_host *host = cli_open_host(ctx);
    if (!host)
        return EXIT_USAGE;
    struct dh_preflight p;
    if (dh_preflight_run(host, &opts, &p) < 0)
        return cli_error("check: out of memory"), EXIT_FAIL;
    struct dh_jsonw *w = cli_writer(ctx);
    if (!w)
        return EXIT_FAIL;
    dh_preflight_write_json(w, &p);
    int r = cli_emit(ctx, w, "checks", check_columns, ELEMENTSOF(check_columns));
    if (r == 0 && !ctx->json)
        printf("\npassthrough: %s\n", p.passthrough_ok ? "ready" : "NOT ready (see the failed checks)");
    return r ? r : (p.passthrough_ok ? 0 : EXIT_FAIL);
}

/* The state store under the state directory (created 0700 when missing). */
static struct dh_store *open_store(struct cli_context *ctx)
{
    if (mkdir(ctx->state_dir, 0700) < 0 && errno != EEXIST) {
        cli_error("cannot create the state directory %s: %s (pass --state-dir DIR)", ctx->state_dir,
                  strerror(errno));
        return NULL;
    }
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/dpuhost.db", ctx->state_dir) < 0)
        return NULL;
    struct dh_store *s = NULL;
    struct dh_error err = {0};
    if (dh_store_open(path, &s, &err) < 0) {
        cli_error("%s", err.message);
        return NULL;
    }
    return s;
}

/* Whether bind, restore and sriov go through dpuhostd: when it answers on ctx->socket and serves
 * this same host root, it is the only writer of the state store and the CLI asks it instead of
 * writing itself. 1: the daemon; 0: local work; negative: -(exit status) after an error was printed
 * (the daemon answers but refuses us, or is not ready: working behind its back is not an option). */
static int via_daemon(struct cli_context *ctx)
{
    if (!cli_daemon_answers(ctx))
        return 0;
    struct cli_reply r;
    if (cli_api(ctx, "GET", "/v1/host", NULL, &r) < 0)
        return -EXIT_FAIL;
    if (r.status != 200) {
        int e = cli_api_fail("dpuhostd", &r);
        cli_reply_clear(&r);
        return -e;
    }
    json_t *doc = json_loadb(r.body, r.len, 0, NULL);
    cli_reply_clear(&r);
    const char *theirs = json_string_value(json_object_get(doc, "root"));
    char a[PATH_MAX], b[PATH_MAX];
    bool same = theirs && realpath(theirs, a) && realpath(ctx->root ? ctx->root : "/", b) && streq(a, b);
    json_decref(doc);
    return same;
}

/* A request whose answer is {"results":[...]} (200, or 409 when some failed). */
static int post_results(struct cli_context *ctx, const char *name, const char *path, json_t *body);

static const struct out_column result_columns[] = {
        {"ADDRESS", "address", NULL},
        {"OK", "ok", NULL},
        {"MESSAGE", "message", NULL},
};

typedef int (*vfio_op)(struct dh_vfio_ctx *, const char *const *, size_t, struct dh_vfio_result *,
                       struct dh_error *);

static int bind_op(struct dh_vfio_ctx *vctx, const char *const *a, size_t n, struct dh_vfio_result *res,
                   struct dh_error *err, unsigned flags)
{
    return dh_vfio_bind(vctx, a, n, flags, res, err);
}

/* bind and restore: the same shape, one library call each. */
static int run_vfio(struct cli_context *ctx, int argc, char **argv, bool is_bind)
{
    static const struct option options[] = {
            {"force", no_argument, NULL, 'f'},      {"timeout", required_argument, NULL, 't'},
            {"wait", required_argument, NULL, 'w'}, {"parallel", required_argument, NULL, 'p'},
            {"help", no_argument, NULL, 'h'},       {},
    };
    const char *name = is_bind ? "bind" : "restore";
    unsigned flags = 0;
    int timeout_ms = 0, wait_ms = 0, parallel = 0;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
        switch (c) {
        case 'f':
            if (!is_bind) {
                cli_error("restore: --force is not an option of restore");
                return EXIT_USAGE;
            }
            flags |= DH_BIND_FORCE;
            break;
        case 't':
        case 'w': {
            int v = cli_parse_seconds_ms(optarg);
            if (v < 0) {
                cli_error("%s: bad number of seconds '%s'", name, optarg);
                return EXIT_USAGE;
            }
            if (c == 't')
                timeout_ms = v;
            else
                wait_ms = v;
            break;
        }
        case 'p': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 32) {
                cli_error("%s: bad --parallel '%s': give 1 to 32", name, optarg);
                return EXIT_USAGE;
            }
            parallel = (int)v;
            break;
        }
        case 'h':
            if (is_bind)
                printf("Usage: dpuhost bind ADDR... [--force] [--timeout SECONDS] [--parallel N] [--json]\n"
                       "  --force   bind even when the host uses the function (addresses, routes, mounts);\n"
                       "            never overrides IOMMU group viability\n");
            else
                printf("Usage: dpuhost restore ADDR... [--wait SECONDS] [--timeout SECONDS] [--parallel N] "
                       "[--json]\n"
                       "  --wait    how long to wait for processes that hold /dev/vfio/N (default 10)\n");
            return 0;
        default:
            return EXIT_USAGE;
        }
    size_t n = (size_t)(argc - optind);
    if (n == 0) {
        cli_error("%s: give at least one address (DDDD:BB:DD.F)", name);
        return EXIT_USAGE;
    }
    const char *const *addrs = (const char *const *)argv + optind;
    for (size_t i = 0; i < n; i++)
        if (!dh_func_address_is_valid(addrs[i])) {
            cli_error("%s: malformed address '%s': expected DDDD:BB:DD.F (e.g. 0000:03:00.2); nothing was "
                      "changed",
                      name, addrs[i]);
            return EXIT_USAGE;
        }
    int d = via_daemon(ctx);
    if (d < 0)
        return -d;
    if (d) {
        if (timeout_ms || wait_ms || parallel)
            cli_error("note: --timeout, --wait and --parallel are ignored while dpuhostd runs: its "
                      "configuration decides (bind_timeout_ms, restore_wait_ms)");
        json_t *body = json_object(), *list = json_array();
        for (size_t i = 0; body && list && i < n; i++)
            json_array_append_new(list, json_string(addrs[i]));
        json_object_set_new(body, "addresses", list);
        if (flags & DH_BIND_FORCE)
            json_object_set_new(body, "force", json_true());
        int e = post_results(ctx, name, is_bind ? "/v1/bind" : "/v1/restore", body);
        json_decref(body);
        return e;
    }
    _cleanup_(dh_host_freep) struct dh_host *host = cli_open_host(ctx);
    if (!host)
        return EXIT_USAGE;
    _cleanup_(dh_store_closep) struct dh_store *store = open_store(ctx);
    if (!store)
        return EXIT_FAIL;
    struct dh_nl *nl = NULL;
    struct dh_vfio_net net;
    if (dh_host_is_real_root(host) && ctx->nl_open && ctx->nl_open(&nl, NULL) == 0)
        net = dh_vfio_net_netlink(nl);
    struct dh_vfio_ctx vctx = {
            .host = host,
            .store = store,
            .net = nl ? &net : NULL,
            .timeout_ms = timeout_ms,
            .holder_timeout_ms = wait_ms,
            .parallel = parallel,
    };
    struct dh_vfio_result *res = calloc(n, sizeof(*res));
    if (!res) {
        dh_nl_free(nl);
        return cli_error("out of memory"), EXIT_FAIL;
    }
    struct dh_error err = {0};
    int r = is_bind ? bind_op(&vctx, addrs, n, res, &err, flags)
                    : dh_vfio_restore(&vctx, addrs, n, res, &err);
    dh_nl_free(nl);
    if (r == -EINVAL && err.code) {
        free(res);
        cli_error("%s: %s", name, err.message);
        return EXIT_USAGE;
    }
    if (r < 0 && err.code) {
        free(res);
        cli_error("%s: %s", name, err.message);
        return EXIT_FAIL;
    }
    struct dh_jsonw *w = cli_writer(ctx);
    if (!w) {
        free(res);
        return EXIT_FAIL;
    }
    dh_vfio_results_write_json(w, res, n);
    free(res);
    int e = cli_emit(ctx, w, "results", result_columns, ELEMENTSOF(result_columns));
    return e ? e : (r < 0 ? EXIT_FAIL : 0);
}

static int post_results(struct cli_context *ctx, const char *name, const char *path, json_t *body)
{
    _cleanup_free_ char *text = json_dumps(body, JSON_COMPACT);
    if (!text)
        return cli_error("out of memory"), EXIT_FAIL;
    struct cli_reply r;
    if (cli_api(ctx, "POST", path, text, &r) < 0)
        return EXIT_FAIL;
    json_t *doc = json_loadb(r.body, r.len, 0, NULL);
    bool results = json_is_array(json_object_get(doc, "results"));
    json_decref(doc);
    int e;
    if ((r.status == 200 || r.status == 409) && results) {
        e = cli_emit_reply(ctx, &r, NULL, "results", result_columns, ELEMENTSOF(result_columns));
        if (!e && r.status != 200)
            e = EXIT_FAIL;
    } else
        e = cli_api_fail(name, &r);
    cli_reply_clear(&r);
    return e;
}

int cmd_bind(struct cli_context *ctx, int argc, char **argv)
{
    return run_vfio(ctx, argc, argv, true);
}

int cmd_restore(struct cli_context *ctx, int argc, char **argv)
{
    return run_vfio(ctx, argc, argv, false);
}

/* The same output as the local sriov: {"address","ok","num_vfs","error"}, or "PF: N VFs". */
static int sriov_via_daemon(struct cli_context *ctx, const char *pf, int num_vfs, int autoprobe,
                            int timeout_ms)
{
    if (timeout_ms)
        cli_error("note: --timeout is ignored while dpuhostd runs");
    json_t *body = json_pack("{s:s, s:i}", "address", pf, "num_vfs", num_vfs);
    if (body && autoprobe >= 0)
        json_object_set_new(body, "autoprobe", json_boolean(autoprobe));
    _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return cli_error("out of memory"), EXIT_FAIL;
    struct cli_reply r;
    if (cli_api(ctx, "POST", "/v1/sriov", text, &r) < 0)
        return EXIT_FAIL;
    int e = 0;
    json_t *doc = json_loadb(r.body, r.len, 0, NULL);
    const char *msg = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
    if (r.status != 200)
        e = r.status == 400 || r.status == 422 ? EXIT_USAGE : EXIT_FAIL;
    if (ctx->json) {
        struct dh_jsonw *w = cli_writer(ctx);
        if (w) {
            dh_jsonw_begin_object(w);
            dh_jsonw_kv_string(w, "address", pf);
            dh_jsonw_kv_bool(w, "ok", e == 0);
            dh_jsonw_kv_int(w, "num_vfs", num_vfs);
            dh_jsonw_kv_string(w, "error", e ? (msg ? msg : "dpuhostd refused") : NULL);
            dh_jsonw_end_object(w);
            int x = cli_emit(ctx, w, NULL, NULL, 0);
            e = e ? e : x;
        }
    } else if (e)
        cli_api_fail("sriov", &r);
    else
        printf("%s: %d VFs\n", pf, num_vfs);
    json_decref(doc);
    cli_reply_clear(&r);
    return e;
}

int cmd_sriov(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
            {"num-vfs", required_argument, NULL, 'n'},
            {"autoprobe", required_argument, NULL, 'a'},
            {"timeout", required_argument, NULL, 't'},
            {"help", no_argument, NULL, 'h'},
            {},
    };
    int num_vfs = -1, autoprobe = -1, timeout_ms = 0;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
        switch (c) {
        case 'n': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 0 || v > 65535) {
                cli_error("sriov: bad --num-vfs '%s': give a count from 0", optarg);
                return EXIT_USAGE;
            }
            num_vfs = (int)v;
            break;
        }
        case 'a':
            if (streq(optarg, "on"))
                autoprobe = 1;
            else if (streq(optarg, "off"))
                autoprobe = 0;
            else {
                cli_error("sriov: bad --autoprobe '%s': use on or off", optarg);
                return EXIT_USAGE;
            }
            break;
        case 't':
            timeout_ms = cli_parse_seconds_ms(optarg);
            if (timeout_ms < 0) {
                cli_error("sriov: bad number of seconds '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            printf("Usage: dpuhost sriov ADDR --num-vfs N [--autoprobe on|off] [--timeout SECONDS]\n");
            return 0;
        default:
            return EXIT_USAGE;
        }
    if (argc - optind != 1 || num_vfs < 0) {
        cli_error("sriov: usage: dpuhost sriov ADDR --num-vfs N [--autoprobe on|off]");
        return EXIT_USAGE;
    }
    const char *pf = argv[optind];
    if (!dh_pci_addr_is_valid(pf)) {
        cli_error("sriov: malformed address '%s': expected DDDD:BB:DD.F", pf);
        return EXIT_USAGE;
    }
    int d = via_daemon(ctx);
    if (d < 0)
        return -d;
    if (d)
        return sriov_via_daemon(ctx, pf, num_vfs, autoprobe, timeout_ms);
    _cleanup_(dh_host_freep) struct dh_host *host = cli_open_host(ctx);
    if (!host)
        return EXIT_USAGE;
    _cleanup_(dh_store_closep) struct dh_store *store = open_store(ctx);
    if (!store)
        return EXIT_FAIL;
    struct dh_error err = {0};
    int r = dh_sriov_configure(host, store, pf, num_vfs, autoprobe, timeout_ms, &err);
    struct dh_jsonw *w = cli_writer(ctx);
    if (!w)
        return EXIT_FAIL;
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "address", pf);
    dh_jsonw_kv_bool(w, "ok", r == 0);
    dh_jsonw_kv_int(w, "num_vfs", num_vfs);
    dh_jsonw_kv_string(w, "error", r < 0 ? err.message : NULL);
    dh_jsonw_end_object(w);
    if (ctx->json)
        return cli_emit(ctx, w, NULL, NULL, 0) ? EXIT_FAIL : (r < 0 ? EXIT_FAIL : 0);
    dh_jsonw_free(w);
    if (r < 0) {
        cli_error("sriov: %s", err.message);
        return r == -EINVAL || r == -ERANGE ? EXIT_USAGE : EXIT_FAIL;
    }
    printf("%s: %d VFs\n", pf, num_vfs);
    return 0;
}
