/* Network interfaces of functions: /sys/class/net/<ifname>/{address,operstate,phys_port_name,
 * phys_switch_id}, attributed to the function their device path runs through. The two port
 * attributes fail with EOPNOTSUPP on netdevs that are not switchdev ports; that is "absent", not
 * an error. */
#include "inventory-internal.h"

#include <fcntl.h>

/* interface names are at most IFNAMSIZ-1 (15) bytes; be generous for fake trees */
#define IFNAMSIZ_MAX 256

#include "util/fileio.h"
#include "util/macro.h"

/* Attributes are read relative to sys/class/net ("<ifname>/address"), without opening the
 * netdev's directory: two syscalls less per netdev on hosts with thousands of VFs. */
static int read_optional(int classfd, const char *ifname, const char *attr, char **ret)
{
    char path[IFNAMSIZ_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", ifname, attr);
    int r = dh_read_attr_alloc_at(classfd, path, ret);
    if (r == -ENOMEM)
        return r;
    if (r >= 0 && **ret == '\0') {
        free(*ret);
        *ret = NULL;
    }
    return 0;
}

static int read_netdev(int classfd, const char *ifname, struct dh_netdev *n)
{
    n->name = strdup(ifname);
    if (!n->name)
        return -ENOMEM;
    dh_port_name_parse(NULL, &n->port);
    if (read_optional(classfd, ifname, "address", &n->mac) < 0 ||
        read_optional(classfd, ifname, "operstate", &n->operstate) < 0 ||
        read_optional(classfd, ifname, "phys_port_name", &n->phys_port_name) < 0 ||
        read_optional(classfd, ifname, "phys_switch_id", &n->phys_switch_id) < 0)
        return -ENOMEM;
    if (n->phys_port_name)
        dh_port_name_parse(n->phys_port_name, &n->port);
    return 0;
}

static int cmp_netdev(const void *a, const void *b)
{
    return strverscmp(((const struct dh_netdev *)a)->name, ((const struct dh_netdev *)b)->name);
}

/* The function a netdev belongs to: the last component of its sysfs device path that is a PCI
 * address or an SF name. The netdev may sit directly in <dev>/net or below a child device
 * (virtio-net: <dev>/virtio0/net; mlx5 SFs: <sf>/mlx5_core.eth.N/net). Virtual netdevs (lo,
 * bridges, veth) live under devices/virtual and belong to nobody. */
static struct dh_func *owner_of(struct dh_inventory *inv, char *target)
{
    struct dh_func *owner = NULL;
    for (char *save = NULL, *c = strtok_r(target, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (streq(c, "virtual"))
            return NULL;
        if (streq(c, "net"))
            break;
        if (dh_func_address_is_valid(c)) {
            struct dh_func *f = (struct dh_func *)dh_inventory_find(inv, c);
            if (f)
                owner = f;
        }
    }
    return owner;
}

static int append_netdev(struct dh_func *f, int classfd, const char *ifname)
{
    struct dh_netdev *v = realloc(f->netdevs, (f->n_netdevs + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    f->netdevs = v;
    struct dh_netdev *n = &f->netdevs[f->n_netdevs++];
    *n = (struct dh_netdev){0};
    return read_netdev(classfd, ifname, n);
}

int inv_attach_netdevs(int rootfd, struct dh_inventory *inv)
{
    _cleanup_closedir_ DIR *d = dh_opendir_at(rootfd, "sys/class/net");
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *target = NULL;
        if (dh_readlink_at(dirfd(d), de->d_name, &target) < 0)
            continue;
        struct dh_func *f = owner_of(inv, target);
        if (f) {
            int r = append_netdev(f, dirfd(d), de->d_name);
            if (r < 0)
                return r;
        }
    }
    for (size_t i = 0; i < inv->n_funcs; i++)
        if (inv->funcs[i].n_netdevs > 1)
            qsort(inv->funcs[i].netdevs, inv->funcs[i].n_netdevs, sizeof(struct dh_netdev), cmp_netdev);
    return 0;
}

const struct dh_netdev *dh_func_primary_netdev(const struct dh_func *f)
{
    if (!f)
        return NULL;
    for (size_t i = 0; i < f->n_netdevs; i++)
        if (f->netdevs[i].port.flavour == DH_PORT_NONE && !f->netdevs[i].phys_port_name)
            return &f->netdevs[i];
    for (size_t i = 0; i < f->n_netdevs; i++)
        if (f->netdevs[i].port.flavour == DH_PORT_PHYSICAL)
            return &f->netdevs[i];
    return NULL;
}
