/* The sysfs side: switchdev ports from <root>/sys/class/net where devlink is unavailable, and what
 * devlink does not say about a port's netdev (phys_switch_id, the uplink's address, the smart_nic
 * compatibility file). A netdev is a switchdev port when its phys_port_name answers and parses
 * (the kernel fails the read with EOPNOTSUPP on other netdevs); udev renames representors, so the
 * port name, never the interface name, tells what the port is (devlink_port_phys_port_name_get()).
 * The PCI inventory (dh_inventory_scan()) is not used: it attaches netdevs to PCI functions only,
 * while representors may hang off other devices (netdevsim's bus devices), and the DPU side needs
 * none of its VPD, IOMMU or driver reads. */
#include "devlink/devlink-internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpuhost/inventory.h>
#include <dpuhost/pci.h>

#include "util/fileio.h"
#include "util/macro.h"
#include "util/parse.h"

/* The smart_nic/pf/config file is a few short lines ("MAC        : 0c:42:a1:00:00:01"). */
#define SMART_NIC_CONFIG_MAX 4096

int dl_read_netdev_attr(struct dh_host *host, const char *ifname, const char *attr, char *buf, size_t size)
{
    char path[IFNAMSIZ + 128];
    if (!*ifname || strchr(ifname, '/') || streq(ifname, ".") || streq(ifname, ".."))
        return -EINVAL;
    snprintf(path, sizeof(path), "sys/class/net/%s/%s", ifname, attr);
    return dh_read_attr_at(dh_host_fd(host), path, buf, size);
}

int dl_parse_smart_nic_config(const char *text, uint8_t ret[6])
{
    /* "KEY : VALUE" lines, as mlx5's sriov sysfs writes them; ovn-vif reads the MAC line the same
     * way (compat_get_host_pf_mac()) */
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        size_t len = strcspn(line, "\n");
        const char *colon = memchr(line, ':', len);
        if (!colon)
            continue;
        size_t klen = (size_t)(colon - line);
        while (klen > 0 && (line[klen - 1] == ' ' || line[klen - 1] == '\t'))
            klen--;
        if (klen != 3 || strncmp(line, "MAC", 3) != 0)
            continue;
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vlen = (size_t)(line + len - v);
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' || v[vlen - 1] == '\r'))
            vlen--;
        char mac[32];
        if (vlen >= sizeof(mac))
            return -EBADMSG;
        memcpy(mac, v, vlen);
        mac[vlen] = '\0';
        return dh_parse_mac(mac, ret) < 0 ? -EBADMSG : 0;
    }
    return -EBADMSG;
}

int dl_read_smart_nic_mac(struct dh_host *host, const char *ifname, uint8_t ret[6])
{
    char path[IFNAMSIZ + 64];
    if (!*ifname || strchr(ifname, '/'))
        return -EINVAL;
    snprintf(path, sizeof(path), "sys/class/net/%s/smart_nic/pf/config", ifname);
    _cleanup_free_ char *text = NULL;
    int r = dh_read_full_at(dh_host_fd(host), path, SMART_NIC_CONFIG_MAX, &text, NULL);
    if (r < 0)
        return r;
    return dl_parse_smart_nic_config(text, ret);
}

void dl_fill_switch_id(struct dh_host *host, struct dh_devlink_port *p)
{
    if (!host || !p->netdev[0] || p->switch_id[0])
        return;
    /* room for the newline sysfs appends, and for an id too long to keep (it is then left out) */
    char buf[sizeof(p->switch_id) + 8];
    int r = dl_read_netdev_attr(host, p->netdev, "phys_switch_id", buf, sizeof(buf));
    if (r > 0 && (size_t)r < sizeof(p->switch_id))
        memcpy(p->switch_id, buf, (size_t)r + 1);
}

/* The device a netdev hangs off, from its class link "../../devices/.../<dev>/net/<ifname>".
 * Virtual netdevs (devices/virtual/net/...) have none. */
static int netdev_device(int rootfd, const char *ifname, struct dh_devlink_port *p)
{
    char path[IFNAMSIZ + 64];
    snprintf(path, sizeof(path), "sys/class/net/%s", ifname);
    _cleanup_free_ char *target = NULL;
    if (dh_readlink_at(rootfd, path, &target) < 0)
        return -ENOENT;
    size_t tlen = strlen(target), ilen = strlen(ifname);
    if (tlen < ilen + 6 || !streq(target + tlen - ilen, ifname) ||
        strncmp(target + tlen - ilen - 5, "/net/", 5) != 0)
        return -ENOENT;
    target[tlen - ilen - 5] = '\0';
    const char *dev = strrchr(target, '/');
    dev = dev ? dev + 1 : target;
    if (!*dev || streq(dev, "virtual") || streq(dev, "..") || strlen(dev) >= sizeof(p->dev))
        return -ENOENT;
    snprintf(p->dev, sizeof(p->dev), "%s", dev);
    /* The bus is the device's subsystem link. The kernel resolves ".." after following the class
     * link, so this names <devdir>/subsystem; real trees always have it. A fake tree may not: a PCI
     * address still says which bus it is on. */
    char sub[IFNAMSIZ + 64];
    snprintf(sub, sizeof(sub), "sys/class/net/%s/../../subsystem", ifname);
    _cleanup_free_ char *bus = NULL;
    if (dh_readlink_basename_at(rootfd, sub, &bus) == 0 && strlen(bus) < sizeof(p->bus))
        snprintf(p->bus, sizeof(p->bus), "%s", bus);
    else if (dh_pci_addr_is_valid(p->dev))
        snprintf(p->bus, sizeof(p->bus), "pci");
    return 0;
}

static void port_from_name(const struct dh_port_name *n, struct dh_devlink_port *p)
{
    p->has_flavour = true;
    switch (n->flavour) {
    case DH_PORT_PHYSICAL:
        p->flavour = DEVLINK_PORT_FLAVOUR_PHYSICAL;
        p->port_number = n->port;
        p->split_subport = n->split;
        return;
    case DH_PORT_PCIPF:
        p->flavour = DEVLINK_PORT_FLAVOUR_PCI_PF;
        break;
    case DH_PORT_PCIVF:
        p->flavour = DEVLINK_PORT_FLAVOUR_PCI_VF;
        p->vfnum = n->vf;
        break;
    case DH_PORT_PCISF:
        p->flavour = DEVLINK_PORT_FLAVOUR_PCI_SF;
        p->sfnum = n->sf;
        break;
    case DH_PORT_NONE:
        p->has_flavour = false;
        return;
    }
    p->pfnum = n->pf;
    /* the kernel prints c<C> only for an external controller (devlink_port_phys_port_name_get());
     * a local function's controller is 0, as devlink reports it */
    p->controller = n->controller >= 0 ? n->controller : 0;
    p->external = n->controller >= 0;
}

static int cmp_sysfs_port(const void *a, const void *b)
{
    const struct dh_devlink_port *x = a, *y = b;
    int c = strcmp(x->bus, y->bus);
    if (c == 0)
        c = strverscmp(x->dev, y->dev);
    if (c == 0)
        c = strverscmp(x->netdev, y->netdev);
    return c;
}

int dh_devlink_sysfs_ports(struct dh_host *host, struct dh_devlink_port **ret, size_t *ret_n,
                           struct dh_error *err)
{
    assert_return(host && ret && ret_n, -EINVAL);
    int rootfd = dh_host_fd(host);
    _cleanup_closedir_ DIR *d = dh_opendir_at(rootfd, "sys/class/net");
    if (!d) {
        int r = negative_errno();
        _cleanup_free_ char *p = dh_host_path(host, "sys/class/net");
        return dh_error_set(err, r, "devlink: cannot list %s: %s (is sysfs mounted?)",
                            p ? p : "sys/class/net", strerror(-r));
    }
    struct dh_devlink_port *v = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *ifname = de->d_name;
        if (ifname[0] == '.' || strlen(ifname) >= IFNAMSIZ)
            continue;
        char name[64];
        struct dh_port_name pn;
        if (dl_read_netdev_attr(host, ifname, "phys_port_name", name, sizeof(name)) < 0 ||
            dh_port_name_parse(name, &pn) < 0)
            continue; /* not a switchdev port */
        struct dh_devlink_port p;
        dl_port_init(&p);
        if (netdev_device(rootfd, ifname, &p) < 0)
            continue;
        port_from_name(&pn, &p);
        memcpy(p.netdev, ifname, strlen(ifname) + 1); /* length checked above */
        char buf[32];
        uint64_t ifindex;
        if (dl_read_netdev_attr(host, ifname, "ifindex", buf, sizeof(buf)) >= 0 &&
            dh_parse_u64(buf, 10, false, UINT32_MAX, &ifindex) == 0)
            p.ifindex = (unsigned)ifindex;
        /* a port the kernel lists has a netdev of type eth: that is how it got here */
        p.type = DEVLINK_PORT_TYPE_ETH;
        dl_fill_switch_id(host, &p);
        struct dh_devlink_port *nv = realloc(v, (n + 1) * sizeof(*nv));
        if (!nv) {
            free(v);
            return dh_error_set(err, -ENOMEM, "devlink: out of memory");
        }
        v = nv;
        v[n++] = p;
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_sysfs_port);
    *ret = v;
    *ret_n = n;
    return 0;
}
