/* A kernel simulator for fake trees: installed as a struct dh_host's ops, it applies writes to
 * driver_override, <driver>/unbind, <driver>/bind, drivers_probe, sriov_numvfs and
 * sriov_drivers_autoprobe, and module loads, to the fake tree the way Linux does
 * (drivers/pci/pci-driver.c, pci-sysfs.c, iov.c, drivers/base/bus.c), so that binding code is
 * tested against the kernel's rules and not against our own idea of them. Thread-safe. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <dpuhost/host.h>

#include "fake_sysfs.h"

struct fake_kernel;

struct fake_kernel *fake_kernel_new(struct fake_tree *t);
void fake_kernel_free(struct fake_kernel *k);
/* Installs the simulator as host's ops (the host must be opened on the same tree). */
void fake_kernel_attach(struct fake_kernel *k, struct dh_host *host);

/* A PCI driver the kernel knows. It matches (vendor, device) (0xffff = any; vfio-pci and pci-stub
 * have no ids and match only by driver_override). module: the module that registers it (NULL:
 * built in, always registered); loaded: whether that module is loaded now. Registration order is
 * match order. sriov: the driver implements sriov_configure. driver_managed_dma: may share an
 * IOMMU group with a device assigned to userspace (vfio-pci, pci-stub, pcieport). */
void fake_kernel_add_driver(struct fake_kernel *k, const char *name, uint16_t vendor, uint16_t device,
                            const char *module, bool loaded, bool sriov);
/* Registers the usual set: vfio-pci (module vfio-pci, not loaded), pci-stub (built in), pcieport,
 * nvme (1b36:0010, 8086:any class nvme... by id), mlx5_core (15b3:any, sriov), e1000e (8086:10d3),
 * igb (8086:10c9, sriov), igbvf (8086:10ca). Modules vfio, vfio_iommu_type1 exist, not loaded. */
void fake_kernel_add_default_drivers(struct fake_kernel *k);
/* Moves driver to the front of the match order (as if it had registered first). */
void fake_kernel_prefer(struct fake_kernel *k, const char *driver);
/* Makes a module unavailable (modprobe fails with ENOENT). */
void fake_kernel_remove_module(struct fake_kernel *k, const char *module);

/* The next probe of driver on bdf fails with error (the device stays unbound). */
void fake_kernel_fail_probe(struct fake_kernel *k, const char *bdf, const char *driver, int error);
/* The next write to a path ending in suffix fails with error (e.g. "sriov_numvfs", -EIO). */
void fake_kernel_fail_write(struct fake_kernel *k, const char *suffix, int error);
/* Writes to sriov_numvfs take this long (the kernel's can block for minutes). */
void fake_kernel_set_numvfs_delay_ms(struct fake_kernel *k, int ms);

/* A process (pid, comm) holds /dev/vfio/<group> open: proc/<pid>/fd/<n> links to it. */
void fake_kernel_hold_group(struct fake_kernel *k, int pid, const char *comm, int group);
void fake_kernel_release_holder(struct fake_kernel *k, int pid);

/* Every write, in order, as "path=value" (value without trailing newline). Owned by k. */
const char *const *fake_kernel_writes(struct fake_kernel *k, size_t *ret_n);
bool fake_kernel_wrote(struct fake_kernel *k, const char *path_suffix, const char *value);
/* Operations the real kernel would have blocked on or refused silently but a careful caller must
 * never attempt: unbinding a vfio device whose group is held, writing new_id. */
int fake_kernel_violations(struct fake_kernel *k);
