/* The inventory scan: lists <root>/sys/bus/pci/devices, reads every function, links VFs to their
 * PF's virtfnN index, adds auxiliary SFs, IOMMU group peers and cards. Functions are kept sorted
 * by address so that lookups are binary searches and the scan stays linear in the number of
 * functions (plus n log n for the sort). */
#include "inventory-internal.h"

#include <fcntl.h>

#include "util/fileio.h"
#include "util/macro.h"
#include "util/parse.h"
#include "util/strv.h"

static const char *const kind_names[] = {
        [DH_FUNC_PCI] = "pci",
        [DH_FUNC_PF] = "pf",
        [DH_FUNC_VF] = "vf",
        [DH_FUNC_SF] = "sf",
};

const char *dh_func_kind_to_string(enum dh_func_kind kind)
{
    return (size_t)kind < ELEMENTSOF(kind_names) ? kind_names[kind] : NULL;
}

int dh_func_kind_from_string(const char *s, enum dh_func_kind *ret)
{
    for (size_t i = 0; s && i < ELEMENTSOF(kind_names); i++)
        if (streq(s, kind_names[i])) {
            if (ret)
                *ret = (enum dh_func_kind)i;
            return 0;
        }
    return -EINVAL;
}

struct dh_func *inv_func_append(struct dh_func **funcs, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct dh_func *v = realloc(*funcs, ncap * sizeof(*v));
        if (!v)
            return NULL;
        *funcs = v;
        *cap = ncap;
    }
    struct dh_func *f = &(*funcs)[(*n)++];
    *f = (struct dh_func){
            .vendor_id = -1,
            .device_id = -1,
            .subsystem_vendor_id = -1,
            .subsystem_device_id = -1,
            .class_code = -1,
            .iommu_group = -1,
            .numa_node = -1,
            .vf_index = -1,
            .sf_num = -1,
            .sriov = {-1, -1, -1, -1, -1, -1},
    };
    return f;
}

void inv_func_clear(struct dh_func *f)
{
    free(f->driver);
    free(f->driver_override);
    dh_strv_free(f->iommu_group_peers, f->n_iommu_group_peers);
    free(f->pf);
    for (size_t i = 0; i < f->n_netdevs; i++) {
        struct dh_netdev *n = &f->netdevs[i];
        free(n->name);
        free(n->mac);
        free(n->operstate);
        free(n->phys_port_name);
        free(n->phys_switch_id);
    }
    free(f->netdevs);
    free(f->nvme_controller);
    dh_strv_free(f->nvme_namespaces, f->n_nvme_namespaces);
    dh_vpd_free(f->vpd);
    free(f->vpd_error);
}

void dh_inventory_free(struct dh_inventory *inv)
{
    if (!inv)
        return;
    for (size_t i = 0; i < inv->n_funcs; i++)
        inv_func_clear(&inv->funcs[i]);
    free(inv->funcs);
    free(inv);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct dh_inventory *, dh_inventory_free);

static int cmp_bdf_name(const void *a, const void *b)
{
    struct dh_pci_addr x, y;
    dh_pci_addr_parse(*(char *const *)a, &x);
    dh_pci_addr_parse(*(char *const *)b, &y);
    return dh_pci_addr_compare(&x, &y);
}

static int list_pci_devices(int rootfd, char ***ret, size_t *ret_n, struct dh_error *err)
{
    _cleanup_closedir_ DIR *d = dh_opendir_at(rootfd, "sys/bus/pci/devices");
    if (!d) {
        int r = negative_errno();
        return dh_error_set(err, r,
                            "cannot list sys/bus/pci/devices under the host root: %s (is sysfs mounted?)",
                            strerror(-r));
    }
    struct dirent *de;
    while ((de = readdir(d)))
        if (dh_pci_addr_is_valid(de->d_name) && dh_strv_push_dup(ret, ret_n, de->d_name) < 0)
            return -ENOMEM;
    if (*ret_n > 1)
        qsort(*ret, *ret_n, sizeof(char *), cmp_bdf_name);
    return 0;
}

/* vf_index comes from the PF's virtfnN links: the only authoritative source (offset/stride only
 * predict addresses, and readdir lists virtfn links in no particular order). */
static int link_vfs(int rootfd, struct dh_inventory *inv)
{
    for (size_t i = 0; i < inv->n_funcs; i++) {
        struct dh_func *pf = &inv->funcs[i];
        if (pf->kind != DH_FUNC_PF)
            continue;
        char path[128];
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", pf->address);
        _cleanup_closedir_ DIR *d = dh_opendir_at(rootfd, path);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            const char *num = startswith(de->d_name, "virtfn");
            uint64_t index;
            if (!num || dh_parse_u64(num, 10, false, 65535, &index) < 0)
                continue;
            _cleanup_free_ char *vf = NULL;
            if (dh_readlink_basename_at(dirfd(d), de->d_name, &vf) < 0)
                continue;
            struct dh_func *f = (struct dh_func *)dh_inventory_find(inv, vf);
            if (f && f->kind == DH_FUNC_VF && streq_ptr(f->pf, pf->address))
                f->vf_index = (int)index;
        }
    }
    return 0;
}

static int read_one(int rootfd, const char *bdf, const struct dh_inventory_options *opts, struct dh_func *f)
{
    char path[128];
    snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", bdf);
    _cleanup_close_ int devfd = openat(rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (devfd < 0)
        return -ENOENT; /* removed during the scan, or a dangling link: not a function any more */
    int r = inv_read_pci_function(devfd, bdf, f);
    /* only the nvme driver creates <dev>/nvme: skip the lookup for every other function */
    if (r >= 0 && f->driver && streq(f->driver, "nvme"))
        r = inv_read_nvme(devfd, f);
    if (r < 0 || (opts && opts->skip_vpd))
        return r;
    const struct dh_func *prev = opts && opts->reuse_vpd ? dh_inventory_find(opts->reuse_vpd, bdf) : NULL;
    if (prev && prev->vendor_id == f->vendor_id && prev->device_id == f->device_id) {
        if ((prev->vpd && !(f->vpd = dh_vpd_dup(prev->vpd))) ||
            (prev->vpd_error && !(f->vpd_error = strdup(prev->vpd_error))))
            return -ENOMEM;
        return 0;
    }
    return inv_read_vpd(devfd, f);
}

static int cmp_sf(const void *a, const void *b)
{
    const struct dh_func *x = a, *y = b;
    int c = strcmp(x->pf ? x->pf : "", y->pf ? y->pf : "");
    if (c)
        return c;
    if (x->sf_num != y->sf_num)
        return x->sf_num < y->sf_num ? -1 : 1;
    return strverscmp(x->address, y->address);
}

int dh_inventory_scan(struct dh_host *host, const struct dh_inventory_options *opts,
                      struct dh_inventory **ret, struct dh_error *err)
{
    assert_return(host && ret, -EINVAL);
    int rootfd = dh_host_fd(host);

    char **names = NULL;
    size_t n_names = 0;
    int r = list_pci_devices(rootfd, &names, &n_names, err);
    if (r < 0) {
        dh_strv_free(names, n_names);
        return r;
    }

    _cleanup_(dh_inventory_freep) struct dh_inventory *inv = calloc(1, sizeof(*inv));
    size_t cap = 0;
    if (!inv)
        r = -ENOMEM;
    for (size_t i = 0; r >= 0 && i < n_names; i++) {
        struct dh_func *f = inv_func_append(&inv->funcs, &inv->n_funcs, &cap);
        if (!f) {
            r = -ENOMEM;
            break;
        }
        r = read_one(rootfd, names[i], opts, f);
        if (r == -ENOENT) {
            inv_func_clear(f);
            inv->n_funcs--;
            r = 0;
        }
    }
    dh_strv_free(names, n_names);
    if (r < 0)
        return r == -ENOMEM ? dh_error_set(err, r, "out of memory while reading the inventory") : r;

    /* PCI functions are sorted already (names were); VFs can now find their PF. */
    link_vfs(rootfd, inv);
    if (inv_fill_iommu_peers(inv) < 0)
        return dh_error_set(err, -ENOMEM, "out of memory while reading IOMMU groups");

    size_t n_pci = inv->n_funcs;
    r = inv_scan_sfs(rootfd, &inv->funcs, &inv->n_funcs, &cap);
    if (r < 0)
        return dh_error_set(err, r, "out of memory while reading sub-functions");
    if (inv->n_funcs - n_pci > 1)
        qsort(inv->funcs + n_pci, inv->n_funcs - n_pci, sizeof(struct dh_func), cmp_sf);
    /* An SF lives on its PF's NUMA node: it shares the PF's BARs and interrupts. */
    for (size_t i = n_pci; i < inv->n_funcs; i++) {
        struct dh_func *sf = &inv->funcs[i];
        const struct dh_func *pf = sf->pf ? dh_inventory_find(inv, sf->pf) : NULL;
        if (pf)
            sf->numa_node = pf->numa_node;
    }
    r = inv_attach_netdevs(rootfd, inv);
    if (r < 0)
        return dh_error_set(err, r, "out of memory while reading netdevs");
    inv_assign_cards(inv);
    *ret = TAKE_PTR(inv);
    return 0;
}

const struct dh_func *dh_inventory_find(const struct dh_inventory *inv, const char *address)
{
    if (!inv || !address)
        return NULL;
    struct dh_pci_addr key;
    if (dh_pci_addr_parse(address, &key) == 0) {
        /* PCI functions come first, sorted by address */
        size_t lo = 0, hi = inv->n_funcs;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const struct dh_func *f = &inv->funcs[mid];
            int c = f->kind == DH_FUNC_SF ? -1 : dh_pci_addr_compare(&key, &f->bdf);
            if (c == 0)
                return f;
            if (c < 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        return NULL;
    }
    for (size_t i = inv->n_funcs; i > 0; i--) {
        const struct dh_func *f = &inv->funcs[i - 1];
        if (f->kind != DH_FUNC_SF)
            break;
        if (streq(f->address, address))
            return f;
    }
    return NULL;
}

int dh_func_filter_validate(const struct dh_func_filter *filter, struct dh_error *err)
{
    if (!filter)
        return 0;
    if (filter->kind && dh_func_kind_from_string(filter->kind, NULL) < 0)
        return dh_error_set(err, -EINVAL, "unknown kind '%s': use pf, vf, sf or pci", filter->kind);
    if (filter->vendor) {
        uint64_t v;
        if (dh_parse_u64(filter->vendor, 16, true, 0xffff, &v) < 0 || strlen(filter->vendor) > 6)
            return dh_error_set(err, -EINVAL, "bad vendor id '%s': use 4 hex digits such as 15b3 or 0x15b3",
                                filter->vendor);
    }
    if (filter->driver && (!*filter->driver || strchr(filter->driver, '/')))
        return dh_error_set(err, -EINVAL, "bad driver name '%s'", filter->driver);
    return 0;
}

bool dh_func_filter_match(const struct dh_func_filter *filter, const struct dh_func *f)
{
    if (!filter)
        return true;
    if (filter->kind && !streq(filter->kind, dh_func_kind_to_string(f->kind)))
        return false;
    if (filter->vendor) {
        uint64_t v;
        if (dh_parse_u64(filter->vendor, 16, true, 0xffff, &v) < 0 || f->vendor_id != (int)v)
            return false;
    }
    if (filter->driver) {
        if (streq(filter->driver, "none"))
            return f->driver == NULL;
        if (!streq_ptr(filter->driver, f->driver))
            return false;
    }
    return true;
}
