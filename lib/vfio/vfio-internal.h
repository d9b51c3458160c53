/* Shared by the binding module's files; not exported. */
#pragma once

#include <dpuhost/inventory.h>
#include <dpuhost/vfio.h>

#include <stdarg.h>
#include <stdint.h>

#define VFIO_DRIVER "vfio-pci"

/* ---- device state (device.c) ---- */
/* The driver bound to bdf now (new string), or NULL when unbound. */
char *vfio_current_driver(struct dh_host *host, const char *bdf);
/* driver_override now (new string), NULL for "(null)". -errno when unreadable. */
int vfio_current_override(struct dh_host *host, const char *bdf, char **ret);
/* Writes driver_override: a driver name, or NULL to clear it ("\n", which every kernel accepts;
 * a lone NUL fails on some 5.19-era kernels). */
int vfio_write_override(struct dh_host *host, const char *bdf, const char *driver);
/* Unbinds bdf from whatever driver it has (no-op when unbound). */
int vfio_unbind(struct dh_host *host, const char *bdf);
/* Writes bdf to sys/bus/pci/drivers_probe. */
int vfio_probe(struct dh_host *host, const char *bdf);
/* True for a VF whose PF has sriov_drivers_autoprobe=0: the kernel (5.3+, pci_device_can_probe())
 * probes it only through a driver_override, so a plain drivers_probe would bind nothing. */
bool vfio_probe_needs_override(struct dh_host *host, const char *bdf);
/* Waits (bounded) until bdf's driver is want (NULL: unbound). Returns 0 or -ETIMEDOUT. */
int vfio_wait_driver(struct dh_host *host, const char *bdf, const char *want, int timeout_ms);
/* Waits (bounded) until dev/vfio/<group> exists. */
int vfio_wait_devnode(struct dh_host *host, int group, int timeout_ms);

/* ---- bounded waits (wait.c) ---- */
/* Polls pred every few milliseconds (backing off to 50 ms) until it returns true or timeout_ms
 * passes. Returns 0 or -ETIMEDOUT. */
int vfio_wait(int timeout_ms, bool (*pred)(void *userdata), void *userdata);
int64_t vfio_now_ms(void);

/* ---- per-device locks across processes (lock.c) ---- */
/* Takes an exclusive lock on run/dpuhost/lock/<bdf> (flock, released when the fd is closed or the
 * process dies). -EBUSY with a message when another process holds it. Returns the fd. */
int vfio_lock(struct dh_host *host, const char *bdf, struct dh_error *err);

/* ---- modules (modules.c) ---- */
/* Loads vfio-pci and vfio_iommu_type1 unless loaded (busybox modprobe ignores the softdep between
 * them, and without type1 QEMU fails with "No available IOMMU models"). */
int vfio_load_modules(struct dh_host *host, struct dh_error *err);

/* ---- IOMMU groups (group.c) ---- */
/* Checks that every member of bdf's group other than those in `together` is driverless or bound to
 * a driver that may share a group with a device assigned to userspace. -EBUSY with a message
 * naming the offending members and their drivers. */
int vfio_group_viable(struct dh_host *host, const char *bdf, int group, const char *const *together, size_t n,
                      struct dh_error *err);
/* True for drivers with driver_managed_dma (vfio-pci and its variants, pci-stub, pcieport). */
bool vfio_driver_shares_group(const char *driver);

/* ---- in-use checks (inuse.c) ---- */
/* Refuses (-EBUSY with a message) when a netdev of f has global addresses, routes or a master, or
 * an NVMe namespace of f is mounted, used as swap or held (LVM, MD, dm). */
int vfio_check_in_use(struct dh_host *host, const struct dh_vfio_net *net, const struct dh_func *f,
                      struct dh_error *err);
/* Pure parsers, exported for tests: is device major:minor mounted according to a mountinfo buffer? */
bool vfio_mountinfo_has_device(const char *mountinfo, unsigned major, unsigned minor, char *ret_mountpoint,
                               size_t size);
/* Is a block device named name (e.g. "nvme0n1p2") in a /proc/swaps buffer? */
bool vfio_swaps_has_device(const char *swaps, const char *name);

/* ---- users of /dev/vfio/N (holders.c) ---- */
/* Writes "pid 1234 (qemu-system-x86)" for each process with an open fd on /dev/vfio/<group> into
 * buf (comma separated). Returns the number of holders. */
int vfio_group_holders(struct dh_host *host, int group, char *buf, size_t size);

/* ---- back to the recorded state (putback.c) ---- */
/* Leaves bdf bound to driver (NULL: unbound) with driver_override override (NULL: cleared),
 * verified. The caller makes sure nobody holds the device's vfio group. */
int vfio_put_back(struct dh_host *host, const char *bdf, const char *driver, const char *override,
                  int timeout_ms, struct dh_error *err);

/* ---- requests (request.c) ---- */
struct vfio_request {
    struct dh_vfio_ctx *ctx;
    const char *const *addresses;
    size_t n;
    struct dh_vfio_result *results;
    int *locks;
    struct dh_inventory *inv; /* scanned after the locks were taken */
};
/* Validates addresses (-EINVAL for the whole request, nothing changed), initializes results, locks
 * each function (a busy lock fails that function only) and scans the inventory. */
int vfio_request_begin(struct vfio_request *req, struct dh_vfio_ctx *ctx, const char *const *addresses,
                       size_t n, struct dh_vfio_result *results, struct dh_error *err);
void vfio_request_end(struct vfio_request *req);
/* 0, or the first failed function's error. */
int vfio_request_status(const struct vfio_request *req);
int vfio_result_fail(struct dh_vfio_result *res, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void vfio_result_from_error(struct dh_vfio_result *res, int code, const struct dh_error *err);

/* ---- running jobs in parallel (jobs.c) ---- */
/* Calls fn(i, userdata) for i in [0, n) on up to parallel threads; returns when all are done. */
void vfio_run_parallel(size_t n, int parallel, void (*fn)(size_t i, void *userdata), void *userdata);

/* ---- VF admin settings (vf.c) ---- */
/* The netdev through which a VF's admin settings are read and written: its PF's. NULL when the PF
 * has none (an NVMe PF, a PF bound to vfio-pci). */
const char *vfio_pf_netdev(const struct dh_inventory *inv, const struct dh_func *vf);
