/* Builds a synthetic BlueField-like host tree for the inventory benchmark: PFS PFs with VFS VFs each
 * and SFS sub-functions in all, every function with a netdev and an IOMMU group, every PF with VPD.
 * Usage: gen-tree DIR PFS VFS_PER_PF SFS   (prints the tree's root path) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_sysfs.h"
#include "vpd_blob.h"

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s DIR PFS VFS_PER_PF SFS\n", argv[0]);
        return 2;
    }
    setenv("TMPDIR", argv[1], 1);
    setenv("DPUHOST_KEEP_FAKE_TREE", "1", 1);
    int pfs = atoi(argv[2]), vfs = atoi(argv[3]), sfs = atoi(argv[4]);
    if (pfs < 1 || pfs > 64 || vfs < 0 || vfs > 252 || sfs < 0) {
        fprintf(stderr, "gen-tree: PFS 1-64, VFS_PER_PF 0-252\n");
        return 2;
    }
    struct fake_tree *t = fake_tree_new();
    int group = 1;
    fake_pci_add(t, "0000:00:00.0", 0x8086, 0x0d57, 0x060000);
    for (int p = 0; p < pfs; p++) {
        /* each PF on its own bus; its VFs on the next ones (offset 2, stride 1: 252 VFs cross a bus) */
        int bus = 0x10 + p * 4;
        char pf[32], dir[256], ifname[32], mac[32];
        snprintf(pf, sizeof(pf), "0000:%02x:00.0", bus);
        fake_pci_add(t, pf, 0x15b3, 0xa2d6, 0x020000);
        fake_pci_set_subsystem(t, pf, 0x15b3, 0x0061);
        fake_pci_write(t, pf, "numa_node", p < pfs / 2 ? "0\n" : "1\n");
        fake_pci_bind(t, pf, "mlx5_core");
        fake_pci_iommu_group(t, pf, group++);
        fake_pci_sriov(t, pf, 252, 0x101e, 2, 1);
        char sn[32], sn_field[40];
        snprintf(sn, sizeof(sn), "MT2109X%05d", p / 2);
        snprintf(sn_field, sizeof(sn_field), "SN=%s", sn);
        const char *ro[] = {"PN=MBF2H332A-AEEOT", "EC=A3", sn_field, "V0=PCIeGen4 x8", "V2=MBF2H332A", NULL};
        const char *rw[] = {"YA=asset", NULL};
        uint8_t vpd[512];
        size_t n = vpd_blob_build(vpd, sizeof(vpd), "BlueField-2 DPU 25GbE Dual-Port SFP56", ro, rw);
        fake_pci_write_bytes(t, pf, "vpd", vpd, n);
        snprintf(dir, sizeof(dir), "%s", fake_pci_dir(t, pf));
        snprintf(ifname, sizeof(ifname), "ens%df0np0", p + 1);
        snprintf(mac, sizeof(mac), "0c:42:a1:00:%02x:00", p);
        fake_netdev_add(t, dir, ifname, mac, "up");
        fake_netdev_set_port(t, ifname, "p0", "0c42a1000001");
        for (int v = 0; v < vfs; v++) {
            int rid = (bus << 8) + 2 + v;
            char vf[32];
            snprintf(vf, sizeof(vf), "0000:%02x:%02x.%x", rid >> 8, (rid >> 3) & 0x1f, rid & 7);
            fake_pci_add_vf(t, pf, (unsigned)v, vf);
            fake_pci_bind(t, vf, "mlx5_core");
            fake_pci_iommu_group(t, vf, group++);
            snprintf(ifname, sizeof(ifname), "ens%df0v%d", p + 1, v);
            snprintf(mac, sizeof(mac), "02:00:%02x:00:%02x:%02x", p, v >> 8, v & 0xff);
            fake_netdev_add(t, fake_pci_dir(t, vf), ifname, mac, "up");
        }
    }
    for (int s = 0; s < sfs; s++) {
        int p = s % pfs;
        char pf[32], name[64], dir[512], ifname[32], mac[32];
        snprintf(pf, sizeof(pf), "0000:%02x:00.0", 0x10 + p * 4);
        snprintf(name, sizeof(name), "mlx5_core.sf.%d", s + 1);
        fake_aux_add_sf(t, pf, name, (unsigned)(s / pfs));
        fake_aux_bind(t, name, "mlx5_core.sf");
        snprintf(dir, sizeof(dir), "%s/%s", fake_pci_dir(t, pf), name);
        snprintf(ifname, sizeof(ifname), "enp%ds0f0s%d", p + 1, s / pfs);
        snprintf(mac, sizeof(mac), "02:01:%02x:00:%02x:%02x", p, s >> 8, s & 0xff);
        fake_netdev_add(t, dir, ifname, mac, "up");
    }
    printf("%s\n", fake_tree_root(t));
    fake_tree_free(t);
    return 0;
}
