/* The devlink tests' fixtures: a BlueField-2-like DPU as its eswitch looks from the DPU's own kernel
 * (mlx5 in switchdev mode, host PFs on external controller 1), both as a fake devlink model and as
 * the sysfs tree the same ports would have, and a netdevsim-like local eswitch (no pcipf port). */
#pragma once

#include <dpuhost/devlink.h>

#include "fake_devlink.h"
#include "fake_sysfs.h"
#include "test.h"

/* Host PF MACs: what the host publishes as pf_mac_address, and the DPU's pcipf ports report as
 * their function hw_addr. */
#define DPU_PF0_MAC "0c:42:a1:00:00:01"
#define DPU_PF1_MAC "0c:42:a1:00:00:02"
#define DPU_P0_MAC "0c:42:a1:00:10:00"
#define DPU_SWITCH_ID "0c42a1001000"

/* pci/0000:03:00.0: p0 (physical 0, "p0"), pcipf c1 pf0 "pf0hpf" (hw_addr DPU_PF0_MAC), pcivf c1 pf0
 *                   vf0-3 "pf0vf0".."pf0vf3", pcisf c0 pf0 sf88 "en3f0pf0sf88" (the DPU's own SF,
 *                   active/attached)
 * pci/0000:03:00.1: p1 (physical 1), pcipf c1 pf1 "pf1hpf" (DPU_PF1_MAC), pcivf c1 pf1 vf0-1
 *                   "pf1vf0", "pf1vf1"
 * ifindexes: 10 + the order above (p0 = 10, pf0hpf = 11, ...). */
void dpu_bluefield(struct fake_dl *f);

/* The same ports in sysfs (phys_port_name with c1 for the host's functions, phys_switch_id,
 * address, ifindex), p0 carrying a smart_nic/pf/config when smart_nic_mac is not NULL, and a
 * non-switch netdev "oob_net0". */
struct fake_tree *dpu_bluefield_tree(const char *smart_nic_mac);

/* netdevsim/netdevsim10 (bus netdevsim, a device outside PCI): physical port 1 "eni10np1" (MAC
 * NSIM_UPLINK_MAC) and pcivf c0 pf0 vf0..n_vfs-1 "eni10npf0vfN", no pcipf port. tree may be NULL;
 * when given, the netdevs are added to it too. */
#define NSIM_UPLINK_MAC "52:54:00:aa:00:01"
void dpu_netdevsim(struct fake_dl *f, struct fake_tree *tree, unsigned n_vfs);

/* A table over f's ports through a fresh connection (devlink source), with host for sysfs reads
 * (may be NULL). Fails the test on error. */
struct dh_devlink_ports *dpu_table(struct fake_dl *f, struct dh_host *host);
/* Opens a dh_host on t, failing the test on error. */
struct dh_host *dpu_host(struct fake_tree *t);
/* Runs a lookup; returns its result code and fills *ret (netdev "" on failure) and err. */
int dpu_lookup(const struct dh_devlink_ports *t, struct dh_host *host, const char *mac, int64_t controller,
               enum devlink_port_flavour flavour, int64_t number, struct dh_devlink_match *ret,
               struct dh_error *err);
/* Fails the test unless haystack contains needle (both printed). */
void dpu_assert_contains(const char *haystack, const char *needle);
