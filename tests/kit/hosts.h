/* Fake hosts shared by the inventory tests. */
#pragma once

#include <dpuhost/host.h>
#include <dpuhost/inventory.h>

#include "fake_sysfs.h"

#define BF_SERIAL "MT2109X00001"
#define BF_PART "MBF2H332A-AEEOT"
#define BF_NAME "BlueField-2 DPU 25GbE Dual-Port SFP56"

/* A BlueField-like host:
 *  0000:00:00.0  host bridge, no driver, no group
 *  0000:03:00.0  15b3:a2d6 PF (mlx5_core, group 12, numa 0, 8 VFs total, VPD), netdevs ens1f0np0 (p0),
 *                pf0hpf (c1pf0), pf0vf0 (c1pf0vf0)
 *  0000:03:00.1  15b3:a2d6 PF, second port, same VPD serial (one card), no VFs
 *  0000:03:00.2  VF 0 of 03:00.0 (mlx5_core, group 14, netdev ens1f0v0)
 *  0000:03:00.3  VF 1 of 03:00.0 (unbound, driver_override vfio-pci, group 15)
 *  mlx5_core.sf.4  SF 88 of 03:00.0 (driver mlx5_core.sf, netdev enp3s0f0s88 nested under
 *                mlx5_core.eth.4)
 *  0000:04:00.0  1b36:0010 NVMe PF (nvme, nvme0 with nvme0n1, nvme0n2 multipath paths, group 20,
 *                numa 1, autoprobe 0)
 *  0000:04:00.1  NVMe VF 0 (vfio-pci, group 21)
 *  0000:04:00.2  NVMe VF 1 (unbound, group 22)
 *  0000:05:00.0  8086:10d3 e1000e, group 23 with 0000:05:00.1 (unbound)
 */
struct fake_tree *host_bluefield(void);

/* Opens a dh_host on t, failing the test on error. */
struct dh_host *host_open(struct fake_tree *t);
/* Scans t, failing the test on error. */
struct dh_inventory *host_scan(struct fake_tree *t);

/* The fixture of tests that only read the BlueField host: the tree and its inventory, built by the
 * setup and freed by the teardown (cmocka setup/teardown functions). */
struct bluefield_fixture {
    struct fake_tree *tree;
    struct dh_inventory *inv;
};
int bluefield_fixture_setup(void **state);
int bluefield_fixture_teardown(void **state);
