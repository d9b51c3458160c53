/* Binding to vfio-pci (libvirt's order, REFERENCE §3):
 *   1. refuse what must not be taken: unknown functions, SFs, PFs with VFs, functions without an
 *      IOMMU group, non-viable groups (never overridable), functions the host uses (--force);
 *   2. record the original driver, driver_override and VF admin settings durably;
 *   3. write vfio-pci to driver_override first, so that any stray probe can only pick vfio-pci;
 *   4. unbind, write the address to drivers_probe (never new_id: it would match every device with
 *      these ids, now and later, and persists until remove_id);
 *   5. verify the driver link and /dev/vfio/<group> within a bounded time;
 *   6. on failure, put that one function back as recorded. */
#include "vfio-internal.h"

#include <stdatomic.h>

#include "util/macro.h"

struct bind_job {
    struct vfio_request *req;
    unsigned flags;
};

static void snapshot_vf(struct vfio_request *req, const struct dh_func *f, struct dh_binding_record *rec)
{
    const struct dh_vfio_net *net = req->ctx->net;
    if (f->kind != DH_FUNC_VF || f->vf_index < 0 || !net || !net->vf_get)
        return;
    const char *pf_if = vfio_pf_netdev(req->inv, f);
    if (!pf_if)
        return;
    /* a PF that does not report VF settings (NVMe, or a DPU host PF without the eswitch) simply
     * leaves nothing to restore */
    if (net->vf_get(net->userdata, pf_if, f->vf_index, &rec->vf, NULL) < 0) {
        free(rec->vf.pf_ifname);
        rec->vf = (struct dh_vf_snapshot){0};
    }
}

static int check(struct bind_job *job, const struct dh_func *f, struct dh_vfio_result *res)
{
    struct vfio_request *req = job->req;
    struct dh_error err = {0};
    if (!f)
        return vfio_result_fail(res, -ENODEV, "%s: no such PCI function on this host (see dpuhost functions)",
                                res->address);
    if (f->kind == DH_FUNC_SF)
        return vfio_result_fail(
                res, -EOPNOTSUPP,
                "%s is a sub-function: it shares its PF's PCI function, so vfio-pci cannot take it; "
                "hand it to a VM through vDPA (vhost-vdpa) instead",
                f->address);
    res->iommu_group = f->iommu_group;
    if (f->kind == DH_FUNC_PF && f->sriov.num_vfs > 0)
        return vfio_result_fail(
                res, -EBUSY,
                "%s is an SR-IOV PF with %d VFs enabled, which vfio-pci refuses; bind its VFs "
                "instead, or disable them first (dpuhost sriov %s --num-vfs 0)",
                f->address, f->sriov.num_vfs, f->address);
    if (f->iommu_group < 0)
        return vfio_result_fail(
                res, -ENODEV,
                "%s has no IOMMU group: the IOMMU is off; add intel_iommu=on (or amd_iommu=on) to "
                "the kernel command line (see dpuhost check)",
                f->address);
    if (f->driver && streq(f->driver, VFIO_DRIVER))
        return 0; /* already there: nothing is taken from the host */
    if (!(job->flags & DH_BIND_FORCE)) {
        int r = vfio_check_in_use(req->ctx->host, req->ctx->net, f, &err);
        if (r < 0) {
            vfio_result_from_error(res, r, &err);
            return r;
        }
    }
    return 0;
}

static void rollback(struct vfio_request *req, const struct dh_binding_record *rec,
                     struct dh_vfio_result *res)
{
    struct dh_error err = {0};
    int r = vfio_put_back(req->ctx->host, rec->address, rec->original_driver, rec->original_override,
                          req->ctx->timeout_ms, &err);
    size_t len = strlen(res->message);
    if (r < 0) {
        /* keep the record: dpuhost restore (or the daemon's recovery) finishes the job */
        snprintf(res->message + len, sizeof(res->message) - len,
                 "; rolling back failed too (%s): the record is kept, run dpuhost restore %s", err.message,
                 rec->address);
        return;
    }
    dh_store_binding_delete(req->ctx->store, rec->address, NULL);
    snprintf(res->message + len, sizeof(res->message) - len, "; rolled back to %s",
             rec->original_driver ? rec->original_driver : "no driver");
}

static void bind_one(size_t i, void *userdata)
{
    struct bind_job *job = userdata;
    struct vfio_request *req = job->req;
    struct dh_vfio_result *res = &req->results[i];
    if (res->error || res->message[0])
        return; /* refused during the checks, or nothing to do */
    const struct dh_func *f = dh_inventory_find(req->inv, res->address);
    struct dh_host *host = req->ctx->host;
    struct dh_error err = {0};

    struct dh_binding_record rec = {
            .state = DH_BINDING_BINDING,
            .iommu_group = f->iommu_group,
    };
    snprintf(rec.address, sizeof(rec.address), "%.16s", f->address); /* a BDF: checked by the request */
    rec.original_driver = f->driver ? strdup(f->driver) : NULL;
    rec.original_override = f->driver_override ? strdup(f->driver_override) : NULL;
    snapshot_vf(req, f, &rec);
    int r = dh_store_binding_put(req->ctx->store, &rec, &err);
    if (r < 0) {
        vfio_result_fail(res, r, "%s: not bound: cannot record its original state (%s)", f->address,
                         err.message);
        goto out;
    }
    res->changed = true;

    if ((r = vfio_write_override(host, f->address, VFIO_DRIVER)) < 0) {
        vfio_result_fail(res, r, "%s: writing vfio-pci to driver_override failed: %s", f->address,
                         strerror(-r));
        goto fail;
    }
    if (f->driver && (r = vfio_unbind(host, f->address)) < 0) {
        vfio_result_fail(res, r, "%s: unbinding it from %s failed: %s", f->address, f->driver, strerror(-r));
        goto fail;
    }
    if ((r = vfio_probe(host, f->address)) < 0) {
        vfio_result_fail(res, r, "%s: writing it to drivers_probe failed: %s", f->address, strerror(-r));
        goto fail;
    }
    if (vfio_wait_driver(host, f->address, VFIO_DRIVER, req->ctx->timeout_ms) < 0) {
        _cleanup_free_ char *now = vfio_current_driver(host, f->address);
        vfio_result_fail(res, -EIO,
                         "%s: vfio-pci did not take it within %d ms (its driver is now %s); see dmesg",
                         f->address, req->ctx->timeout_ms, now ? now : "none");
        goto fail;
    }
    if (vfio_wait_devnode(host, f->iommu_group, req->ctx->timeout_ms) < 0) {
        vfio_result_fail(res, -EIO, "%s: bound to vfio-pci, but /dev/vfio/%d did not appear within %d ms",
                         f->address, f->iommu_group, req->ctx->timeout_ms);
        goto fail;
    }
    rec.state = DH_BINDING_BOUND;
    r = dh_store_binding_put(req->ctx->store, &rec, &err);
    if (r < 0) {
        vfio_result_fail(res, r, "%s: bound, but the record could not be updated (%s)", f->address,
                         err.message);
        goto fail;
    }
    snprintf(res->message, sizeof(res->message), "%s: bound to vfio-pci (was %s), /dev/vfio/%d", f->address,
             f->driver ? f->driver : "no driver", f->iommu_group);
    goto out;
fail:
    rollback(req, &rec, res);
out:
    dh_binding_record_clear(&rec);
}

int dh_vfio_bind(struct dh_vfio_ctx *ctx, const char *const *addresses, size_t n, unsigned flags,
                 struct dh_vfio_result *results, struct dh_error *err)
{
    assert_return(ctx && ctx->store, -EINVAL);
    struct vfio_request req;
    int r = vfio_request_begin(&req, ctx, addresses, n, results, err);
    if (r < 0)
        return r;
    _cleanup_free_ const char **mates = calloc(n + 1, sizeof(char *));
    if (!mates) {
        vfio_request_end(&req);
        return -ENOMEM;
    }
    struct bind_job job = {.req = &req, .flags = flags};
    for (size_t i = 0; i < n; i++)
        if (!results[i].error)
            check(&job, dh_inventory_find(req.inv, addresses[i]), &results[i]);

    /* Group viability counts the other functions of this request as going to vfio-pci too; when
     * one of them is refused its group mates must be judged again, until nothing changes. */
    for (bool changed = true; changed;) {
        changed = false;
        size_t n_mates = 0;
        for (size_t i = 0; i < n; i++)
            if (!results[i].error)
                mates[n_mates++] = addresses[i];
        for (size_t i = 0; i < n; i++) {
            if (results[i].error)
                continue;
            const struct dh_func *f = dh_inventory_find(req.inv, addresses[i]);
            struct dh_error gerr = {0};
            r = vfio_group_viable(ctx->host, f->address, f->iommu_group, mates, n_mates, &gerr);
            if (r < 0) {
                vfio_result_from_error(&results[i], r, &gerr);
                changed = true;
            }
        }
    }

    bool work = false;
    for (size_t i = 0; i < n; i++) {
        if (results[i].error)
            continue;
        const struct dh_func *f = dh_inventory_find(req.inv, addresses[i]);
        if (f->driver && streq(f->driver, VFIO_DRIVER)) {
            struct dh_binding_record rec;
            bool ours = dh_store_binding_get(ctx->store, f->address, &rec, NULL) == 0;
            dh_binding_record_clear(&rec);
            snprintf(results[i].message, sizeof(results[i].message), "%s: already bound to vfio-pci%s",
                     f->address, ours ? "" : " (not by dpuhost: restore will not know its original driver)");
            continue;
        }
        work = true;
    }
    if (work) {
        struct dh_error merr = {0};
        r = vfio_load_modules(ctx->host, &merr);
        if (r < 0)
            for (size_t i = 0; i < n; i++)
                if (!results[i].error && !results[i].message[0])
                    vfio_result_fail(&results[i], r, "%s: not bound: %s", results[i].address, merr.message);
        vfio_run_parallel(n, ctx->parallel, bind_one, &job);
    }
    r = vfio_request_status(&req);
    vfio_request_end(&req);
    return r;
}
