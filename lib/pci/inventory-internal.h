/* Shared between the inventory's reader files; not exported. */
#pragma once

#include <dpuhost/inventory.h>

/* Fills every function's iommu_group_peers (sorted by address) from the group numbers. */
int inv_fill_iommu_peers(struct dh_inventory *inv);

/* What a PCI device's uevent file says; ids -1 when absent. driver points into the parsed buffer. */
struct inv_pci_uevent {
    int vendor_id, device_id, subsystem_vendor_id, subsystem_device_id;
    int32_t class_code;
    const char *driver;
};
/* Parses the KEY=VALUE lines of a PCI uevent (modifies buf). Pure. -EINVAL unless PCI_ID and
 * PCI_CLASS are present and every known key is well-formed. */
int inv_parse_pci_uevent(char *buf, struct inv_pci_uevent *ret);

/* Reads the attributes of the PCI function whose directory is devfd. */
int inv_read_pci_function(int devfd, const char *bdf, struct dh_func *f);
/* Reads every netdev of sys/class/net into the function that owns it. */
int inv_attach_netdevs(int rootfd, struct dh_inventory *inv);
/* Reads <dev>/nvme/nvmeX and its namespaces into f. */
int inv_read_nvme(int devfd, struct dh_func *f);
/* Reads and parses <dev>/vpd into f->vpd, or sets f->vpd_error. */
int inv_read_vpd(int devfd, struct dh_func *f);
/* Appends the auxiliary sub-functions found under <root>/sys/bus/auxiliary/devices. */
int inv_scan_sfs(int rootfd, struct dh_func **funcs, size_t *n, size_t *cap);
/* Sets card/card_source from own or PF VPD; needs funcs sorted for lookup. */
void inv_assign_cards(struct dh_inventory *inv);

/* Frees what f owns (not f itself). */
void inv_func_clear(struct dh_func *f);
/* Appends a zeroed, "all unknown" function to a growable array; returns it or NULL. */
struct dh_func *inv_func_append(struct dh_func **funcs, size_t *n, size_t *cap);

/* Numeric attribute helpers: -1 (or def) when missing or garbage. */
int inv_read_hex_attr(int dirfd, const char *name, uint64_t max);
int inv_read_dec_attr(int dirfd, const char *name, int64_t min, int64_t max, int def);
