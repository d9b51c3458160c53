/* Reads one PCI function's sysfs directory (Linux drivers/pci/pci-sysfs.c, iov.c): ids, class,
 * driver binding, IOMMU group, NUMA node, SR-IOV PF attributes, VF parent. Missing files, dangling
 * links and garbage leave the field unknown (-1 / NULL); nothing here fails the scan.
 *
 * Ids, class and driver come from the device's uevent file when it is well-formed: one read instead
 * of five attribute files and the driver link. pci_uevent() (drivers/pci/pci-driver.c) prints
 * PCI_CLASS=%04X, PCI_ID=%04X:%04X and PCI_SUBSYS_ID=%04X:%04X from the same struct pci_dev fields
 * the attributes show, and the driver core adds DRIVER= while a driver is bound; udev relies on
 * this ABI. When uevent is missing or unparsable the attribute files are read instead. */
#include "inventory-internal.h"

#include <fcntl.h>

#include "util/fileio.h"
#include "util/macro.h"
#include "util/parse.h"

int inv_read_hex_attr(int dirfd, const char *name, uint64_t max)
{
    char buf[64];
    uint64_t v;
    if (dh_read_attr_at(dirfd, name, buf, sizeof(buf)) < 0)
        return -1;
    if (dh_parse_sysfs_hex(buf, max, &v) < 0)
        return -1;
    return (int)v;
}

int inv_read_dec_attr(int dirfd, const char *name, int64_t min, int64_t max, int def)
{
    char buf[64];
    int64_t v;
    if (dh_read_attr_at(dirfd, name, buf, sizeof(buf)) < 0)
        return def;
    if (dh_parse_i64(buf, min, max, &v) < 0)
        return def;
    return (int)v;
}

/* sriov_vf_device is printed with "%x", without the 0x prefix the other ids have. */
static int read_bare_hex_attr(int dirfd, const char *name, uint64_t max)
{
    char buf[64];
    uint64_t v;
    if (dh_read_attr_at(dirfd, name, buf, sizeof(buf)) < 0)
        return -1;
    if (dh_parse_u64(buf, 16, false, max, &v) < 0)
        return -1;
    return (int)v;
}

static void read_sriov(int devfd, struct dh_sriov *s)
{
    s->total_vfs = inv_read_dec_attr(devfd, "sriov_totalvfs", 0, 65535, -1);
    s->num_vfs = inv_read_dec_attr(devfd, "sriov_numvfs", 0, 65535, -1);
    s->vf_device_id = read_bare_hex_attr(devfd, "sriov_vf_device", 0xffff);
    s->offset = inv_read_dec_attr(devfd, "sriov_offset", 0, 65535, -1);
    s->stride = inv_read_dec_attr(devfd, "sriov_stride", 0, 65535, -1);
    s->drivers_autoprobe = inv_read_dec_attr(devfd, "sriov_drivers_autoprobe", 0, 1, -1);
}

static int parse_id_pair(const char *s, int *a, int *b)
{
    uint64_t x, y;
    if (strlen(s) != 9 || s[4] != ':')
        return -EINVAL;
    char first[5];
    memcpy(first, s, 4);
    first[4] = '\0';
    if (dh_parse_u64(first, 16, false, 0xffff, &x) < 0 || dh_parse_u64(s + 5, 16, false, 0xffff, &y) < 0)
        return -EINVAL;
    *a = (int)x;
    *b = (int)y;
    return 0;
}

int inv_parse_pci_uevent(char *buf, struct inv_pci_uevent *ret)
{
    struct inv_pci_uevent u = {-1, -1, -1, -1, -1, NULL};
    bool have_id = false, have_class = false;
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *v;
        uint64_t x;
        if ((v = startswith(line, "PCI_ID="))) {
            if (parse_id_pair(v, &u.vendor_id, &u.device_id) < 0)
                return -EINVAL;
            have_id = true;
        } else if ((v = startswith(line, "PCI_SUBSYS_ID="))) {
            if (parse_id_pair(v, &u.subsystem_vendor_id, &u.subsystem_device_id) < 0)
                return -EINVAL;
        } else if ((v = startswith(line, "PCI_CLASS="))) {
            if (dh_parse_u64(v, 16, false, 0xffffff, &x) < 0)
                return -EINVAL;
            u.class_code = (int32_t)x;
            have_class = true;
        } else if ((v = startswith(line, "DRIVER="))) {
            if (!*v)
                return -EINVAL;
            u.driver = v;
        }
    }
    if (!have_id || !have_class)
        return -EINVAL;
    *ret = u;
    return 0;
}

/* Returns 1 when uevent supplied ids, class and driver; 0 when the caller must read attributes. */
static int read_uevent(int devfd, struct dh_func *f)
{
    char buf[4096];
    struct inv_pci_uevent u;
    if (dh_read_attr_at(devfd, "uevent", buf, sizeof(buf)) < 0 || inv_parse_pci_uevent(buf, &u) < 0)
        return 0;
    f->vendor_id = u.vendor_id;
    f->device_id = u.device_id;
    f->subsystem_vendor_id = u.subsystem_vendor_id;
    f->subsystem_device_id = u.subsystem_device_id;
    f->class_code = u.class_code;
    if (u.driver) {
        f->driver = strdup(u.driver);
        if (!f->driver)
            return -ENOMEM;
    }
    return 1;
}

int inv_read_pci_function(int devfd, const char *bdf, struct dh_func *f)
{
    snprintf(f->address, sizeof(f->address), "%s", bdf);
    dh_pci_addr_parse(bdf, &f->bdf);

    int r = read_uevent(devfd, f);
    if (r < 0)
        return r;
    if (r == 0) {
        f->vendor_id = inv_read_hex_attr(devfd, "vendor", 0xffff);
        f->device_id = inv_read_hex_attr(devfd, "device", 0xffff);
        f->subsystem_vendor_id = inv_read_hex_attr(devfd, "subsystem_vendor", 0xffff);
        f->subsystem_device_id = inv_read_hex_attr(devfd, "subsystem_device", 0xffff);
        f->class_code = inv_read_hex_attr(devfd, "class", 0xffffff);
        r = dh_readlink_basename_at(devfd, "driver", &f->driver);
        if (r == -ENOMEM)
            return r;
    }
    f->numa_node = inv_read_dec_attr(devfd, "numa_node", -1, 65535, -1);

    char buf[256];
    if (dh_read_attr_at(devfd, "driver_override", buf, sizeof(buf)) > 0 && !streq(buf, "(null)")) {
        f->driver_override = strdup(buf);
        if (!f->driver_override)
            return -ENOMEM;
    }

    _cleanup_free_ char *group = NULL;
    r = dh_readlink_basename_at(devfd, "iommu_group", &group);
    if (r == -ENOMEM)
        return r;
    if (r >= 0) {
        int64_t g;
        if (dh_parse_i64(group, 0, INT32_MAX, &g) == 0)
            f->iommu_group = (int)g;
    }

    /* The kernel creates the sriov_* attributes only on SR-IOV capable PFs and the physfn link only
     * on VFs; a function is never both. */
    _cleanup_free_ char *physfn = NULL;
    r = dh_readlink_basename_at(devfd, "physfn", &physfn);
    if (r == -ENOMEM)
        return r;
    if (r >= 0 && dh_pci_addr_is_valid(physfn)) {
        f->kind = DH_FUNC_VF;
        f->pf = TAKE_PTR(physfn);
    } else if (dh_exists_at(devfd, "sriov_totalvfs")) {
        f->kind = DH_FUNC_PF;
        read_sriov(devfd, &f->sriov);
    } else
        f->kind = DH_FUNC_PCI;
    return 0;
}

int dh_func_reread_driver(struct dh_host *host, struct dh_func *f)
{
    assert_return(host && f, -EINVAL);
    char path[128];
    snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", f->address);
    _cleanup_close_ int devfd = openat(dh_host_fd(host), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (devfd < 0)
        return negative_errno();
    char *driver = NULL, *override = NULL;
    int r = dh_readlink_basename_at(devfd, "driver", &driver);
    if (r == -ENOMEM)
        return r;
    char buf[256];
    if (dh_read_attr_at(devfd, "driver_override", buf, sizeof(buf)) > 0 && !streq(buf, "(null)") &&
        !(override = strdup(buf))) {
        free(driver);
        return -ENOMEM;
    }
    free(f->driver);
    free(f->driver_override);
    f->driver = driver;
    f->driver_override = override;
    return 0;
}
