/* A builder for fake host trees: a temp directory holding sys/, dev/, proc/ and run/ laid out the
 * way Linux lays them out (relative symlinks included), so that the code under test runs on it
 * unchanged through struct dh_host. Every builder call aborts the test on failure: a broken fixture
 * must never look like a passing test. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fake_tree;

/* Creates an empty tree (sys/bus/pci/{devices,drivers}, sys/kernel/iommu_groups, sys/class/{net,
 * nvme}, sys/bus/auxiliary/{devices,drivers}, dev, proc, run) in a new temp dir. */
struct fake_tree *fake_tree_new(void);
/* Removes the tree from disk and frees it. Accepts NULL. */
void fake_tree_free(struct fake_tree *t);
const char *fake_tree_root(const struct fake_tree *t);

/* Root-relative path of a PCI function's real directory (sys/devices/pciDDDD:BB/<bdf>). */
const char *fake_pci_dir(struct fake_tree *t, const char *bdf);

/* Adds a PCI function with its ids, class, a 256-byte config space (header type 0), a uevent file,
 * driver_override "(null)", numa_node -1, and the sys/bus/pci/devices link. uevent is rewritten by
 * the builder calls that change what it says (subsystem, bind, unbind); after writing id
 * attributes by hand, call fake_pci_sync_uevent() or remove uevent. */
void fake_pci_add(struct fake_tree *t, const char *bdf, uint16_t vendor, uint16_t device,
                  uint32_t class_code);
void fake_pci_set_subsystem(struct fake_tree *t, const char *bdf, uint16_t vendor, uint16_t device);
void fake_pci_sync_uevent(struct fake_tree *t, const char *bdf);

/* Writes (creating) an attribute file in the function's directory; value is written verbatim. */
void fake_pci_write(struct fake_tree *t, const char *bdf, const char *attr, const char *value);
void fake_pci_write_bytes(struct fake_tree *t, const char *bdf, const char *attr, const void *data,
                          size_t size);
void fake_pci_remove_attr(struct fake_tree *t, const char *bdf, const char *attr);

/* Binds the function to driver: sys/bus/pci/drivers/<driver>/{bind,unbind,new_id,remove_id},
 * the driver's <bdf> link and the function's driver link. */
void fake_pci_bind(struct fake_tree *t, const char *bdf, const char *driver);
void fake_pci_unbind(struct fake_tree *t, const char *bdf);
/* Creates an empty PCI driver directory (a driver that is loaded but bound to nothing). */
void fake_pci_driver(struct fake_tree *t, const char *driver);

/* Puts the function into IOMMU group n (creating sys/kernel/iommu_groups/n). */
void fake_pci_iommu_group(struct fake_tree *t, const char *bdf, int group);

/* Makes bdf an SR-IOV PF: sriov_totalvfs, sriov_numvfs 0, sriov_vf_device, offset, stride,
 * sriov_drivers_autoprobe 1. */
void fake_pci_sriov(struct fake_tree *t, const char *pf, unsigned total_vfs, uint16_t vf_device,
                    unsigned offset, unsigned stride);
/* Adds VF vf_index of pf at vf_bdf (ids from the PF's vendor and sriov_vf_device), with the
 * virtfn<N> and physfn links, and sets sriov_numvfs to the number of VFs. */
void fake_pci_add_vf(struct fake_tree *t, const char *pf, unsigned vf_index, const char *vf_bdf);

/* Adds an auxiliary sub-function <name> (e.g. "mlx5_core.sf.4") as a child of pf with sfnum. */
void fake_aux_add_sf(struct fake_tree *t, const char *pf, const char *name, unsigned sfnum);
void fake_aux_bind(struct fake_tree *t, const char *name, const char *driver);

/* Adds a netdev to a device directory (root-relative, e.g. fake_pci_dir()); mac and operstate may
 * be NULL to leave the file out. */
void fake_netdev_add(struct fake_tree *t, const char *devdir, const char *ifname, const char *mac,
                     const char *operstate);
/* Gives the netdev switchdev port attributes (either may be NULL to leave it out). */
void fake_netdev_set_port(struct fake_tree *t, const char *ifname, const char *phys_port_name,
                          const char *phys_switch_id);

/* Adds an NVMe controller <ctrl> (e.g. "nvme0") under the function, with namespace directories. */
void fake_nvme_add(struct fake_tree *t, const char *bdf, const char *ctrl, const char *const *namespaces);

/* Writes a file anywhere in the tree (root-relative path), creating parent directories. */
void fake_write(struct fake_tree *t, const char *relpath, const void *data, size_t size);
void fake_write_str(struct fake_tree *t, const char *relpath, const char *s);
void fake_mkdir(struct fake_tree *t, const char *relpath);
/* Creates a symlink at relpath pointing at target (a root-relative path), written relative as the
 * kernel does. target need not exist (dangling links). */
void fake_symlink(struct fake_tree *t, const char *relpath, const char *target);
void fake_remove(struct fake_tree *t, const char *relpath); /* rm -rf */
