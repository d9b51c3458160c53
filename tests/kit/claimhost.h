/* The claims tests' fixture: a fake host under the kernel simulator, a store, a config with pools,
 * and a struct dh_pools over them. */
#pragma once

#include <dpuhost/config.h>
#include <dpuhost/pool.h>

#include "fake_kernel.h"
#include "fake_sysfs.h"

/* Pools:
 *  "vfs"      selectors rootDevices 0000:03:00.0: 4 VFs 03:00.2-.5 (mlx5_core, NUMA 0,0,1,1), bind
 *  "offpath"  device_spec address 0000:81:00.0, remote_managed, physnet1: the PF (VPD serial
 *             OFFPATH0001, netdev p0 0c:42:a1:81:00:00) and its VFs 81:00.1, 81:00.2, bind
 *  "raw"      device_spec address 0000:82:00.0: the PF and its VFs 82:00.1, 82:00.2, no bind
 *  "noserial" device_spec address 0000:83:00.0, remote_managed: a PF without VPD, VF 83:00.1 */
struct claimhost {
    struct fake_tree *tree;
    struct fake_kernel *kernel;
    struct dh_host *host;
    struct dh_store *store;
    struct dh_config *config;
    struct dh_pools *pools;
    char events[64][32];
    size_t n_events;
    char failing_ifname[32]; /* netlink reports an address on it (in-use) */
    struct dh_vfio_net net;
    char db[512];
};

struct claimhost *claimhost_new(void);
void claimhost_free(struct claimhost *c);
/* Closes and reopens store and pools over the same tree, as a daemon restart would (no recovery). */
void claimhost_restart(struct claimhost *c);
/* Claims; fails the test on error unless expect_error is non-zero. Returns the parsed claim. */
json_t *claimhost_claim(struct claimhost *c, const char *owner, const char *pool, const char *address,
                        int count, int expect_error);
const char *claimhost_driver(struct claimhost *c, const char *bdf);
