/* VMs with passed-through functions: the VM spec (parsed and validated before anything starts), the
 * QEMU command line (a pure function, tested against golden files), and the VM manager (create,
 * start, stop, reset, delete; hot-plug and hot-unplug over QMP; supervision and restart recovery).
 * See docs/vms.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include <dpuhost/config.h>
#include <dpuhost/error.h>
#include <dpuhost/host.h>
#include <dpuhost/jsonw.h>
#include <dpuhost/pool.h>
#include <dpuhost/store.h>

#define DH_VM_MAX_DEVICES 16
#define DH_VM_MAX_ENV 32

enum dh_vm_accel {
    DH_VM_ACCEL_AUTO, /* KVM when /dev/kvm answers, else TCG */
    DH_VM_ACCEL_KVM,
    DH_VM_ACCEL_TCG,
};

struct dh_vm_device_spec {
    char *address; /* one function, or NULL with pool */
    char *pool;    /* a function from this pool, or NULL with address */
    bool boot;     /* boot from it (an NVMe VF with a bootable namespace) */
};

struct dh_vm_spec {
    char *name; /* [A-Za-z0-9_.-]{1,48} */
    int vcpus;
    int memory_mib;
    enum dh_vm_accel accel;
    /* boot source: kernel (+initrd, cmdline), or a disk image, or a device with boot, or none
     * (firmware only) */
    char *kernel, *initrd, *cmdline;
    char *disk, *disk_format;
    struct dh_vm_device_spec devices[DH_VM_MAX_DEVICES];
    size_t n_devices;
    char *env_keys[DH_VM_MAX_ENV], *env_values[DH_VM_MAX_ENV];
    size_t n_env;
    char *console_log; /* NULL: <state_dir>/vms/<id>/console.log */
    int hotplug_slots; /* spare root ports for hot-plug */
};

/* Parses and validates a spec document. Pure. -EINVAL with a message naming the field. */
int dh_vm_spec_parse(json_t *doc, struct dh_vm_spec *ret, struct dh_error *err);
void dh_vm_spec_clear(struct dh_vm_spec *spec);

/* What the command line needs beyond the spec: where each device and port goes. */
struct dh_vm_launch_device {
    const char *address;
    const char *dev_id; /* "dev0" */
    const char *port;   /* "rp1" */
    bool boot;
};

struct dh_vm_launch {
    const struct dh_vm_spec *spec;
    const char *qemu_binary;
    bool kvm;             /* the accelerator chosen */
    const char *qmp_path; /* Unix socket */
    const char *console_path;
    const struct dh_vm_launch_device *devices;
    size_t n_devices;
    int n_ports; /* pcie-root-ports rp1..rpN (devices, the boot disk, spares) */
};

/* Renders QEMU's argv (NULL-terminated; free with dh_vm_argv_free()). Pure. -EINVAL when a path
 * or value cannot be expressed on QEMU's command line. */
int dh_vm_render_argv(const struct dh_vm_launch *launch, char ***ret, struct dh_error *err);
void dh_vm_argv_free(char **argv);

/* ---- the manager ---- */

struct dh_vms;

struct dh_vms_options {
    struct dh_host *host;
    struct dh_store *store;
    const struct dh_config *config;
    struct dh_pools *pools;
    const char *qemu_binary;    /* default "qemu-system-x86_64" */
    const char *vm_dir;         /* default <state_dir>/vms: per-VM QMP socket, console, QEMU log */
    int start_timeout_ms;       /* QEMU up and QMP answering: default 30000 */
    int stop_timeout_ms;        /* ACPI power-down before quit: default 30000 */
    int unplug_timeout_ms;      /* waiting for DEVICE_DELETED: default 5000 */
    dh_pools_event_fn on_event; /* "vm_state", "vm_device" events */
    void *event_userdata;
};

int dh_vms_new(const struct dh_vms_options *opts, struct dh_vms **ret, struct dh_error *err);
/* Stops supervising (QEMUs keep running: dpuhostd may restart and re-attach). */
void dh_vms_free(struct dh_vms *vms);

/* On start, after the pools' recovery: running VMs are re-attached through their QMP sockets,
 * VMs whose QEMU died meanwhile are marked crashed and their functions released, claims of VMs
 * that no longer exist are released. Writes one line per action into log. */
int dh_vms_recover(struct dh_vms *vms, char *log, size_t log_size, struct dh_error *err);

/* Creates a VM from a spec (validated: devices exist, are in a pool and free; boot sources
 * exist), and starts it unless start is false. *ret_json: the VM. */
int dh_vms_create(struct dh_vms *vms, json_t *spec, bool start, char **ret_json, struct dh_error *err);
/* Claims and binds the devices, starts QEMU paused, checks every device is realized, then runs. */
int dh_vms_start(struct dh_vms *vms, const char *id, char **ret_json, struct dh_error *err);
/* ACPI power-down, then quit after stop_timeout_ms, then SIGKILL (force: straight to quit). The
 * functions go back to the host only once QEMU is gone. */
int dh_vms_stop(struct dh_vms *vms, const char *id, bool force, char **ret_json, struct dh_error *err);
int dh_vms_reset(struct dh_vms *vms, const char *id, char **ret_json, struct dh_error *err);
/* Stops (forced) when running, then forgets the VM. */
int dh_vms_delete(struct dh_vms *vms, const char *id, struct dh_error *err);
/* Hot-plugs a function ({"address"} or {"pool"}) into a free spare root port; returns the device. */
int dh_vms_attach(struct dh_vms *vms, const char *id, json_t *device, char **ret_json, struct dh_error *err);
/* Hot-unplugs a device. *ret_pending true: the guest did not acknowledge in time; the device stays
 * the VM's ("unplug_pending") until DEVICE_DELETED arrives or the VM resets or stops. */
int dh_vms_detach(struct dh_vms *vms, const char *id, const char *dev_id, bool *ret_pending, char **ret_json,
                  struct dh_error *err);

/* {"vms":[...]} and one VM (by id or name); -ENOENT when unknown. */
void dh_vms_write_list(struct dh_vms *vms, struct dh_jsonw *w);
int dh_vms_write(struct dh_vms *vms, struct dh_jsonw *w, const char *id);
