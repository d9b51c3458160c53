/* IOMMU group peers. Every member of sys/kernel/iommu_groups/N/devices has an iommu_group link to
 * N, so the PCI members of a group are exactly the functions of the inventory that share the group
 * number: sorting by (group, address) finds all peers without reading one directory per group (a
 * host with 1,000 VFs has 1,000 groups). Non-PCI group members (platform devices on some ARM
 * SMMUs) are not functions and are not listed here; the binding code reads the group directory
 * itself when it checks group viability. */
#include "inventory-internal.h"

#include "util/macro.h"
#include "util/strv.h"

static int cmp_group(const void *a, const void *b)
{
    const struct dh_func *x = *(const struct dh_func *const *)a, *y = *(const struct dh_func *const *)b;
    if (x->iommu_group != y->iommu_group)
        return x->iommu_group < y->iommu_group ? -1 : 1;
    return dh_pci_addr_compare(&x->bdf, &y->bdf);
}

int inv_fill_iommu_peers(struct dh_inventory *inv)
{
    _cleanup_free_ struct dh_func **byg = calloc(inv->n_funcs ? inv->n_funcs : 1, sizeof(*byg));
    if (!byg)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < inv->n_funcs; i++)
        if (inv->funcs[i].iommu_group >= 0 && inv->funcs[i].kind != DH_FUNC_SF)
            byg[n++] = &inv->funcs[i];
    qsort(byg, n, sizeof(*byg), cmp_group);
    for (size_t start = 0, end; start < n; start = end) {
        for (end = start + 1; end < n && byg[end]->iommu_group == byg[start]->iommu_group; end++)
            ;
        for (size_t i = start; i < end; i++)
            for (size_t k = start; k < end; k++)
                if (k != i && dh_strv_push_dup(&byg[i]->iommu_group_peers, &byg[i]->n_iommu_group_peers,
                                               byg[k]->address) < 0)
                    return -ENOMEM;
    }
    return 0;
}
