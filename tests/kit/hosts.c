/* Fake hosts shared by the inventory tests: see hosts.h. */
#include "test.h"

#include "hosts.h"
#include "vpd_blob.h"

static void add_bf_vpd(struct fake_tree *t, const char *bdf)
{
    static const char *const ro[] = {"PN=" BF_PART,
                                     "EC=A3",
                                     "SN=" BF_SERIAL,
                                     "V0=PCIeGen4 x8",
                                     "V2=MBF2H332A",
                                     "V3=3c4b1e6a",
                                     "VA=MLX:MN=MLNX:CSKU=V2:UUID=V3:PCI=V0:MODL=BF2H332A",
                                     NULL};
    static const char *const rw[] = {"YA=asset-7", NULL};
    uint8_t buf[512];
    size_t n = vpd_blob_build(buf, sizeof(buf), BF_NAME, ro, rw);
    fake_pci_write_bytes(t, bdf, "vpd", buf, n);
}

struct fake_tree *host_bluefield(void)
{
    struct fake_tree *t = fake_tree_new();

    fake_pci_add(t, "0000:00:00.0", 0x8086, 0x0d57, 0x060000);

    /* BlueField-2 port 0: the PF with VFs and an SF */
    fake_pci_add(t, "0000:03:00.0", 0x15b3, 0xa2d6, 0x020000);
    fake_pci_set_subsystem(t, "0000:03:00.0", 0x15b3, 0x0061);
    fake_pci_write(t, "0000:03:00.0", "numa_node", "0\n");
    fake_pci_bind(t, "0000:03:00.0", "mlx5_core");
    fake_pci_iommu_group(t, "0000:03:00.0", 12);
    fake_pci_sriov(t, "0000:03:00.0", 8, 0x101e, 2, 1);
    add_bf_vpd(t, "0000:03:00.0");
    const char *pf0 = fake_pci_dir(t, "0000:03:00.0");
    char pfdir[256];
    snprintf(pfdir, sizeof(pfdir), "%s", pf0);
    fake_netdev_add(t, pfdir, "ens1f0np0", "0c:42:a1:00:00:01", "up");
    fake_netdev_set_port(t, "ens1f0np0", "p0", "0c42a1000001");
    fake_netdev_add(t, pfdir, "pf0hpf", "0c:42:a1:00:00:10", "up");
    fake_netdev_set_port(t, "pf0hpf", "c1pf0", "0c42a1000001");
    fake_netdev_add(t, pfdir, "pf0vf0", "0c:42:a1:00:00:11", "down");
    fake_netdev_set_port(t, "pf0vf0", "c1pf0vf0", "0c42a1000001");

    /* port 1: same card */
    fake_pci_add(t, "0000:03:00.1", 0x15b3, 0xa2d6, 0x020000);
    fake_pci_write(t, "0000:03:00.1", "numa_node", "0\n");
    fake_pci_bind(t, "0000:03:00.1", "mlx5_core");
    fake_pci_iommu_group(t, "0000:03:00.1", 13);
    fake_pci_sriov(t, "0000:03:00.1", 8, 0x101e, 9, 1);
    add_bf_vpd(t, "0000:03:00.1");

    /* VFs of port 0; virtfn1 is created first so that directory order differs from index order */
    fake_pci_add_vf(t, "0000:03:00.0", 1, "0000:03:00.3");
    fake_pci_add_vf(t, "0000:03:00.0", 0, "0000:03:00.2");
    fake_pci_write(t, "0000:03:00.2", "numa_node", "0\n");
    fake_pci_bind(t, "0000:03:00.2", "mlx5_core");
    fake_pci_iommu_group(t, "0000:03:00.2", 14);
    fake_netdev_add(t, fake_pci_dir(t, "0000:03:00.2"), "ens1f0v0", "02:00:00:00:00:02", "up");
    fake_pci_write(t, "0000:03:00.3", "driver_override", "vfio-pci\n");
    fake_pci_iommu_group(t, "0000:03:00.3", 15);

    /* SF 88: its netdev hangs below the mlx5_core.eth.4 auxiliary child */
    fake_aux_add_sf(t, "0000:03:00.0", "mlx5_core.sf.4", 88);
    fake_aux_bind(t, "mlx5_core.sf.4", "mlx5_core.sf");
    char sfeth[512];
    snprintf(sfeth, sizeof(sfeth), "%s/mlx5_core.sf.4/mlx5_core.eth.4", pfdir);
    fake_netdev_add(t, sfeth, "enp3s0f0s88", "02:00:00:00:00:58", "up");

    /* NVMe PF with two VFs */
    fake_pci_add(t, "0000:04:00.0", 0x1b36, 0x0010, 0x010802);
    fake_pci_write(t, "0000:04:00.0", "numa_node", "1\n");
    fake_pci_bind(t, "0000:04:00.0", "nvme");
    fake_pci_iommu_group(t, "0000:04:00.0", 20);
    fake_pci_sriov(t, "0000:04:00.0", 4, 0x0010, 1, 1);
    fake_pci_write(t, "0000:04:00.0", "sriov_drivers_autoprobe", "0\n");
    static const char *const ns[] = {"nvme0c0n2", "nvme0c0n1", NULL};
    fake_nvme_add(t, "0000:04:00.0", "nvme0", ns);
    fake_pci_add_vf(t, "0000:04:00.0", 0, "0000:04:00.1");
    fake_pci_bind(t, "0000:04:00.1", "vfio-pci");
    fake_pci_iommu_group(t, "0000:04:00.1", 21);
    fake_pci_add_vf(t, "0000:04:00.0", 1, "0000:04:00.2");
    fake_pci_iommu_group(t, "0000:04:00.2", 22);

    /* two functions sharing one IOMMU group */
    fake_pci_add(t, "0000:05:00.0", 0x8086, 0x10d3, 0x020000);
    fake_pci_bind(t, "0000:05:00.0", "e1000e");
    fake_pci_iommu_group(t, "0000:05:00.0", 23);
    fake_netdev_add(t, fake_pci_dir(t, "0000:05:00.0"), "enp5s0", "52:54:00:12:34:56", "up");
    fake_pci_add(t, "0000:05:00.1", 0x8086, 0x10d3, 0x020000);
    fake_pci_iommu_group(t, "0000:05:00.1", 23);

    /* a virtual netdev belongs to no function */
    fake_netdev_add(t, "sys/devices/virtual", "br0", "02:00:00:00:00:99", "up");
    return t;
}

struct dh_host *host_open(struct fake_tree *t)
{
    struct dh_host *h = NULL;
    struct dh_error err = {0};
    if (dh_host_new(fake_tree_root(t), &h, &err) < 0)
        fail_msg("dh_host_new: %s", err.message);
    return h;
}

struct dh_inventory *host_scan(struct fake_tree *t)
{
    struct dh_host *h = host_open(t);
    struct dh_inventory *inv = NULL;
    struct dh_error err = {0};
    int r = dh_inventory_scan(h, NULL, &inv, &err);
    dh_host_free(h);
    if (r < 0)
        fail_msg("dh_inventory_scan: %d %s", r, err.message);
    return inv;
}

int bluefield_fixture_setup(void **state)
{
    struct bluefield_fixture *fx = calloc(1, sizeof(*fx));
    fx->tree = host_bluefield();
    fx->inv = host_scan(fx->tree);
    *state = fx;
    return 0;
}

int bluefield_fixture_teardown(void **state)
{
    struct bluefield_fixture *fx = *state;
    dh_inventory_free(fx->inv);
    fake_tree_free(fx->tree);
    free(fx);
    return 0;
}
