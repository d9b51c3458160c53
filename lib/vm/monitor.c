/* One monitor thread per running VM. It waits on QEMU's pidfd and QMP socket: events complete
 * pending hot-unplugs (DEVICE_DELETED, also sent when a reset finishes an unplug) and tell a guest
 * shutdown from a crash; the pidfd tells QEMU is gone, and only then are the VM's functions given
 * back to the host. */
#include "vm-internal.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>

#include "util/clock.h"
#include "util/macro.h"

void vm_complete_deleted_devices(struct dh_vms *vms, struct vm *vm)
{
    char done[DH_VM_MAX_DEVICES * 2][32];
    size_t n = 0;
    pthread_mutex_lock(&vm->qmp_lock);
    pthread_mutex_lock(&vms->lock);
    for (size_t i = 0; i < vm->rec.n_devices && n < ELEMENTSOF(done); i++)
        if (streq(vm->rec.devices[i].state, "unplug_pending") && vm->qmp &&
            dh_qmp_is_device_deleted(vm->qmp, vm->rec.devices[i].dev_id))
            snprintf(done[n++], sizeof(done[0]), "%s", vm->rec.devices[i].dev_id);
    pthread_mutex_unlock(&vms->lock);
    pthread_mutex_unlock(&vm->qmp_lock);
    for (size_t i = 0; i < n; i++)
        vm_complete_unplug(vms, vm, done[i]);
}

static void drain_events(struct dh_vms *vms, struct vm *vm)
{
    pthread_mutex_lock(&vm->qmp_lock);
    if (vm->qmp) {
        int r = dh_qmp_read_events(vm->qmp, NULL);
        json_t *ev;
        while ((ev = dh_qmp_next_event(vm->qmp))) {
            if (dh_qmp_event_kind(ev) == DH_QMP_EVENT_SHUTDOWN) {
                json_t *guest = json_object_get(json_object_get(ev, "data"), "guest");
                if (json_is_true(guest))
                    vm->guest_shutdown = true;
            }
            json_decref(ev);
        }
        if (r == -ECONNRESET) {
            /* QEMU is exiting: the pidfd will say when it is gone */
            dh_qmp_close(vm->qmp);
            vm->qmp = NULL;
        }
    }
    pthread_mutex_unlock(&vm->qmp_lock);
    vm_complete_deleted_devices(vms, vm);
}

static void handle_exit(struct dh_vms *vms, struct vm *vm)
{
    int status = -1;
    if (vm->our_child) {
        pid_t pid = (pid_t)vm->rec.pid;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    pthread_mutex_lock(&vm->qmp_lock);
    dh_qmp_close(vm->qmp);
    vm->qmp = NULL;
    pthread_mutex_unlock(&vm->qmp_lock);
    if (vm->pidfd >= 0) {
        close(vm->pidfd);
        vm->pidfd = -1;
    }
    char reason[256];
    const char *state = "stopped";
    if (vm->stop_requested)
        snprintf(reason, sizeof(reason), "stopped");
    else if (vm->guest_shutdown)
        snprintf(reason, sizeof(reason), "the guest powered off");
    else {
        state = "crashed";
        _cleanup_free_ char *tail = vm_log_tail(vm);
        if (status >= 0 && WIFSIGNALED(status))
            snprintf(reason, sizeof(reason), "QEMU was killed by signal %d; its log ends: %s",
                     WTERMSIG(status), tail);
        else if (status >= 0)
            snprintf(reason, sizeof(reason), "QEMU exited with status %d; its log ends: %s",
                     WEXITSTATUS(status), tail);
        else
            snprintf(reason, sizeof(reason), "QEMU exited; its log ends: %s", tail);
    }
    /* QEMU is gone: now, and only now, the functions go back */
    vm_release_devices(vms, vm);
    vm->stop_requested = false;
    vm->guest_shutdown = false;
    vms_set_state(vms, vm, state, reason);
}

static void *monitor(void *arg)
{
    void **args = arg;
    struct dh_vms *vms = args[0];
    struct vm *vm = args[1];
    free(args);
    for (;;) {
        struct pollfd p[3] = {{vm->monitor_stop[0], POLLIN, 0}, {vm->pidfd, POLLIN, 0}, {-1, POLLIN, 0}};
        pthread_mutex_lock(&vm->qmp_lock);
        p[2].fd = vm->qmp ? dh_qmp_fd(vm->qmp) : -1;
        pthread_mutex_unlock(&vm->qmp_lock);
        int n = poll(p, 3, 500);
        if (n < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            break; /* dpuhostd stops supervising; QEMU goes on */
        if (p[2].revents)
            drain_events(vms, vm);
        else
            vm_complete_deleted_devices(vms, vm); /* events a command read meanwhile */
        if (p[1].revents) {
            drain_events(vms, vm);
            handle_exit(vms, vm);
            break;
        }
    }
    return NULL;
}

int vm_monitor_start(struct dh_vms *vms, struct vm *vm)
{
    /* a previous monitor (of a previous run of QEMU) has ended: collect it */
    if (vm->monitor_running) {
        pthread_join(vm->monitor, NULL);
        vm->monitor_running = false;
    }
    if (vm->monitor_stop[0] < 0 && pipe2(vm->monitor_stop, O_CLOEXEC) < 0)
        return negative_errno();
    void **args = malloc(2 * sizeof(void *));
    if (!args)
        return -ENOMEM;
    args[0] = vms;
    args[1] = vm;
    vm->monitor_running = true;
    int r = pthread_create(&vm->monitor, NULL, monitor, args);
    if (r != 0) {
        vm->monitor_running = false;
        free(args);
        return -r;
    }
    return 0;
}

void vm_monitor_stop(struct vm *vm)
{
    if (vm->monitor_running) {
        ssize_t n;
        do
            n = write(vm->monitor_stop[1], "x", 1);
        while (n < 0 && errno == EINTR);
        pthread_join(vm->monitor, NULL);
        vm->monitor_running = false;
    }
    if (vm->monitor_stop[0] >= 0) {
        close(vm->monitor_stop[0]);
        close(vm->monitor_stop[1]);
        vm->monitor_stop[0] = vm->monitor_stop[1] = -1;
    }
}

bool vm_wait_down(struct dh_vms *vms, struct vm *vm, int timeout_ms)
{
    struct timespec deadline = dh_realtime_deadline(timeout_ms);
    pthread_mutex_lock(&vms->lock);
    while (!streq(vm->rec.state, "stopped") && !streq(vm->rec.state, "crashed"))
        if (pthread_cond_timedwait(&vms->cond, &vms->lock, &deadline) == ETIMEDOUT)
            break;
    bool down = streq(vm->rec.state, "stopped") || streq(vm->rec.state, "crashed");
    pthread_mutex_unlock(&vms->lock);
    return down;
}
