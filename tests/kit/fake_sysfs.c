/* Fake host trees for tests and benchmarks: see fake_sysfs.h. */
#include "fake_sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fake_tree {
    char *root;
    char pathbuf[4096];
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fake_sysfs: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        die("out of memory");
    va_end(ap);
    return s;
}

static char *abs_path(struct fake_tree *t, const char *rel)
{
    return xasprintf("%s/%s", t->root, rel);
}

static void mkdir_p(const char *path)
{
    char *p = strdup(path);
    if (!p)
        die("out of memory");
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            die("mkdir %s: %m", p);
        *s = '/';
    }
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        die("mkdir %s: %m", p);
    free(p);
}

void fake_mkdir(struct fake_tree *t, const char *relpath)
{
    char *p = abs_path(t, relpath);
    mkdir_p(p);
    free(p);
}

static void mkdir_parent(const char *abspath)
{
    char *p = strdup(abspath);
    char *slash = p ? strrchr(p, '/') : NULL;
    if (!slash)
        die("bad path %s", abspath);
    *slash = '\0';
    mkdir_p(p);
    free(p);
}

void fake_write(struct fake_tree *t, const char *relpath, const void *data, size_t size)
{
    char *p = abs_path(t, relpath);
    mkdir_parent(p);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open %s: %m", p);
    if (size && write(fd, data, size) != (ssize_t)size)
        die("write %s: %m", p);
    close(fd);
    free(p);
}

void fake_write_str(struct fake_tree *t, const char *relpath, const char *s)
{
    fake_write(t, relpath, s, strlen(s));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void fake_remove(struct fake_tree *t, const char *relpath)
{
    char *p = abs_path(t, relpath);
    struct stat st;
    if (lstat(p, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        else if (unlink(p) < 0)
            die("unlink %s: %m", p);
    }
    free(p);
}

/* The kernel writes sysfs links relative (../../devices/...); so do we, which also keeps links
 * inside the fake root when they are resolved with openat() relative to it. */
void fake_symlink(struct fake_tree *t, const char *relpath, const char *target)
{
    const char *l = relpath, *g = target;
    /* skip the common directory prefix */
    for (;;) {
        const char *ls = strchr(l, '/'), *gs = strchr(g, '/');
        if (!ls || !gs || ls - l != gs - g || strncmp(l, g, (size_t)(ls - l)) != 0)
            break;
        l = ls + 1;
        g = gs + 1;
    }
    char rel[4096] = "";
    for (const char *s = l; (s = strchr(s, '/')); s++)
        strcat(rel, "../");
    strcat(rel, g);

    char *p = abs_path(t, relpath);
    mkdir_parent(p);
    unlink(p);
    if (symlink(rel, p) < 0)
        die("symlink %s -> %s: %m", p, rel);
    free(p);
}

struct fake_tree *fake_tree_new(void)
{
    struct fake_tree *t = calloc(1, sizeof(*t));
    if (!t)
        die("out of memory");
    const char *tmp = getenv("TMPDIR");
    t->root = xasprintf("%s/dpuhost-fake.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(t->root))
        die("mkdtemp %s: %m", t->root);
    static const char *const dirs[] = {
            "sys/bus/pci/devices",
            "sys/bus/pci/drivers",
            "sys/kernel/iommu_groups",
            "sys/class/net",
            "sys/class/nvme",
            "sys/bus/auxiliary/devices",
            "sys/bus/auxiliary/drivers",
            "sys/module",
            "dev",
            "proc",
            "run",
    };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        fake_mkdir(t, dirs[i]);
    fake_write_str(t, "sys/bus/pci/drivers_probe", "");
    fake_write_str(t, "sys/bus/pci/drivers_autoprobe", "1\n");
    return t;
}

void fake_tree_free(struct fake_tree *t)
{
    if (!t)
        return;
    if (t->root && getenv("DPUHOST_KEEP_FAKE_TREE") == NULL)
        nftw(t->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(t->root);
    free(t);
}

const char *fake_tree_root(const struct fake_tree *t)
{
    return t->root;
}

const char *fake_pci_dir(struct fake_tree *t, const char *bdf)
{
    /* sys/devices/pci<domain>:<bus>/<bdf>: functions hang off their root bus; the inventory only
     * relies on the sys/bus/pci/devices links and on sibling links, as in real trees. */
    if (strlen(bdf) < 7)
        die("bad address %s", bdf);
    snprintf(t->pathbuf, sizeof(t->pathbuf), "sys/devices/pci%.4s:00/%s", bdf, bdf);
    return t->pathbuf;
}

static char *pci_attr_path(struct fake_tree *t, const char *bdf, const char *attr)
{
    return xasprintf("%s/%s", fake_pci_dir(t, bdf), attr);
}

void fake_pci_write(struct fake_tree *t, const char *bdf, const char *attr, const char *value)
{
    char *p = pci_attr_path(t, bdf, attr);
    fake_write_str(t, p, value);
    free(p);
}

void fake_pci_write_bytes(struct fake_tree *t, const char *bdf, const char *attr, const void *data,
                          size_t size)
{
    char *p = pci_attr_path(t, bdf, attr);
    fake_write(t, p, data, size);
    free(p);
}

void fake_pci_remove_attr(struct fake_tree *t, const char *bdf, const char *attr)
{
    char *p = pci_attr_path(t, bdf, attr);
    fake_remove(t, p);
    free(p);
}

static void write_config(struct fake_tree *t, const char *bdf, uint16_t vendor, uint16_t device,
                         uint32_t class_code, uint16_t sub_vendor, uint16_t sub_device)
{
    uint8_t cfg[256] = {0};
    cfg[0x00] = vendor & 0xff;
    cfg[0x01] = vendor >> 8;
    cfg[0x02] = device & 0xff;
    cfg[0x03] = device >> 8;
    cfg[0x09] = class_code & 0xff;
    cfg[0x0a] = (class_code >> 8) & 0xff;
    cfg[0x0b] = (class_code >> 16) & 0xff;
    cfg[0x0e] = (class_code >> 8) == 0x0604 ? 0x01 : 0x00; /* header type */
    cfg[0x2c] = sub_vendor & 0xff;
    cfg[0x2d] = sub_vendor >> 8;
    cfg[0x2e] = sub_device & 0xff;
    cfg[0x2f] = sub_device >> 8;
    fake_pci_write_bytes(t, bdf, "config", cfg, sizeof(cfg));
}

static void write_uevent(struct fake_tree *t, const char *bdf);

void fake_pci_add(struct fake_tree *t, const char *bdf, uint16_t vendor, uint16_t device, uint32_t class_code)
{
    char buf[64];
    char *dir = strdup(fake_pci_dir(t, bdf));
    fake_mkdir(t, dir);
    snprintf(buf, sizeof(buf), "0x%04x\n", vendor);
    fake_pci_write(t, bdf, "vendor", buf);
    snprintf(buf, sizeof(buf), "0x%04x\n", device);
    fake_pci_write(t, bdf, "device", buf);
    snprintf(buf, sizeof(buf), "0x%06x\n", class_code);
    fake_pci_write(t, bdf, "class", buf);
    fake_pci_write(t, bdf, "subsystem_vendor", "0x0000\n");
    fake_pci_write(t, bdf, "subsystem_device", "0x0000\n");
    fake_pci_write(t, bdf, "driver_override", "(null)\n");
    fake_pci_write(t, bdf, "numa_node", "-1\n");
    write_config(t, bdf, vendor, device, class_code, 0, 0);
    char *link = xasprintf("sys/bus/pci/devices/%s", bdf);
    fake_symlink(t, link, dir);
    free(link);
    free(dir);
    write_uevent(t, bdf);
}

static unsigned read_hex_attr(struct fake_tree *t, const char *bdf, const char *attr)
{
    char *p = pci_attr_path(t, bdf, attr);
    char *a = abs_path(t, p);
    FILE *f = fopen(a, "re");
    unsigned v = 0;
    if (!f || fscanf(f, "%x", &v) != 1)
        die("read %s", a);
    fclose(f);
    free(a);
    free(p);
    return v;
}

/* uevent as pci_uevent() and the driver core print it, derived from the attribute files and the
 * driver link; rewritten whenever the builder changes one of them. */
static void write_uevent(struct fake_tree *t, const char *bdf)
{
    unsigned vendor = read_hex_attr(t, bdf, "vendor"), device = read_hex_attr(t, bdf, "device");
    unsigned sv = read_hex_attr(t, bdf, "subsystem_vendor"), sd = read_hex_attr(t, bdf, "subsystem_device");
    unsigned cls = read_hex_attr(t, bdf, "class");
    char *link = xasprintf("%s/%s/driver", t->root, fake_pci_dir(t, bdf));
    char target[4096], driver[300] = "";
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n > 0) {
        target[n] = '\0';
        const char *name = strrchr(target, '/');
        snprintf(driver, sizeof(driver), "DRIVER=%.250s\n", name ? name + 1 : target);
    }
    free(link);
    char *ue = xasprintf("%sPCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\n"
                         "MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n",
                         driver, cls, vendor, device, sv, sd, bdf, vendor, device, sv, sd, cls >> 16,
                         (cls >> 8) & 0xff, cls & 0xff);
    fake_pci_write(t, bdf, "uevent", ue);
    free(ue);
}

void fake_pci_sync_uevent(struct fake_tree *t, const char *bdf)
{
    write_uevent(t, bdf);
}

void fake_pci_set_subsystem(struct fake_tree *t, const char *bdf, uint16_t vendor, uint16_t device)
{
    char buf[16];
    snprintf(buf, sizeof(buf), "0x%04x\n", vendor);
    fake_pci_write(t, bdf, "subsystem_vendor", buf);
    snprintf(buf, sizeof(buf), "0x%04x\n", device);
    fake_pci_write(t, bdf, "subsystem_device", buf);
    write_config(t, bdf, (uint16_t)read_hex_attr(t, bdf, "vendor"), (uint16_t)read_hex_attr(t, bdf, "device"),
                 read_hex_attr(t, bdf, "class"), vendor, device);
    write_uevent(t, bdf);
}

void fake_pci_driver(struct fake_tree *t, const char *driver)
{
    static const char *const files[] = {"bind", "unbind", "new_id", "remove_id"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char *p = xasprintf("sys/bus/pci/drivers/%s/%s", driver, files[i]);
        char *a = abs_path(t, p);
        if (access(a, F_OK) != 0)
            fake_write_str(t, p, "");
        free(a);
        free(p);
    }
}

void fake_pci_bind(struct fake_tree *t, const char *bdf, const char *driver)
{
    fake_pci_driver(t, driver);
    char *dir = strdup(fake_pci_dir(t, bdf));
    char *drvdir = xasprintf("sys/bus/pci/drivers/%s", driver);
    char *devlink = xasprintf("%s/%s", drvdir, bdf);
    char *drvlink = xasprintf("%s/driver", dir);
    fake_symlink(t, devlink, dir);
    fake_symlink(t, drvlink, drvdir);
    free(drvlink);
    free(devlink);
    free(drvdir);
    free(dir);
    write_uevent(t, bdf);
}

void fake_pci_unbind(struct fake_tree *t, const char *bdf)
{
    char *dir = strdup(fake_pci_dir(t, bdf));
    char *drvlink = xasprintf("%s/driver", dir);
    char *a = abs_path(t, drvlink);
    char target[4096];
    ssize_t n = readlink(a, target, sizeof(target) - 1);
    if (n > 0) {
        target[n] = '\0';
        const char *name = strrchr(target, '/');
        char *devlink = xasprintf("sys/bus/pci/drivers/%s/%s", name ? name + 1 : target, bdf);
        fake_remove(t, devlink);
        free(devlink);
        unlink(a);
    }
    free(a);
    free(drvlink);
    free(dir);
    write_uevent(t, bdf);
}

void fake_pci_iommu_group(struct fake_tree *t, const char *bdf, int group)
{
    char *dir = strdup(fake_pci_dir(t, bdf));
    char *gdir = xasprintf("sys/kernel/iommu_groups/%d", group);
    char *member = xasprintf("%s/devices/%s", gdir, bdf);
    char *glink = xasprintf("%s/iommu_group", dir);
    fake_mkdir(t, gdir);
    fake_symlink(t, member, dir);
    fake_symlink(t, glink, gdir);
    char *type = xasprintf("%s/type", gdir);
    fake_write_str(t, type, "DMA\n");
    free(type);
    free(glink);
    free(member);
    free(gdir);
    free(dir);
}

void fake_pci_sriov(struct fake_tree *t, const char *pf, unsigned total_vfs, uint16_t vf_device,
                    unsigned offset, unsigned stride)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%u\n", total_vfs);
    fake_pci_write(t, pf, "sriov_totalvfs", buf);
    fake_pci_write(t, pf, "sriov_numvfs", "0\n");
    snprintf(buf, sizeof(buf), "%x\n", vf_device);
    fake_pci_write(t, pf, "sriov_vf_device", buf);
    snprintf(buf, sizeof(buf), "%u\n", offset);
    fake_pci_write(t, pf, "sriov_offset", buf);
    snprintf(buf, sizeof(buf), "%u\n", stride);
    fake_pci_write(t, pf, "sriov_stride", buf);
    fake_pci_write(t, pf, "sriov_drivers_autoprobe", "1\n");
}

void fake_pci_add_vf(struct fake_tree *t, const char *pf, unsigned vf_index, const char *vf_bdf)
{
    unsigned vendor = read_hex_attr(t, pf, "vendor");
    unsigned vf_device = read_hex_attr(t, pf, "sriov_vf_device");
    unsigned class_code = read_hex_attr(t, pf, "class");
    fake_pci_add(t, vf_bdf, (uint16_t)vendor, (uint16_t)vf_device, class_code);

    char *pfdir = strdup(fake_pci_dir(t, pf));
    char *vfdir = strdup(fake_pci_dir(t, vf_bdf));
    char *virtfn = xasprintf("%s/virtfn%u", pfdir, vf_index);
    char *physfn = xasprintf("%s/physfn", vfdir);
    fake_symlink(t, virtfn, vfdir);
    fake_symlink(t, physfn, pfdir);

    /* sriov_numvfs counts the virtfn links */
    char *a = abs_path(t, pfdir);
    unsigned n = 0;
    DIR *d = opendir(a);
    if (!d)
        die("opendir %s: %m", a);
    struct dirent *de;
    while ((de = readdir(d)))
        n += strncmp(de->d_name, "virtfn", 6) == 0;
    closedir(d);
    char buf[32];
    snprintf(buf, sizeof(buf), "%u\n", n);
    fake_pci_write(t, pf, "sriov_numvfs", buf);
    free(a);
    free(physfn);
    free(virtfn);
    free(vfdir);
    free(pfdir);
}

void fake_aux_add_sf(struct fake_tree *t, const char *pf, const char *name, unsigned sfnum)
{
    char *dir = xasprintf("%s/%s", fake_pci_dir(t, pf), name);
    char *sfn = xasprintf("%s/sfnum", dir);
    char *link = xasprintf("sys/bus/auxiliary/devices/%s", name);
    char buf[32];
    snprintf(buf, sizeof(buf), "%u\n", sfnum);
    fake_mkdir(t, dir);
    fake_write_str(t, sfn, buf);
    fake_symlink(t, link, dir);
    free(link);
    free(sfn);
    free(dir);
}

void fake_aux_bind(struct fake_tree *t, const char *name, const char *driver)
{
    char *a = xasprintf("%s/sys/bus/auxiliary/devices/%s", t->root, name);
    char target[4096];
    ssize_t n = readlink(a, target, sizeof(target) - 1);
    if (n < 0)
        die("no auxiliary device %s", name);
    free(a);
    /* the link target is relative to sys/bus/auxiliary/devices */
    target[n] = '\0';
    const char *p = target;
    while (strncmp(p, "../", 3) == 0)
        p += 3;
    char *dir = xasprintf("sys/%s", p);
    char *drvdir = xasprintf("sys/bus/auxiliary/drivers/%s", driver);
    char *bind = xasprintf("%s/bind", drvdir);
    char *devlink = xasprintf("%s/%s", drvdir, name);
    char *drvlink = xasprintf("%s/driver", dir);
    fake_write_str(t, bind, "");
    fake_symlink(t, devlink, dir);
    fake_symlink(t, drvlink, drvdir);
    free(drvlink);
    free(devlink);
    free(bind);
    free(drvdir);
    free(dir);
}

void fake_netdev_add(struct fake_tree *t, const char *devdir, const char *ifname, const char *mac,
                     const char *operstate)
{
    char *dir = xasprintf("%s/net/%s", devdir, ifname);
    char *link = xasprintf("sys/class/net/%s", ifname);
    fake_mkdir(t, dir);
    if (mac) {
        char *p = xasprintf("%s/address", dir);
        char *v = xasprintf("%s\n", mac);
        fake_write_str(t, p, v);
        free(v);
        free(p);
    }
    if (operstate) {
        char *p = xasprintf("%s/operstate", dir);
        char *v = xasprintf("%s\n", operstate);
        fake_write_str(t, p, v);
        free(v);
        free(p);
    }
    char *ifindex = xasprintf("%s/ifindex", dir);
    static int next_ifindex = 2;
    char buf[16];
    snprintf(buf, sizeof(buf), "%d\n", next_ifindex++);
    fake_write_str(t, ifindex, buf);
    free(ifindex);
    fake_symlink(t, link, dir);
    free(link);
    free(dir);
}

static char *netdev_dir(struct fake_tree *t, const char *ifname)
{
    char *a = xasprintf("%s/sys/class/net/%s", t->root, ifname);
    char target[4096];
    ssize_t n = readlink(a, target, sizeof(target) - 1);
    if (n < 0)
        die("no netdev %s", ifname);
    free(a);
    target[n] = '\0';
    const char *p = target;
    while (strncmp(p, "../", 3) == 0)
        p += 3;
    return xasprintf("sys/%s", p);
}

void fake_netdev_set_port(struct fake_tree *t, const char *ifname, const char *phys_port_name,
                          const char *phys_switch_id)
{
    char *dir = netdev_dir(t, ifname);
    if (phys_port_name) {
        char *p = xasprintf("%s/phys_port_name", dir);
        char *v = xasprintf("%s\n", phys_port_name);
        fake_write_str(t, p, v);
        free(v);
        free(p);
    }
    if (phys_switch_id) {
        char *p = xasprintf("%s/phys_switch_id", dir);
        char *v = xasprintf("%s\n", phys_switch_id);
        fake_write_str(t, p, v);
        free(v);
        free(p);
    }
    free(dir);
}

void fake_nvme_add(struct fake_tree *t, const char *bdf, const char *ctrl, const char *const *namespaces)
{
    char *dir = xasprintf("%s/nvme/%s", fake_pci_dir(t, bdf), ctrl);
    char *link = xasprintf("sys/class/nvme/%s", ctrl);
    fake_mkdir(t, dir);
    fake_symlink(t, link, dir);
    for (size_t i = 0; namespaces && namespaces[i]; i++) {
        char *ns = xasprintf("%s/%s", dir, namespaces[i]);
        char *dev = xasprintf("%s/dev", ns);
        fake_mkdir(t, ns);
        char buf[32];
        snprintf(buf, sizeof(buf), "259:%zu\n", i);
        fake_write_str(t, dev, buf);
        free(dev);
        free(ns);
    }
    free(link);
    free(dir);
}
