/* Loading the vfio modules on demand. */
#include "vfio-internal.h"

#include "util/fileio.h"
#include "util/macro.h"

static int ensure(struct dh_host *host, const char *module, const char *sysname, struct dh_error *err)
{
    char path[64];
    snprintf(path, sizeof(path), "sys/module/%s", sysname);
    if (dh_exists_at(dh_host_fd(host), path))
        return 0;
    return dh_host_load_module(host, module, err);
}

int vfio_load_modules(struct dh_host *host, struct dh_error *err)
{
    int r = ensure(host, "vfio-pci", "vfio_pci", err);
    if (r < 0)
        return r;
    /* explicitly: a softdep of vfio that busybox modprobe (and some initramfs tools) skip */
    return ensure(host, "vfio_iommu_type1", "vfio_iommu_type1", err);
}
