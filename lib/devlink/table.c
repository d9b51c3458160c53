/* The port table: ports from devlink or sysfs, and the PFs they belong to, each with its MAC and
 * where the MAC came from. A PF is a (handle, controller, pfnum) that has a pcipf port or VF/SF
 * representors. Its MAC, in the order ovn-vif's vif-plug-representor.c tries:
 *   1. the pcipf port's function hw_addr (devlink-port.rst: the host-facing MAC of the function);
 *   2. when that is absent or zero, the "MAC" line of smart_nic/pf/config of the physical port
 *      whose number is the PF's (the interim interface of kernels before port functions);
 *   3. a local PF without a pcipf port: the eswitch runs in the PF's own kernel, whose PF netdev
 *      is the uplink representor (switchdev mode), so the uplink's address is the PF MAC the host
 *      side publishes (dh_func_primary_netdev() picks the uplink in switchdev mode). Only when the
 *      device has exactly one physical port: with several, which one is the PF is not known. */
#include "devlink/devlink-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"
#include "util/parse.h"

const char *dh_devlink_source_to_string(enum dh_devlink_source source)
{
    switch (source) {
    case DH_DEVLINK_SOURCE_AUTO:
        return "auto";
    case DH_DEVLINK_SOURCE_DEVLINK:
        return "devlink";
    case DH_DEVLINK_SOURCE_SYSFS:
        return "sysfs";
    }
    return NULL;
}

int dh_devlink_source_from_string(const char *s, enum dh_devlink_source *ret)
{
    static const enum dh_devlink_source all[] = {DH_DEVLINK_SOURCE_AUTO, DH_DEVLINK_SOURCE_DEVLINK,
                                                 DH_DEVLINK_SOURCE_SYSFS};
    for (size_t i = 0; s && i < ELEMENTSOF(all); i++)
        if (streq(s, dh_devlink_source_to_string(all[i]))) {
            *ret = all[i];
            return 0;
        }
    return -EINVAL;
}

const char *dh_devlink_mac_source_to_string(enum dh_devlink_mac_source source)
{
    switch (source) {
    case DH_DEVLINK_MAC_NONE:
        return "none";
    case DH_DEVLINK_MAC_HW_ADDR:
        return "hw_addr";
    case DH_DEVLINK_MAC_SMART_NIC:
        return "smart_nic";
    case DH_DEVLINK_MAC_UPLINK:
        return "uplink";
    }
    return NULL;
}

void dh_devlink_ports_free(struct dh_devlink_ports *t)
{
    if (!t)
        return;
    free(t->ports);
    free(t->pfs);
    free(t);
}

static bool is_function(const struct dh_devlink_port *p)
{
    return p->has_flavour &&
           (p->flavour == DEVLINK_PORT_FLAVOUR_PCI_PF || p->flavour == DEVLINK_PORT_FLAVOUR_PCI_VF ||
            p->flavour == DEVLINK_PORT_FLAVOUR_PCI_SF);
}

static bool is_physical(const struct dh_devlink_port *p)
{
    return p->has_flavour && p->flavour == DEVLINK_PORT_FLAVOUR_PHYSICAL;
}

static bool same_device(const struct dh_devlink_port *p, const char *bus, const char *dev)
{
    return streq(p->bus, bus) && streq(p->dev, dev);
}

/* A function port's controller: devlink always reports it for function flavours; -1 (never seen
 * from the kernel) is taken as the local one. */
static int64_t controller_of(const struct dh_devlink_port *p)
{
    return p->controller >= 0 ? p->controller : 0;
}

bool dl_port_of_pf(const struct dh_devlink_port *p, const struct dh_devlink_pf *f,
                   enum devlink_port_flavour flavour)
{
    return p->has_flavour && p->flavour == flavour && same_device(p, f->bus, f->dev) &&
           controller_of(p) == f->controller && p->pfnum == f->pfnum;
}

int64_t dl_port_number(const struct dh_devlink_port *p)
{
    return p->flavour == DEVLINK_PORT_FLAVOUR_PCI_SF ? p->sfnum : p->vfnum;
}

static struct dh_devlink_pf *find_pf(struct dh_devlink_ports *t, const char *bus, const char *dev,
                                     int64_t controller, int64_t pfnum)
{
    for (size_t i = 0; i < t->n_pfs; i++) {
        struct dh_devlink_pf *f = &t->pfs[i];
        if (streq(f->bus, bus) && streq(f->dev, dev) && f->controller == controller && f->pfnum == pfnum)
            return f;
    }
    return NULL;
}

static struct dh_devlink_pf *add_pf(struct dh_devlink_ports *t, const struct dh_devlink_port *p)
{
    struct dh_devlink_pf *v = realloc(t->pfs, (t->n_pfs + 1) * sizeof(*v));
    if (!v)
        return NULL;
    t->pfs = v;
    struct dh_devlink_pf *f = &t->pfs[t->n_pfs++];
    *f = (struct dh_devlink_pf){
            .controller = controller_of(p),
            .external = p->external == 1,
            .pfnum = p->pfnum,
            .port = -1,
    };
    snprintf(f->bus, sizeof(f->bus), "%s", p->bus);
    snprintf(f->dev, sizeof(f->dev), "%s", p->dev);
    return f;
}

static bool mac_is_zero(const uint8_t *mac)
{
    static const uint8_t zero[6];
    return memcmp(mac, zero, 6) == 0;
}

/* The physical port of the PF's device whose number is pfnum (ovn-vif's correlation for the
 * smart_nic file: "we have found them to correlate on the devices where this is necessary"). */
static const struct dh_devlink_port *uplink_numbered(const struct dh_devlink_ports *t,
                                                     const struct dh_devlink_pf *f)
{
    for (size_t i = 0; i < t->n_ports; i++) {
        const struct dh_devlink_port *p = &t->ports[i];
        if (is_physical(p) && same_device(p, f->bus, f->dev) && p->port_number == f->pfnum && p->netdev[0])
            return p;
    }
    return NULL;
}

static void resolve_pcipf(struct dh_devlink_ports *t, struct dh_host *host, struct dh_devlink_pf *f)
{
    const struct dh_devlink_port *p = &t->ports[f->port];
    if (p->hw_addr_len == 6 && !mac_is_zero(p->hw_addr)) {
        memcpy(f->mac, p->hw_addr, 6);
        f->mac_source = DH_DEVLINK_MAC_HW_ADDR;
        return;
    }
    char name[256];
    dl_port_name(p, name, sizeof(name));
    const char *what = p->hw_addr_len == 6 ? "a zero function hw_addr" : "no function hw_addr";
    const struct dh_devlink_port *up = uplink_numbered(t, f);
    if (!up) {
        snprintf(f->why_no_mac, sizeof(f->why_no_mac),
                 "pcipf port %s reports %s and its device has no physical port %lld for the smart_nic "
                 "fallback",
                 name, what, (long long)f->pfnum);
        return;
    }
    int r = host ? dl_read_smart_nic_mac(host, up->netdev, f->mac) : -ENOENT;
    if (r == 0 && !mac_is_zero(f->mac)) {
        f->mac_source = DH_DEVLINK_MAC_SMART_NIC;
        return;
    }
    snprintf(f->why_no_mac, sizeof(f->why_no_mac),
             "pcipf port %s reports %s and /sys/class/net/%s/smart_nic/pf/config %s", name, what, up->netdev,
             r == -ENOENT ? "does not exist"
             : r == 0     ? "holds a zero MAC"
                          : "has no readable MAC line");
}

static void resolve_local(struct dh_devlink_ports *t, struct dh_host *host, struct dh_devlink_pf *f)
{
    char handle[192];
    dl_handle(f->bus, f->dev, handle, sizeof(handle));
    if (f->external || f->controller != 0) {
        snprintf(f->why_no_mac, sizeof(f->why_no_mac),
                 "%s has representors of controller %lld pf %lld but no pcipf port for that PF", handle,
                 (long long)f->controller, (long long)f->pfnum);
        return;
    }
    ssize_t uplink = -1;
    size_t n_physical = 0;
    for (size_t i = 0; i < t->n_ports; i++)
        if (is_physical(&t->ports[i]) && same_device(&t->ports[i], f->bus, f->dev)) {
            n_physical++;
            uplink = (ssize_t)i;
        }
    if (n_physical != 1) {
        snprintf(f->why_no_mac, sizeof(f->why_no_mac),
                 "%s has no pcipf port for pf %lld and %zu physical ports, so no uplink stands for the PF",
                 handle, (long long)f->pfnum, n_physical);
        return;
    }
    const struct dh_devlink_port *up = &t->ports[uplink];
    f->port = uplink;
    char addr[32];
    if (!up->netdev[0]) {
        snprintf(f->why_no_mac, sizeof(f->why_no_mac), "the uplink port of %s has no netdev", handle);
        return;
    }
    if (!host || dl_read_netdev_attr(host, up->netdev, "address", addr, sizeof(addr)) < 0 ||
        dh_parse_mac(addr, f->mac) < 0 || mac_is_zero(f->mac)) {
        snprintf(f->why_no_mac, sizeof(f->why_no_mac), "the address of uplink %s cannot be read", up->netdev);
        return;
    }
    f->mac_source = DH_DEVLINK_MAC_UPLINK;
}

static int cmp_port(const void *a, const void *b)
{
    const struct dh_devlink_port *x = a, *y = b;
    int c = strcmp(x->bus, y->bus);
    if (c == 0)
        c = strverscmp(x->dev, y->dev);
    if (c == 0 && x->index != y->index)
        c = x->index < y->index ? -1 : 1;
    if (c == 0)
        c = strverscmp(x->netdev, y->netdev);
    return c;
}

static int cmp_pf(const void *a, const void *b)
{
    const struct dh_devlink_pf *x = a, *y = b;
    int c = strcmp(x->bus, y->bus);
    if (c == 0)
        c = strverscmp(x->dev, y->dev);
    if (c == 0 && x->controller != y->controller)
        c = x->controller < y->controller ? -1 : 1;
    if (c == 0 && x->pfnum != y->pfnum)
        c = x->pfnum < y->pfnum ? -1 : 1;
    return c;
}

int dh_devlink_ports_new(struct dh_host *host, enum dh_devlink_source source, struct dh_devlink_port *ports,
                         size_t n_ports, struct dh_devlink_ports **ret, struct dh_error *err)
{
    if (!ret || (!ports && n_ports)) {
        free(ports);
        return -EINVAL;
    }
    struct dh_devlink_ports *t = calloc(1, sizeof(*t));
    if (!t) {
        free(ports);
        return dh_error_set(err, -ENOMEM, "devlink: out of memory");
    }
    t->source = source;
    t->ports = ports;
    t->n_ports = n_ports;
    if (n_ports > 1)
        qsort(t->ports, n_ports, sizeof(*t->ports), cmp_port);
    for (size_t i = 0; i < n_ports; i++)
        dl_fill_switch_id(host, &t->ports[i]);

    /* pcipf ports first, so that a VF's PF is the pcipf port whenever there is one */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n_ports; i++) {
            const struct dh_devlink_port *p = &t->ports[i];
            if (!is_function(p) || p->pfnum < 0 || (p->flavour == DEVLINK_PORT_FLAVOUR_PCI_PF) != (pass == 0))
                continue;
            struct dh_devlink_pf *f = find_pf(t, p->bus, p->dev, controller_of(p), p->pfnum);
            if (f)
                continue;
            if (!(f = add_pf(t, p))) {
                dh_devlink_ports_free(t);
                return dh_error_set(err, -ENOMEM, "devlink: out of memory");
            }
            if (pass == 0) {
                f->port = (ssize_t)i;
                resolve_pcipf(t, host, f);
            } else
                resolve_local(t, host, f);
        }
    if (t->n_pfs > 1)
        qsort(t->pfs, t->n_pfs, sizeof(*t->pfs), cmp_pf);
    *ret = t;
    return 0;
}

static bool is_no_devlink(int r)
{
    /* no devlink family registered, or no generic netlink at all */
    return r == -ENOENT || r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT;
}

int dh_devlink_scan(struct dh_host *host, const struct dh_devlink_scan_options *opts,
                    struct dh_devlink_ports **ret, struct dh_error *err)
{
    assert_return(host && ret, -EINVAL);
    enum dh_devlink_source source = opts ? opts->source : DH_DEVLINK_SOURCE_AUTO;
    char reason[DH_ERROR_MESSAGE_MAX] = "";
    struct dh_devlink_port *ports = NULL;
    size_t n = 0;
    int r;

    if (source == DH_DEVLINK_SOURCE_AUTO && !dh_host_is_real_root(host)) {
        snprintf(reason, sizeof(reason),
                 "the host root is %s, not /: devlink describes the running kernel, so the ports were read "
                 "from sysfs under the root",
                 dh_host_root(host));
        source = DH_DEVLINK_SOURCE_SYSFS;
    }
    if (source != DH_DEVLINK_SOURCE_SYSFS) {
        struct dh_devlink *dl = opts ? opts->devlink : NULL, *opened = NULL;
        struct dh_error e = {0};
        int (*open_fn)(struct dh_devlink **, struct dh_error *) =
                opts && opts->open ? opts->open : dh_devlink_open;
        r = dl ? 0 : open_fn(&opened, &e);
        if (r < 0 && source == DH_DEVLINK_SOURCE_AUTO && is_no_devlink(r)) {
            snprintf(reason, sizeof(reason), "%.900s; the ports were read from sysfs", e.message);
            source = DH_DEVLINK_SOURCE_SYSFS;
        } else if (r < 0) {
            return dh_error_set(err, r, "%s", e.message);
        } else {
            r = dh_devlink_port_dump(dl ? dl : opened, &ports, &n, err);
            dh_devlink_free(opened);
            if (r < 0)
                return r;
            source = DH_DEVLINK_SOURCE_DEVLINK;
        }
    }
    if (source == DH_DEVLINK_SOURCE_SYSFS && (r = dh_devlink_sysfs_ports(host, &ports, &n, err)) < 0)
        return r;
    struct dh_devlink_ports *t = NULL;
    r = dh_devlink_ports_new(host, source, ports, n, &t, err);
    if (r < 0)
        return r;
    snprintf(t->fallback_reason, sizeof(t->fallback_reason), "%s", reason);
    *ret = t;
    return 0;
}
