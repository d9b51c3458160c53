/* The devlink tests' fixtures: see dpu.h. */
#include "dpu.h"

#include "util/parse.h"

struct port_def {
    const char *handle, *netdev, *phys_port_name;
};

void dpu_bluefield(struct fake_dl *f)
{
    const char *h0 = "pci/0000:03:00.0", *h1 = "pci/0000:03:00.1";
    fake_dl_add_physical(f, h0, 1, 0, "p0", 10);
    fake_dl_add_pf(f, h0, 2, 1, true, 0, "pf0hpf", 11, DPU_PF0_MAC);
    for (unsigned vf = 0; vf < 4; vf++) {
        char name[16];
        snprintf(name, sizeof(name), "pf0vf%u", vf);
        fake_dl_add_vf(f, h0, 3 + vf, 1, true, 0, (uint16_t)vf, name, 12 + vf);
    }
    fake_dl_add_sf(f, h0, 7, 0, false, 0, 88, "en3f0pf0sf88", 16, DEVLINK_PORT_FN_STATE_ACTIVE,
                   DEVLINK_PORT_FN_OPSTATE_ATTACHED);
    fake_dl_add_physical(f, h1, 1, 1, "p1", 17);
    fake_dl_add_pf(f, h1, 2, 1, true, 1, "pf1hpf", 18, DPU_PF1_MAC);
    fake_dl_add_vf(f, h1, 3, 1, true, 1, 0, "pf1vf0", 19);
    fake_dl_add_vf(f, h1, 4, 1, true, 1, 1, "pf1vf1", 20);
}

static void add_port(struct fake_tree *t, const char *devdir, const char *ifname, const char *mac,
                     const char *port_name, const char *switch_id)
{
    fake_netdev_add(t, devdir, ifname, mac, "up");
    fake_netdev_set_port(t, ifname, port_name, switch_id);
}

struct fake_tree *dpu_bluefield_tree(const char *smart_nic_mac)
{
    struct fake_tree *t = fake_tree_new();
    fake_pci_add(t, "0000:03:00.0", 0x15b3, 0xa2d6, 0x020000);
    fake_pci_add(t, "0000:03:00.1", 0x15b3, 0xa2d6, 0x020000);
    char d0[256], d1[256];
    snprintf(d0, sizeof(d0), "%s", fake_pci_dir(t, "0000:03:00.0"));
    snprintf(d1, sizeof(d1), "%s", fake_pci_dir(t, "0000:03:00.1"));
    /* real trees link each device to its bus; the fake builder does not, so do it here */
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/subsystem", d0);
    fake_symlink(t, sub, "sys/bus/pci");
    snprintf(sub, sizeof(sub), "%s/subsystem", d1);
    fake_symlink(t, sub, "sys/bus/pci");
    add_port(t, d0, "p0", DPU_P0_MAC, "p0", DPU_SWITCH_ID);
    add_port(t, d0, "pf0hpf", "0c:42:a1:00:10:01", "c1pf0", DPU_SWITCH_ID);
    for (unsigned vf = 0; vf < 4; vf++) {
        char name[16], pn[16], mac[18];
        snprintf(name, sizeof(name), "pf0vf%u", vf);
        snprintf(pn, sizeof(pn), "c1pf0vf%u", vf);
        snprintf(mac, sizeof(mac), "0c:42:a1:00:10:1%u", vf);
        add_port(t, d0, name, mac, pn, DPU_SWITCH_ID);
    }
    add_port(t, d0, "en3f0pf0sf88", "0c:42:a1:00:10:58", "pf0sf88", DPU_SWITCH_ID);
    add_port(t, d1, "p1", "0c:42:a1:00:20:00", "p1", "0c42a1002000");
    add_port(t, d1, "pf1hpf", "0c:42:a1:00:20:01", "c1pf1", "0c42a1002000");
    add_port(t, d1, "pf1vf0", "0c:42:a1:00:20:10", "c1pf1vf0", "0c42a1002000");
    add_port(t, d1, "pf1vf1", "0c:42:a1:00:20:11", "c1pf1vf1", "0c42a1002000");
    /* the DPU's management port: not a switch port (phys_port_name fails with EOPNOTSUPP) */
    fake_netdev_add(t, d1, "oob_net0", "0c:42:a1:00:30:00", "up");
    if (smart_nic_mac) {
        char text[256];
        snprintf(text, sizeof(text),
                 "MAC        : %s\nMaxTxRate  : 0\nMinTxRate  : 0\nState      : Follow\n\n", smart_nic_mac);
        char path[512];
        snprintf(path, sizeof(path), "%s/net/p0/smart_nic/pf/config", d0);
        fake_write_str(t, path, text);
    }
    return t;
}

void dpu_netdevsim(struct fake_dl *f, struct fake_tree *tree, unsigned n_vfs)
{
    const char *h = "netdevsim/netdevsim10", *dir = "sys/devices/netdevsim10";
    fake_dl_add_physical(f, h, 0, 1, "eni10np1", 30);
    if (tree) {
        fake_symlink(tree, "sys/devices/netdevsim10/subsystem", "sys/bus/netdevsim");
        fake_mkdir(tree, "sys/bus/netdevsim/devices");
        add_port(tree, dir, "eni10np1", NSIM_UPLINK_MAC, "p1", "5e1f0000");
    }
    for (unsigned vf = 0; vf < n_vfs; vf++) {
        char name[32], pn[32], mac[32];
        snprintf(name, sizeof(name), "eni10npf0vf%u", vf);
        if (strlen(name) >= 16)
            fail_msg("dpu_netdevsim: too many VFs");
        fake_dl_add_vf(f, h, 128 + vf, 0, false, 0, (uint16_t)vf, name, 31 + vf);
        if (tree) {
            snprintf(pn, sizeof(pn), "pf0vf%u", vf);
            snprintf(mac, sizeof(mac), "52:54:00:aa:01:%02x", vf & 0xffu);
            add_port(tree, dir, name, mac, pn, "5e1f0000");
        }
    }
}

struct dh_devlink_ports *dpu_table(struct fake_dl *f, struct dh_host *host)
{
    struct dh_devlink *dl = fake_dl_devlink(f);
    struct dh_devlink_port *ports = NULL;
    size_t n = 0;
    struct dh_error err = {0};
    if (dh_devlink_port_dump(dl, &ports, &n, &err) < 0)
        fail_msg("dump: %s", err.message);
    dh_devlink_free(dl);
    struct dh_devlink_ports *t = NULL;
    if (dh_devlink_ports_new(host, DH_DEVLINK_SOURCE_DEVLINK, ports, n, &t, &err) < 0)
        fail_msg("table: %s", err.message);
    return t;
}

struct dh_host *dpu_host(struct fake_tree *t)
{
    struct dh_host *h = NULL;
    struct dh_error err = {0};
    if (dh_host_new(fake_tree_root(t), &h, &err) < 0)
        fail_msg("dh_host_new: %s", err.message);
    return h;
}

int dpu_lookup(const struct dh_devlink_ports *t, struct dh_host *host, const char *mac, int64_t controller,
               enum devlink_port_flavour flavour, int64_t number, struct dh_devlink_match *ret,
               struct dh_error *err)
{
    struct dh_devlink_query q = {.controller = controller, .flavour = flavour, .number = number};
    if (dh_parse_mac(mac, q.pf_mac) < 0)
        fail_msg("bad MAC %s in the test", mac);
    *ret = (struct dh_devlink_match){0};
    return dh_devlink_lookup(t, host, &q, ret, err);
}

void dpu_assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack ? haystack : "(null)");
}
