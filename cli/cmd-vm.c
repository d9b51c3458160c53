/* dpuhost vm: QEMU VMs run by dpuhostd (docs/vms.md). Every subcommand is one call of /v1/vms; the
 * spec is checked here only as far as the command line goes (option syntax, numbers, addresses),
 * the daemon validates the rest, so a VM made from the CLI and one made by a client of the API
 * are the same. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <dpuhost/inventory.h>

#include "cli.h"
#include "client.h"
#include "output.h"
#include "util/macro.h"

static char *fmt_devices(json_t *vm)
{
    json_t *v = json_array(), *d;
    size_t i;
    json_array_foreach (json_object_get(vm, "devices"), i, d) {
        const char *state = json_string_value(json_object_get(d, "state"));
        char *cell = NULL;
        if (asprintf(&cell, "%s=%s%s%s", json_string_value(json_object_get(d, "id")),
                     json_string_value(json_object_get(d, "address")),
                     state && !streq(state, "attached") ? " " : "",
                     state && !streq(state, "attached") ? state : "") < 0)
            continue;
        json_array_append_new(v, json_string(cell));
        free(cell);
    }
    char *s = out_scalar(v);
    json_decref(v);
    return s;
}

static const struct out_column vm_columns[] = {
        {"ID", "id", NULL},         {"NAME", "name", NULL}, {"STATE", "state", NULL},
        {"ACCEL", "accel", NULL},   {"PID", "pid", NULL},   {"DEVICES", NULL, fmt_devices},
        {"REASON", "reason", NULL},
};

static const struct out_column device_columns[] = {
        {"VM", "vm", NULL},     {"DEVICE", "id", NULL},   {"ADDRESS", "address", NULL},
        {"PORT", "port", NULL}, {"STATE", "state", NULL}, {"CLAIM", "claim", NULL},
};

static int usage(FILE *f)
{
    fprintf(f,
            "Usage: dpuhost vm list [--json]\n"
            "       dpuhost vm show VM [--json]\n"
            "       dpuhost vm create NAME [--vcpus N] [--memory MIB] [--accel auto|kvm|tcg]\n"
            "                 [--kernel FILE [--initrd FILE] [--cmdline TEXT] | --disk FILE [--format "
            "raw|qcow2]]\n"
            "                 [--device pool=P|address=A[,boot]]... [--env KEY=VALUE]...\n"
            "                 [--hotplug-slots N] [--console-log FILE] [--no-start] [--json]\n"
            "       dpuhost vm create --spec FILE [--no-start]   (the JSON spec of docs/vms.md; - is stdin)\n"
            "       dpuhost vm start|reset|delete VM [--json]\n"
            "       dpuhost vm stop VM [--force] [--json]\n"
            "       dpuhost vm attach VM (--pool P | --address A) [--json]\n"
            "       dpuhost vm detach VM DEVICE [--json]\n"
            "  VM is a VM's name or id. The VM's functions are claimed (owner vm:NAME) and bound to\n"
            "  vfio-pci when it starts, and given back when its QEMU has exited.\n");
    return f == stdout ? 0 : EXIT_USAGE;
}

/* How an answer is printed: as a table of rows_key (a document wrapped as {wrap_key: [doc]} first
 * when it is one row), or as key/value lines when both are NULL. */
struct view {
    const char *wrap_key, *rows_key;
    const struct out_column *cols;
    size_t n_cols;
};
#define VM_ROW ((struct view){"vms", "vms", vm_columns, ELEMENTSOF(vm_columns)})
#define VM_LIST ((struct view){NULL, "vms", vm_columns, ELEMENTSOF(vm_columns)})
#define DEVICE_ROW ((struct view){"devices", "devices", device_columns, ELEMENTSOF(device_columns)})
#define KEY_VALUE ((struct view){NULL, NULL, NULL, 0})

/* One request; prints the answer through the output path on one of the ok statuses. */
static int call(struct cli_context *ctx, const char *what, const char *method, const char *path,
                const char *body, long ok1, long ok2, struct view view)
{
    struct cli_reply r;
    if (cli_api(ctx, method, path, body, &r) < 0)
        return EXIT_FAIL;
    int e = r.status == ok1 || r.status == ok2
                    ? cli_emit_reply(ctx, &r, view.wrap_key, view.rows_key, view.cols, view.n_cols)
                    : cli_api_fail(what, &r);
    cli_reply_clear(&r);
    return e;
}

static char *vm_path(const char *vm, const char *suffix)
{
    _cleanup_free_ char *esc = cli_url_escape(vm);
    char *path = NULL;
    if (!esc || asprintf(&path, "/v1/vms/%s%s", esc, suffix) < 0)
        return NULL;
    return path;
}

static int parse_long(const char *what, const char *s, long min, long max, long *ret)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max) {
        cli_error("vm create: bad %s '%s': give %ld to %ld", what, s, min, max);
        return EXIT_USAGE;
    }
    *ret = v;
    return 0;
}

/* --device pool=P|address=A[,boot] */
static int parse_device(const char *arg, json_t *devices)
{
    _cleanup_free_ char *copy = strdup(arg);
    if (!copy)
        return EXIT_FAIL;
    _cleanup_(json_decrefp) json_t *d = json_object();
    for (char *save = NULL, *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        const char *v;
        if ((v = startswith(kv, "pool=")) && *v && !json_object_get(d, "pool"))
            json_object_set_new(d, "pool", json_string(v));
        else if ((v = startswith(kv, "address=")) && dh_func_address_is_valid(v) &&
                 !json_object_get(d, "address"))
            json_object_set_new(d, "address", json_string(v));
        else if (streq(kv, "boot") && !json_object_get(d, "boot"))
            json_object_set_new(d, "boot", json_true());
        else {
            cli_error("vm create: bad --device '%s' at '%s': give pool=P or address=DDDD:BB:DD.F, optionally "
                      "followed by ,boot",
                      arg, kv);
            return EXIT_USAGE;
        }
    }
    if (!json_object_get(d, "pool") == !json_object_get(d, "address")) {
        cli_error("vm create: --device '%s' needs exactly one of pool=P or address=A", arg);
        return EXIT_USAGE;
    }
    json_array_append(devices, d);
    return 0;
}

static json_t *read_spec(const char *file)
{
    json_error_t jerr;
    json_t *spec = streq(file, "-") ? json_loadf(stdin, 0, &jerr) : json_load_file(file, 0, &jerr);
    if (!spec)
        cli_error("vm create: %s: line %d: %s", streq(file, "-") ? "stdin" : file, jerr.line, jerr.text);
    else if (!json_is_object(spec)) {
        cli_error("vm create: %s: the spec must be a JSON object (docs/vms.md)", file);
        json_decref(spec);
        spec = NULL;
    }
    return spec;
}

static int vm_create(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
            {"vcpus", required_argument, NULL, 'c'},
            {"memory", required_argument, NULL, 'm'},
            {"accel", required_argument, NULL, 'a'},
            {"kernel", required_argument, NULL, 'k'},
            {"initrd", required_argument, NULL, 'i'},
            {"cmdline", required_argument, NULL, 'C'},
            {"disk", required_argument, NULL, 'd'},
            {"format", required_argument, NULL, 'f'},
            {"device", required_argument, NULL, 'D'},
            {"env", required_argument, NULL, 'e'},
            {"hotplug-slots", required_argument, NULL, 's'},
            {"console-log", required_argument, NULL, 'l'},
            {"no-start", no_argument, NULL, 'n'},
            {"spec", required_argument, NULL, 'S'},
            {"help", no_argument, NULL, 'h'},
            {},
    };
    _cleanup_(json_decrefp) json_t *spec = json_object();
    _cleanup_(json_decrefp) json_t *boot = json_object();
    _cleanup_(json_decrefp) json_t *devices = json_array();
    _cleanup_(json_decrefp) json_t *env = json_object();
    if (!spec || !boot || !devices || !env)
        return cli_error("out of memory"), EXIT_FAIL;
    const char *spec_file = NULL;
    bool start = true, has_options = false;
    int c, e;
    long v;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
        has_options |= c != 'S' && c != 'n' && c != 'h';
        switch (c) {
        case 'c':
            if ((e = parse_long("--vcpus", optarg, 1, 64, &v)))
                return e;
            json_object_set_new(spec, "vcpus", json_integer(v));
            break;
        case 'm':
            if ((e = parse_long("--memory", optarg, 64, 1048576, &v)))
                return e;
            json_object_set_new(spec, "memory_mib", json_integer(v));
            break;
        case 's':
            if ((e = parse_long("--hotplug-slots", optarg, 0, 16, &v)))
                return e;
            json_object_set_new(spec, "hotplug_slots", json_integer(v));
            break;
        case 'a':
            json_object_set_new(spec, "accel", json_string(optarg));
            break;
        case 'l':
            json_object_set_new(spec, "console_log", json_string(optarg));
            break;
        case 'k':
            json_object_set_new(boot, "kernel", json_string(optarg));
            break;
        case 'i':
            json_object_set_new(boot, "initrd", json_string(optarg));
            break;
        case 'C':
            json_object_set_new(boot, "cmdline", json_string(optarg));
            break;
        case 'd':
            json_object_set_new(boot, "disk", json_string(optarg));
            break;
        case 'f':
            json_object_set_new(boot, "format", json_string(optarg));
            break;
        case 'D':
            if ((e = parse_device(optarg, devices)))
                return e;
            break;
        case 'e': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                cli_error("vm create: bad --env '%s': give KEY=VALUE", optarg);
                return EXIT_USAGE;
            }
            _cleanup_free_ char *key = strndup(optarg, (size_t)(eq - optarg));
            if (!key)
                return EXIT_FAIL;
            if (json_object_get(env, key)) {
                cli_error("vm create: --env %s is given twice", key);
                return EXIT_USAGE;
            }
            json_object_set_new(env, key, json_string(eq + 1));
            break;
        }
        case 'n':
            start = false;
            break;
        case 'S':
            spec_file = optarg;
            break;
        case 'h':
            return usage(stdout);
        default:
            return EXIT_USAGE;
        }
    }
    int left = argc - optind;
    if (spec_file) {
        if (has_options || left) {
            cli_error("vm create: --spec takes the whole spec: give no name or other options with it");
            return EXIT_USAGE;
        }
        json_decref(spec);
        if (!(spec = read_spec(spec_file)))
            return EXIT_USAGE;
    } else {
        if (left != 1 || !*argv[optind]) {
            cli_error("vm create: give the VM's NAME (or --spec FILE)");
            return EXIT_USAGE;
        }
        json_object_set_new(spec, "name", json_string(argv[optind]));
        if (json_object_size(boot))
            json_object_set(spec, "boot", boot);
        if (json_array_size(devices))
            json_object_set(spec, "pci_devices", devices);
        if (json_object_size(env))
            json_object_set(spec, "env", env);
    }
    if (!start)
        json_object_set_new(spec, "start", json_false());
    _cleanup_free_ char *text = json_dumps(spec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return cli_error("out of memory"), EXIT_FAIL;
    return call(ctx, "vm create", "POST", "/v1/vms", text, 201, 201, VM_ROW);
}

static int vm_attach(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
            {"pool", required_argument, NULL, 'p'},
            {"address", required_argument, NULL, 'a'},
            {"help", no_argument, NULL, 'h'},
            {},
    };
    const char *pool = NULL, *address = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
        switch (c) {
        case 'p':
            pool = optarg;
            break;
        case 'a':
            address = optarg;
            break;
        case 'h':
            return usage(stdout);
        default:
            return EXIT_USAGE;
        }
    if (argc - optind != 1 || !pool == !address) {
        cli_error("vm attach: give the VM and exactly one of --pool P or --address A");
        return EXIT_USAGE;
    }
    if (address && !dh_func_address_is_valid(address)) {
        cli_error("vm attach: malformed address '%s': expected DDDD:BB:DD.F (e.g. 0000:03:00.2); nothing was "
                  "changed",
                  address);
        return EXIT_USAGE;
    }
    if (pool && !*pool) {
        cli_error("vm attach: --pool is empty");
        return EXIT_USAGE;
    }
    _cleanup_(json_decrefp) json_t *body =
            json_pack("{s:s}", pool ? "pool" : "address", pool ? pool : address);
    _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    _cleanup_free_ char *path = vm_path(argv[optind], "/devices");
    if (!text || !path)
        return cli_error("out of memory"), EXIT_FAIL;
    return call(ctx, "vm attach", "POST", path, text, 201, 201, DEVICE_ROW);
}

/* The subcommands that take the VM and nothing else, or stop's --force, or detach's DEVICE. */
static int vm_simple(struct cli_context *ctx, const char *sub, int argc, char **argv)
{
    static const struct option options[] = {
            {"force", no_argument, NULL, 'f'},
            {"help", no_argument, NULL, 'h'},
            {},
    };
    bool force = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
        switch (c) {
        case 'f':
            if (!streq(sub, "stop")) {
                cli_error("vm %s: --force goes with stop", sub);
                return EXIT_USAGE;
            }
            force = true;
            break;
        case 'h':
            return usage(stdout);
        default:
            return EXIT_USAGE;
        }
    int want = streq(sub, "detach") ? 2 : 1;
    if (argc - optind != want || !*argv[optind] || (want == 2 && !*argv[optind + 1])) {
        cli_error("vm %s: give %s", sub,
                  want == 2 ? "the VM and the DEVICE id (see dpuhost vm show VM)" : "the VM");
        return EXIT_USAGE;
    }
    const char *vm = argv[optind];
    char what[32];
    snprintf(what, sizeof(what), "vm %s", sub);
    if (streq(sub, "show")) {
        _cleanup_free_ char *path = vm_path(vm, "");
        return path ? call(ctx, what, "GET", path, NULL, 200, 200, KEY_VALUE) : EXIT_FAIL;
    }
    if (streq(sub, "delete")) {
        _cleanup_free_ char *path = vm_path(vm, "");
        return path ? call(ctx, what, "DELETE", path, NULL, 200, 200, KEY_VALUE) : EXIT_FAIL;
    }
    if (streq(sub, "detach")) {
        _cleanup_free_ char *dev = cli_url_escape(argv[optind + 1]);
        _cleanup_free_ char *suffix = NULL;
        if (!dev || asprintf(&suffix, "/devices/%s", dev) < 0)
            return EXIT_FAIL;
        _cleanup_free_ char *path = vm_path(vm, suffix);
        /* 202: the guest has not acknowledged yet; the unplug completes later (docs/vms.md) */
        return path ? call(ctx, what, "DELETE", path, NULL, 200, 202, DEVICE_ROW) : EXIT_FAIL;
    }
    char suffix[16];
    snprintf(suffix, sizeof(suffix), "/%s", sub);
    _cleanup_free_ char *path = vm_path(vm, suffix);
    if (!path)
        return EXIT_FAIL;
    return call(ctx, what, "POST", path, force ? "{\"force\":true}" : NULL, 200, 200, VM_ROW);
}

int cmd_vm(struct cli_context *ctx, int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    const char *sub = argv[1];
    argc--, argv++;
    if (streq(sub, "--help") || streq(sub, "-h") || streq(sub, "help"))
        return usage(stdout);
    if (streq(sub, "list")) {
        if (argc > 1) {
            cli_error("vm list: unexpected argument '%s'", argv[1]);
            return EXIT_USAGE;
        }
        return call(ctx, "vm list", "GET", "/v1/vms", NULL, 200, 200, VM_LIST);
    }
    if (streq(sub, "create"))
        return vm_create(ctx, argc, argv);
    if (streq(sub, "attach"))
        return vm_attach(ctx, argc, argv);
    if (streq(sub, "show") || streq(sub, "start") || streq(sub, "stop") || streq(sub, "reset") ||
        streq(sub, "delete") || streq(sub, "detach"))
        return vm_simple(ctx, sub, argc, argv);
    cli_error("vm: unknown subcommand '%s' (list, show, create, start, stop, reset, delete, attach, detach)",
              sub);
    return EXIT_USAGE;
}
