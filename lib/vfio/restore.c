/* Restoring functions to what their bind record says: wait (bounded) until no process holds
 * /dev/vfio/<group>, because unbinding an open vfio device blocks in the kernel until userspace
 * lets go; then put the recorded driver and driver_override back and verify them; then the VF admin
 * settings; only then forget the record. The record's state says how far a restore got, so that a
 * crash midway is finished by the next restore or by the daemon's recovery. */
#include "vfio-internal.h"

#include "util/macro.h"

struct holder_wait {
    struct dh_host *host;
    int group;
};

static bool group_free(void *userdata)
{
    struct holder_wait *w = userdata;
    char buf[8];
    return vfio_group_holders(w->host, w->group, buf, sizeof(buf)) == 0;
}

static int restore_vf_settings(struct vfio_request *req, const struct dh_binding_record *rec,
                               struct dh_vfio_result *res)
{
    const struct dh_vfio_net *net = req->ctx->net;
    if (!rec->vf.valid)
        return 0;
    if (!net || !net->vf_set)
        return vfio_result_fail(
                res, -EOPNOTSUPP,
                "%s: back on %s, but its VF settings cannot be restored without netlink; the record "
                "is kept",
                rec->address, rec->original_driver ? rec->original_driver : "no driver");
    struct dh_error err = {0};
    int r = net->vf_set(net->userdata, rec->vf.pf_ifname, rec->vf.vf_index, &rec->vf, &err);
    if (r < 0)
        return vfio_result_fail(
                res, r,
                "%s: back on %s, but restoring its VF settings through %s failed (%s); the record is "
                "kept, retry dpuhost restore %s",
                rec->address, rec->original_driver ? rec->original_driver : "no driver", rec->vf.pf_ifname,
                err.message, rec->address);
    return 0;
}

static void restore_one(size_t i, void *userdata)
{
    struct vfio_request *req = userdata;
    struct dh_vfio_result *res = &req->results[i];
    struct dh_host *host = req->ctx->host;
    struct dh_store *store = req->ctx->store;
    if (res->error)
        return;
    if (!dh_pci_addr_is_valid(res->address)) {
        vfio_result_fail(res, -EOPNOTSUPP, "%s is a sub-function: it is never bound to vfio-pci",
                         res->address);
        return;
    }
    struct dh_binding_record rec = {0};
    struct dh_error err = {0};
    _cleanup_free_ char *cur = NULL;
    int r = dh_store_binding_get(store, res->address, &rec, &err);
    if (r == -ENOENT && !dh_inventory_find(req->inv, res->address)) {
        vfio_result_fail(res, -ENODEV, "%s: no such PCI function on this host (see dpuhost functions)",
                         res->address);
        return;
    }
    if (r == -ENOENT) {
        vfio_result_fail(
                res, -ENOENT,
                "%s: dpuhost has no record of binding it, so it will not guess its original driver; bind it "
                "yourself (echo %s > /sys/bus/pci/drivers/<driver>/bind)",
                res->address, res->address);
        return;
    }
    if (r < 0) {
        vfio_result_from_error(res, r, &err);
        return;
    }
    res->iommu_group = rec.iommu_group;
    const struct dh_func *f = dh_inventory_find(req->inv, rec.address);
    if (!f) {
        dh_store_binding_delete(store, rec.address, NULL);
        snprintf(res->message, sizeof(res->message),
                 "%s: the function is gone (unplugged, or its VFs disabled); "
                 "its record was removed",
                 rec.address);
        goto out;
    }
    cur = vfio_current_driver(host, rec.address);
    if (cur && streq(cur, VFIO_DRIVER) && f->iommu_group >= 0) {
        struct holder_wait w = {host, f->iommu_group};
        if (vfio_wait(req->ctx->holder_timeout_ms, group_free, &w) < 0) {
            char who[512];
            vfio_group_holders(host, f->iommu_group, who, sizeof(who));
            vfio_result_fail(
                    res, -EBUSY,
                    "%s: /dev/vfio/%d is still open by %s after %d ms; stop it (a VM using the device) and "
                    "retry; nothing was changed",
                    rec.address, f->iommu_group, who, req->ctx->holder_timeout_ms);
            goto out;
        }
    }
    enum dh_binding_state before = rec.state;
    rec.state = DH_BINDING_RESTORING;
    if ((r = dh_store_binding_put(store, &rec, &err)) < 0) {
        vfio_result_fail(res, r, "%s: not restored: cannot update its record (%s)", rec.address, err.message);
        goto out;
    }
    res->changed = true;
    r = vfio_put_back(host, rec.address, rec.original_driver, rec.original_override, req->ctx->timeout_ms,
                      &err);
    if (r < 0) {
        vfio_result_from_error(res, r, &err);
        goto out;
    }
    if (restore_vf_settings(req, &rec, res) < 0)
        goto out;
    dh_store_binding_delete(store, rec.address, NULL);
    snprintf(res->message, sizeof(res->message), "%s: restored to %s%s", rec.address,
             rec.original_driver ? rec.original_driver : "no driver",
             before == DH_BINDING_BOUND ? "" : " (finishing an interrupted operation)");
out:
    dh_binding_record_clear(&rec);
}

int dh_vfio_restore(struct dh_vfio_ctx *ctx, const char *const *addresses, size_t n,
                    struct dh_vfio_result *results, struct dh_error *err)
{
    assert_return(ctx && ctx->store, -EINVAL);
    struct vfio_request req;
    int r = vfio_request_begin(&req, ctx, addresses, n, results, err);
    if (r < 0)
        return r;
    vfio_run_parallel(n, ctx->parallel, restore_one, &req);
    r = vfio_request_status(&req);
    vfio_request_end(&req);
    return r;
}

void dh_vfio_results_write_json(struct dh_jsonw *w, const struct dh_vfio_result *results, size_t n)
{
    dh_jsonw_begin_object(w);
    dh_jsonw_key(w, "results");
    dh_jsonw_begin_array(w);
    for (size_t i = 0; i < n; i++) {
        const struct dh_vfio_result *r = &results[i];
        dh_jsonw_begin_object(w);
        dh_jsonw_kv_string(w, "address", r->address);
        dh_jsonw_kv_bool(w, "ok", r->error == 0);
        dh_jsonw_kv_string(w, "error", r->error ? strerrorname_np(-r->error) : NULL);
        dh_jsonw_kv_string(w, "message", r->message[0] ? r->message : NULL);
        dh_jsonw_kv_int_or_null(w, "iommu_group", r->iommu_group);
        dh_jsonw_kv_bool(w, "changed", r->changed);
        dh_jsonw_end_object(w);
    }
    dh_jsonw_end_array(w);
    dh_jsonw_end_object(w);
}
