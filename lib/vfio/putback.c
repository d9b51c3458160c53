/* Putting a function back on its recorded driver and driver_override: shared by restore and by a
 * failed bind's rollback. libvirt and OpenShell re-probe and accept whatever driver the kernel
 * picks; we verify, and when the kernel picks another driver (a vfio variant, or none because the
 * PF has sriov_drivers_autoprobe=0 and probing a VF needs an override since kernel 5.3), we bind
 * the recorded one through a temporary override and then put the recorded override back. */
#include "vfio-internal.h"

#include "util/macro.h"

int vfio_put_back(struct dh_host *host, const char *bdf, const char *driver, const char *override,
                  int timeout_ms, struct dh_error *err)
{
    _cleanup_free_ char *cur = vfio_current_driver(host, bdf);
    int r;
    if (cur && !streq_ptr(cur, driver) && (r = vfio_unbind(host, bdf)) < 0)
        return dh_error_set(err, r, "%s: cannot unbind it from %s: %s", bdf, cur, strerror(-r));
    if ((r = vfio_write_override(host, bdf, override)) < 0)
        return dh_error_set(err, r, "%s: cannot write driver_override: %s", bdf, strerror(-r));
    if (!driver) {
        /* it had no driver: leave it unbound (an override or id match must not grab it) */
        free(cur);
        cur = vfio_current_driver(host, bdf);
        if (cur && (r = vfio_unbind(host, bdf)) < 0)
            return dh_error_set(err, r, "%s: cannot unbind it from %s: %s", bdf, cur, strerror(-r));
        return 0;
    }
    free(cur);
    cur = vfio_current_driver(host, bdf);
    /* a probe the kernel would refuse would only cost half the timeout: steer it at once */
    if (!streq_ptr(cur, driver) && !(vfio_probe_needs_override(host, bdf) && !override)) {
        if ((r = vfio_probe(host, bdf)) < 0)
            return dh_error_set(err, r, "%s: writing it to drivers_probe failed: %s", bdf, strerror(-r));
        vfio_wait_driver(host, bdf, driver, timeout_ms / 2 > 0 ? timeout_ms / 2 : 1);
    }
    free(cur);
    cur = vfio_current_driver(host, bdf);
    if (streq_ptr(cur, driver))
        return 0;

    /* the kernel chose another driver, or none: insist on the recorded one */
    if (cur && (r = vfio_unbind(host, bdf)) < 0)
        return dh_error_set(err, r, "%s: the kernel bound it to %s and it cannot be unbound: %s", bdf, cur,
                            strerror(-r));
    if ((r = vfio_write_override(host, bdf, driver)) < 0 || (r = vfio_probe(host, bdf)) < 0)
        return dh_error_set(err, r, "%s: cannot steer it to %s: %s", bdf, driver, strerror(-r));
    int waited = vfio_wait_driver(host, bdf, driver, timeout_ms);
    r = vfio_write_override(host, bdf, override);
    free(cur);
    cur = vfio_current_driver(host, bdf);
    if (waited < 0 || !streq_ptr(cur, driver))
        return dh_error_set(err, -EIO,
                            "%s: did not go back to %s (it has %s); is the %s module loaded? see dmesg", bdf,
                            driver, cur ? cur : "no driver", driver);
    if (r < 0)
        return dh_error_set(err, r, "%s: back on %s, but driver_override could not be restored: %s", bdf,
                            driver, strerror(-r));
    return 0;
}
