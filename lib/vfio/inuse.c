/* "Is the host using this function?" checks made before taking it away: a netdev with global
 * addresses, routes (the SR-IOV device plugin refuses the default route, dpdk-devbind any route)
 * or a master (bond, bridge); an NVMe namespace (or one of its partitions) that is mounted, used as
 * swap, or held by LVM/MD/dm (holders/). Each refusal says what was found and that --force
 * overrides it. */
#include "vfio-internal.h"

#include <fcntl.h>

#include "util/fileio.h"
#include "util/macro.h"
#include "util/strv.h"

void dh_link_facts_clear(struct dh_link_facts *f)
{
    if (!f)
        return;
    free(f->addresses);
    free(f->master);
    *f = (struct dh_link_facts){0};
}

bool vfio_mountinfo_has_device(const char *mountinfo, unsigned major, unsigned minor, char *ret_mountpoint,
                               size_t size)
{
    char want[32];
    snprintf(want, sizeof(want), "%u:%u", major, minor);
    for (const char *line = mountinfo; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        /* id parent major:minor root mountpoint ... */
        const char *f = line, *end = line + len;
        const char *field[5] = {0};
        size_t flen[5] = {0};
        for (int i = 0; i < 5 && f < end; i++) {
            while (f < end && *f == ' ')
                f++;
            field[i] = f;
            while (f < end && *f != ' ')
                f++;
            flen[i] = (size_t)(f - field[i]);
        }
        if (field[4] && flen[2] == strlen(want) && strncmp(field[2], want, flen[2]) == 0) {
            if (ret_mountpoint && size)
                snprintf(ret_mountpoint, size, "%.*s", (int)flen[4], field[4]);
            return true;
        }
        line = eol ? eol + 1 : NULL;
    }
    return false;
}

bool vfio_swaps_has_device(const char *swaps, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *line = swaps; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = strcspn(line, " \t\n");
        /* "/dev/nvme0n1p2   partition  ..." (the header line never matches a device path) */
        if (len > nlen && line[len - nlen - 1] == '/' && strncmp(line + len - nlen, name, nlen) == 0)
            return true;
        line = eol ? eol + 1 : NULL;
    }
    return false;
}

static int check_netdevs(const struct dh_vfio_net *net, const struct dh_func *f, struct dh_error *err)
{
    for (size_t i = 0; i < f->n_netdevs; i++) {
        const char *ifname = f->netdevs[i].name;
        if (!net || !net->link_facts)
            return dh_error_set(err, -EBUSY,
                                "%s: cannot check whether its netdev %s is in use (no netlink); pass "
                                "--force to bind anyway",
                                f->address, ifname);
        struct dh_link_facts facts = {0};
        struct dh_error nerr = {0};
        int r = net->link_facts(net->userdata, ifname, &facts, &nerr);
        if (r == -ENODEV || r == -ENOENT)
            continue; /* the netdev is in another network namespace or just went away */
        if (r < 0)
            return dh_error_set(err, -EBUSY,
                                "%s: cannot check whether its netdev %s is in use (%s); pass --force to "
                                "bind anyway",
                                f->address, ifname, nerr.message[0] ? nerr.message : strerror(-r));
        int out = 0;
        if (facts.addresses)
            out = dh_error_set(err, -EBUSY,
                               "%s: its netdev %s has addresses %s: the host uses it; remove them or "
                               "pass --force",
                               f->address, ifname, facts.addresses);
        else if (facts.default_route)
            out = dh_error_set(err, -EBUSY,
                               "%s: its netdev %s carries the default route: the host uses it; pass "
                               "--force to take it anyway",
                               f->address, ifname);
        else if (facts.any_route)
            out = dh_error_set(err, -EBUSY,
                               "%s: its netdev %s carries routes: the host uses it; remove them or "
                               "pass --force",
                               f->address, ifname);
        else if (facts.master)
            out = dh_error_set(err, -EBUSY,
                               "%s: its netdev %s is enslaved to %s: the host uses it; release it or "
                               "pass --force",
                               f->address, ifname, facts.master);
        dh_link_facts_clear(&facts);
        if (out < 0)
            return out;
    }
    return 0;
}

/* The namespace and its partitions: sys/class/block/<ns> and the <ns>p<N> entries inside it. */
static int block_devices(int rootfd, const char *ns, char ***ret, size_t *ret_n)
{
    int r = dh_strv_push_dup(ret, ret_n, ns);
    if (r < 0)
        return r;
    char path[128];
    snprintf(path, sizeof(path), "sys/class/block/%s", ns);
    _cleanup_closedir_ DIR *d = dh_opendir_at(rootfd, path);
    if (!d)
        return 0;
    struct dirent *de;
    size_t nslen = strlen(ns);
    while ((de = readdir(d)))
        if (strncmp(de->d_name, ns, nslen) == 0 && de->d_name[nslen] == 'p' &&
            dh_strv_push_dup(ret, ret_n, de->d_name) < 0)
            return -ENOMEM;
    return 0;
}

static int check_block_device(struct dh_host *host, const struct dh_func *f, const char *ns, const char *name,
                              const char *mountinfo, const char *swaps, struct dh_error *err)
{
    int rootfd = dh_host_fd(host);
    char path[160], dev[32];
    snprintf(path, sizeof(path), "sys/class/block/%s/dev", name);
    unsigned major, minor;
    if (dh_read_attr_at(rootfd, path, dev, sizeof(dev)) > 0 && sscanf(dev, "%u:%u", &major, &minor) == 2) {
        char mp[256];
        if (mountinfo && vfio_mountinfo_has_device(mountinfo, major, minor, mp, sizeof(mp)))
            return dh_error_set(err, -EBUSY,
                                "%s: its namespace %s (%s) is mounted on %s; unmount it or pass --force",
                                f->address, ns, name, mp);
    }
    if (swaps && vfio_swaps_has_device(swaps, name))
        return dh_error_set(err, -EBUSY,
                            "%s: its namespace %s (%s) is in use as swap; swapoff it or pass --force",
                            f->address, ns, name);
    snprintf(path, sizeof(path), "sys/class/block/%s/holders", name);
    _cleanup_closedir_ DIR *d = dh_opendir_at(rootfd, path);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            return dh_error_set(err, -EBUSY,
                                "%s: its namespace %s (%s) is held by %s (LVM, MD or device-mapper); "
                                "release it or pass --force",
                                f->address, ns, name, de->d_name);
    return 0;
}

static int check_namespaces(struct dh_host *host, const struct dh_func *f, struct dh_error *err)
{
    if (f->n_nvme_namespaces == 0)
        return 0;
    int rootfd = dh_host_fd(host);
    /* init's view of the mounts is the host's; ours may be a private namespace */
    _cleanup_free_ char *mi1 = NULL, *mis = NULL, *swaps = NULL;
    dh_read_full_at(rootfd, "proc/1/mountinfo", 16 << 20, &mi1, NULL);
    dh_read_full_at(rootfd, "proc/self/mountinfo", 16 << 20, &mis, NULL);
    dh_read_full_at(rootfd, "proc/swaps", 1 << 20, &swaps, NULL);
    for (size_t i = 0; i < f->n_nvme_namespaces; i++) {
        char **devs = NULL;
        size_t n = 0;
        int r = block_devices(rootfd, f->nvme_namespaces[i], &devs, &n);
        for (size_t k = 0; r >= 0 && k < n; k++) {
            r = check_block_device(host, f, f->nvme_namespaces[i], devs[k], mi1, swaps, err);
            if (r >= 0 && mis)
                r = check_block_device(host, f, f->nvme_namespaces[i], devs[k], mis, NULL, err);
        }
        dh_strv_free(devs, n);
        if (r < 0)
            return r;
    }
    return 0;
}

int vfio_check_in_use(struct dh_host *host, const struct dh_vfio_net *net, const struct dh_func *f,
                      struct dh_error *err)
{
    int r = check_netdevs(net, f, err);
    if (r < 0)
        return r;
    return check_namespaces(host, f, err);
}
