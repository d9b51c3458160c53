/* Helpers shared by the select tests: parse a pool fragment from JSON text, list what a selector
 * picks from an inventory, and a second fake host ("wide") with more VFs, an InfiniBand PF, a
 * switchdev PF without VFs but with SFs, and a function in a VMD-style domain. */
#pragma once

#include "test.h"

#include <dpuhost/select.h>

#include "hosts.h"

/* dh_select_parse() on the JSON text (a syntax error in the text fails the test). */
int parse_text(const char *json, const char *pool_name, struct dh_selector **ret, struct dh_error *err);
/* Parses text that must be valid; fails the test with the message otherwise. */
struct dh_selector *parse_ok(const char *json);
/* Parses text that must be rejected with -EINVAL and a message holding every one of the
 * NULL-terminated substrings. */
void parse_fails(const char *json, ...) __attribute__((sentinel));

/* The function at address; fails the test when it is missing. */
const struct dh_func *func_at(const struct dh_inventory *inv, const char *address);

/* The addresses s selects, in inventory order, separated by single spaces ("" for none). The
 * result is a static buffer, valid until the next call. */
const char *selected(const struct dh_selector *s, const struct dh_inventory *inv);
/* selected() for JSON text. */
const char *selected_by(const char *json, const struct dh_inventory *inv);

/* The wide host:
 *  0000:81:00.0  15b3:101d ether PF (mlx5_core, legacy mode: netdev ens2f0 without port name),
 *                16 VFs total, VFs 0-7 at 0000:81:00.2 .. 0000:81:01.1 (0-3 mlx5_core, 4-7
 *                vfio-pci), SF mlx5_core.sf.9 with sfnum 3
 *  0000:82:00.0  15b3:101b infiniband PF (mlx5_core, netdev ibp130s0), VFs 0-1 at 82:00.1, 82:00.2
 *  0000:83:00.0  15b3:101d ether PF in switchdev mode without VFs (netdevs ens3f0np0 = p0 and
 *                the SF representor en3f0pf0sf0 = pf0sf0), SFs mlx5_core.sf.2/3/5 with sfnums
 *                0, 1 and 7 (driver mlx5_core.sf)
 *  10000:01:00.0 8086:0a54 NVMe (nvme) behind a VMD domain */
struct fake_tree *host_wide(void);

/* The fixture of tests that select on both hosts: the trees and their inventories, built by the
 * setup and freed by the teardown (cmocka setup/teardown functions). */
struct two_hosts_fixture {
    struct fake_tree *bf_tree, *wide_tree;
    struct dh_inventory *bf, *wide;
};
int two_hosts_setup(void **state);
int two_hosts_teardown(void **state);
