/* Kernel simulator for fake trees: see fake_kernel.h. The rules it applies, with their sources:
 * - driver_override: only the named driver may match; "" or "\n" clears it (pci-sysfs.c).
 * - a VF is probed only if its PF's sriov_drivers_autoprobe is 1 or it has an override
 *   (pci_device_can_probe(), kernel 5.3+); explicit bind goes through the same probe.
 * - drivers_probe attaches an unbound device and returns success even when nothing matched
 *   (drivers_probe_store() -> bus_rescan_devices_helper()); callers must verify the driver link.
 * - <driver>/bind returns -ENODEV when the driver does not match, -EBUSY when already bound.
 * - vfio-pci refuses a PF with SR-IOV enabled and a device without an IOMMU group.
 * - sriov_numvfs: ERANGE above total, EBUSY between two non-zero counts, same count is a no-op,
 *   ENOENT without a bound driver that implements sriov_configure (iov.c).
 * - /dev/vfio/<group> exists while a member of the group is bound to vfio-pci. */
#include "fake_kernel.h"

#include <dpuhost/pci.h>

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct drv {
    char name[64];
    uint16_t vendor, device;
    char module[64]; /* "" = built in */
    bool sriov;
};

struct mod {
    char name[64];
    bool loaded, available;
};

struct fail {
    char a[64], b[64];
    int error;
};

struct holder {
    int pid, group;
};

struct fake_kernel {
    struct fake_tree *t;
    pthread_mutex_t lock;
    struct drv drivers[32];
    size_t n_drivers;
    struct mod modules[32];
    size_t n_modules;
    struct fail probe_fails[16], write_fails[16];
    size_t n_probe_fails, n_write_fails;
    int numvfs_delay_ms;
    char **writes;
    size_t n_writes;
    int violations;
    struct holder holders[32];
    size_t n_holders;
};

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

static const char *root(struct fake_kernel *k)
{
    return fake_tree_root(k->t);
}

/* ---- reading the tree ---- */

static bool dev_exists(struct fake_kernel *k, const char *bdf)
{
    char *p = xasprintf("%s/sys/bus/pci/devices/%s", root(k), bdf);
    bool r = access(p, F_OK) == 0;
    free(p);
    return r;
}

static bool read_attr(struct fake_kernel *k, const char *bdf, const char *attr, char *buf, size_t size)
{
    char *p = xasprintf("%s/sys/bus/pci/devices/%s/%s", root(k), bdf, attr);
    FILE *f = fopen(p, "re");
    free(p);
    if (!f)
        return false;
    bool ok = fgets(buf, (int)size, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = '\0';
    return ok;
}

static unsigned attr_num(struct fake_kernel *k, const char *bdf, const char *attr, int base)
{
    char buf[64];
    if (!read_attr(k, bdf, attr, buf, sizeof(buf)))
        return 0;
    return (unsigned)strtoul(buf, NULL, base);
}

static bool link_basename(struct fake_kernel *k, const char *bdf, const char *link, char *buf, size_t size)
{
    char *p = xasprintf("%s/sys/bus/pci/devices/%s/%s", root(k), bdf, link);
    char target[4096];
    ssize_t n = readlink(p, target, sizeof(target) - 1);
    free(p);
    if (n <= 0)
        return false;
    target[n] = '\0';
    const char *b = strrchr(target, '/');
    b = b ? b + 1 : target;
    if (strlen(b) >= size)
        return false;
    memcpy(buf, b, strlen(b) + 1);
    return true;
}

static int group_of(struct fake_kernel *k, const char *bdf)
{
    char g[32];
    return link_basename(k, bdf, "iommu_group", g, sizeof(g)) ? atoi(g) : -1;
}

static struct drv *find_driver(struct fake_kernel *k, const char *name)
{
    for (size_t i = 0; i < k->n_drivers; i++)
        if (strcmp(k->drivers[i].name, name) == 0)
            return &k->drivers[i];
    return NULL;
}

static struct mod *find_module(struct fake_kernel *k, const char *name)
{
    for (size_t i = 0; i < k->n_modules; i++)
        if (strcmp(k->modules[i].name, name) == 0)
            return &k->modules[i];
    return NULL;
}

static bool driver_registered(struct fake_kernel *k, const struct drv *d)
{
    if (!d->module[0])
        return true;
    struct mod *m = find_module(k, d->module);
    return m && m->loaded;
}

static bool group_has_vfio_member(struct fake_kernel *k, int group, const char *except)
{
    char *p = xasprintf("%s/sys/kernel/iommu_groups/%d/devices", root(k), group);
    DIR *d = opendir(p);
    free(p);
    bool found = false;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.' || (except && strcmp(de->d_name, except) == 0))
            continue;
        char drv[64];
        if (link_basename(k, de->d_name, "driver", drv, sizeof(drv)) && strcmp(drv, "vfio-pci") == 0)
            found = true;
    }
    if (d)
        closedir(d);
    return found;
}

static bool group_held(struct fake_kernel *k, int group)
{
    for (size_t i = 0; i < k->n_holders; i++)
        if (k->holders[i].group == group)
            return true;
    return false;
}

/* ---- binding ---- */

static int do_unbind(struct fake_kernel *k, const char *bdf)
{
    char drv[64];
    if (!link_basename(k, bdf, "driver", drv, sizeof(drv)))
        return -ENODEV;
    int group = group_of(k, bdf);
    if (strcmp(drv, "vfio-pci") == 0 && group >= 0 && group_held(k, group)) {
        /* the real kernel blocks in vfio_unregister_group_dev() until userspace lets go */
        k->violations++;
        return -EBUSY;
    }
    fake_pci_unbind(k->t, bdf);
    if (strcmp(drv, "vfio-pci") == 0 && group >= 0 && !group_has_vfio_member(k, group, bdf)) {
        char *node = xasprintf("dev/vfio/%d", group);
        fake_remove(k->t, node);
        free(node);
    }
    return 0;
}

static int take_probe_failure(struct fake_kernel *k, const char *bdf, const char *driver)
{
    for (size_t i = 0; i < k->n_probe_fails; i++)
        if (strcmp(k->probe_fails[i].a, bdf) == 0 && strcmp(k->probe_fails[i].b, driver) == 0) {
            int e = k->probe_fails[i].error;
            k->probe_fails[i] = k->probe_fails[--k->n_probe_fails];
            return e;
        }
    return 0;
}

/* pci_device_probe() for one driver: 0 when bound, negative when the probe failed. */
static int probe_with(struct fake_kernel *k, const char *bdf, const struct drv *d)
{
    int e = take_probe_failure(k, bdf, d->name);
    if (e)
        return e;
    int group = group_of(k, bdf);
    if (strcmp(d->name, "vfio-pci") == 0) {
        if (attr_num(k, bdf, "sriov_numvfs", 10) > 0)
            return -EBUSY; /* "Cannot bind to PF with SR-IOV enabled" */
        if (group < 0)
            return -EINVAL; /* vfio_pci_core_register_device: no IOMMU group */
    }
    fake_pci_bind(k->t, bdf, d->name);
    if (strcmp(d->name, "vfio-pci") == 0) {
        char *node = xasprintf("dev/vfio/%d", group);
        fake_write_str(k->t, node, "");
        free(node);
    }
    return 0;
}

static bool matches(struct fake_kernel *k, const char *bdf, const struct drv *d, const char *override)
{
    if (override)
        return strcmp(override, d->name) == 0;
    if (d->vendor == 0 && d->device == 0)
        return false; /* no id table (vfio-pci, pci-stub): override only */
    unsigned vendor = attr_num(k, bdf, "vendor", 16), device = attr_num(k, bdf, "device", 16);
    return (d->vendor == 0xffff || d->vendor == vendor) && (d->device == 0xffff || d->device == device);
}

/* pci_device_can_probe(): a VF of a PF with autoprobe off needs an override. */
static bool can_probe(struct fake_kernel *k, const char *bdf, const char *override)
{
    char pf[64];
    if (!link_basename(k, bdf, "physfn", pf, sizeof(pf)))
        return true;
    return override || attr_num(k, pf, "sriov_drivers_autoprobe", 10) == 1;
}

static const char *override_of(struct fake_kernel *k, const char *bdf, char *buf, size_t size)
{
    if (!read_attr(k, bdf, "driver_override", buf, size) || strcmp(buf, "(null)") == 0 || !buf[0])
        return NULL;
    return buf;
}

/* device_attach(): the first registered, matching driver whose probe succeeds. */
static void attach(struct fake_kernel *k, const char *bdf)
{
    char obuf[256];
    const char *override = override_of(k, bdf, obuf, sizeof(obuf));
    if (!can_probe(k, bdf, override))
        return;
    for (size_t i = 0; i < k->n_drivers; i++) {
        struct drv *d = &k->drivers[i];
        if (driver_registered(k, d) && matches(k, bdf, d, override) && probe_with(k, bdf, d) == 0)
            return;
    }
}

static bool is_bound(struct fake_kernel *k, const char *bdf)
{
    char drv[64];
    return link_basename(k, bdf, "driver", drv, sizeof(drv));
}

static int write_bind(struct fake_kernel *k, const char *driver, const char *bdf)
{
    struct drv *d = find_driver(k, driver);
    if (!d || !driver_registered(k, d))
        return -ENOENT; /* the file would not exist */
    if (!dev_exists(k, bdf))
        return -ENODEV;
    if (is_bound(k, bdf))
        return -EBUSY;
    char obuf[256];
    const char *override = override_of(k, bdf, obuf, sizeof(obuf));
    if (!matches(k, bdf, d, override) || !can_probe(k, bdf, override))
        return -ENODEV;
    return probe_with(k, bdf, d);
}

static int write_unbind(struct fake_kernel *k, const char *driver, const char *bdf)
{
    if (!dev_exists(k, bdf))
        return -ENODEV;
    char drv[64];
    if (!link_basename(k, bdf, "driver", drv, sizeof(drv)) || (driver && strcmp(drv, driver) != 0))
        return -ENODEV;
    return do_unbind(k, bdf);
}

static int write_override(struct fake_kernel *k, const char *bdf, const char *value)
{
    if (!dev_exists(k, bdf))
        return -ENOENT;
    if (strlen(value) >= 4096)
        return -EINVAL;
    char *v = xasprintf("%s\n", value[0] ? value : "(null)");
    fake_pci_write(k->t, bdf, "driver_override", v);
    free(v);
    return 0;
}

/* ---- SR-IOV ---- */

static int next_group(struct fake_kernel *k)
{
    char *p = xasprintf("%s/sys/kernel/iommu_groups", root(k));
    DIR *d = opendir(p);
    free(p);
    int max = -1;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.' && atoi(de->d_name) > max)
            max = atoi(de->d_name);
    if (d)
        closedir(d);
    return max + 1;
}

static void remove_vfs(struct fake_kernel *k, const char *pf)
{
    for (unsigned i = 0; i < 4096; i++) {
        char link[32], vf[64];
        snprintf(link, sizeof(link), "virtfn%u", i);
        if (!link_basename(k, pf, link, vf, sizeof(vf)))
            continue;
        if (is_bound(k, vf))
            do_unbind(k, vf);
        int group = group_of(k, vf);
        char *p = xasprintf("%s/%s", fake_pci_dir(k->t, pf), link);
        fake_remove(k->t, p);
        free(p);
        p = strdup(fake_pci_dir(k->t, vf));
        fake_remove(k->t, p);
        free(p);
        p = xasprintf("sys/bus/pci/devices/%s", vf);
        fake_remove(k->t, p);
        free(p);
        if (group >= 0) {
            p = xasprintf("sys/kernel/iommu_groups/%d", group);
            fake_remove(k->t, p);
            free(p);
        }
    }
    fake_pci_write(k->t, pf, "sriov_numvfs", "0\n");
}

static int write_numvfs(struct fake_kernel *k, const char *pf, const char *value)
{
    char *end;
    long n = strtol(value, &end, 10);
    if (!value[0] || *end || n < 0)
        return -EINVAL;
    char drv[64];
    if (!link_basename(k, pf, "driver", drv, sizeof(drv)))
        return -ENOENT;
    struct drv *d = find_driver(k, drv);
    if (!d || !d->sriov)
        return -ENOENT;
    unsigned total = attr_num(k, pf, "sriov_totalvfs", 10), cur = attr_num(k, pf, "sriov_numvfs", 10);
    if ((unsigned long)n > total)
        return -ERANGE;
    if ((unsigned long)n == cur)
        return 0;
    if (cur != 0 && n != 0)
        return -EBUSY;
    if (k->numvfs_delay_ms) {
        /* the kernel holds the device lock while it creates VFs; so do we */
        struct timespec ts = {k->numvfs_delay_ms / 1000, (long)(k->numvfs_delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (n == 0) {
        remove_vfs(k, pf);
        return 0;
    }
    unsigned offset = attr_num(k, pf, "sriov_offset", 10), stride = attr_num(k, pf, "sriov_stride", 10);
    struct dh_pci_addr a;
    if (dh_pci_addr_parse(pf, &a) < 0)
        return -EINVAL;
    unsigned rid = dh_pci_addr_rid(&a);
    int pf_group = group_of(k, pf);
    char numa[32] = "-1";
    read_attr(k, pf, "numa_node", numa, sizeof(numa));
    for (long i = 0; i < n; i++) {
        unsigned vrid = rid + offset + (unsigned)i * stride;
        char vf[32];
        snprintf(vf, sizeof(vf), "%04x:%02x:%02x.%x", a.domain, (vrid >> 8) & 0xff, (vrid >> 3) & 0x1f,
                 vrid & 7);
        fake_pci_add_vf(k->t, pf, (unsigned)i, vf);
        char *v = xasprintf("%s\n", numa);
        fake_pci_write(k->t, vf, "numa_node", v);
        free(v);
        if (pf_group >= 0)
            fake_pci_iommu_group(k->t, vf, next_group(k));
    }
    if (attr_num(k, pf, "sriov_drivers_autoprobe", 10) == 1)
        for (long i = 0; i < n; i++) {
            char link[32], vf[64];
            snprintf(link, sizeof(link), "virtfn%ld", i);
            if (link_basename(k, pf, link, vf, sizeof(vf)))
                attach(k, vf);
        }
    return 0;
}

/* ---- dispatch ---- */

static int take_write_failure(struct fake_kernel *k, const char *path)
{
    size_t plen = strlen(path);
    for (size_t i = 0; i < k->n_write_fails; i++) {
        size_t slen = strlen(k->write_fails[i].a);
        if (plen >= slen && strcmp(path + plen - slen, k->write_fails[i].a) == 0) {
            int e = k->write_fails[i].error;
            k->write_fails[i] = k->write_fails[--k->n_write_fails];
            return e;
        }
    }
    return 0;
}

static int dispatch(struct fake_kernel *k, const char *path, const char *value)
{
    const char *rest;
    char bdf[64], attr[256], drv[64];
    if (strcmp(path, "sys/bus/pci/drivers_probe") == 0) {
        if (!dev_exists(k, value))
            return -ENODEV;
        if (!is_bound(k, value))
            attach(k, value);
        return 0;
    }
    if ((rest = strncmp(path, "sys/bus/pci/drivers/", 20) == 0 ? path + 20 : NULL)) {
        if (sscanf(rest, "%63[^/]/%255s", drv, attr) != 2)
            return -EACCES;
        if (strcmp(attr, "bind") == 0)
            return write_bind(k, drv, value);
        if (strcmp(attr, "unbind") == 0)
            return write_unbind(k, drv, value);
        if (strcmp(attr, "new_id") == 0 || strcmp(attr, "remove_id") == 0) {
            k->violations++; /* never new_id: it matches every such device, now and later */
            return 0;
        }
        return -EACCES;
    }
    if ((rest = strncmp(path, "sys/bus/pci/devices/", 20) == 0 ? path + 20 : NULL)) {
        if (sscanf(rest, "%63[^/]/%255s", bdf, attr) != 2)
            return -EACCES;
        if (!dev_exists(k, bdf))
            return -ENOENT;
        if (strcmp(attr, "driver_override") == 0)
            return write_override(k, bdf, value);
        if (strcmp(attr, "driver/unbind") == 0) {
            if (!is_bound(k, bdf))
                return -ENOENT; /* no driver link: the path does not exist */
            return write_unbind(k, NULL, value);
        }
        if (strcmp(attr, "sriov_numvfs") == 0)
            return write_numvfs(k, bdf, value);
        if (strcmp(attr, "sriov_drivers_autoprobe") == 0) {
            if (strcmp(value, "0") && strcmp(value, "1"))
                return -EINVAL;
            char *v = xasprintf("%s\n", value);
            fake_pci_write(k->t, bdf, "sriov_drivers_autoprobe", v);
            free(v);
            return 0;
        }
    }
    return -EACCES;
}

static int sim_write(void *userdata, struct dh_host *host, const char *path, const char *value)
{
    (void)host;
    struct fake_kernel *k = userdata;
    char v[4200];
    snprintf(v, sizeof(v), "%s", value);
    v[strcspn(v, "\n")] = '\0'; /* sysfs stores strip the newline */
    pthread_mutex_lock(&k->lock);
    char **w = realloc(k->writes, (k->n_writes + 1) * sizeof(char *));
    if (w) {
        k->writes = w;
        k->writes[k->n_writes++] = xasprintf("%s=%s", path, v);
    }
    int r = take_write_failure(k, path);
    if (!r)
        r = dispatch(k, path, v);
    pthread_mutex_unlock(&k->lock);
    return r;
}

static int sim_load_module(void *userdata, struct dh_host *host, const char *name, struct dh_error *err)
{
    (void)host;
    struct fake_kernel *k = userdata;
    pthread_mutex_lock(&k->lock);
    char canon[64];
    snprintf(canon, sizeof(canon), "%s", name);
    for (char *c = canon; *c; c++)
        if (*c == '-')
            *c = '_';
    struct mod *m = find_module(k, name);
    if (!m) {
        for (size_t i = 0; i < k->n_modules && !m; i++) {
            char mc[64];
            snprintf(mc, sizeof(mc), "%s", k->modules[i].name);
            for (char *c = mc; *c; c++)
                if (*c == '-')
                    *c = '_';
            if (strcmp(mc, canon) == 0)
                m = &k->modules[i];
        }
    }
    int r = 0;
    if (!m || !m->available)
        r = dh_error_set(err, -ENOENT, "modprobe %s failed: module not found (simulated)", name);
    else if (!m->loaded) {
        m->loaded = true;
        char *p = xasprintf("sys/module/%s", canon);
        fake_mkdir(k->t, p);
        free(p);
        /* vfio-pci pulls in vfio (and with it /dev/vfio/vfio), but not vfio_iommu_type1: that is a
         * softdep, which busybox modprobe ignores */
        if (strcmp(canon, "vfio_pci") == 0) {
            struct mod *v = find_module(k, "vfio");
            if (v && !v->loaded) {
                v->loaded = true;
                fake_mkdir(k->t, "sys/module/vfio");
            }
        }
        if (strcmp(canon, "vfio_pci") == 0 || strcmp(canon, "vfio") == 0)
            fake_write_str(k->t, "dev/vfio/vfio", "");
        for (size_t i = 0; i < k->n_drivers; i++)
            if (strcmp(k->drivers[i].module, m->name) == 0)
                fake_pci_driver(k->t, k->drivers[i].name);
    }
    pthread_mutex_unlock(&k->lock);
    return r;
}

static const struct dh_host_ops sim_ops = {
        .write_attr = sim_write,
        .load_module = sim_load_module,
};

/* ---- setup ---- */

struct fake_kernel *fake_kernel_new(struct fake_tree *t)
{
    struct fake_kernel *k = calloc(1, sizeof(*k));
    if (!k)
        abort();
    k->t = t;
    pthread_mutex_init(&k->lock, NULL);
    return k;
}

void fake_kernel_free(struct fake_kernel *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n_writes; i++)
        free(k->writes[i]);
    free(k->writes);
    pthread_mutex_destroy(&k->lock);
    free(k);
}

void fake_kernel_attach(struct fake_kernel *k, struct dh_host *host)
{
    dh_host_set_ops(host, &sim_ops, k);
}

static void add_module(struct fake_kernel *k, const char *name, bool loaded)
{
    if (!name || find_module(k, name))
        return;
    struct mod *m = &k->modules[k->n_modules++];
    snprintf(m->name, sizeof(m->name), "%s", name);
    m->loaded = loaded;
    m->available = true;
    if (loaded) {
        char canon[64];
        snprintf(canon, sizeof(canon), "%s", name);
        for (char *c = canon; *c; c++)
            if (*c == '-')
                *c = '_';
        char *p = xasprintf("sys/module/%s", canon);
        fake_mkdir(k->t, p);
        free(p);
    }
}

void fake_kernel_add_driver(struct fake_kernel *k, const char *name, uint16_t vendor, uint16_t device,
                            const char *module, bool loaded, bool sriov)
{
    pthread_mutex_lock(&k->lock);
    struct drv *d = &k->drivers[k->n_drivers++];
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->vendor = vendor;
    d->device = device;
    snprintf(d->module, sizeof(d->module), "%s", module ? module : "");
    d->sriov = sriov;
    add_module(k, module, loaded);
    if (driver_registered(k, d))
        fake_pci_driver(k->t, name);
    pthread_mutex_unlock(&k->lock);
}

void fake_kernel_add_default_drivers(struct fake_kernel *k)
{
    fake_kernel_add_driver(k, "mlx5_core", 0x15b3, 0xffff, "mlx5_core", true, true);
    fake_kernel_add_driver(k, "nvme", 0x1b36, 0x0010, "nvme", true, true);
    fake_kernel_add_driver(k, "e1000e", 0x8086, 0x10d3, "e1000e", true, false);
    fake_kernel_add_driver(k, "igb", 0x8086, 0x10c9, "igb", true, true);
    fake_kernel_add_driver(k, "igbvf", 0x8086, 0x10ca, "igbvf", true, false);
    fake_kernel_add_driver(k, "vfio-pci", 0, 0, "vfio-pci", false, false);
    fake_kernel_add_driver(k, "pci-stub", 0, 0, NULL, true, false);
    fake_kernel_add_driver(k, "pcieport", 0, 0, NULL, true, false);
    pthread_mutex_lock(&k->lock);
    add_module(k, "vfio", false);
    add_module(k, "vfio_iommu_type1", false);
    pthread_mutex_unlock(&k->lock);
}

void fake_kernel_prefer(struct fake_kernel *k, const char *driver)
{
    pthread_mutex_lock(&k->lock);
    struct drv *d = find_driver(k, driver);
    if (d) {
        struct drv moved = *d;
        memmove(&k->drivers[1], &k->drivers[0], (size_t)(d - k->drivers) * sizeof(*d));
        k->drivers[0] = moved;
    }
    pthread_mutex_unlock(&k->lock);
}

void fake_kernel_remove_module(struct fake_kernel *k, const char *module)
{
    pthread_mutex_lock(&k->lock);
    struct mod *m = find_module(k, module);
    if (m)
        m->available = false;
    pthread_mutex_unlock(&k->lock);
}

void fake_kernel_fail_probe(struct fake_kernel *k, const char *bdf, const char *driver, int error)
{
    pthread_mutex_lock(&k->lock);
    struct fail *f = &k->probe_fails[k->n_probe_fails++];
    snprintf(f->a, sizeof(f->a), "%s", bdf);
    snprintf(f->b, sizeof(f->b), "%s", driver);
    f->error = error;
    pthread_mutex_unlock(&k->lock);
}

void fake_kernel_fail_write(struct fake_kernel *k, const char *suffix, int error)
{
    pthread_mutex_lock(&k->lock);
    struct fail *f = &k->write_fails[k->n_write_fails++];
    snprintf(f->a, sizeof(f->a), "%s", suffix);
    f->error = error;
    pthread_mutex_unlock(&k->lock);
}

void fake_kernel_set_numvfs_delay_ms(struct fake_kernel *k, int ms)
{
    pthread_mutex_lock(&k->lock);
    k->numvfs_delay_ms = ms;
    pthread_mutex_unlock(&k->lock);
}

void fake_kernel_hold_group(struct fake_kernel *k, int pid, const char *comm, int group)
{
    pthread_mutex_lock(&k->lock);
    k->holders[k->n_holders++] = (struct holder){pid, group};
    char *p = xasprintf("proc/%d/comm", pid);
    char *c = xasprintf("%s\n", comm);
    fake_write_str(k->t, p, c);
    free(c);
    free(p);
    p = xasprintf("proc/%d/fd", pid);
    fake_mkdir(k->t, p);
    free(p);
    p = xasprintf("%s/proc/%d/fd/%zu", root(k), pid, 10 + k->n_holders);
    char *target = xasprintf("/dev/vfio/%d", group);
    if (symlink(target, p) < 0)
        abort();
    free(target);
    free(p);
    pthread_mutex_unlock(&k->lock);
}

void fake_kernel_release_holder(struct fake_kernel *k, int pid)
{
    pthread_mutex_lock(&k->lock);
    for (size_t i = 0; i < k->n_holders;)
        if (k->holders[i].pid == pid)
            k->holders[i] = k->holders[--k->n_holders];
        else
            i++;
    char *p = xasprintf("proc/%d", pid);
    fake_remove(k->t, p);
    free(p);
    pthread_mutex_unlock(&k->lock);
}

const char *const *fake_kernel_writes(struct fake_kernel *k, size_t *ret_n)
{
    *ret_n = k->n_writes;
    return (const char *const *)k->writes;
}

bool fake_kernel_wrote(struct fake_kernel *k, const char *path_suffix, const char *value)
{
    bool found = false;
    pthread_mutex_lock(&k->lock);
    for (size_t i = 0; i < k->n_writes && !found; i++) {
        const char *eq = strrchr(k->writes[i], '=');
        size_t plen = (size_t)(eq - k->writes[i]), slen = strlen(path_suffix);
        if (plen >= slen && strncmp(k->writes[i] + plen - slen, path_suffix, slen) == 0 &&
            (!value || strcmp(eq + 1, value) == 0))
            found = true;
    }
    pthread_mutex_unlock(&k->lock);
    return found;
}

int fake_kernel_violations(struct fake_kernel *k)
{
    pthread_mutex_lock(&k->lock);
    int v = k->violations;
    pthread_mutex_unlock(&k->lock);
    return v;
}
