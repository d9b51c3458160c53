/* dpuhost: the command-line interface. Global options (--root, --json) may appear anywhere before
 * "--"; everything else belongs to the subcommand, looked up in one table. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpuhost/devlink.h>
#include <dpuhost/netlink.h>

#include "cli.h"
#include "util/macro.h"

static const struct cli_command commands[] = {
        {"functions", "[--kind K] [--vendor V] [--driver D]", "list PCI functions and sub-functions",
         cmd_functions},
        {"show", "ADDR", "show every field of one function", cmd_show},
        {"cards", "", "list add-in cards (by VPD serial number)", cmd_cards},
        {"check", "", "preflight: can this host pass functions through?", cmd_check},
        {"bind", "ADDR... [--force]", "bind functions to vfio-pci, recording their state", cmd_bind},
        {"restore", "ADDR... [--wait S]", "give bound functions back to their recorded driver", cmd_restore},
        {"sriov", "ADDR --num-vfs N [--autoprobe on|off]", "create or remove VFs on a PF", cmd_sriov},
        {"vf", "ADDR [--mac M] [--vlan V[,QOS]] [...]", "show or set a VF's MAC, VLAN, trust, spoofchk",
         cmd_vf},
        {"representors", "[--source auto|devlink|sysfs]", "DPU side: switchdev ports and PF MACs",
         cmd_representors},
        {"representor", "[plug] --pf-mac M --vf-num N [...]", "DPU side: a VF's representor netdev",
         cmd_representor},
        {"status", "", "dpuhostd: version, readiness, the host's preflight", cmd_status},
        {"pools", "", "dpuhostd: pools with free and claimed counts", cmd_pools},
        {"claim", "--owner O (--pool P | --address A) [...]", "dpuhostd: claim functions for an owner",
         cmd_claim},
        {"claims", "[--owner O]", "dpuhostd: list claims", cmd_claims},
        {"release", "ID | --owner O", "dpuhostd: release a claim (or all of an owner's)", cmd_release},
        {"events", "[--since N]", "dpuhostd: follow claim, function and VM events", cmd_events},
        {"vm", "SUBCOMMAND [ARGS] (see dpuhost vm --help)",
         "dpuhostd: QEMU VMs with passed-through functions", cmd_vm},
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: dpuhost [--root DIR] [--json|--pretty] COMMAND [ARGS]\n\n"
               "Turns DPU and SmartNIC PCI functions into VM-ready resources.\n\nCommands:\n");
    for (size_t i = 0; i < ELEMENTSOF(commands); i++)
        fprintf(f, "  %-12s %-42s %s\n", commands[i].name, commands[i].usage, commands[i].summary);
    fprintf(f, "\nOptions:\n"
               "  --root DIR   host root holding sys/, dev/, proc/, run/ (default: $DPUHOST_ROOT or /)\n"
               "  --state-dir DIR  where dpuhost keeps its state (default: $DPUHOST_STATE_DIR or\n"
               "               /var/lib/dpuhost)\n"
               "  --socket PATH  dpuhostd's socket (default: $DPUHOST_SOCKET or /run/dpuhost/dpuhost.sock)\n"
               "  --json       print one JSON document instead of text\n"
               "  --pretty     print the JSON document indented (implies --json)\n"
               "  --help       show this help\n"
               "  --version    show the version\n");
}

/* Removes the global options from argv (in place), wherever they are. Returns the new argc, or -1
 * on a usage error (already reported). */
static int take_global_options(struct cli_context *ctx, int argc, char **argv)
{
    int out = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (streq(a, "--")) {
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        }
        if (streq(a, "--json")) {
            ctx->json = true;
            continue;
        }
        if (streq(a, "--pretty")) {
            ctx->json = ctx->pretty = true;
            continue;
        }
        if (streq(a, "--root")) {
            if (i + 1 >= argc) {
                cli_error("--root needs a directory");
                return -1;
            }
            ctx->root = argv[++i];
            continue;
        }
        const char *v = startswith(a, "--root=");
        if (v) {
            ctx->root = v;
            continue;
        }
        if (streq(a, "--state-dir")) {
            if (i + 1 >= argc) {
                cli_error("--state-dir needs a directory");
                return -1;
            }
            ctx->state_dir = argv[++i];
            continue;
        }
        if ((v = startswith(a, "--state-dir="))) {
            ctx->state_dir = v;
            continue;
        }
        if (streq(a, "--socket")) {
            if (i + 1 >= argc) {
                cli_error("--socket needs a path");
                return -1;
            }
            ctx->socket = argv[++i];
            continue;
        }
        if ((v = startswith(a, "--socket="))) {
            ctx->socket = v;
            continue;
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    return out;
}

int main(int argc, char **argv)
{
    struct cli_context ctx = {.prog = "dpuhost", .nl_open = dh_nl_open, .devlink_open = dh_devlink_open};
    ctx.root = getenv("DPUHOST_ROOT");
    ctx.state_dir = getenv("DPUHOST_STATE_DIR");
    if (!ctx.state_dir || !*ctx.state_dir)
        ctx.state_dir = "/var/lib/dpuhost";
    ctx.socket = getenv("DPUHOST_SOCKET");
    if (!ctx.socket || !*ctx.socket)
        ctx.socket = "/run/dpuhost/dpuhost.sock";
    argc = take_global_options(&ctx, argc, argv);
    if (argc < 0)
        return EXIT_USAGE;
    if (ctx.root && !*ctx.root) {
        cli_error("--root is empty: pass a directory");
        return EXIT_USAGE;
    }
    if (!*ctx.socket) {
        cli_error("--socket is empty: pass dpuhostd's socket path");
        return EXIT_USAGE;
    }
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (streq(name, "--help") || streq(name, "-h") || streq(name, "help")) {
        usage(stdout);
        return 0;
    }
    if (streq(name, "--version")) {
        printf("dpuhost %s\n", DPUHOST_VERSION);
        return 0;
    }
    for (size_t i = 0; i < ELEMENTSOF(commands); i++)
        if (streq(name, commands[i].name)) {
            /* the subcommand sees itself as argv[0], so getopt starts after it */
            return commands[i].run(&ctx, argc - 1, argv + 1);
        }
    cli_error("unknown command '%s' (see dpuhost --help)", name);
    return EXIT_USAGE;
}
