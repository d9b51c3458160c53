/* Pool selectors: which functions of the inventory a pool may hand out. A pool's configuration
 * carries either a Nova-style "device_spec" (one object or a list of objects, any of which may
 * match; keys other than vendor_id, product_id, address and devname are tags such as
 * physical_network or remote_managed) or SR-IOV-device-plugin-style "selectors" (one object or a
 * list, keys ANDed within an object, list entries ORed within a key). dh_select_parse() validates
 * the whole fragment up front and compiles it; a compiled selector is immutable, so matching is
 * safe from several threads at once. A function belongs to the first pool that selects it
 * (dh_select_assign()). docs/selectors.md gives the exact semantics and every deviation from Nova
 * and from the plugin. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include <dpuhost/error.h>
#include <dpuhost/inventory.h>

struct dh_selector;

enum dh_select_form {
    DH_SELECT_DEVICE_SPEC, /* Nova [pci]device_spec */
    DH_SELECT_SELECTORS,   /* sriov-network-device-plugin "selectors" */
};

/* Compiles the "device_spec" or the "selectors" member of pool (a pool's JSON object; its other
 * members belong to the pool layer and are ignored). Exactly one of the two must be present.
 * pool_name (may be NULL) only prefixes error messages. Returns 0 and a selector the caller frees
 * with dh_select_free(), or -EINVAL with a message naming the offending key and value and saying
 * what to write instead, or -ENOMEM. pool is only read. */
int dh_select_parse(json_t *pool, const char *pool_name, struct dh_selector **ret, struct dh_error *err);

/* Accepts NULL. */
void dh_select_free(struct dh_selector *s);

/* Which form s was written in (s must not be NULL): the pool layer applies Nova's PF/VF claim rules
 * to device_spec pools. */
enum dh_select_form dh_select_get_form(const struct dh_selector *s);

/* The index of the first entry (device_spec object or selectors object) that selects f, or -1.
 * inv is the inventory f belongs to: it resolves a VF's or SF's PF (pfNames, rootDevices, the
 * exact-PF-address rule) and the owner of a devname. Pure: reads s, f and inv only. */
int dh_select_match_index(const struct dh_selector *s, const struct dh_func *f,
                          const struct dh_inventory *inv);

/* dh_select_match_index() >= 0. */
bool dh_select_match(const struct dh_selector *s, const struct dh_func *f, const struct dh_inventory *inv);

/* The value of a device_spec tag ("physical_network", "remote_managed", "trusted", ...) in the first
 * entry that selects f, lower-cased as Nova compares it; booleans (JSON true/false, and the values
 * of remote_managed, trusted and managed) read "true" or "false". NULL when no entry selects f,
 * when that entry lacks the tag (remote_managed then means false), and always for the selectors
 * form, which has no per-entry tags: pool-wide attributes belong to the pool's own configuration.
 * The string is owned by s and lives as long as s. */
const char *dh_select_tag(const struct dh_selector *s, const struct dh_func *f,
                          const struct dh_inventory *inv, const char *tag);

/* The checks Nova makes against the host when it loads a remote_managed device_spec: its devname
 * must exist, and an exact PF address or PF devname must come with the VFs' product_id (a PF
 * itself cannot be remote-managed). Returns 0, or -EINVAL with a message naming the entry. Always
 * 0 for the selectors form. */
int dh_select_check_host(const struct dh_selector *s, const struct dh_inventory *inv, struct dh_error *err);

/* A function belongs to the first pool that selects it. Fills ret_pool_of_func[i] (an array of
 * inv->n_funcs) with the index of the pool that gets inv->funcs[i], or n_pools when none does.
 * Returns the number of functions assigned to a pool, or -EINVAL on a NULL argument (pools may be
 * NULL only when n_pools is 0). */
int dh_select_assign(struct dh_selector *const *pools, size_t n_pools, const struct dh_inventory *inv,
                     size_t *ret_pool_of_func);
