/* SR-IOV-device-plugin-style selectors (sriov-network-device-plugin, pkg/resources/
 * deviceSelectors.go and the netDevice/auxNetDevice providers): vendors, devices, drivers,
 * pciAddresses, pfNames, rootDevices, linkTypes and auxTypes. Keys within one object are ANDed,
 * the strings of one key are ORed. What the plugin takes from each device is reproduced from the
 * inventory: a VF's "PF name" is its PF's uplink netdev and its index the N of virtfnN; an SF's
 * ids, driver and PF come from its parent PF and its index is its sfnum (auxNetDevice); a PF
 * with VFs enabled is never offered (netDeviceProvider.AddTargetDevices()). Stricter than the
 * plugin, which takes any string and silently never matches: every value is validated, unknown
 * keys are errors, and pfNames/rootDevices ranges are parsed when the configuration is read. */
#include "select-internal.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

#include "util/parse.h"
#include "util/strv.h"

#define SEL_RANGE_MAX 65535

static const char *const known_keys[] = {
        "vendors", "devices", "drivers", "pciAddresses", "pfNames", "rootDevices", "linkTypes", "auxTypes",
};
/* Plugin selectors that need information dpuhost does not have (RDMA, vDPA, DDP, ACPI, netns) */
static const char *const unsupported_keys[] = {
        "isRdma", "needVhostNet", "vdpaType", "ddpProfiles", "nicNames", "acpiIndexes", "pKeys",
};
static const char *const device_spec_keys[] = {
        "vendor_id", "product_id", "address", "devname", "physical_network", "remote_managed", "trusted",
};

static int push_range(struct sel_range **r, size_t *n, uint32_t lo, uint32_t hi)
{
    struct sel_range *v = realloc(*r, (*n + 1) * sizeof(**r));
    if (!v)
        return -ENOMEM;
    v[(*n)++] = (struct sel_range){lo, hi};
    *r = v;
    return 0;
}

static int parse_index(const char *s, size_t len, uint32_t *ret)
{
    char buf[16];
    uint64_t v;
    if (len == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)s[i]))
            return -EINVAL;
    if (len >= sizeof(buf))
        return -ERANGE; /* a long run of digits is too big, not "not a number" */
    memcpy(buf, s, len);
    buf[len] = '\0';
    int r = dh_parse_u64(buf, 10, false, SEL_RANGE_MAX, &v);
    if (r < 0)
        return r;
    *ret = (uint32_t)v;
    return 0;
}

int sel_ranges_parse(const char *s, struct sel_range **ret, size_t *ret_n, const char **ret_why)
{
    struct sel_range *ranges = NULL;
    size_t n = 0;
    const char *why = NULL;
    int r = 0;
    if (!*s) {
        why = "nothing follows '#'";
        r = -EINVAL;
    }
    for (const char *p = s; r == 0 && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *dash = memchr(p, '-', len);
        uint32_t lo, hi;
        if (len == 0)
            r = -EINVAL, why = "an empty part (two commas in a row, or a comma at an end)";
        else if (dash && memchr(dash + 1, '-', len - (size_t)(dash - p) - 1))
            r = -EINVAL, why = "a part with more than one '-'";
        else if (dash) {
            int a = parse_index(p, (size_t)(dash - p), &lo);
            int b = parse_index(dash + 1, len - (size_t)(dash - p) - 1, &hi);
            if (a == -EINVAL || b == -EINVAL)
                r = -EINVAL, why = "a range bound that is not a decimal number";
            else if (a < 0 || b < 0)
                r = -EINVAL, why = "an index above 65535";
            else if (lo > hi)
                r = -EINVAL, why = "a reversed range (write the smaller index first)";
        } else {
            int a = parse_index(p, len, &lo);
            if (a == -EINVAL)
                r = -EINVAL, why = "an index that is not a decimal number";
            else if (a < 0)
                r = -EINVAL, why = "an index above 65535";
            hi = lo;
        }
        if (r == 0 && push_range(&ranges, &n, lo, hi) < 0)
            r = -ENOMEM;
        if (r == 0 && comma && !comma[1])
            r = -EINVAL, why = "an empty part (two commas in a row, or a comma at an end)";
        p += len + (comma ? 1 : 0);
    }
    if (r < 0) {
        free(ranges);
        if (ret_why)
            *ret_why = why;
        return r;
    }
    *ret = ranges;
    *ret_n = n;
    return 0;
}

/* Every selector value is a non-empty list of strings. */
static int check_list(json_t *v, const char *path, const char *key, const struct sel_ctx *c)
{
    char repr[SEL_REPR_MAX];
    if (!json_is_array(v))
        return sel_fail(c, "%s.%s %s: not a list; write a list of strings, e.g. [\"%s\"]", path, key,
                        sel_repr(v, repr, sizeof(repr)), json_is_string(v) ? json_string_value(v) : "...");
    if (json_array_size(v) == 0)
        return sel_fail(c, "%s.%s []: an empty list selects nothing; remove the key or list values", path,
                        key);
    size_t i;
    json_t *e;
    json_array_foreach (v, i, e) {
        if (!json_is_string(e))
            return sel_fail(c, "%s.%s[%zu] %s: not a string", path, key, i, sel_repr(e, repr, sizeof(repr)));
        if (!*json_string_value(e))
            return sel_fail(c, "%s.%s[%zu] \"\": empty string; remove it", path, key, i);
    }
    return 0;
}

static int parse_ids(json_t *v, const char *path, const char *key, const struct sel_ctx *c, uint16_t **ret,
                     size_t *ret_n)
{
    char repr[SEL_REPR_MAX];
    int r = check_list(v, path, key, c);
    if (r < 0)
        return r;
    *ret = calloc(json_array_size(v), sizeof(**ret));
    if (!*ret)
        return sel_oom(c);
    size_t i;
    json_t *e;
    json_array_foreach (v, i, e) {
        const char *s = json_string_value(e);
        uint64_t id;
        if (strlen(s) != 4 || dh_parse_u64(s, 16, false, 0xffff, &id) < 0)
            return sel_fail(c,
                            "%s.%s[%zu] %s: not 4 hex digits; write it as lspci -n prints it, without 0x, "
                            "e.g. \"%s\"",
                            path, key, i, sel_repr(e, repr, sizeof(repr)),
                            streq(key, "vendors") ? "15b3" : "101e");
        (*ret)[(*ret_n)++] = (uint16_t)id;
    }
    return 0;
}

static bool driver_name_is_valid(const char *s)
{
    if (strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return false;
    return true;
}

static int parse_drivers(json_t *v, const char *path, const struct sel_ctx *c, struct sel_dp *d)
{
    char repr[SEL_REPR_MAX];
    int r = check_list(v, path, "drivers", c);
    if (r < 0)
        return r;
    size_t i;
    json_t *e;
    json_array_foreach (v, i, e) {
        if (!driver_name_is_valid(json_string_value(e)))
            return sel_fail(
                    c,
                    "%s.drivers[%zu] %s: not a driver name (letters, digits, '_', '-', '.'); write it "
                    "as /sys/bus/pci/drivers lists it, e.g. \"mlx5_core\"",
                    path, i, sel_repr(e, repr, sizeof(repr)));
        if (dh_strv_push_dup(&d->drivers, &d->n_drivers, json_string_value(e)) < 0)
            return sel_oom(c);
    }
    return 0;
}

static int parse_pci_addresses(json_t *v, const char *path, const struct sel_ctx *c, struct sel_dp *d)
{
    char repr[SEL_REPR_MAX];
    int r = check_list(v, path, "pciAddresses", c);
    if (r < 0)
        return r;
    d->pci_addresses = calloc(json_array_size(v), sizeof(*d->pci_addresses));
    if (!d->pci_addresses)
        return sel_oom(c);
    size_t i;
    json_t *e;
    json_array_foreach (v, i, e) {
        if (dh_pci_addr_parse(json_string_value(e), &d->pci_addresses[d->n_pci_addresses]) < 0)
            return sel_fail(c, "%s.pciAddresses[%zu] %s: not a full PCI address; write e.g. \"0000:03:00.2\"",
                            path, i, sel_repr(e, repr, sizeof(repr)));
        d->n_pci_addresses++;
    }
    return 0;
}

/* pfNames "ens1f0" / "ens1f0#0,2-7" and rootDevices "0000:86:00.0" / "0000:86:00.0#0-1,3" */
static int parse_targets(json_t *v, const char *path, const char *key, const struct sel_ctx *c,
                         struct sel_target **ret, size_t *ret_n)
{
    char repr[SEL_REPR_MAX];
    bool by_name = streq(key, "pfNames");
    int r = check_list(v, path, key, c);
    if (r < 0)
        return r;
    *ret = calloc(json_array_size(v), sizeof(**ret));
    if (!*ret)
        return sel_oom(c);
    size_t i;
    json_t *e;
    json_array_foreach (v, i, e) {
        const char *s = json_string_value(e);
        struct sel_target *t = &(*ret)[*ret_n];
        const char *hash = strchr(s, '#');
        _cleanup_free_ char *head = strndup(s, hash ? (size_t)(hash - s) : strlen(s));
        if (!head)
            return sel_oom(c);
        if (by_name && !sel_ifname_is_valid(head))
            return sel_fail(
                    c,
                    "%s.pfNames[%zu] %s: \"%s\" is not an interface name (1-15 characters, no '/', ':' "
                    "or blanks); write e.g. \"ens1f0\" or \"ens1f0#0-3\"",
                    path, i, sel_repr(e, repr, sizeof(repr)), head);
        if (!by_name && dh_pci_addr_parse(head, &t->addr) < 0)
            return sel_fail(c,
                            "%s.rootDevices[%zu] %s: \"%s\" is not a full PCI address; write e.g. "
                            "\"0000:86:00.0\" or \"0000:86:00.0#0-1,3\"",
                            path, i, sel_repr(e, repr, sizeof(repr)), head);
        if (hash && strchr(hash + 1, '#'))
            return sel_fail(c,
                            "%s.%s[%zu] %s: more than one '#'; write \"<%s>#<indexes>\", e.g. \"%s#0,2-7\"",
                            path, key, i, sel_repr(e, repr, sizeof(repr)), by_name ? "name" : "address",
                            by_name ? "ens1f0" : "0000:86:00.0");
        if (hash) {
            const char *why = NULL;
            r = sel_ranges_parse(hash + 1, &t->ranges, &t->n_ranges, &why);
            if (r == -ENOMEM)
                return sel_oom(c);
            if (r < 0)
                return sel_fail(
                        c,
                        "%s.%s[%zu] %s: bad index list \"%s\": %s; write 0-based VF indexes (sfnums for SFs) "
                        "such as \"0,2-7\"",
                        path, key, i, sel_repr(e, repr, sizeof(repr)), hash + 1, why);
        }
        if (by_name)
            t->name = TAKE_PTR(head);
        (*ret_n)++;
    }
    return 0;
}

static int parse_flags(json_t *v, const char *path, const char *key, const char *const *names,
                       const unsigned *bits, size_t n, const char *choices, const struct sel_ctx *c,
                       unsigned *ret)
{
    char repr[SEL_REPR_MAX];
    int r = check_list(v, path, key, c);
    if (r < 0)
        return r;
    size_t i;
    json_t *e;
    json_array_foreach (v, i, e) {
        size_t k = 0;
        while (k < n && !streq(json_string_value(e), names[k]))
            k++;
        if (k == n)
            return sel_fail(c, "%s.%s[%zu] %s: not supported; write %s", path, key, i,
                            sel_repr(e, repr, sizeof(repr)), choices);
        *ret |= bits[k];
    }
    return 0;
}

static bool in_list(const char *key, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (streq(key, list[i]))
            return true;
    return false;
}

static int parse_dp(json_t *obj, const char *path, const struct sel_ctx *c, struct sel_dp *d)
{
    static const char *const link_names[] = {"ether", "infiniband"};
    static const unsigned link_bits[] = {SEL_LINK_ETHER, SEL_LINK_INFINIBAND};
    static const char *const aux_names[] = {"sf"};
    static const unsigned aux_bits[] = {SEL_AUX_SF};
    const char *key;
    json_t *v;
    json_object_foreach (obj, key, v) {
        if (in_list(key, known_keys, ELEMENTSOF(known_keys)))
            continue;
        if (in_list(key, unsupported_keys, ELEMENTSOF(unsupported_keys)))
            return sel_fail(c,
                            "%s.%s: a sriov-network-device-plugin selector that dpuhost does not implement; "
                            "remove it (supported: vendors, devices, drivers, pciAddresses, pfNames, "
                            "rootDevices, linkTypes, auxTypes)",
                            path, key);
        if (in_list(key, device_spec_keys, ELEMENTSOF(device_spec_keys)))
            return sel_fail(c,
                            "%s.%s: a device_spec key inside selectors; write the pool with \"device_spec\", "
                            "or use vendors, devices, pciAddresses, pfNames here",
                            path, key);
        return sel_fail(c,
                        "%s.%s: unknown selector; the keys are vendors, devices, drivers, pciAddresses, "
                        "pfNames, rootDevices, linkTypes and auxTypes (note the case)",
                        path, key);
    }

    int r = 0;
    if (r == 0 && (v = json_object_get(obj, "vendors")))
        r = parse_ids(v, path, "vendors", c, &d->vendors, &d->n_vendors);
    if (r == 0 && (v = json_object_get(obj, "devices")))
        r = parse_ids(v, path, "devices", c, &d->devices, &d->n_devices);
    if (r == 0 && (v = json_object_get(obj, "drivers")))
        r = parse_drivers(v, path, c, d);
    if (r == 0 && (v = json_object_get(obj, "pciAddresses")))
        r = parse_pci_addresses(v, path, c, d);
    if (r == 0 && (v = json_object_get(obj, "pfNames")))
        r = parse_targets(v, path, "pfNames", c, &d->pf_names, &d->n_pf_names);
    if (r == 0 && (v = json_object_get(obj, "rootDevices")))
        r = parse_targets(v, path, "rootDevices", c, &d->root_devices, &d->n_root_devices);
    if (r == 0 && (v = json_object_get(obj, "linkTypes")))
        r = parse_flags(v, path, "linkTypes", link_names, link_bits, ELEMENTSOF(link_names),
                        "\"ether\" or \"infiniband\"", c, &d->link_types);
    if (r == 0 && (v = json_object_get(obj, "auxTypes")))
        r = parse_flags(v, path, "auxTypes", aux_names, aux_bits, ELEMENTSOF(aux_names),
                        "\"sf\" (the only auxiliary device type that is a function)", c, &d->aux_types);
    if (r < 0)
        return r;
    /* auxNetDevice selectors have no pciAddresses: an SF has no PCI address of its own */
    if (d->aux_types && d->n_pci_addresses)
        return sel_fail(
                c,
                "%s: \"pciAddresses\" with \"auxTypes\": SFs have no PCI address; select them by their "
                "PF with \"rootDevices\": [\"<pf>#<sfnums>\"] or \"pfNames\"",
                path);
    return 0;
}

int sel_dp_parse(json_t *obj, const char *path, const struct sel_ctx *c, struct sel_dp *ret)
{
    memset(ret, 0, sizeof(*ret));
    int r = parse_dp(obj, path, c, ret);
    if (r < 0)
        sel_dp_clear(ret);
    return r;
}

static void targets_free(struct sel_target *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].name);
        free(t[i].ranges);
    }
    free(t);
}

void sel_dp_clear(struct sel_dp *d)
{
    free(d->vendors);
    free(d->devices);
    dh_strv_free(d->drivers, d->n_drivers);
    free(d->pci_addresses);
    targets_free(d->pf_names, d->n_pf_names);
    targets_free(d->root_devices, d->n_root_devices);
    memset(d, 0, sizeof(*d));
}

static bool has_id(const uint16_t *ids, size_t n, int id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static bool in_ranges(const struct sel_target *t, int index)
{
    if (t->n_ranges == 0)
        return true; /* no '#': every function of that PF */
    if (index < 0)
        return false; /* the PF itself, or an index the kernel did not tell */
    for (size_t i = 0; i < t->n_ranges; i++)
        if ((uint32_t)index >= t->ranges[i].lo && (uint32_t)index <= t->ranges[i].hi)
            return true;
    return false;
}

/* The plugin's GetPfName(): in switchdev mode the uplink representor (sriovnet
 * GetUplinkRepresentor(), the netdev whose phys_port_name is p<N>), otherwise the PF's netdev.
 * Port representors (pf0hpf, pf0vf0, ...) also live on the PF and are never its name. The plugin
 * compares with strings.EqualFold. */
static bool pf_has_name(const struct dh_func *pf, const char *name)
{
    bool switchdev = false;
    for (size_t i = 0; i < pf->n_netdevs; i++)
        switchdev = switchdev || pf->netdevs[i].port.flavour == DH_PORT_PHYSICAL;
    for (size_t i = 0; i < pf->n_netdevs; i++) {
        enum dh_port_flavour fl = pf->netdevs[i].port.flavour;
        if ((switchdev ? fl == DH_PORT_PHYSICAL : fl == DH_PORT_NONE) &&
            strcasecmp(pf->netdevs[i].name, name) == 0)
            return true;
    }
    return false;
}

/* linkTypes from the class code instead of the netdev's link type (netlink EncapType): the class
 * does not change when the function is bound to vfio-pci and loses its netdev. */
static unsigned link_type_of(const struct dh_func *f)
{
    if (!f || f->class_code < 0)
        return 0;
    switch ((uint32_t)f->class_code >> 8) {
    case 0x0200:
        return SEL_LINK_ETHER;
    case 0x0207:
        return SEL_LINK_INFINIBAND;
    default:
        return 0;
    }
}

bool sel_dp_match(const struct sel_dp *d, const struct dh_func *f, const struct dh_inventory *inv)
{
    /* netDeviceProvider skips a PF whose sriov_numvfs > 0: its VFs are the devices */
    if (f->kind == DH_FUNC_PF && f->sriov.num_vfs > 0)
        return false;
    /* a netDevice selector lists PCI functions, an auxNetDevice selector (auxTypes) only SFs */
    if (d->aux_types ? f->kind != DH_FUNC_SF || !(d->aux_types & SEL_AUX_SF) : f->kind == DH_FUNC_SF)
        return false;

    bool child = f->kind == DH_FUNC_VF || f->kind == DH_FUNC_SF;
    const struct dh_func *pf = child && f->pf ? dh_inventory_find(inv, f->pf) : NULL;
    /* an SF has no ids, driver or class of its own in PCI terms: auxNetDevice reports its PF's */
    const struct dh_func *src = f->kind == DH_FUNC_SF ? pf : f;
    int index = f->kind == DH_FUNC_VF ? f->vf_index : f->kind == DH_FUNC_SF ? f->sf_num : -1;

    if (d->n_vendors && (!src || !has_id(d->vendors, d->n_vendors, src->vendor_id)))
        return false;
    if (d->n_devices && (!src || !has_id(d->devices, d->n_devices, src->device_id)))
        return false;
    if (d->n_drivers && (!src || !src->driver || dh_strv_find(d->drivers, d->n_drivers, src->driver) < 0))
        return false;
    if (d->n_pci_addresses) {
        bool any = false;
        for (size_t i = 0; !any && i < d->n_pci_addresses; i++)
            any = f->kind != DH_FUNC_SF && dh_pci_addr_compare(&d->pci_addresses[i], &f->bdf) == 0;
        if (!any)
            return false;
    }
    if (d->n_pf_names) {
        /* GetPfName() is "" for anything but a VF (or an SF's uplink): such devices are excluded */
        bool any = false;
        for (size_t i = 0; !any && pf && i < d->n_pf_names; i++)
            any = pf_has_name(pf, d->pf_names[i].name) && in_ranges(&d->pf_names[i], index);
        if (!any)
            return false;
    }
    if (d->n_root_devices) {
        /* GetPfAddr(): a VF's or SF's PF, or the function itself */
        struct dh_pci_addr root = f->bdf;
        if (child && (!f->pf || dh_pci_addr_parse(f->pf, &root) < 0))
            return false;
        bool any = false;
        for (size_t i = 0; !any && i < d->n_root_devices; i++)
            any = dh_pci_addr_compare(&d->root_devices[i].addr, &root) == 0 &&
                  in_ranges(&d->root_devices[i], index);
        if (!any)
            return false;
    }
    if (d->link_types && !(link_type_of(src) & d->link_types))
        return false;
    return true;
}
