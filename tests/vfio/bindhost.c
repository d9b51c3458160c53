/* The binding tests' fixture: see bindhost.h. */
#include "test.h"

#include <fcntl.h>
#include <unistd.h>

#include "bindhost.h"
#include "util/fileio.h"

static int link_facts(void *userdata, const char *ifname, struct dh_link_facts *ret, struct dh_error *err)
{
    (void)err;
    struct bindhost *b = userdata;
    *ret = (struct dh_link_facts){0};
    for (size_t i = 0; i < b->n_links; i++)
        if (strcmp(b->links[i].ifname, ifname) == 0) {
            const struct dh_link_facts *f = &b->links[i].facts;
            ret->addresses = f->addresses ? strdup(f->addresses) : NULL;
            ret->master = f->master ? strdup(f->master) : NULL;
            ret->default_route = f->default_route;
            ret->any_route = f->any_route;
        }
    return 0;
}

static int vf_get(void *userdata, const char *pf_ifname, int vf, struct dh_vf_snapshot *ret,
                  struct dh_error *err)
{
    (void)err;
    struct bindhost *b = userdata;
    if (vf < 0 || vf >= 8 || strcmp(pf_ifname, "ens1f0np0") != 0)
        return -ENODEV;
    *ret = b->vfs[vf];
    ret->valid = true;
    ret->vf_index = vf;
    ret->pf_ifname = strdup(pf_ifname);
    return 0;
}

static int vf_set(void *userdata, const char *pf_ifname, int vf, const struct dh_vf_snapshot *want,
                  struct dh_error *err)
{
    (void)err;
    struct bindhost *b = userdata;
    if (vf < 0 || vf >= 8 || strcmp(pf_ifname, "ens1f0np0") != 0)
        return -ENODEV;
    b->vf_set_calls++;
    struct dh_vf_snapshot *s = &b->vfs[vf];
    s->has_mac = want->has_mac;
    memcpy(s->mac, want->mac, 6);
    s->vlan = want->vlan;
    s->qos = want->qos;
    s->spoofchk = want->spoofchk;
    s->trust = want->trust;
    return 0;
}

static void add_e1000e(struct fake_tree *t, const char *bdf, int group, const char *ifname)
{
    fake_pci_add(t, bdf, 0x8086, 0x10d3, 0x020000);
    fake_pci_bind(t, bdf, "e1000e");
    if (group >= 0)
        fake_pci_iommu_group(t, bdf, group);
    if (ifname)
        fake_netdev_add(t, fake_pci_dir(t, bdf), ifname, "52:54:00:00:00:01", "up");
}

struct bindhost *bindhost_new(void)
{
    struct bindhost *b = calloc(1, sizeof(*b));
    struct fake_tree *t = b->tree = fake_tree_new();
    b->kernel = fake_kernel_new(t);
    fake_kernel_add_default_drivers(b->kernel);

    fake_pci_add(t, "0000:03:00.0", 0x15b3, 0x101d, 0x020000);
    fake_pci_bind(t, "0000:03:00.0", "mlx5_core");
    fake_pci_iommu_group(t, "0000:03:00.0", 12);
    fake_pci_sriov(t, "0000:03:00.0", 8, 0x101e, 2, 1);
    char pfdir[256];
    snprintf(pfdir, sizeof(pfdir), "%s", fake_pci_dir(t, "0000:03:00.0"));
    fake_netdev_add(t, pfdir, "ens1f0np0", "0c:42:a1:00:00:01", "up");
    fake_aux_add_sf(t, "0000:03:00.0", "mlx5_core.sf.2", 7);

    fake_pci_add(t, "0000:04:00.0", 0x1b36, 0x0010, 0x010802);
    fake_pci_bind(t, "0000:04:00.0", "nvme");
    fake_pci_iommu_group(t, "0000:04:00.0", 20);
    fake_pci_sriov(t, "0000:04:00.0", 4, 0x0010, 1, 1);
    static const char *const ns[] = {"nvme0n1", NULL};
    fake_nvme_add(t, "0000:04:00.0", "nvme0", ns);
    fake_write_str(t, "sys/class/block/nvme0n1/dev", "259:0\n");
    fake_write_str(t, "sys/class/block/nvme0n1/nvme0n1p1/dev", "259:1\n");
    fake_mkdir(t, "sys/class/block/nvme0n1/holders");
    fake_write_str(t, "sys/class/block/nvme0n1p1/dev", "259:1\n");
    fake_mkdir(t, "sys/class/block/nvme0n1p1/holders");

    add_e1000e(t, "0000:05:00.0", 23, "enp5s0");
    fake_pci_add(t, "0000:05:00.1", 0x8086, 0x10d3, 0x020000);
    fake_pci_iommu_group(t, "0000:05:00.1", 23);
    add_e1000e(t, "0000:06:00.0", 24, NULL);
    add_e1000e(t, "0000:06:00.1", 24, NULL);
    fake_pci_add(t, "0000:00:1c.0", 0x8086, 0xa110, 0x060400);
    fake_pci_bind(t, "0000:00:1c.0", "pcieport");
    fake_pci_iommu_group(t, "0000:00:1c.0", 30);
    add_e1000e(t, "0000:07:00.0", 30, "enp7s0");
    add_e1000e(t, "0000:08:00.0", -1, NULL);

    fake_write_str(t, "proc/1/mountinfo", "22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n");
    fake_write_str(t, "proc/self/mountinfo", "22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n");
    fake_write_str(t, "proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");

    struct dh_error err = {0};
    if (dh_host_new(fake_tree_root(t), &b->host, &err) < 0)
        fail_msg("dh_host_new: %s", err.message);
    fake_kernel_attach(b->kernel, b->host);
    char path[512];
    snprintf(path, sizeof(path), "%s/state.db", fake_tree_root(t));
    if (dh_store_open(path, &b->store, &err) < 0)
        fail_msg("dh_store_open: %s", err.message);
    b->net =
            (struct dh_vfio_net){.link_facts = link_facts, .vf_get = vf_get, .vf_set = vf_set, .userdata = b};
    for (int i = 0; i < 8; i++)
        b->vfs[i] = (struct dh_vf_snapshot){.has_mac = true,
                                            .mac = {0x02, 0, 0, 0, 0, (uint8_t)(0x10 + i)},
                                            .vlan = 0,
                                            .qos = 0,
                                            .spoofchk = 1,
                                            .trust = 0};
    b->ctx = (struct dh_vfio_ctx){
            .host = b->host, .store = b->store, .net = &b->net, .timeout_ms = 500, .holder_timeout_ms = 300};
    return b;
}

void bindhost_free(struct bindhost *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_links; i++)
        dh_link_facts_clear(&b->links[i].facts);
    dh_store_close(b->store);
    dh_host_free(b->host);
    fake_kernel_free(b->kernel);
    fake_tree_free(b->tree);
    free(b);
}

void bindhost_link(struct bindhost *b, const char *ifname, const char *addresses, bool default_route,
                   const char *master)
{
    size_t i = b->n_links++;
    snprintf(b->links[i].ifname, sizeof(b->links[i].ifname), "%s", ifname);
    b->links[i].facts.addresses = addresses ? strdup(addresses) : NULL;
    b->links[i].facts.default_route = default_route;
    b->links[i].facts.any_route = default_route;
    b->links[i].facts.master = master ? strdup(master) : NULL;
}

void bindhost_make_vfs(struct bindhost *b, const char *pf, int n)
{
    char path[128], value[16];
    snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_numvfs", pf);
    snprintf(value, sizeof(value), "%d", n);
    int r = dh_host_write_attr(b->host, path, value);
    if (r < 0)
        fail_msg("creating %d VFs on %s: %d", n, pf, r);
}

const char *bindhost_driver(struct bindhost *b, const char *bdf)
{
    static char buf[64];
    char path[128];
    char *s = NULL;
    snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver", bdf);
    buf[0] = '\0';
    if (dh_readlink_basename_at(dh_host_fd(b->host), path, &s) == 0) {
        snprintf(buf, sizeof(buf), "%s", s);
        free(s);
    }
    return buf;
}

const char *bindhost_override(struct bindhost *b, const char *bdf)
{
    static char buf[64];
    char path[128];
    snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver_override", bdf);
    if (dh_read_attr_at(dh_host_fd(b->host), path, buf, sizeof(buf)) < 0)
        buf[0] = '\0';
    return buf;
}

bool bindhost_exists(struct bindhost *b, const char *relpath)
{
    return dh_exists_at(dh_host_fd(b->host), relpath);
}
