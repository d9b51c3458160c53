/* Nova-style device_spec entries ([pci]device_spec, nova/pci/devspec.py): vendor_id and product_id
 * (4 hex digits or "*"), an address (a glob "[[[[dom]:]bus]:][slot][.[func]]" or a regex object
 * {"domain","bus","slot","function"}) or a devname, and tags (every other key). Nova's rules are
 * kept: missing glob parts mean "*", fields are bounded as PciAddressSpec bounds them (domain <=
 * ffff, bus <= ff, slot <= 1f, function <= 7), regexes match from the start of each field
 * (re.match), an exact PF address or a PF's devname also matches the PF's VFs
 * (WhitelistPciAddress.match()), and a remote_managed entry needs a card serial number
 * (_ensure_remote_managed_dev_vpd_serial()). Stricter than Nova: no blanks, no "0x", no empty
 * strings, no unknown keys in a regex address, and tag values must be strings or booleans. */
#include "select-internal.h"

#include <ctype.h>
#include <stdio.h>

#include "util/parse.h"

static const char *const field_names[SEL_N_FIELDS] = {"domain", "bus", "slot", "function"};
/* PciAddressSpec's limits: MAX_DOMAIN, MAX_BUS, MAX_SLOT, MAX_FUNC, and printed widths */
static const uint32_t field_max[SEL_N_FIELDS] = {0xffff, 0xff, 0x1f, 0x7};
static const size_t field_width[SEL_N_FIELDS] = {4, 2, 2, 1};

/* Keys that are almost certainly a mistake when they turn up as a tag: Nova would silently
 * turn them into tags that no request asks for, so the entry would match too much. */
static const char *const misplaced_keys[] = {
        "vendors", "devices", "drivers", "pciAddresses", "pfNames", "rootDevices", "linkTypes", "auxTypes",
};
static const struct {
    const char *key, *meant;
} misspelt_keys[] = {
        {"vendor", "vendor_id"},     {"vendorid", "vendor_id"},   {"product", "product_id"},
        {"productid", "product_id"}, {"device_id", "product_id"}, {"addr", "address"},
        {"pci_address", "address"},  {"dev_name", "devname"},     {"netdev", "devname"},
};
/* Tags with a boolean meaning; their values are normalized to "true"/"false". */
static const char *const bool_tags[] = {"remote_managed", "trusted", "managed"};

static bool is_hex_string(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s))
            return false;
    return true;
}

static int parse_id(json_t *v, const char *path, const char *key, const struct sel_ctx *c, int *ret)
{
    char repr[SEL_REPR_MAX];
    const char *s = json_string_value(v);
    if (!s)
        return sel_fail(c, "%s.%s %s: not a string; write 4 hex digits as a string, e.g. \"15b3\", or \"*\"",
                        path, key, sel_repr(v, repr, sizeof(repr)));
    if (streq(s, "*")) {
        *ret = -1;
        return 0;
    }
    uint64_t id;
    if (strlen(s) != 4 || !is_hex_string(s) || dh_parse_u64(s, 16, false, 0xffff, &id) < 0)
        return sel_fail(c,
                        "%s.%s %s: not 4 hex digits or \"*\"; write it as lspci -n prints it, e.g. \"15b3\"",
                        path, key, sel_repr(v, repr, sizeof(repr)));
    *ret = (int)id;
    return 0;
}

/* One glob field: "*", empty (also "*"), or 1..width hex digits up to the field's maximum. */
static int parse_glob_field(const char *text, size_t len, enum sel_field fld, const char *path, json_t *v,
                            const struct sel_ctx *c, int64_t *ret)
{
    char repr[SEL_REPR_MAX], part[32];
    snprintf(part, sizeof(part), "%.*s", (int)(len < 20 ? len : 20), text);
    if (len == 0 || (len == 1 && text[0] == '*')) {
        *ret = -1;
        return 0;
    }
    uint64_t x;
    if (len > field_width[fld] || !is_hex_string(part) || dh_parse_u64(part, 16, false, UINT32_MAX, &x) < 0)
        return sel_fail(c,
                        "%s.address %s: %s \"%s\" is not \"*\" or up to %zu hex digits; write e.g. "
                        "\"0000:0a:00.1\" or \"*:0a:00.*\"",
                        path, sel_repr(v, repr, sizeof(repr)), field_names[fld], part, field_width[fld]);
    if (x > field_max[fld])
        return sel_fail(c, "%s.address %s: %s \"%s\" is above the maximum %x", path,
                        sel_repr(v, repr, sizeof(repr)), field_names[fld], part, field_max[fld]);
    *ret = (int64_t)x;
    return 0;
}

/* PciAddressGlobSpec: the function is what follows the first '.', the rest splits at ':' into at
 * most three fields that fill domain, bus and slot from the right. */
static int parse_glob(json_t *v, const char *path, const struct sel_ctx *c, struct sel_spec *s)
{
    char repr[SEL_REPR_MAX];
    const char *a = json_string_value(v);
    if (!*a)
        return sel_fail(c, "%s.address \"\": empty; leave address out to match every address", path);
    for (const char *p = a; *p; p++)
        if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.' && *p != '*')
            return sel_fail(c,
                            "%s.address %s: unexpected character '%c'; an address glob is "
                            "\"[[[[domain]:]bus]:][slot][.[function]]\" with hex numbers or \"*\"",
                            path, sel_repr(v, repr, sizeof(repr)), isprint((unsigned char)*p) ? *p : '?');
    for (int i = 0; i < SEL_N_FIELDS; i++)
        s->glob[i] = -1;

    const char *dot = strchr(a, '.');
    size_t dbs_len = dot ? (size_t)(dot - a) : strlen(a);
    if (dot) {
        if (strchr(dot + 1, '.'))
            return sel_fail(c, "%s.address %s: more than one '.'; write e.g. \"0000:0a:00.1\"", path,
                            sel_repr(v, repr, sizeof(repr)));
        int r = parse_glob_field(dot + 1, strlen(dot + 1), SEL_FUNCTION, path, v, c, &s->glob[SEL_FUNCTION]);
        if (r < 0)
            return r;
    }
    /* split domain:bus:slot */
    const char *starts[3];
    size_t lens[3], n = 0;
    const char *p = a, *end = a + dbs_len;
    for (;;) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (n == 3)
            return sel_fail(c,
                            "%s.address %s: more than three ':'-separated fields before '.'; write e.g. "
                            "\"0000:0a:00.1\"",
                            path, sel_repr(v, repr, sizeof(repr)));
        starts[n] = p;
        lens[n] = colon ? (size_t)(colon - p) : (size_t)(end - p);
        n++;
        if (!colon)
            break;
        p = colon + 1;
    }
    /* the fields present are the rightmost ones: "0a:00" is bus 0a, slot 00 */
    for (size_t i = 0; i < n; i++) {
        enum sel_field fld = (enum sel_field)(SEL_SLOT - (int)(n - 1 - i));
        int r = parse_glob_field(starts[i], lens[i], fld, path, v, c, &s->glob[fld]);
        if (r < 0)
            return r;
    }
    s->addr_kind = SEL_ADDR_GLOB;
    s->exact = true;
    for (int i = 0; i < SEL_N_FIELDS; i++)
        s->exact = s->exact && s->glob[i] >= 0;
    if (s->exact)
        snprintf(s->exact_address, sizeof(s->exact_address), "%04x:%02x:%02x.%x",
                 (unsigned)s->glob[SEL_DOMAIN], (unsigned)s->glob[SEL_BUS], (unsigned)s->glob[SEL_SLOT],
                 (unsigned)s->glob[SEL_FUNCTION]);
    return 0;
}

/* PciAddressRegexSpec: one pattern per field, ".*" for a missing one. POSIX ERE stands in for
 * Python's re; the escapes Python has and POSIX lacks would silently match a letter, so refuse
 * them. */
static int parse_regex(json_t *v, const char *path, const struct sel_ctx *c, struct sel_spec *s)
{
    char repr[SEL_REPR_MAX];
    const char *key;
    json_t *pat;
    json_object_foreach (v, key, pat) {
        int fld = -1;
        for (int i = 0; i < SEL_N_FIELDS; i++)
            if (streq(key, field_names[i]))
                fld = i;
        if (fld < 0)
            return sel_fail(c,
                            "%s.address.%s: unknown key; a regex address has \"domain\", \"bus\", \"slot\" "
                            "and \"function\"",
                            path, key);
        const char *re = json_string_value(pat);
        if (!re)
            return sel_fail(c, "%s.address.%s %s: not a string; write a regular expression such as \"0[23]\"",
                            path, key, sel_repr(pat, repr, sizeof(repr)));
        if (!*re)
            return sel_fail(c, "%s.address.%s \"\": empty; leave the key out to match every %s", path, key,
                            key);
        for (const char *p = re; *p; p++) {
            if (p[0] == '\\' && p[1] && strchr("dDAZ", p[1]))
                return sel_fail(c,
                                "%s.address.%s %s: \\%c is Python regex syntax that POSIX extended regular "
                                "expressions lack; write a bracket expression such as [0-9]",
                                path, key, sel_repr(pat, repr, sizeof(repr)), p[1]);
            if (p[0] == '\\' && p[1])
                p++;
        }
        int r = regcomp(&s->regex[fld], re, REG_EXTENDED);
        if (r != 0) {
            char why[128];
            /* a failed regcomp() frees what it allocated; regfree() is only for compiled patterns */
            regerror(r, &s->regex[fld], why, sizeof(why));
            return sel_fail(c, "%s.address.%s %s: invalid regular expression: %s", path, key,
                            sel_repr(pat, repr, sizeof(repr)), why);
        }
        s->has_regex[fld] = true;
    }
    s->addr_kind = SEL_ADDR_REGEX;
    /* is_single_address(): every field is made of hex digits only; Nova then joins the fields
     * as they are written to ask sysfs whether they name a PF */
    s->exact = true;
    for (int i = 0; i < SEL_N_FIELDS; i++) {
        json_t *f = json_object_get(v, field_names[i]);
        s->exact = s->exact && f && is_hex_string(json_string_value(f));
    }
    if (s->exact) {
        int n = snprintf(s->exact_address, sizeof(s->exact_address), "%s:%s:%s.%s",
                         json_string_value(json_object_get(v, "domain")),
                         json_string_value(json_object_get(v, "bus")),
                         json_string_value(json_object_get(v, "slot")),
                         json_string_value(json_object_get(v, "function")));
        if (n < 0 || (size_t)n >= sizeof(s->exact_address))
            s->exact = false; /* too long to be an address: no PF can have it */
    }
    return 0;
}

static int parse_tag(const char *key, json_t *v, const char *path, const struct sel_ctx *c,
                     struct sel_spec *s)
{
    char repr[SEL_REPR_MAX];
    if (!*key)
        return sel_fail(c, "%s: a key is the empty string; tags need a name such as \"physical_network\"",
                        path);
    for (size_t i = 0; i < ELEMENTSOF(misplaced_keys); i++)
        if (streq(key, misplaced_keys[i]))
            return sel_fail(
                    c,
                    "%s.%s: a selectors key inside device_spec, where it would be a tag; use "
                    "vendor_id, product_id, address or devname here, or write the pool with \"selectors\"",
                    path, key);
    for (size_t i = 0; i < ELEMENTSOF(misspelt_keys); i++)
        if (streq(key, misspelt_keys[i].key))
            return sel_fail(c,
                            "%s.%s: not a device_spec key (it would become a tag that matches nothing); did "
                            "you mean \"%s\"?",
                            path, key, misspelt_keys[i].meant);

    bool is_bool_tag = false;
    for (size_t i = 0; i < ELEMENTSOF(bool_tags); i++)
        is_bool_tag = is_bool_tag || streq(key, bool_tags[i]);

    const char *value;
    bool b;
    if (json_is_boolean(v)) {
        b = json_is_true(v);
        value = b ? "true" : "false";
    } else if (json_is_string(v)) {
        value = json_string_value(v);
        if (!*value)
            return sel_fail(c, "%s.%s \"\": empty; give the tag a value or leave it out", path, key);
        if (is_bool_tag) {
            if (dh_parse_bool(value, &b) < 0)
                return sel_fail(c, "%s.%s %s: not a boolean; write true or false", path, key,
                                sel_repr(v, repr, sizeof(repr)));
            value = b ? "true" : "false";
        }
    } else
        return sel_fail(
                c, "%s.%s %s: a tag value must be a string or a boolean; write e.g. \"physnet1\" or true",
                path, key, sel_repr(v, repr, sizeof(repr)));
    if (streq(key, "remote_managed"))
        s->remote_managed = streq(value, "true");

    _cleanup_free_ char *k = strdup(key), *lower = strdup(value);
    if (!k || !lower)
        return sel_oom(c);
    /* Nova lower-cases both sides when it compares tags (utils.pci_device_prop_match()) */
    for (char *p = lower; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    struct sel_tag *tags = realloc(s->tags, (s->n_tags + 1) * sizeof(*tags));
    if (!tags)
        return sel_oom(c);
    s->tags = tags;
    s->tags[s->n_tags++] = (struct sel_tag){.key = TAKE_PTR(k), .value = TAKE_PTR(lower)};
    return 0;
}

static int parse_spec(json_t *obj, const char *path, const struct sel_ctx *c, struct sel_spec *s)
{
    char repr[SEL_REPR_MAX], repr2[SEL_REPR_MAX];
    int r;
    json_t *v;
    s->vendor_id = s->product_id = -1;
    if ((v = json_object_get(obj, "vendor_id")) && (r = parse_id(v, path, "vendor_id", c, &s->vendor_id)) < 0)
        return r;
    if ((v = json_object_get(obj, "product_id")) &&
        (r = parse_id(v, path, "product_id", c, &s->product_id)) < 0)
        return r;

    json_t *address = json_object_get(obj, "address");
    json_t *devname = json_object_get(obj, "devname");
    if (address && devname)
        return sel_fail(c, "%s: \"address\" %s and \"devname\" %s together; use one of them", path,
                        sel_repr(address, repr, sizeof(repr)), sel_repr(devname, repr2, sizeof(repr2)));
    if (address) {
        if (json_is_string(address))
            r = parse_glob(address, path, c, s);
        else if (json_is_object(address))
            r = parse_regex(address, path, c, s);
        else
            r = sel_fail(c,
                         "%s.address %s: neither a glob string nor a regex object; write \"0000:0a:00.*\" or "
                         "{\"bus\": \"0a\", \"function\": \"[0-3]\"}",
                         path, sel_repr(address, repr, sizeof(repr)));
        if (r < 0)
            return r;
    }
    if (devname) {
        const char *name = json_string_value(devname);
        if (!name || !sel_ifname_is_valid(name))
            return sel_fail(c,
                            "%s.devname %s: not an interface name (1-15 characters, no '/', ':' or blanks); "
                            "write e.g. \"ens1f0np0\"",
                            path, sel_repr(devname, repr, sizeof(repr)));
        if (!(s->devname = strdup(name)))
            return sel_oom(c);
        s->addr_kind = SEL_ADDR_DEVNAME;
    }

    const char *key;
    json_object_foreach (obj, key, v) {
        if (streq(key, "vendor_id") || streq(key, "product_id") || streq(key, "address") ||
            streq(key, "devname"))
            continue;
        if ((r = parse_tag(key, v, path, c, s)) < 0)
            return r;
    }
    return 0;
}

int sel_spec_parse(json_t *obj, const char *path, const struct sel_ctx *c, struct sel_spec *ret)
{
    memset(ret, 0, sizeof(*ret));
    int r = parse_spec(obj, path, c, ret);
    if (r < 0)
        sel_spec_clear(ret);
    return r;
}

void sel_spec_clear(struct sel_spec *s)
{
    for (int i = 0; i < SEL_N_FIELDS; i++)
        if (s->has_regex[i])
            regfree(&s->regex[i]);
    free(s->devname);
    for (size_t i = 0; i < s->n_tags; i++) {
        free(s->tags[i].key);
        free(s->tags[i].value);
    }
    free(s->tags);
    memset(s, 0, sizeof(*s));
}

/* re.match(): a match that starts at the first character; it may end anywhere. POSIX regexec()
 * reports the leftmost match, so one that starts at 0 exists exactly when the leftmost does. */
static bool regex_match_start(const regex_t *re, const char *s)
{
    regmatch_t m;
    return regexec(re, s, 1, &m, 0) == 0 && m.rm_so == 0;
}

static bool address_match(const struct sel_spec *s, const struct dh_pci_addr *a)
{
    uint32_t v[SEL_N_FIELDS] = {a->domain, a->bus, a->slot, a->function};
    switch (s->addr_kind) {
    case SEL_ADDR_ANY:
        return true;
    case SEL_ADDR_GLOB:
        for (int i = 0; i < SEL_N_FIELDS; i++)
            if (s->glob[i] >= 0 && (uint32_t)s->glob[i] != v[i])
                return false;
        return true;
    case SEL_ADDR_REGEX:
        for (int i = 0; i < SEL_N_FIELDS; i++) {
            /* the fields as libvirt prints them and Nova splits them: "0000", "03", "00", "2" */
            static const char *const fmt[SEL_N_FIELDS] = {"%04x", "%02x", "%02x", "%x"};
            char text[16];
            snprintf(text, sizeof(text), fmt[i], v[i]);
            if (s->has_regex[i] && !regex_match_start(&s->regex[i], text))
                return false;
        }
        return true;
    case SEL_ADDR_DEVNAME:
        break;
    }
    return false;
}

bool sel_spec_match(const struct sel_spec *s, const struct dh_func *f, const struct dh_inventory *inv)
{
    /* Nova tracks PCI devices only: an SF has no PCI address, ids or class of its own */
    if (f->kind == DH_FUNC_SF)
        return false;
    if (s->vendor_id >= 0 && f->vendor_id != s->vendor_id)
        return false;
    if (s->product_id >= 0 && f->device_id != s->product_id)
        return false;
    /* remote_managed does not filter here, unlike Nova's whitelist, which silently leaves out PFs and
     * devices without a card serial: they stay in the pool, and the pool layer reports them as
     * unavailable with the reason, so that a failed claim can say why (lib/pool). */

    if (s->addr_kind == SEL_ADDR_DEVNAME) {
        /* get_function_by_ifname(): the devname's device; if that is a PF, its VFs too */
        const struct dh_func *owner = sel_netdev_owner(inv, s->devname);
        if (!owner || owner->kind == DH_FUNC_SF)
            return false;
        if (streq(owner->address, f->address))
            return true;
        return sel_is_sriov_pf(owner) && f->kind == DH_FUNC_VF && streq_ptr(f->pf, owner->address);
    }
    if (address_match(s, &f->bdf))
        return true;
    /* WhitelistPciAddress.match(): an exact address that names a PF also matches through a VF's
     * parent address */
    if (s->exact && f->kind == DH_FUNC_VF && f->pf) {
        struct dh_pci_addr parent;
        if (!sel_is_sriov_pf(dh_inventory_find(inv, s->exact_address)) ||
            dh_pci_addr_parse(f->pf, &parent) < 0)
            return false;
        return address_match(s, &parent);
    }
    return false;
}

const char *sel_spec_tag(const struct sel_spec *s, const char *tag)
{
    for (size_t i = 0; i < s->n_tags; i++)
        if (streq(s->tags[i].key, tag))
            return s->tags[i].value;
    return NULL;
}

int sel_spec_check_host(const struct sel_spec *s, const char *path, const struct dh_inventory *inv,
                        const struct sel_ctx *c)
{
    if (!s->remote_managed)
        return 0;
    const struct dh_func *pf = NULL;
    if (s->addr_kind == SEL_ADDR_DEVNAME) {
        const struct dh_func *owner = sel_netdev_owner(inv, s->devname);
        if (!owner || owner->kind == DH_FUNC_SF)
            return sel_fail(c,
                            "%s.devname \"%s\": no PCI function on this host has that interface, and a "
                            "remote_managed entry needs it to exist; fix the name or use an address",
                            path, s->devname);
        pf = owner;
    } else if (s->exact)
        pf = dh_inventory_find(inv, s->exact_address);
    if (!sel_is_sriov_pf(pf))
        return 0;

    /* PciDeviceSpec._init_dev_details(): an entry naming a PF must carry the VFs' product id */
    bool vendor_ok = s->vendor_id < 0 || s->vendor_id == pf->vendor_id;
    if (vendor_ok && s->product_id >= 0 && s->product_id == pf->sriov.vf_device_id)
        return 0;
    if (vendor_ok && (s->product_id < 0 || s->product_id == pf->device_id))
        return sel_fail(c,
                        "%s: remote_managed names PF %s, and a PF cannot be remote-managed; to hand out its "
                        "VFs add \"product_id\": \"%04x\"",
                        path, pf->address, pf->sriov.vf_device_id < 0 ? 0 : (unsigned)pf->sriov.vf_device_id);
    return sel_fail(
            c,
            "%s: remote_managed names PF %s, but vendor_id/product_id are not its VFs' ids %04x:%04x; "
            "fix them",
            path, pf->address, (unsigned)pf->vendor_id, (unsigned)pf->sriov.vf_device_id);
}
