/* Reading and changing one function's binding through sysfs (drivers/pci/pci-sysfs.c,
 * drivers/base/bus.c). Every write goes through the host's ops, so tests run it against the kernel
 * simulator and the lab against the real kernel. */
#include "vfio-internal.h"

#include "util/fileio.h"
#include "util/macro.h"

static char *dev_path(const char *bdf, const char *attr)
{
    char *p = NULL;
    if (asprintf(&p, "sys/bus/pci/devices/%s/%s", bdf, attr) < 0)
        return NULL;
    return p;
}

char *vfio_current_driver(struct dh_host *host, const char *bdf)
{
    _cleanup_free_ char *p = dev_path(bdf, "driver");
    char *driver = NULL;
    if (p && dh_readlink_basename_at(dh_host_fd(host), p, &driver) < 0)
        return NULL;
    return driver;
}

int vfio_current_override(struct dh_host *host, const char *bdf, char **ret)
{
    _cleanup_free_ char *p = dev_path(bdf, "driver_override");
    if (!p)
        return -ENOMEM;
    char buf[256];
    int r = dh_read_attr_at(dh_host_fd(host), p, buf, sizeof(buf));
    if (r < 0)
        return r;
    if (r == 0 || streq(buf, "(null)")) {
        *ret = NULL;
        return 0;
    }
    *ret = strdup(buf);
    return *ret ? 0 : -ENOMEM;
}

int vfio_write_override(struct dh_host *host, const char *bdf, const char *driver)
{
    _cleanup_free_ char *p = dev_path(bdf, "driver_override");
    if (!p)
        return -ENOMEM;
    return dh_host_write_attr(host, p, driver ? driver : "\n");
}

int vfio_unbind(struct dh_host *host, const char *bdf)
{
    _cleanup_free_ char *drv = vfio_current_driver(host, bdf);
    if (!drv)
        return 0;
    _cleanup_free_ char *p = dev_path(bdf, "driver/unbind");
    if (!p)
        return -ENOMEM;
    int r = dh_host_write_attr(host, p, bdf);
    /* the driver let go between our look and the write: that is what we wanted */
    return r == -ENOENT || r == -ENODEV ? 0 : r;
}

bool vfio_probe_needs_override(struct dh_host *host, const char *bdf)
{
    _cleanup_free_ char *p = dev_path(bdf, "physfn/sriov_drivers_autoprobe");
    char buf[16];
    return p && dh_read_attr_at(dh_host_fd(host), p, buf, sizeof(buf)) > 0 && streq(buf, "0");
}

int vfio_probe(struct dh_host *host, const char *bdf)
{
    return dh_host_write_attr(host, "sys/bus/pci/drivers_probe", bdf);
}

struct driver_wait {
    struct dh_host *host;
    const char *bdf, *want;
};

static bool driver_is(void *userdata)
{
    struct driver_wait *w = userdata;
    _cleanup_free_ char *drv = vfio_current_driver(w->host, w->bdf);
    return streq_ptr(drv, w->want);
}

int vfio_wait_driver(struct dh_host *host, const char *bdf, const char *want, int timeout_ms)
{
    struct driver_wait w = {host, bdf, want};
    return vfio_wait(timeout_ms, driver_is, &w);
}

struct node_wait {
    struct dh_host *host;
    char path[64];
};

static bool node_exists(void *userdata)
{
    struct node_wait *w = userdata;
    return dh_exists_at(dh_host_fd(w->host), w->path);
}

int vfio_wait_devnode(struct dh_host *host, int group, int timeout_ms)
{
    struct node_wait w = {.host = host};
    snprintf(w.path, sizeof(w.path), "dev/vfio/%d", group);
    return vfio_wait(timeout_ms, node_exists, &w);
}
