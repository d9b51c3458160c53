/* dpuhost vf: shows or sets a VF's admin settings (MAC, VLAN and QoS, trust, spoof checking, link
 * state). They live in the PF's driver, so the command finds the VF's PF and index in the inventory,
 * picks the PF's netdev, and hands a typed request (struct dh_vf_config) to the netlink module, which
 * validates, writes, reads back and undoes on failure. This file only parses, looks up and prints:
 * bad input is refused (exit 2) before the kernel is asked anything. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <dpuhost/inventory.h>
#include <dpuhost/netlink.h>

#include "cli.h"
#include "output.h"
#include "util/macro.h"
#include "util/parse.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct dh_host *, dh_host_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dh_inventory *, dh_inventory_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dh_nl *, dh_nl_free);

static const char usage_text[] =
        "Usage: dpuhost vf ADDR [--mac M] [--vlan V[,QOS]] [--trust on|off] [--spoofchk on|off]\n"
        "                       [--link-state auto|enable|disable] [--json]\n"
        "  ADDR: the VF's PCI address, DDDD:BB:DD.F (e.g. 0000:03:00.2)\n"
        "  Without settings, prints the VF's current settings; with them, sets them through the PF,\n"
        "  reads them back, and prints the verified result.\n";

/* "V" or "V,QOS" */
static int parse_vlan(const char *s, struct dh_vf_config *c)
{
    char buf[32];
    if (strlen(s) >= sizeof(buf))
        return -EINVAL;
    snprintf(buf, sizeof(buf), "%s", s);
    char *comma = strchr(buf, ',');
    if (comma)
        *comma = '\0';
    uint64_t vlan, qos = 0;
    /* parsed wider than the limits so that the library's range message names the value */
    if (dh_parse_u64(buf, 10, false, UINT16_MAX, &vlan) < 0)
        return -EINVAL;
    if (comma && dh_parse_u64(comma + 1, 10, false, UINT8_MAX, &qos) < 0)
        return -EINVAL;
    c->has_vlan = true;
    c->vlan = (uint16_t)vlan;
    c->qos = (uint8_t)qos;
    return 0;
}

static int parse_options(int argc, char **argv, struct dh_vf_config *want, const char **ret_addr)
{
    static const struct option options[] = {
            {"mac", required_argument, NULL, 'm'},
            {"vlan", required_argument, NULL, 'v'},
            {"trust", required_argument, NULL, 't'},
            {"spoofchk", required_argument, NULL, 's'},
            {"link-state", required_argument, NULL, 'l'},
            {"help", no_argument, NULL, 'h'},
            {},
    };
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
        switch (c) {
        case 'm':
            if (dh_parse_mac(optarg, want->mac) < 0) {
                cli_error("vf: --mac '%s' is not a MAC address: expected aa:bb:cc:dd:ee:ff", optarg);
                return EXIT_USAGE;
            }
            want->has_mac = true;
            break;
        case 'v':
            if (parse_vlan(optarg, want) < 0) {
                cli_error(
                        "vf: --vlan '%s' is not VLAN[,QOS]: expected e.g. 100 or 100,3 (0 removes the VLAN)",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 't':
        case 's': {
            bool on;
            if (dh_parse_bool(optarg, &on) < 0) {
                cli_error("vf: --%s '%s' is not on or off", c == 't' ? "trust" : "spoofchk", optarg);
                return EXIT_USAGE;
            }
            if (c == 't') {
                want->has_trust = true;
                want->trust = on;
            } else {
                want->has_spoofchk = true;
                want->spoofchk = on;
            }
            break;
        }
        case 'l':
            if (dh_vf_link_state_from_string(optarg, &want->link_state) < 0) {
                cli_error("vf: --link-state '%s' is not one of auto, enable, disable", optarg);
                return EXIT_USAGE;
            }
            want->has_link_state = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return -1;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error(optind >= argc ? "vf: expected the VF's PCI address (DDDD:BB:DD.F)"
                                 : "vf: expected one address, got more arguments");
        return EXIT_USAGE;
    }
    *ret_addr = argv[optind];
    if (!dh_pci_addr_is_valid(*ret_addr)) {
        cli_error("vf: malformed address '%s': expected DDDD:BB:DD.F (e.g. 0000:03:00.2)", *ret_addr);
        return EXIT_USAGE;
    }
    struct dh_error err = {0};
    if (dh_vf_config_validate(want, &err) < 0) {
        cli_error("%s", err.message);
        return EXIT_USAGE;
    }
    return 0;
}

/* {"address", "pf", "pf_netdev", "vf_index", "mac", "vlan", "qos", "spoofchk", "trust",
 * "link_state"}: a setting the driver does not report is null. */
static void write_json(struct dh_jsonw *w, const struct dh_func *vf, const char *pf_netdev,
                       const struct dh_vf_config *c)
{
    char mac[18];
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "address", vf->address);
    dh_jsonw_kv_string(w, "pf", vf->pf);
    dh_jsonw_kv_string(w, "pf_netdev", pf_netdev);
    dh_jsonw_kv_int(w, "vf_index", vf->vf_index);
    if (c->has_mac)
        dh_format_mac(c->mac, mac);
    dh_jsonw_kv_string(w, "mac", c->has_mac ? mac : NULL);
    dh_jsonw_kv_int_or_null(w, "vlan", c->has_vlan ? c->vlan : -1);
    dh_jsonw_kv_int_or_null(w, "qos", c->has_vlan ? c->qos : -1);
    if (c->has_spoofchk)
        dh_jsonw_kv_bool(w, "spoofchk", c->spoofchk);
    else
        dh_jsonw_kv_null(w, "spoofchk");
    if (c->has_trust)
        dh_jsonw_kv_bool(w, "trust", c->trust);
    else
        dh_jsonw_kv_null(w, "trust");
    dh_jsonw_kv_string(w, "link_state", c->has_link_state ? dh_vf_link_state_to_string(c->link_state) : NULL);
    dh_jsonw_end_object(w);
}

int cmd_vf(struct cli_context *ctx, int argc, char **argv)
{
    struct dh_vf_config want = {0};
    const char *addr = NULL;
    int r = parse_options(argc, argv, &want, &addr);
    if (r)
        return r < 0 ? 0 : r;
    bool set = want.has_mac || want.has_vlan || want.has_spoofchk || want.has_trust || want.has_link_state;

    _cleanup_(dh_host_freep) struct dh_host *host = cli_open_host(ctx);
    if (!host)
        return EXIT_USAGE;
    _cleanup_(dh_inventory_freep) struct dh_inventory *inv = NULL;
    struct dh_error err = {0};
    /* VPD is slow to read and not needed to find a PF */
    struct dh_inventory_options opts = {.skip_vpd = true};
    r = dh_inventory_scan(host, &opts, &inv, &err);
    if (r < 0)
        /* the root opened but holds no PCI sysfs: still an unusable --root */
        return r == -ENOMEM ? cli_fail(&err, r, "cannot read the inventory")
                            : (cli_fail(&err, r, ""), EXIT_USAGE);

    const struct dh_func *vf = dh_inventory_find(inv, addr);
    if (!vf) {
        cli_error("vf: no function %s on this host (list VFs with: dpuhost functions --kind vf)", addr);
        return EXIT_FAIL;
    }
    if (!dh_func_is_vf(vf)) {
        cli_error("vf: %s is a %s function, not a VF (list VFs with: dpuhost functions --kind vf)", addr,
                  dh_func_kind_to_string(vf->kind));
        return EXIT_USAGE;
    }
    const struct dh_func *pf = vf->pf ? dh_inventory_find(inv, vf->pf) : NULL;
    if (!pf || vf->vf_index < 0) {
        cli_error("vf: %s has no PF on this host (its physfn link is gone or dangling)", addr);
        return EXIT_FAIL;
    }
    const struct dh_netdev *primary = dh_func_primary_netdev(pf);
    const char *ifname = primary ? primary->name : NULL;
    if (!ifname) {
        cli_error("vf: PF %s of %s has no netdev that holds VF settings (is its network driver bound? the "
                  "settings are set through the PF's netdev)",
                  pf->address, addr);
        return EXIT_FAIL;
    }

    _cleanup_(dh_nl_freep) struct dh_nl *nl = NULL;
    if (!ctx->nl_open)
        return cli_error("vf: no way to open netlink (cli_context.nl_open is unset)"), EXIT_FAIL;
    r = ctx->nl_open(&nl, &err);
    if (r < 0)
        return cli_error("%s", err.message), EXIT_FAIL;
    /* whatever the kernel or driver refuses is a failure, never "bad input": that was checked above */
    if (set && (r = dh_nl_vf_set(nl, ifname, (unsigned)vf->vf_index, &want, &err)) < 0)
        return cli_error("vf: %s: %s", addr, err.message), EXIT_FAIL;
    struct dh_vf_config now;
    r = dh_nl_vf_get(nl, ifname, (unsigned)vf->vf_index, &now, &err);
    if (r < 0)
        return cli_error("vf: %s: %s", addr, err.message), EXIT_FAIL;

    struct dh_jsonw *w = dh_jsonw_new(ctx->pretty);
    if (!w)
        return cli_error("out of memory"), EXIT_FAIL;
    write_json(w, vf, ifname, &now);
    return cli_emit(ctx, w, NULL, NULL, 0);
}
