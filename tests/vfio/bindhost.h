/* The fixture of the binding tests: a fake host driven by the kernel simulator, a state store, and
 * scripted network facts. */
#pragma once

#include <dpuhost/store.h>
#include <dpuhost/vfio.h>

#include "fake_kernel.h"
#include "fake_sysfs.h"

/* Devices (all with IOMMU groups unless said otherwise):
 *  0000:03:00.0  15b3:101d mlx5_core PF, 8 VFs possible (offset 2, stride 1 -> 03:00.2...), netdev ens1f0np0
 *  0000:04:00.0  1b36:0010 nvme PF, 4 VFs possible, controller nvme0 with namespace nvme0n1 (259:0,
 *                partition nvme0n1p1 259:1)
 *  0000:05:00.0  8086:10d3 e1000e, netdev enp5s0, group 23 shared with 0000:05:00.1 (unbound)
 *  0000:06:00.0, 0000:06:00.1  8086:10d3 e1000e both, group 24
 *  0000:00:1c.0  pcieport bridge, group 30 with 0000:07:00.0 (8086:10d3 e1000e, netdev enp7s0)
 *  0000:08:00.0  8086:10d3 e1000e without an IOMMU group
 *  mlx5_core.sf.2  an SF of 0000:03:00.0 */
struct bindhost {
    struct fake_tree *tree;
    struct fake_kernel *kernel;
    struct dh_host *host;
    struct dh_store *store;
    struct dh_vfio_net net;
    struct dh_vfio_ctx ctx;
    /* scripted network facts, by ifname */
    struct {
        char ifname[32];
        struct dh_link_facts facts;
    } links[8];
    size_t n_links;
    /* VF admin settings the "PF" reports and accepts */
    struct dh_vf_snapshot vfs[8];
    int vf_set_calls;
};

struct bindhost *bindhost_new(void);
void bindhost_free(struct bindhost *b);
/* Scripts the facts netlink would report for ifname. addresses/master may be NULL. */
void bindhost_link(struct bindhost *b, const char *ifname, const char *addresses, bool default_route,
                   const char *master);
/* Creates n VFs on pf through the simulator (as the kernel would, autoprobe as the PF says). */
void bindhost_make_vfs(struct bindhost *b, const char *pf, int n);
/* The driver bound to bdf now, "" when none (static buffer). */
const char *bindhost_driver(struct bindhost *b, const char *bdf);
const char *bindhost_override(struct bindhost *b, const char *bdf);
bool bindhost_exists(struct bindhost *b, const char *relpath);
