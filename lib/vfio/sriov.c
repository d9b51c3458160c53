/* SR-IOV provisioning (drivers/pci/iov.c): sriov_drivers_autoprobe first (it applies to VFs created
 * later), then 0, then N, because changing between two non-zero counts fails with EBUSY. The
 * sriov_numvfs write can block for minutes (firmware creating VFs) and cannot be cancelled, so it
 * runs on its own thread and we wait for it at most timeout_ms; a timed-out write goes on in the
 * kernel and the caller is told so. */
#include "vfio-internal.h"

#include <pthread.h>

#include "util/fileio.h"
#include "util/clock.h"
#include "util/macro.h"

struct numvfs_write {
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    bool done;
    int refs; /* the waiter and the writer thread: the last one frees */
    int result;
    struct dh_host *host;
    char path[128];
    char value[16];
};

static void numvfs_write_unref(struct numvfs_write *w)
{
    pthread_mutex_lock(&w->lock);
    bool last = --w->refs == 0;
    pthread_mutex_unlock(&w->lock);
    if (last) {
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->done_cond);
        free(w);
    }
}

static void *numvfs_thread(void *arg)
{
    struct numvfs_write *w = arg;
    int r = dh_host_write_attr(w->host, w->path, w->value);
    pthread_mutex_lock(&w->lock);
    w->result = r;
    w->done = true;
    pthread_cond_signal(&w->done_cond);
    pthread_mutex_unlock(&w->lock);
    numvfs_write_unref(w);
    return NULL;
}

/* Writes value to the PF's sriov_numvfs, waiting at most timeout_ms. */
static int write_numvfs(struct dh_host *host, const char *pf, int value, int timeout_ms)
{
    struct numvfs_write *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->done_cond, NULL);
    w->host = host;
    w->refs = 2;
    snprintf(w->path, sizeof(w->path), "sys/bus/pci/devices/%s/sriov_numvfs", pf);
    snprintf(w->value, sizeof(w->value), "%d", value);
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&tid, &attr, numvfs_thread, w) != 0) {
        pthread_attr_destroy(&attr);
        int r = dh_host_write_attr(host, w->path, w->value); /* no thread: write here, unbounded */
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->done_cond);
        free(w);
        return r;
    }
    pthread_attr_destroy(&attr);
    struct timespec deadline = dh_realtime_deadline(timeout_ms);
    pthread_mutex_lock(&w->lock);
    while (!w->done)
        if (pthread_cond_timedwait(&w->done_cond, &w->lock, &deadline) == ETIMEDOUT)
            break;
    int r = w->done ? w->result : -ETIMEDOUT;
    pthread_mutex_unlock(&w->lock);
    numvfs_write_unref(w);
    return r;
}

static int describe(int r, const char *pf, int n, int total, const char *driver, struct dh_error *err)
{
    switch (r) {
    case -ERANGE:
        return dh_error_set(err, r, "%s: %d VFs is more than the %d it supports", pf, n, total);
    case -ENOENT:
        return dh_error_set(err, r, "%s: the kernel refused (ENOENT): %s", pf,
                            driver ? "its driver does not implement SR-IOV (sriov_configure)"
                                   : "it has no driver; bind its driver first");
    case -EBUSY:
        return dh_error_set(err, r, "%s: the kernel refused (EBUSY): VFs are being changed or are in use",
                            pf);
    case -ETIMEDOUT:
        return dh_error_set(err, r,
                            "%s: writing %d to sriov_numvfs did not finish in time; the kernel is still "
                            "working on it: check sriov_numvfs later",
                            pf, n);
    default:
        return dh_error_set(err, r, "%s: writing %d to sriov_numvfs failed: %s", pf, n, strerror(-r));
    }
}

/* Refuses to change the VF count while dpuhost has a VF bound: removing it under a VM is what the
 * records exist to prevent. */
static int check_no_bound_vfs(struct dh_store *store, const struct dh_inventory *inv, const char *pf,
                              struct dh_error *err)
{
    if (!store)
        return 0;
    for (size_t i = 0; i < inv->n_funcs; i++) {
        const struct dh_func *f = &inv->funcs[i];
        if (f->kind != DH_FUNC_VF || !streq_ptr(f->pf, pf))
            continue;
        struct dh_binding_record rec;
        if (dh_store_binding_get(store, f->address, &rec, NULL) == 0) {
            dh_binding_record_clear(&rec);
            return dh_error_set(
                    err, -EBUSY,
                    "%s: its VF %s is bound to vfio-pci by dpuhost; restore it first (dpuhost restore %s)",
                    pf, f->address, f->address);
        }
    }
    return 0;
}

struct vfs_wait {
    struct dh_host *host;
    const char *pf;
    int want;
};

static bool vfs_present(void *userdata)
{
    struct vfs_wait *w = userdata;
    for (int i = 0; i < w->want; i++) {
        char path[128];
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/virtfn%d", w->pf, i);
        if (!dh_exists_at(dh_host_fd(w->host), path))
            return false;
    }
    return true;
}

int dh_sriov_configure(struct dh_host *host, struct dh_store *store, const char *pf, int num_vfs,
                       int autoprobe, int timeout_ms, struct dh_error *err)
{
    assert_return(host && pf, -EINVAL);
    if (!dh_pci_addr_is_valid(pf))
        return dh_error_set(err, -EINVAL, "malformed address '%s': expected DDDD:BB:DD.F", pf);
    if (num_vfs < 0 || autoprobe < -1 || autoprobe > 1)
        return dh_error_set(err, -EINVAL, "%s: bad request (num_vfs %d, autoprobe %d)", pf, num_vfs,
                            autoprobe);
    if (timeout_ms <= 0)
        timeout_ms = 60000;
    struct dh_inventory *inv = NULL;
    struct dh_inventory_options opts = {.skip_vpd = true};
    int r = dh_inventory_scan(host, &opts, &inv, err);
    if (r < 0)
        return r;
    const struct dh_func *f = dh_inventory_find(inv, pf);
    if (!f)
        r = dh_error_set(err, -ENODEV, "%s: no such PCI function on this host", pf);
    else if (f->kind != DH_FUNC_PF)
        r = dh_error_set(err, -EINVAL, "%s is not SR-IOV capable (no sriov_totalvfs)", pf);
    else if (f->sriov.total_vfs >= 0 && num_vfs > f->sriov.total_vfs)
        r = dh_error_set(err, -ERANGE, "%s: %d VFs is more than the %d it supports; nothing was changed", pf,
                         num_vfs, f->sriov.total_vfs);
    if (r < 0)
        goto out;
    int cur = f->sriov.num_vfs;
    if (autoprobe >= 0 && autoprobe != f->sriov.drivers_autoprobe) {
        char path[128];
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_drivers_autoprobe", pf);
        r = dh_host_write_attr(host, path, autoprobe ? "1" : "0");
        if (r < 0) {
            r = dh_error_set(err, r, "%s: writing sriov_drivers_autoprobe failed: %s", pf, strerror(-r));
            goto out;
        }
    }
    if (cur == num_vfs)
        goto out; /* idempotent */
    if ((r = check_no_bound_vfs(store, inv, pf, err)) < 0)
        goto out;
    if (cur != 0 && (r = write_numvfs(host, pf, 0, timeout_ms)) < 0) {
        describe(r, pf, 0, f->sriov.total_vfs, f->driver, err);
        goto out;
    }
    if (num_vfs > 0 && (r = write_numvfs(host, pf, num_vfs, timeout_ms)) < 0) {
        describe(r, pf, num_vfs, f->sriov.total_vfs, f->driver, err);
        goto out;
    }
    struct vfs_wait w = {host, pf, num_vfs};
    if (vfio_wait(timeout_ms, vfs_present, &w) < 0)
        r = dh_error_set(err, -ETIMEDOUT, "%s: sriov_numvfs accepted %d but the VFs did not appear in time",
                         pf, num_vfs);
out:
    dh_inventory_free(inv);
    return r;
}
