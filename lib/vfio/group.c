/* IOMMU group viability. Since kernel 5.19 every member of a group that is assigned to userspace
 * must be driverless or bound to a driver with driver_managed_dma (vfio-pci and its variants such
 * as mlx5_vfio_pci, pci-stub, pcieport); otherwise QEMU fails with "group N is not viable". The
 * group is read from sys/kernel/iommu_groups/N/devices itself, so non-PCI members count too. */
#include "vfio-internal.h"

#include <fcntl.h>

#include "util/fileio.h"
#include "util/macro.h"

bool vfio_driver_shares_group(const char *driver)
{
    if (!driver)
        return true;
    /* vfio variants are named <vendor>_vfio_pci or <vendor>-vfio-pci */
    return streq(driver, "vfio-pci") || streq(driver, "pci-stub") || streq(driver, "pcieport") ||
           strstr(driver, "vfio_pci") || strstr(driver, "vfio-pci");
}

static bool listed(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (streq(v[i], s))
            return true;
    return false;
}

int vfio_group_viable(struct dh_host *host, const char *bdf, int group, const char *const *together, size_t n,
                      struct dh_error *err)
{
    char path[96];
    snprintf(path, sizeof(path), "sys/kernel/iommu_groups/%d/devices", group);
    _cleanup_closedir_ DIR *d = dh_opendir_at(dh_host_fd(host), path);
    if (!d && errno == ENOMEM)
        return -ENOMEM;
    if (!d)
        return dh_error_set(err, -ENODEV,
                            "%s: cannot list its IOMMU group %d (%s): is the IOMMU on? see dpuhost check",
                            bdf, group, path);
    char bad[768] = "";
    size_t used = 0;
    int n_bad = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || streq(de->d_name, bdf) || listed(together, n, de->d_name))
            continue;
        char link[300];
        snprintf(link, sizeof(link), "%s/driver", de->d_name);
        _cleanup_free_ char *drv = NULL;
        if (dh_readlink_basename_at(dirfd(d), link, &drv) == -ENOMEM)
            return -ENOMEM;
        if (vfio_driver_shares_group(drv))
            continue;
        n_bad++;
        int w = snprintf(bad + used, sizeof(bad) - used, "%s%s bound to %s", used ? ", " : "", de->d_name,
                         drv);
        if (w > 0 && (size_t)w < sizeof(bad) - used)
            used += (size_t)w;
    }
    if (n_bad)
        return dh_error_set(
                err, -EBUSY,
                "%s: IOMMU group %d also holds %s; a group goes to one VM as a whole: bind %s too "
                "(dpuhost bind %s <the others>) or unbind %s",
                bdf, group, bad, n_bad > 1 ? "them" : "it", bdf, n_bad > 1 ? "them" : "it");
    return 0;
}
