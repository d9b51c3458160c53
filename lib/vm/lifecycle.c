/* VM lifecycle: create, start, stop, reset, delete. States: creating (claiming, binding, QEMU
 * starting), running, stopping, stopped, crashed, deleting; each with a reason. The order keeps
 * the host safe: functions are claimed and bound before QEMU starts, QEMU starts paused (-S) until
 * every device is realized, and functions go back to the host only after QEMU is gone (the monitor
 * sees its pidfd). A failed start undoes itself; a create that was asked to start and could not is
 * rolled back too, so that creating and starting is all or nothing. */
#include "vm-internal.h"

#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "util/clock.h"
#include "util/macro.h"

#define QUIT_WAIT_MS 10000

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool exited(struct vm *vm)
{
    struct pollfd p = {vm->pidfd, POLLIN, 0};
    return vm->pidfd >= 0 && poll(&p, 1, 0) == 1;
}

/* Connects to QMP while watching QEMU: an early exit (bad arguments, "group is not viable") is
 * reported with the end of QEMU's log instead of waiting for the timeout. */
static int connect_qmp(struct dh_vms *vms, struct vm *vm, struct dh_qmp **ret, struct dh_error *err)
{
    int64_t deadline = now_ms() + vms->start_timeout_ms;
    for (;;) {
        if (exited(vm)) {
            _cleanup_free_ char *tail = vm_log_tail(vm);
            return dh_error_set(err, -EIO, "VM %s: QEMU exited while starting: %s", vm->spec.name, tail);
        }
        struct dh_error qerr = {0};
        if (dh_qmp_connect(vm->qmp_path, 200, ret, &qerr) == 0)
            return 0;
        if (now_ms() > deadline)
            return dh_error_set(err, -ETIMEDOUT, "VM %s: QEMU did not answer on %s within %d ms (%s)",
                                vm->spec.name, vm->qmp_path, vms->start_timeout_ms, qerr.message);
    }
}

static void kill_qemu(struct vm *vm)
{
    if (vm->rec.pid > 0)
        kill((pid_t)vm->rec.pid, SIGKILL);
    if (vm->our_child && vm->rec.pid > 0)
        while (waitpid((pid_t)vm->rec.pid, NULL, 0) < 0 && errno == EINTR)
            ;
    if (vm->pidfd >= 0)
        close(vm->pidfd);
    vm->pidfd = -1;
}

static bool file_readable(const char *path)
{
    return !path || access(path, R_OK) == 0;
}

/* With vm->op_lock held. */
static int start_locked(struct dh_vms *vms, struct vm *vm, struct dh_error *err)
{
    pthread_mutex_lock(&vms->lock);
    _cleanup_free_ char *state = strdup(vm->rec.state);
    pthread_mutex_unlock(&vms->lock);
    if (!state)
        return -ENOMEM;
    if (streq(state, "running"))
        return 0;
    if (!streq(state, "stopped") && !streq(state, "crashed"))
        return dh_error_set(err, -EBUSY, "VM %s is %s; it can be started when stopped or crashed",
                            vm->spec.name, state);
    const struct dh_vm_spec *s = &vm->spec;
    if (!file_readable(s->kernel) || !file_readable(s->initrd) || !file_readable(s->disk))
        return dh_error_set(err, -ENOENT, "VM %s: a boot file is missing or unreadable (%s)", s->name,
                            !file_readable(s->kernel)   ? s->kernel
                            : !file_readable(s->initrd) ? s->initrd
                                                        : s->disk);
    bool kvm = s->accel == DH_VM_ACCEL_KVM || (s->accel == DH_VM_ACCEL_AUTO && kvm_usable(vms->host));
    if (s->accel == DH_VM_ACCEL_KVM && !kvm_usable(vms->host))
        return dh_error_set(err, -EOPNOTSUPP,
                            "VM %s asks for KVM, which is not usable here (see dpuhost check); "
                            "use \"accel\": \"tcg\" or \"auto\"",
                            s->name);
    vms_set_state(vms, vm, "creating", "claiming and binding its functions");

    /* claims first: they validate (exists, in a pool, free, IOMMU group viable) and bind */
    struct dh_vm_device_record devs[DH_VM_MAX_DEVICES];
    size_t n = 0;
    int r = 0;
    for (size_t i = 0; i < s->n_devices; i++) {
        char dev_id[16];
        snprintf(dev_id, sizeof(dev_id), "dev%u", (unsigned)(i % DH_VM_MAX_DEVICES));
        r = vm_claim_device(vms, vm, dev_id, s->devices[i].pool, s->devices[i].address, &devs[n], err);
        if (r < 0)
            break;
        snprintf(devs[n].port, sizeof(devs[n].port), "rp%u", (unsigned)(i % DH_VM_MAX_DEVICES) + 1);
        devs[n].boot = s->devices[i].boot;
        n++;
    }
    pthread_mutex_lock(&vms->lock);
    free(vm->rec.devices);
    vm->rec.devices = n ? malloc(n * sizeof(*devs)) : NULL;
    if (vm->rec.devices)
        memcpy(vm->rec.devices, devs, n * sizeof(*devs));
    vm->rec.n_devices = vm->rec.devices ? n : 0;
    pthread_mutex_unlock(&vms->lock);
    vms_save_devices(vms, vm);
    if (r < 0 || (n && !vm->rec.devices)) {
        vm_release_devices(vms, vm);
        vms_set_state(vms, vm, "stopped",
                      err && err->code ? err->message : "its functions could not be claimed");
        return r < 0 ? r : -ENOMEM;
    }

    vms_set_state(vms, vm, "creating", "starting QEMU");
    struct dh_vm_launch_device ldev[DH_VM_MAX_DEVICES];
    for (size_t i = 0; i < n; i++)
        ldev[i] = (struct dh_vm_launch_device){devs[i].address, devs[i].dev_id, devs[i].port, devs[i].boot};
    vm->n_ports = (int)n + (s->disk ? 1 : 0) + s->hotplug_slots;
    struct dh_vm_launch l = {.spec = s,
                             .qemu_binary = vms->qemu_binary,
                             .kvm = kvm,
                             .qmp_path = vm->qmp_path,
                             .console_path = s->console_log ? s->console_log : vm->console_path,
                             .devices = ldev,
                             .n_devices = n,
                             .n_ports = vm->n_ports};
    char **argv = NULL;
    struct dh_qmp *q = NULL;
    if (mkdir(vm->dir, 0700) < 0 && errno != EEXIST)
        r = dh_error_set(err, negative_errno(), "VM %s: cannot create %s", s->name, vm->dir);
    unlink(vm->qmp_path);
    if (r == 0)
        r = dh_vm_render_argv(&l, &argv, err);
    if (r == 0)
        r = vm_spawn(vms, vm, argv, err);
    dh_vm_argv_free(argv);
    if (r == 0) {
        pthread_mutex_lock(&vms->lock);
        free(vm->rec.accel);
        vm->rec.accel = strdup(kvm ? "kvm" : "tcg");
        pthread_mutex_unlock(&vms->lock);
        vms_set_state(vms, vm, "creating", "QEMU started, checking its devices");
        r = connect_qmp(vms, vm, &q, err);
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
        bool realized = false;
        r = dh_qmp_device_realized(q, devs[i].dev_id, 10000, &realized, err);
        if (r == 0 && !realized)
            r = dh_error_set(err, -EIO, "VM %s: QEMU did not realize %s (%s)", s->name, devs[i].dev_id,
                             devs[i].address);
    }
    if (r == 0)
        r = dh_qmp_cont(q, 10000, err);
    if (r < 0) {
        dh_qmp_close(q);
        kill_qemu(vm);
        vm_release_devices(vms, vm);
        vms_set_state(vms, vm, "stopped", err && err->code ? err->message : "QEMU failed to start");
        return r;
    }
    pthread_mutex_lock(&vm->qmp_lock);
    vm->qmp = q;
    vm->stop_requested = vm->guest_shutdown = false;
    pthread_mutex_unlock(&vm->qmp_lock);
    vms_set_state(vms, vm, "running", NULL);
    r = vm_monitor_start(vms, vm);
    if (r < 0) {
        /* unsupervised QEMU is not acceptable: stop it */
        kill_qemu(vm);
        vm_release_devices(vms, vm);
        vms_set_state(vms, vm, "stopped", "cannot start its monitor thread");
        return dh_error_set(err, r, "VM %s: cannot start its monitor", s->name);
    }
    return 0;
}

static char *result(struct dh_vms *vms, struct vm *vm, char **ret_json)
{
    if (ret_json)
        *ret_json = vms_vm_json(vms, vm);
    return NULL;
}

int dh_vms_start(struct dh_vms *vms, const char *id, char **ret_json, struct dh_error *err)
{
    struct vm *vm = vms_get(vms, id);
    if (!vm)
        return dh_error_set(err, -ENOENT, "VM %s does not exist", id);
    pthread_mutex_lock(&vm->op_lock);
    int r = vm->removed ? dh_error_set(err, -ENOENT, "VM %s was deleted", id) : start_locked(vms, vm, err);
    pthread_mutex_unlock(&vm->op_lock);
    if (r == 0)
        result(vms, vm, ret_json);
    vms_put(vms, vm);
    return r;
}

/* With vm->op_lock held. */
static int stop_locked(struct dh_vms *vms, struct vm *vm, bool force, struct dh_error *err)
{
    pthread_mutex_lock(&vms->lock);
    bool down = streq(vm->rec.state, "stopped") || streq(vm->rec.state, "crashed");
    pthread_mutex_unlock(&vms->lock);
    if (down)
        return 0;
    vm->stop_requested = true;
    vms_set_state(vms, vm, "stopping", force ? "forced stop" : "ACPI power-down requested");
    if (!force) {
        pthread_mutex_lock(&vm->qmp_lock);
        int r = vm->qmp ? dh_qmp_system_powerdown(vm->qmp, 5000, NULL) : -ENOTCONN;
        pthread_mutex_unlock(&vm->qmp_lock);
        if (r == 0 && vm_wait_down(vms, vm, vms->stop_timeout_ms))
            return 0;
    }
    pthread_mutex_lock(&vm->qmp_lock);
    int r = vm->qmp ? dh_qmp_quit(vm->qmp, 5000, NULL) : -ENOTCONN;
    pthread_mutex_unlock(&vm->qmp_lock);
    if (r == 0 && vm_wait_down(vms, vm, QUIT_WAIT_MS))
        return 0;
    if (vm->rec.pid > 0)
        kill((pid_t)vm->rec.pid, SIGKILL);
    if (vm_wait_down(vms, vm, QUIT_WAIT_MS))
        return 0;
    return dh_error_set(err, -ETIMEDOUT, "VM %s: QEMU (pid %lld) did not exit even after SIGKILL",
                        vm->spec.name, (long long)vm->rec.pid);
}

int dh_vms_stop(struct dh_vms *vms, const char *id, bool force, char **ret_json, struct dh_error *err)
{
    struct vm *vm = vms_get(vms, id);
    if (!vm)
        return dh_error_set(err, -ENOENT, "VM %s does not exist", id);
    pthread_mutex_lock(&vm->op_lock);
    int r = vm->removed ? dh_error_set(err, -ENOENT, "VM %s was deleted", id)
                        : stop_locked(vms, vm, force, err);
    pthread_mutex_unlock(&vm->op_lock);
    if (r == 0)
        result(vms, vm, ret_json);
    vms_put(vms, vm);
    return r;
}

static bool unplugs_done(struct vm *vm)
{
    for (size_t i = 0; i < vm->rec.n_devices; i++)
        if (streq(vm->rec.devices[i].state, "unplug_pending"))
            return false;
    return vm->completing == 0;
}

static void wait_unplugs_done(struct dh_vms *vms, struct vm *vm, int timeout_ms)
{
    struct timespec deadline = dh_realtime_deadline(timeout_ms);
    pthread_mutex_lock(&vms->lock);
    while (!unplugs_done(vm) && streq(vm->rec.state, "running"))
        if (pthread_cond_timedwait(&vms->cond, &vms->lock, &deadline) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&vms->lock);
}

int dh_vms_reset(struct dh_vms *vms, const char *id, char **ret_json, struct dh_error *err)
{
    struct vm *vm = vms_get(vms, id);
    if (!vm)
        return dh_error_set(err, -ENOENT, "VM %s does not exist", id);
    pthread_mutex_lock(&vm->op_lock);
    pthread_mutex_lock(&vm->qmp_lock);
    int r = vm->qmp ? dh_qmp_system_reset(vm->qmp, 5000, err)
                    : dh_error_set(err, -EBUSY, "VM %s is not running", vm->spec.name);
    pthread_mutex_unlock(&vm->qmp_lock);
    /* QEMU finishes pending unplugs during the reset and says so with DEVICE_DELETED, which the
     * monitor thread handles: wait for it (boundedly), so that the answer shows the functions
     * given back rather than a moment before */
    if (r == 0) {
        vm_complete_deleted_devices(vms, vm); /* DEVICE_DELETED may have come with the answer */
        wait_unplugs_done(vms, vm, vms->unplug_timeout_ms);
    }
    pthread_mutex_unlock(&vm->op_lock);
    if (r == 0)
        result(vms, vm, ret_json);
    vms_put(vms, vm);
    return r;
}

static int remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : negative_errno();
    struct dirent *de;
    while ((de = readdir(d)))
        if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
            char path[PATH_MAX];
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            unlink(path);
        }
    closedir(d);
    return rmdir(dir) < 0 ? negative_errno() : 0;
}

int dh_vms_delete(struct dh_vms *vms, const char *id, struct dh_error *err)
{
    struct vm *vm = vms_get(vms, id);
    if (!vm)
        return dh_error_set(err, -ENOENT, "VM %s does not exist", id);
    pthread_mutex_lock(&vm->op_lock);
    int r = vm->removed ? dh_error_set(err, -ENOENT, "VM %s was deleted", id)
                        : stop_locked(vms, vm, true, err);
    if (r == 0) {
        vms_set_state(vms, vm, "deleting", NULL);
        vm_monitor_stop(vm);
        /* a device whose release failed (held) keeps the VM: nothing is lost track of */
        if (vm->rec.n_devices) {
            vm_release_devices(vms, vm);
            if (vm->rec.n_devices)
                r = dh_error_set(err, -EBUSY,
                                 "VM %s: its functions could not all be given back; retry the delete",
                                 vm->spec.name);
        }
    }
    if (r == 0)
        r = dh_store_vm_delete(vms->store, vm->rec.id, err);
    if (r == 0) {
        remove_tree(vm->dir);
        pthread_mutex_lock(&vms->lock);
        for (size_t i = 0; i < vms->n_vms; i++)
            if (vms->vms[i] == vm) {
                memmove(&vms->vms[i], &vms->vms[i + 1], (vms->n_vms - i - 1) * sizeof(*vms->vms));
                vms->n_vms--;
                break;
            }
        vm->removed = true;
        vm->refs--; /* the list's reference */
        pthread_mutex_unlock(&vms->lock);
        if (vms->on_event) {
            char *event = NULL;
            if (asprintf(&event, "{\"id\":\"%s\",\"name\":\"%s\",\"state\":\"deleted\",\"reason\":null}",
                         vm->rec.id, vm->spec.name) > 0)
                vms->on_event(vms->event_userdata, "vm_state", event);
            free(event);
        }
    }
    pthread_mutex_unlock(&vm->op_lock);
    vms_put(vms, vm);
    return r;
}

static int new_vm_id(char id[32])
{
    uint8_t b[8];
    if (getrandom(b, sizeof(b), 0) != sizeof(b))
        return -EIO;
    snprintf(id, 32, "vm-%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
    return 0;
}

/* Validates what can be checked before anything is claimed: pools exist, addresses exist, are
 * pooled and free, boot files are readable. The claims at start check again (and bind). */
static int validate(struct dh_vms *vms, const struct dh_vm_spec *s, struct dh_error *err)
{
    for (size_t i = 0; i < s->n_devices; i++) {
        const struct dh_vm_device_spec *d = &s->devices[i];
        if (d->pool && !dh_config_pool(vms->cfg, d->pool))
            return dh_error_set(err, -ENOENT, "VM %s: pci_devices[%zu]: pool '%s' does not exist", s->name, i,
                                d->pool);
        if (d->address) {
            int r = dh_pools_check_available(vms->pools, d->address, err);
            if (r < 0)
                return r;
        }
    }
    if (!file_readable(s->kernel) || !file_readable(s->initrd) || !file_readable(s->disk))
        return dh_error_set(err, -ENOENT, "VM %s: boot file %s is missing or unreadable", s->name,
                            !file_readable(s->kernel)   ? s->kernel
                            : !file_readable(s->initrd) ? s->initrd
                                                        : s->disk);
    return 0;
}

int dh_vms_create(struct dh_vms *vms, json_t *spec_doc, bool start, char **ret_json, struct dh_error *err)
{
    struct dh_vm_spec spec;
    int r = dh_vm_spec_parse(spec_doc, &spec, err);
    if (r < 0)
        return r;
    r = validate(vms, &spec, err);
    char id[32];
    if (r == 0)
        r = new_vm_id(id);
    struct vm *vm = r == 0 ? vm_new(vms, id, err) : NULL;
    if (r == 0 && !vm)
        r = err && err->code ? err->code : -ENOMEM;
    if (r < 0) {
        dh_vm_spec_clear(&spec);
        return r;
    }
    vm->spec = spec;
    vm->rec.name = strdup(spec.name);
    vm->rec.spec = json_dumps(spec_doc, JSON_COMPACT | JSON_SORT_KEYS);
    vm->rec.state = strdup("stopped");
    vm->rec.reason = strdup("created");
    vm->rec.created_usec = dh_realtime_usec(); /* what the store keeps is what the API shows */
    if (!vm->rec.name || !vm->rec.spec || !vm->rec.state || !vm->rec.reason) {
        vm_free(vm);
        return -ENOMEM;
    }
    r = dh_store_vm_insert(vms->store, &vm->rec, err);
    if (r < 0) {
        vm_free(vm);
        return r;
    }
    pthread_mutex_lock(&vms->lock);
    struct vm **v = realloc(vms->vms, (vms->n_vms + 1) * sizeof(*v));
    if (v) {
        vms->vms = v;
        vms->vms[vms->n_vms++] = vm;
    }
    pthread_mutex_unlock(&vms->lock);
    if (!v) {
        dh_store_vm_delete(vms->store, vm->rec.id, NULL);
        vm_free(vm);
        return -ENOMEM;
    }
    vms_set_state(vms, vm, "stopped", "created");
    if (start) {
        struct dh_error serr = {0};
        r = dh_vms_start(vms, vm->rec.id, NULL, &serr);
        if (r < 0) {
            /* all or nothing: a VM that was asked to start and could not is not kept */
            dh_vms_delete(vms, vm->rec.id, NULL);
            return dh_error_set(err, r, "%s", serr.message);
        }
    }
    struct vm *ref = vms_get(vms, id);
    if (ref) {
        result(vms, ref, ret_json);
        vms_put(vms, ref);
    }
    return 0;
}
