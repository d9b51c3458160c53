/* Shared by the VM manager's files; not exported. */
#pragma once

#include <limits.h>
#include <pthread.h>
#include <sys/types.h>

#include <dpuhost/qmp.h>
#include <dpuhost/vm.h>

/* Unix socket paths are at most 107 bytes (sun_path). */
#define VM_PATH_MAX 108

struct vm {
    int refs;                /* the list's reference and those of operations in progress (vms->lock) */
    bool removed;            /* deleted: no longer in the list */
    struct dh_vm_record rec; /* state, reason, accel, pid, devices: guarded by vms->lock */
    struct dh_vm_spec spec;
    char dir[PATH_MAX];
    char qmp_path[VM_PATH_MAX];
    char console_path[PATH_MAX];
    char log_path[PATH_MAX];
    int n_ports; /* pcie-root-ports rp1..rpN of the running QEMU */

    pthread_mutex_t op_lock;  /* one lifecycle operation at a time on this VM */
    pthread_mutex_t qmp_lock; /* one QMP exchange at a time */
    struct dh_qmp *qmp;       /* while QEMU runs; NULL when unreachable */
    int pidfd;                /* while QEMU runs */
    bool our_child;           /* we forked it (so we reap it) */
    bool stop_requested;      /* an exit is expected */
    bool guest_shutdown;      /* QEMU reported SHUTDOWN from the guest */
    int exit_status;          /* waitpid status, -1 when not ours */
    int completing;           /* unplugs between leaving rec.devices and their function given back
                               * (vms->lock; vms->cond is broadcast when one finishes) */

    pthread_t monitor;
    bool monitor_running; /* a monitor thread was started and not yet joined */
    int monitor_stop[2];  /* a pipe: written to stop the monitor */
};

struct dh_vms {
    struct dh_host *host;
    struct dh_store *store;
    const struct dh_config *cfg;
    struct dh_pools *pools;
    char *qemu_binary;
    char *vm_dir;
    int start_timeout_ms, stop_timeout_ms, unplug_timeout_ms;
    dh_pools_event_fn on_event;
    void *event_userdata;

    pthread_mutex_t lock; /* the list and every vm->rec */
    pthread_cond_t cond;  /* a VM's state changed */
    struct vm **vms;
    size_t n_vms;
};

/* vms.c */
struct vm *vms_find(struct dh_vms *vms, const char *id_or_name); /* with vms->lock held */
/* A reference to the VM with this id or name (NULL when unknown); drop it with vms_put(). */
struct vm *vms_get(struct dh_vms *vms, const char *id_or_name);
void vms_put(struct dh_vms *vms, struct vm *vm);
/* Sets state and reason, durably, and emits a vm_state event. Takes vms->lock. */
int vms_set_state(struct dh_vms *vms, struct vm *vm, const char *state, const char *reason);
int vms_save_devices(struct dh_vms *vms, struct vm *vm);
void vms_emit_device(struct dh_vms *vms, struct vm *vm, const struct dh_vm_device_record *d,
                     const char *state);
void vms_write_vm(struct dh_vms *vms, struct dh_jsonw *w, struct vm *vm);
char *vms_vm_json(struct dh_vms *vms, struct vm *vm);
struct vm *vm_new(struct dh_vms *vms, const char *id, struct dh_error *err);
void vm_free(struct vm *vm);
/* The owner name of a VM's claims. */
void vms_owner(const struct vm *vm, char buf[80]);

/* process.c */
int64_t proc_start_time(struct dh_host *host, pid_t pid); /* -1 when the process is gone */
bool kvm_usable(struct dh_host *host);
int vm_spawn(struct dh_vms *vms, struct vm *vm, char **argv, struct dh_error *err);
/* The last lines of QEMU's log (for error messages); never NULL. */
char *vm_log_tail(struct vm *vm);
int pidfd_open_pid(pid_t pid);

/* claims of devices (devices.c) */
/* Claims the function for device dev (pool or address) and returns its address and claim id. */
int vm_claim_device(struct dh_vms *vms, struct vm *vm, const char *dev_id, const char *pool,
                    const char *address, struct dh_vm_device_record *ret, struct dh_error *err);
/* Releases every device claim of the VM (QEMU must be gone) and forgets the devices. */
void vm_release_devices(struct dh_vms *vms, struct vm *vm);
/* Releases one device (QEMU no longer has it) and removes it. vms->lock not held. */
void vm_complete_unplug(struct dh_vms *vms, struct vm *vm, const char *dev_id);

/* monitor.c */
int vm_monitor_start(struct dh_vms *vms, struct vm *vm);
void vm_monitor_stop(struct vm *vm);
/* Waits until the VM's state is one of "stopped" or "crashed", at most timeout_ms (vms->lock not
 * held). Returns true when it is. */
bool vm_wait_down(struct dh_vms *vms, struct vm *vm, int timeout_ms);
/* Completes the unplugs of the devices QEMU has said DEVICE_DELETED for, also when a command's
 * exchange read the event (the monitor would see it only at its next wake-up). */
void vm_complete_deleted_devices(struct dh_vms *vms, struct vm *vm);
