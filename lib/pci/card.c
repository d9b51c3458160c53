/* The add-in card of a function, from PCI VPD. A function's own <dev>/vpd is read and parsed;
 * failures are recorded on that function (vpd_error) and never fail the scan, because the file is
 * root-only (EACCES otherwise) and some devices answer VPD reads with EIO or garbage. VFs and SFs
 * usually have no VPD of their own and take their PF's card (Nova does the same for
 * card_serial_number). */
#include "inventory-internal.h"

#include <fcntl.h>

#include "util/fileio.h"
#include "util/macro.h"

static char *describe_read_error(int r)
{
    char *s = NULL;
    switch (r) {
    case -EACCES:
    case -EPERM:
        s = strdup("cannot read VPD: permission denied (the vpd file is readable by root only)");
        break;
    case -EIO:
        s = strdup("cannot read VPD: I/O error (the device did not complete a VPD read)");
        break;
    case -EFBIG:
        s = strdup("cannot read VPD: larger than the 32 KiB the PCI spec allows");
        break;
    default:
        if (asprintf(&s, "cannot read VPD: %s", strerror(-r)) < 0)
            s = NULL;
    }
    return s;
}

int inv_read_vpd(int devfd, struct dh_func *f)
{
    _cleanup_free_ char *buf = NULL;
    size_t size = 0;
    int r = dh_read_full_at(devfd, "vpd", DH_VPD_MAX_BYTES, &buf, &size);
    if (r == -ENOENT)
        return 0; /* no VPD capability */
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        f->vpd_error = describe_read_error(r);
        return f->vpd_error ? 0 : -ENOMEM;
    }
    struct dh_error err = {0};
    r = dh_vpd_parse((const uint8_t *)buf, size, &f->vpd, &err);
    if (r == -ENOMEM)
        return r;
    if (r == -ENODATA)
        f->vpd_error = strdup("VPD is empty");
    else if (r < 0 && asprintf(&f->vpd_error, "invalid VPD: %s", err.message) < 0)
        f->vpd_error = NULL;
    else if (r == 0)
        return 0;
    return f->vpd_error ? 0 : -ENOMEM;
}

void inv_assign_cards(struct dh_inventory *inv)
{
    for (size_t i = 0; i < inv->n_funcs; i++) {
        struct dh_func *f = &inv->funcs[i];
        if (f->vpd) {
            f->card = f->vpd;
            f->card_source = DH_CARD_SELF;
        }
    }
    for (size_t i = 0; i < inv->n_funcs; i++) {
        struct dh_func *f = &inv->funcs[i];
        if (f->card || !f->pf || (f->kind != DH_FUNC_VF && f->kind != DH_FUNC_SF))
            continue;
        const struct dh_func *pf = dh_inventory_find(inv, f->pf);
        if (pf && pf->vpd) {
            f->card = pf->vpd;
            f->card_source = DH_CARD_PF;
        }
    }
}

const char *dh_func_card_serial(const struct dh_func *f)
{
    return f && f->card ? dh_vpd_get(f->card, "SN") : NULL;
}
