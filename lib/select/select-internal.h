/* Shared between the select module's files; not exported. A compiled selector is a list of
 * entries of one form: struct sel_spec (Nova device_spec) or struct sel_dp (device plugin
 * selectors). Both are plain data after parsing; matching never writes to them. */
#pragma once

#include <dpuhost/select.h>

#include <regex.h>
#include <stdint.h>

#include "util/macro.h"

/* Where parse errors go: every message starts with "select: [pool "<name>": ]". */
struct sel_ctx {
    const char *pool_name; /* may be NULL */
    struct dh_error *err;
};

/* Sets err to -EINVAL with the context prefix and returns -EINVAL. */
int sel_fail(const struct sel_ctx *c, const char *fmt, ...) _printf_(2, 3);
/* -ENOMEM with a message. */
int sel_oom(const struct sel_ctx *c);

/* A JSON value for a message: compact JSON (strings quoted and escaped), cut at about 80
 * characters. Returns buf. */
const char *sel_repr(const json_t *v, char *buf, size_t size);
#define SEL_REPR_MAX 96

/* True for a usable interface name: 1-15 bytes (IFNAMSIZ - 1), none of '/', ':' or blanks, not "."
 * or "..", as the kernel's dev_valid_name() requires; so a typo cannot hide in an unmatchable name. */
bool sel_ifname_is_valid(const char *s);

/* The function that owns the netdev called name, or NULL. */
const struct dh_func *sel_netdev_owner(const struct dh_inventory *inv, const char *name);

/* A PF in the sense Nova's is_physical_function() uses: sriov_totalvfs > 0. */
bool sel_is_sriov_pf(const struct dh_func *f);

/* --- Nova device_spec --- */

enum sel_addr_kind {
    SEL_ADDR_ANY,  /* no address and no devname: Nova's "*:*:*.*" */
    SEL_ADDR_GLOB, /* "[[[[dom]:]bus]:][slot][.[func]]" */
    SEL_ADDR_REGEX,
    SEL_ADDR_DEVNAME,
};

enum sel_field {
    SEL_DOMAIN,
    SEL_BUS,
    SEL_SLOT,
    SEL_FUNCTION,
    SEL_N_FIELDS,
};

struct sel_tag {
    char *key;
    char *value; /* lower-cased */
};

struct sel_spec {
    int vendor_id, product_id; /* -1 for "*" */
    enum sel_addr_kind addr_kind;
    /* glob: one value per field, -1 for "*" */
    int64_t glob[SEL_N_FIELDS];
    /* regex: a compiled pattern per field present (absent fields are Nova's ".*") */
    regex_t regex[SEL_N_FIELDS];
    bool has_regex[SEL_N_FIELDS];
    /* Nova's is_single_address(): every field is a plain hex number. exact_address is then the
     * address those numbers name (for a regex, the literal fields joined as Nova joins them), looked
     * up in the inventory at match time to decide whether the exact-PF rule applies. */
    bool exact;
    char exact_address[64];
    char *devname;
    bool remote_managed;
    struct sel_tag *tags;
    size_t n_tags;
};

int sel_spec_parse(json_t *obj, const char *path, const struct sel_ctx *c, struct sel_spec *ret);
void sel_spec_clear(struct sel_spec *s);
bool sel_spec_match(const struct sel_spec *s, const struct dh_func *f, const struct dh_inventory *inv);
const char *sel_spec_tag(const struct sel_spec *s, const char *tag);
int sel_spec_check_host(const struct sel_spec *s, const char *path, const struct dh_inventory *inv,
                        const struct sel_ctx *c);

/* --- sriov-network-device-plugin selectors --- */

struct sel_range {
    uint32_t lo, hi;
};

/* A pfNames or rootDevices entry: a name or an address, and optional "#" ranges (none: all). */
struct sel_target {
    char *name;              /* pfNames */
    struct dh_pci_addr addr; /* rootDevices */
    struct sel_range *ranges;
    size_t n_ranges;
};

enum {
    SEL_LINK_ETHER = 1 << 0,
    SEL_LINK_INFINIBAND = 1 << 1,
};

enum {
    SEL_AUX_SF = 1 << 0,
};

struct sel_dp {
    uint16_t *vendors, *devices;
    size_t n_vendors, n_devices;
    char **drivers;
    size_t n_drivers;
    struct dh_pci_addr *pci_addresses;
    size_t n_pci_addresses;
    struct sel_target *pf_names, *root_devices;
    size_t n_pf_names, n_root_devices;
    unsigned link_types; /* SEL_LINK_* mask; 0: key absent */
    unsigned aux_types;  /* SEL_AUX_* mask; 0: key absent, so PCI functions only */
};

int sel_dp_parse(json_t *obj, const char *path, const struct sel_ctx *c, struct sel_dp *ret);
void sel_dp_clear(struct sel_dp *d);
bool sel_dp_match(const struct sel_dp *d, const struct dh_func *f, const struct dh_inventory *inv);

/* Parses the part after '#' of a pfNames or rootDevices entry: "0,2-7", 0-based indexes up to
 * 65535. Returns 0, -EINVAL with a reason in *ret_why, or -ENOMEM. */
int sel_ranges_parse(const char *s, struct sel_range **ret, size_t *ret_n, const char **ret_why);
