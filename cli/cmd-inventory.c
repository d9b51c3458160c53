/* Read-only inventory commands: functions, show, cards. They never write under /sys. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <dpuhost/inventory.h>

#include "cli.h"
#include "output.h"
#include "util/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct dh_host *, dh_host_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dh_inventory *, dh_inventory_free);

static int scan(struct cli_context *ctx, struct dh_inventory **ret)
{
    _cleanup_(dh_host_freep) struct dh_host *host = cli_open_host(ctx);
    if (!host)
        return EXIT_USAGE;
    struct dh_error err = {0};
    int r = dh_inventory_scan(host, NULL, ret, &err);
    if (r < 0)
        /* the root opened but holds no PCI sysfs: still an unusable --root */
        return r == -ENOMEM ? cli_fail(&err, r, "cannot read the inventory")
                            : (cli_fail(&err, r, ""), EXIT_USAGE);
    return 0;
}

static char *fmt_id(json_t *row)
{
    const char *v = json_string_value(json_object_get(row, "vendor_id"));
    const char *d = json_string_value(json_object_get(row, "device_id"));
    char *s = NULL;
    if (!v || !d || asprintf(&s, "%s:%s", v + 2, d + 2) < 0)
        return NULL;
    return s;
}

static char *fmt_index(json_t *row)
{
    json_t *v = json_object_get(row, "vf_index");
    if (json_is_null(v))
        v = json_object_get(row, "sf_num");
    return json_is_null(v) ? NULL : out_scalar(v);
}

static char *fmt_netdevs(json_t *row)
{
    json_t *names = json_array(), *n;
    size_t i;
    json_array_foreach (json_object_get(row, "netdevs"), i, n)
        json_array_append(names, json_object_get(n, "name"));
    char *s = json_array_size(names) ? out_scalar(names) : NULL;
    json_decref(names);
    return s;
}

static char *fmt_card(json_t *row)
{
    json_t *sn = json_object_get(json_object_get(row, "card"), "serial_number");
    return json_is_string(sn) ? strdup(json_string_value(sn)) : NULL;
}

static const struct out_column function_columns[] = {
        {"ADDRESS", "address", NULL},   {"KIND", "kind", NULL},     {"ID", NULL, fmt_id},
        {"CLASS", "class_name", NULL},  {"DRIVER", "driver", NULL}, {"IOMMU", "iommu_group", NULL},
        {"NUMA", "numa_node", NULL},    {"PF", "pf", NULL},         {"INDEX", NULL, fmt_index},
        {"NETDEVS", NULL, fmt_netdevs}, {"CARD", NULL, fmt_card},
};

int cmd_functions(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
            {"kind", required_argument, NULL, 'k'},
            {"vendor", required_argument, NULL, 'v'},
            {"driver", required_argument, NULL, 'd'},
            {"help", no_argument, NULL, 'h'},
            {},
    };
    struct dh_func_filter filter = {0};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
        switch (c) {
        case 'k':
            filter.kind = optarg;
            break;
        case 'v':
            filter.vendor = optarg;
            break;
        case 'd':
            filter.driver = optarg;
            break;
        case 'h':
            printf("Usage: dpuhost functions [--kind pf|vf|sf|pci] [--vendor V] [--driver D|none] "
                   "[--json]\n");
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("functions: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    struct dh_error err = {0};
    if (dh_func_filter_validate(&filter, &err) < 0)
        return cli_error("functions: %s", err.message), EXIT_USAGE;

    _cleanup_(dh_inventory_freep) struct dh_inventory *inv = NULL;
    int r = scan(ctx, &inv);
    if (r)
        return r;
    struct dh_jsonw *w = cli_writer(ctx);
    if (!w)
        return EXIT_FAIL;
    dh_inventory_write_json(w, inv, &filter);
    return cli_emit(ctx, w, "functions", function_columns, ELEMENTSOF(function_columns));
}

int cmd_show(struct cli_context *ctx, int argc, char **argv)
{
    if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
        printf("Usage: dpuhost show ADDR [--json]\n  ADDR: DDDD:BB:DD.F or an SF name such as "
               "mlx5_core.sf.4\n");
        return 0;
    }
    if (argc != 2) {
        cli_error("show: expected one address (DDDD:BB:DD.F or an SF name such as mlx5_core.sf.4)");
        return EXIT_USAGE;
    }
    const char *addr = argv[1];
    if (!dh_func_address_is_valid(addr)) {
        cli_error("show: malformed address '%s': expected DDDD:BB:DD.F (e.g. 0000:03:00.2) or an SF name "
                  "such as mlx5_core.sf.4",
                  addr);
        return EXIT_USAGE;
    }
    _cleanup_(dh_inventory_freep) struct dh_inventory *inv = NULL;
    int r = scan(ctx, &inv);
    if (r)
        return r;
    const struct dh_func *f = dh_inventory_find(inv, addr);
    if (!f) {
        cli_error("show: no function %s on this host (list them with: dpuhost functions)", addr);
        return EXIT_FAIL;
    }
    struct dh_jsonw *w = cli_writer(ctx);
    if (!w)
        return EXIT_FAIL;
    dh_func_write_json(w, f);
    return cli_emit(ctx, w, NULL, NULL, 0);
}

static char *fmt_count_vfs(json_t *row)
{
    return out_scalar(json_object_get(row, "vf_count"));
}

static const struct out_column card_columns[] = {
        {"SERIAL", "serial_number", NULL},
        {"PART", "part_number", NULL},
        {"NAME", "name", NULL},
        {"PFS", "pfs", NULL},
        {"VFS", NULL, fmt_count_vfs},
        {"SFS", "sf_count", NULL},
};

int cmd_cards(struct cli_context *ctx, int argc, char **argv)
{
    if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
        printf("Usage: dpuhost cards [--json]\n");
        return 0;
    }
    if (argc != 1) {
        cli_error("cards: unexpected argument '%s'", argv[1]);
        return EXIT_USAGE;
    }
    _cleanup_(dh_inventory_freep) struct dh_inventory *inv = NULL;
    int r = scan(ctx, &inv);
    if (r)
        return r;
    struct dh_jsonw *w = cli_writer(ctx);
    if (!w)
        return EXIT_FAIL;
    dh_inventory_write_cards_json(w, inv);
    return cli_emit(ctx, w, "cards", card_columns, ELEMENTSOF(card_columns));
}
