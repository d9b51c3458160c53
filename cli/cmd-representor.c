/* dpuhost representors and dpuhost representor [plug]: the DPU side of an off-path port
 * (docs/offpath.md). `representors` lists the switchdev ports and the PFs they belong to;
 * `representor` takes what the host published in the port's binding profile (pf_mac_address,
 * vf_num) and prints the representor netdev, and `representor plug` adds it to an Open vSwitch
 * bridge. This file parses, hands typed requests to the devlink module and prints; bad input is
 * refused (exit 2) before anything is read or run. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <dpuhost/devlink.h>

#include "cli.h"
#include "output.h"
#include "util/macro.h"
#include "util/parse.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct dh_host *, dh_host_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dh_devlink_ports *, dh_devlink_ports_free);

/* ovs-vsctl's own --timeout unless --timeout says otherwise */
#define PLUG_TIMEOUT_S 10

static const char representors_usage[] =
        "Usage: dpuhost representors [--source auto|devlink|sysfs] [--json]\n"
        "  Lists the switchdev ports (devlink, else sysfs) and the PFs they belong to, with the PF MACs\n"
        "  that `dpuhost representor --pf-mac` matches.\n";

static const char representor_usage[] =
        "Usage: dpuhost representor [plug] --pf-mac MAC (--vf-num N | --sf-num N) [--controller C]\n"
        "                           [--bridge BR] [--timeout S] [--source auto|devlink|sysfs] [--json]\n"
        "  Prints the representor netdev of VF (or SF) N of the PF whose MAC is MAC: the\n"
        "  pf_mac_address and vf_num of the port's binding profile.\n"
        "  plug: also adds it to the Open vSwitch bridge BR (ovs-vsctl --may-exist add-port).\n";

static int parse_source(const char *cmd, const char *s, enum dh_devlink_source *ret)
{
    if (dh_devlink_source_from_string(s, ret) < 0) {
        cli_error("%s: --source '%s' is not one of auto, devlink, sysfs", cmd, s);
        return EXIT_USAGE;
    }
    return 0;
}

static int scan(struct cli_context *ctx, enum dh_devlink_source source, struct dh_devlink_ports **ret,
                struct dh_host **ret_host)
{
    _cleanup_(dh_host_freep) struct dh_host *host = cli_open_host(ctx);
    if (!host)
        return EXIT_USAGE;
    struct dh_error err = {0};
    if (!ctx->devlink_open)
        return cli_error("no way to open devlink (cli_context.devlink_open is unset)"), EXIT_FAIL;
    struct dh_devlink_scan_options opts = {.source = source, .open = ctx->devlink_open};
    int r = dh_devlink_scan(host, &opts, ret, &err);
    if (r < 0)
        return cli_fail(&err, r == -EINVAL ? -EIO : r, "cannot read the switchdev ports");
    *ret_host = TAKE_PTR(host);
    return 0;
}

static char *fmt_port(json_t *row)
{
    json_t *v = json_object_get(row, "port");
    return out_scalar(json_is_null(v) ? json_object_get(row, "device") : v);
}

static char *fmt_number(json_t *row)
{
    static const char *const keys[] = {"vfnum", "sfnum", "port_number"};
    for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
        json_t *v = json_object_get(row, keys[i]);
        if (json_is_integer(v))
            return out_scalar(v);
    }
    return NULL;
}

static char *fmt_hw_addr(json_t *row)
{
    json_t *v = json_object_get(json_object_get(row, "function"), "hw_addr");
    return json_is_string(v) ? out_scalar(v) : NULL;
}

static const struct out_column port_columns[] = {
        {"PORT", NULL, fmt_port},   {"FLAVOUR", "flavour", NULL},   {"CTRL", "controller", NULL},
        {"EXT", "external", NULL},  {"PF", "pfnum", NULL},          {"NUM", NULL, fmt_number},
        {"NETDEV", "netdev", NULL}, {"HW_ADDR", NULL, fmt_hw_addr},
};

int cmd_representors(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
            {"source", required_argument, NULL, 's'},
            {"help", no_argument, NULL, 'h'},
            {},
    };
    enum dh_devlink_source source = DH_DEVLINK_SOURCE_AUTO;
    int c, r;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
        switch (c) {
        case 's':
            if ((r = parse_source("representors", optarg, &source)))
                return r;
            break;
        case 'h':
            fputs(representors_usage, stdout);
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("representors: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    _cleanup_(dh_devlink_ports_freep) struct dh_devlink_ports *t = NULL;
    _cleanup_(dh_host_freep) struct dh_host *host = NULL;
    if ((r = scan(ctx, source, &t, &host)))
        return r;
    struct dh_jsonw *w = cli_writer(ctx);
    if (!w)
        return EXIT_FAIL;
    dh_devlink_ports_write_json(w, t);
    return cli_emit(ctx, w, "ports", port_columns, ELEMENTSOF(port_columns));
}

struct lookup_args {
    struct dh_devlink_query q;
    bool has_mac, plug;
    enum dh_devlink_source source;
    const char *bridge;
    unsigned timeout_s;
};

static int parse_number(const char *opt, const char *s, uint64_t max, int64_t *ret)
{
    uint64_t v;
    if (dh_parse_u64(s, 10, false, max, &v) < 0) {
        cli_error("representor: --%s '%s' is not a number from 0 to %llu", opt, s, (unsigned long long)max);
        return EXIT_USAGE;
    }
    *ret = (int64_t)v;
    return 0;
}

static int parse_lookup(int argc, char **argv, struct lookup_args *a)
{
    static const struct option options[] = {
            {"pf-mac", required_argument, NULL, 'm'},
            {"vf-num", required_argument, NULL, 'v'},
            {"sf-num", required_argument, NULL, 'f'},
            {"controller", required_argument, NULL, 'c'},
            {"bridge", required_argument, NULL, 'b'},
            {"timeout", required_argument, NULL, 't'},
            {"source", required_argument, NULL, 's'},
            {"help", no_argument, NULL, 'h'},
            {},
    };
    *a = (struct lookup_args){.q = {.controller = -1, .number = -1}, .timeout_s = PLUG_TIMEOUT_S};
    if (argc > 1 && streq(argv[1], "plug")) {
        a->plug = true;
        argc--;
        argv++;
    }
    int c, r;
    int64_t v;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
        switch (c) {
        case 'm':
            if (dh_parse_mac(optarg, a->q.pf_mac) < 0) {
                cli_error("representor: --pf-mac '%s' is not a MAC address: expected aa:bb:cc:dd:ee:ff (the "
                          "binding profile's pf_mac_address)",
                          optarg);
                return EXIT_USAGE;
            }
            a->has_mac = true;
            break;
        case 'v':
        case 'f':
            if (a->q.number >= 0) {
                cli_error("representor: give one of --vf-num and --sf-num, once");
                return EXIT_USAGE;
            }
            /* devlink carries VF numbers as u16 and SF numbers as u32 */
            if ((r = parse_number(c == 'v' ? "vf-num" : "sf-num", optarg, c == 'v' ? UINT16_MAX : UINT32_MAX,
                                  &a->q.number)))
                return r;
            a->q.flavour = c == 'v' ? DEVLINK_PORT_FLAVOUR_PCI_VF : DEVLINK_PORT_FLAVOUR_PCI_SF;
            break;
        case 'c':
            if ((r = parse_number("controller", optarg, UINT32_MAX, &a->q.controller)))
                return r;
            break;
        case 'b':
            a->bridge = optarg;
            break;
        case 't':
            if ((r = parse_number("timeout", optarg, 3600, &v)))
                return r;
            if (v == 0) {
                cli_error("representor: --timeout must be at least 1 second");
                return EXIT_USAGE;
            }
            a->timeout_s = (unsigned)v;
            break;
        case 's':
            if ((r = parse_source("representor", optarg, &a->source)))
                return r;
            break;
        case 'h':
            fputs(representor_usage, stdout);
            return -1;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("representor: unexpected argument '%s' (the only subcommand is plug, first)", argv[optind]);
        return EXIT_USAGE;
    }
    if (!a->has_mac || a->q.number < 0) {
        cli_error(
                "representor: expected --pf-mac MAC and --vf-num N (or --sf-num N), from the port's binding "
                "profile (pf_mac_address, vf_num)");
        return EXIT_USAGE;
    }
    static const uint8_t zero[6];
    if (memcmp(a->q.pf_mac, zero, 6) == 0 || (a->q.pf_mac[0] & 1)) {
        char mac[18];
        dh_format_mac(a->q.pf_mac, mac);
        cli_error("representor: --pf-mac %s cannot be a PF's MAC (it is %s)", mac,
                  a->q.pf_mac[0] & 1 ? "a multicast address" : "zero");
        return EXIT_USAGE;
    }
    if (a->plug && !a->bridge) {
        cli_error(
                "representor plug: expected --bridge BR, the Open vSwitch bridge to add the representor to");
        return EXIT_USAGE;
    }
    if (!a->plug && a->bridge) {
        cli_error("representor: --bridge belongs to `dpuhost representor plug`");
        return EXIT_USAGE;
    }
    return 0;
}

int cmd_representor(struct cli_context *ctx, int argc, char **argv)
{
    struct lookup_args a;
    int r = parse_lookup(argc, argv, &a);
    if (r)
        return r < 0 ? 0 : r;
    _cleanup_(dh_devlink_ports_freep) struct dh_devlink_ports *t = NULL;
    _cleanup_(dh_host_freep) struct dh_host *host = NULL;
    if ((r = scan(ctx, a.source, &t, &host)))
        return r;
    struct dh_error err = {0};
    struct dh_devlink_match m;
    r = dh_devlink_lookup(t, host, &a.q, &m, &err);
    if (r < 0)
        return cli_error("%s", err.message), r == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
    if (a.plug && (r = dh_devlink_ovs_add_port(a.bridge, m.port->netdev, a.timeout_s, &err)) < 0)
        return cli_error("%s", err.message), EXIT_FAIL;

    struct dh_jsonw *w = cli_writer(ctx);
    if (!w)
        return EXIT_FAIL;
    dh_jsonw_begin_object(w);
    dh_devlink_match_write_members(w, t, &m);
    if (a.plug)
        dh_jsonw_kv_string(w, "bridge", a.bridge);
    dh_jsonw_end_object(w);
    return cli_emit(ctx, w, NULL, NULL, 0);
}
