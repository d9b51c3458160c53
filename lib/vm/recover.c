/* dpuhostd restarted: its VMs' QEMUs kept running (own session). Each VM recorded as running is
 * found again by pid and start time; a live one is re-attached through its QMP socket (a pending
 * unplug that completed meanwhile is finished); one whose QEMU is gone is marked crashed and its
 * functions released. A start interrupted by the restart (QEMU still paused) is undone. Claims of
 * VMs that no longer exist are released. */
#include "vm-internal.h"

#include <poll.h>
#include <signal.h>
#include <stdarg.h>

#include "util/macro.h"
#include "util/strv.h"

static void note(char *log, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(char *log, size_t size, const char *fmt, ...)
{
    if (!log || !size)
        return;
    size_t used = strlen(log);
    if (used + 2 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(log + used, size - used - 1, fmt, ap);
    va_end(ap);
    strcat(log, "\n");
}

static void reattach(struct dh_vms *vms, struct vm *vm, char *log, size_t size)
{
    pid_t pid = (pid_t)vm->rec.pid;
    /* alive: a pidfd that does not poll readable (an exited process, zombies included, does);
     * the same process: the start time matches when both are known (pid reuse) */
    int fd = pid > 0 ? pidfd_open_pid(pid) : -1;
    struct pollfd pfd = {fd, POLLIN, 0};
    bool alive = fd >= 0 && poll(&pfd, 1, 0) == 0;
    int64_t start = proc_start_time(vms->host, pid);
    if (alive && start >= 0 && vm->rec.pid_start >= 0 && start != vm->rec.pid_start)
        alive = false;
    if (!alive) {
        if (fd >= 0)
            close(fd);
        note(log, size, "VM %s: QEMU (pid %d) is gone: crashed, its functions are released", vm->spec.name,
             (int)pid);
        vm_release_devices(vms, vm);
        vms_set_state(vms, vm, "crashed", "QEMU exited while dpuhostd was not running");
        return;
    }
    vm->pidfd = fd;
    vm->our_child = false;
    struct dh_qmp *q = NULL;
    struct dh_error qerr = {0};
    if (dh_qmp_connect(vm->qmp_path, 2000, &q, &qerr) < 0)
        /* a live QEMU may hold the functions: nothing is released; stop falls back to SIGKILL */
        note(log, size,
             "VM %s: QEMU (pid %d) runs but its QMP socket %s does not answer (%s): supervised by pid only",
             vm->spec.name, (int)pid, vm->qmp_path, qerr.message);
    vm->qmp = q;
    if (streq(vm->rec.state, "creating")) {
        /* the start never finished: the guest never ran (-S) */
        note(log, size, "VM %s: its start was interrupted: QEMU stopped, functions released", vm->spec.name);
        vm->stop_requested = true;
        kill(pid, SIGKILL);
        if (vm->pidfd >= 0 && vm_monitor_start(vms, vm) == 0)
            vm_wait_down(vms, vm, 10000);
        vms_set_state(vms, vm, "stopped", "the start was interrupted by a restart of dpuhostd");
        return;
    }
    /* unplugs that completed while nobody listened */
    char gone[DH_VM_MAX_DEVICES * 2][32];
    size_t n_gone = 0;
    for (size_t i = 0; q && i < vm->rec.n_devices && n_gone < ELEMENTSOF(gone); i++) {
        if (!streq(vm->rec.devices[i].state, "unplug_pending"))
            continue;
        bool realized = true;
        int r = dh_qmp_device_realized(q, vm->rec.devices[i].dev_id, 5000, &realized, NULL);
        if (r == -ENODEV || (r == 0 && !realized))
            snprintf(gone[n_gone++], sizeof(gone[0]), "%s", vm->rec.devices[i].dev_id);
    }
    for (size_t i = 0; i < n_gone; i++) {
        note(log, size, "VM %s: %s was unplugged meanwhile: released", vm->spec.name, gone[i]);
        vm_complete_unplug(vms, vm, gone[i]);
    }
    /* the number of root ports it was started with (devices, disk, spares) */
    vm->n_ports = (int)vm->spec.n_devices + (vm->spec.disk ? 1 : 0) + vm->spec.hotplug_slots;
    if (vm_monitor_start(vms, vm) < 0)
        note(log, size, "VM %s: cannot start its monitor", vm->spec.name);
    note(log, size, "VM %s: re-attached to QEMU pid %d", vm->spec.name, (int)pid);
    if (streq(vm->rec.state, "stopping")) {
        vm->stop_requested = true;
        vms_set_state(vms, vm, "stopping", "finishing a stop interrupted by a restart of dpuhostd");
    } else
        vms_set_state(vms, vm, "running", NULL);
}

int dh_vms_recover(struct dh_vms *vms, char *log, size_t log_size, struct dh_error *err)
{
    if (log && log_size)
        log[0] = '\0';
    struct dh_vm_record *recs = NULL;
    size_t n = 0;
    int r = dh_store_vm_list(vms->store, &recs, &n, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        struct dh_error verr = {0};
        struct vm *vm = vm_new(vms, recs[i].id, &verr);
        json_t *doc = recs[i].spec ? json_loads(recs[i].spec, 0, NULL) : NULL;
        if (!vm || !doc || dh_vm_spec_parse(doc, &vm->spec, &verr) < 0) {
            note(log, log_size, "VM %s: cannot be loaded: %s", recs[i].id, verr.message);
            json_decref(doc);
            vm_free(vm);
            dh_vm_record_clear(&recs[i]);
            continue;
        }
        json_decref(doc);
        vm->rec = recs[i];
        pthread_mutex_lock(&vms->lock);
        struct vm **v = realloc(vms->vms, (vms->n_vms + 1) * sizeof(*v));
        if (v) {
            vms->vms = v;
            vms->vms[vms->n_vms++] = vm;
        }
        pthread_mutex_unlock(&vms->lock);
        if (!v) {
            vm_free(vm);
            continue;
        }
        const char *st = vm->rec.state;
        if (streq(st, "running") || streq(st, "creating") || streq(st, "stopping"))
            reattach(vms, vm, log, log_size);
        else if (vm->rec.n_devices) {
            note(log, log_size, "VM %s is %s but still held functions: released", vm->spec.name, st);
            vm_release_devices(vms, vm);
        }
        if (streq(vm->rec.state, "deleting")) {
            note(log, log_size, "VM %s was being deleted: deleted", vm->spec.name);
            dh_vms_delete(vms, vm->rec.id, NULL);
        }
    }
    free(recs);
    /* claims of VMs that do not exist (dpuhostd died between a claim and the VM's record) */
    char **owners = NULL;
    size_t n_owners = 0;
    if (dh_pools_owners(vms->pools, &owners, &n_owners) == 0)
        for (size_t i = 0; i < n_owners; i++) {
            const char *name = startswith(owners[i], "vm:");
            if (!name)
                continue;
            pthread_mutex_lock(&vms->lock);
            bool exists = vms_find(vms, name) != NULL;
            pthread_mutex_unlock(&vms->lock);
            if (!exists) {
                note(log, log_size, "claims of %s, a VM that does not exist: released", owners[i]);
                dh_pools_release_owner(vms->pools, owners[i], NULL);
            }
        }
    dh_strv_free(owners, n_owners);
    return 0;
}
