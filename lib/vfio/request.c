/* What bind and restore share: validating the addresses (bad input changes nothing), taking the
 * per-function locks, one inventory scan, per-function results. */
#include "vfio-internal.h"

#include "util/macro.h"

int vfio_result_fail(struct dh_vfio_result *res, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
    res->error = code < 0 ? code : -EIO;
    return res->error;
}

void vfio_result_from_error(struct dh_vfio_result *res, int code, const struct dh_error *err)
{
    res->error = code < 0 ? code : -EIO;
    snprintf(res->message, sizeof(res->message), "%s",
             err && err->code ? err->message : strerror(-res->error));
}

int vfio_request_begin(struct vfio_request *req, struct dh_vfio_ctx *ctx, const char *const *addresses,
                       size_t n, struct dh_vfio_result *results, struct dh_error *err)
{
    assert_return(ctx && ctx->host && (addresses || n == 0) && (results || n == 0), -EINVAL);
    *req = (struct vfio_request){.ctx = ctx, .addresses = addresses, .n = n, .results = results};
    if (n == 0)
        return dh_error_set(err, -EINVAL, "no address given");
    for (size_t i = 0; i < n; i++) {
        if (!dh_func_address_is_valid(addresses[i]))
            return dh_error_set(
                    err, -EINVAL,
                    "malformed address '%s': expected DDDD:BB:DD.F (e.g. 0000:03:00.2); nothing was "
                    "changed",
                    addresses[i]);
        for (size_t k = 0; k < i; k++)
            if (streq(addresses[k], addresses[i]))
                return dh_error_set(err, -EINVAL, "%s is given twice; nothing was changed", addresses[i]);
    }
    if (ctx->timeout_ms <= 0)
        ctx->timeout_ms = 5000;
    if (ctx->holder_timeout_ms <= 0)
        ctx->holder_timeout_ms = 10000;
    if (ctx->parallel <= 0)
        ctx->parallel = 8;
    req->locks = malloc(n * sizeof(int));
    if (!req->locks)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        results[i] = (struct dh_vfio_result){.iommu_group = -1};
        snprintf(results[i].address, sizeof(results[i].address), "%s", addresses[i]);
        req->locks[i] = -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!dh_pci_addr_is_valid(addresses[i]))
            continue; /* an SF: refused per function, no lock needed */
        struct dh_error lerr = {0};
        int fd = vfio_lock(ctx->host, addresses[i], &lerr);
        if (fd < 0)
            vfio_result_from_error(&results[i], fd, &lerr);
        else
            req->locks[i] = fd;
    }
    /* scanned after locking: what we check is what we change */
    struct dh_inventory_options opts = {.skip_vpd = true};
    int r = dh_inventory_scan(ctx->host, &opts, &req->inv, err);
    if (r < 0) {
        vfio_request_end(req);
        return r;
    }
    return 0;
}

void vfio_request_end(struct vfio_request *req)
{
    for (size_t i = 0; req->locks && i < req->n; i++)
        if (req->locks[i] >= 0)
            close(req->locks[i]);
    free(req->locks);
    req->locks = NULL;
    dh_inventory_free(req->inv);
    req->inv = NULL;
}

int vfio_request_status(const struct vfio_request *req)
{
    for (size_t i = 0; i < req->n; i++)
        if (req->results[i].error)
            return req->results[i].error;
    return 0;
}
