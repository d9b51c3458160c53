/* The VM manager's state: VMs in memory (mirroring the store), lifecycle states with reasons,
 * events and the JSON form. */
#include "vm-internal.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "util/macro.h"

void vms_owner(const struct vm *vm, char buf[80])
{
    snprintf(buf, 80, "vm:%s", vm->spec.name);
}

struct vm *vms_find(struct dh_vms *vms, const char *id)
{
    for (size_t i = 0; i < vms->n_vms; i++)
        if (streq(vms->vms[i]->rec.id, id) || streq(vms->vms[i]->rec.name, id))
            return vms->vms[i];
    return NULL;
}

struct vm *vms_get(struct dh_vms *vms, const char *id)
{
    pthread_mutex_lock(&vms->lock);
    struct vm *vm = vms_find(vms, id);
    if (vm)
        vm->refs++;
    pthread_mutex_unlock(&vms->lock);
    return vm;
}

void vms_put(struct dh_vms *vms, struct vm *vm)
{
    if (!vm)
        return;
    pthread_mutex_lock(&vms->lock);
    bool last = --vm->refs == 0;
    pthread_mutex_unlock(&vms->lock);
    if (last)
        vm_free(vm);
}

struct vm *vm_new(struct dh_vms *vms, const char *id, struct dh_error *err)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    if (!vm)
        return NULL;
    vm->refs = 1;
    snprintf(vm->rec.id, sizeof(vm->rec.id), "%s", id);
    pthread_mutex_init(&vm->op_lock, NULL);
    pthread_mutex_init(&vm->qmp_lock, NULL);
    vm->pidfd = -1;
    vm->exit_status = -1;
    vm->monitor_stop[0] = vm->monitor_stop[1] = -1;
    /* every path of the VM hangs off its directory; the QMP socket's must fit sun_path */
    size_t len = strlen(vms->vm_dir) + 1 + strlen(id);
    if (len + sizeof("/qmp.sock") > VM_PATH_MAX) {
        vm_free(vm);
        dh_error_set(err, -ENAMETOOLONG,
                     "the VM directory %s/%s is too long for a Unix socket path (107 bytes): use a shorter "
                     "state directory",
                     vms->vm_dir, id);
        return NULL;
    }
    int n = (int)len;
    snprintf(vm->dir, sizeof(vm->dir), "%s/%s", vms->vm_dir, id);
    snprintf(vm->log_path, sizeof(vm->log_path), "%.*s/qemu.log", n, vm->dir);
    snprintf(vm->console_path, sizeof(vm->console_path), "%.*s/console.log", n, vm->dir);
    snprintf(vm->qmp_path, sizeof(vm->qmp_path), "%.*s/qmp.sock", n, vm->dir);
    return vm;
}

void vm_free(struct vm *vm)
{
    if (!vm)
        return;
    vm_monitor_stop(vm);
    dh_qmp_close(vm->qmp);
    if (vm->pidfd >= 0)
        close(vm->pidfd);
    dh_vm_record_clear(&vm->rec);
    dh_vm_spec_clear(&vm->spec);
    pthread_mutex_destroy(&vm->op_lock);
    pthread_mutex_destroy(&vm->qmp_lock);
    free(vm);
}

int vms_set_state(struct dh_vms *vms, struct vm *vm, const char *state, const char *reason)
{
    pthread_mutex_lock(&vms->lock);
    char *s = strdup(state), *rs = reason ? strdup(reason) : NULL;
    free(vm->rec.state);
    free(vm->rec.reason);
    vm->rec.state = s;
    vm->rec.reason = rs;
    if (!streq(state, "running") && !streq(state, "creating") && !streq(state, "stopping")) {
        vm->rec.pid = 0;
        vm->rec.pid_start = 0;
        free(vm->rec.accel);
        vm->rec.accel = NULL;
    }
    struct dh_vm_record copy = vm->rec; /* the store reads only scalars and strings */
    int r = dh_store_vm_update(vms->store, &copy, NULL);
    char *event = NULL;
    struct dh_jsonw *w = dh_jsonw_new(false);
    if (w) {
        dh_jsonw_begin_object(w);
        dh_jsonw_kv_string(w, "id", vm->rec.id);
        dh_jsonw_kv_string(w, "name", vm->rec.name);
        dh_jsonw_kv_string(w, "state", state);
        dh_jsonw_kv_string(w, "reason", reason);
        dh_jsonw_end_object(w);
        dh_jsonw_finish(w, &event, NULL);
        dh_jsonw_free(w);
    }
    pthread_cond_broadcast(&vms->cond);
    pthread_mutex_unlock(&vms->lock);
    if (vms->on_event && event)
        vms->on_event(vms->event_userdata, "vm_state", event);
    free(event);
    return r;
}

int vms_save_devices(struct dh_vms *vms, struct vm *vm)
{
    pthread_mutex_lock(&vms->lock);
    struct dh_vm_record copy = vm->rec;
    int r = dh_store_vm_set_devices(vms->store, &copy, NULL);
    pthread_mutex_unlock(&vms->lock);
    return r;
}

void vms_emit_device(struct dh_vms *vms, struct vm *vm, const struct dh_vm_device_record *d,
                     const char *state)
{
    if (!vms->on_event)
        return;
    struct dh_jsonw *w = dh_jsonw_new(false);
    if (!w)
        return;
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "vm", vm->rec.id);
    dh_jsonw_kv_string(w, "name", vm->spec.name);
    dh_jsonw_kv_string(w, "device", d->dev_id);
    dh_jsonw_kv_string(w, "address", d->address);
    dh_jsonw_kv_string(w, "state", state);
    dh_jsonw_end_object(w);
    char *text = NULL;
    dh_jsonw_finish(w, &text, NULL);
    dh_jsonw_free(w);
    if (text)
        vms->on_event(vms->event_userdata, "vm_device", text);
    free(text);
}

static void write_time(struct dh_jsonw *w, const char *key, int64_t usec)
{
    char buf[40];
    time_t t = (time_t)(usec / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    dh_jsonw_kv_string(w, key, buf);
}

/* With vms->lock held. */
void vms_write_vm(struct dh_vms *vms, struct dh_jsonw *w, struct vm *vm)
{
    (void)vms;
    const struct dh_vm_record *r = &vm->rec;
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "id", r->id);
    dh_jsonw_kv_string(w, "name", r->name);
    dh_jsonw_kv_string(w, "state", r->state);
    dh_jsonw_kv_string(w, "reason", r->reason);
    dh_jsonw_kv_string(w, "accel", r->accel);
    dh_jsonw_kv_int_or_null(w, "pid", r->pid > 0 ? r->pid : -1);
    write_time(w, "created", r->created_usec);
    dh_jsonw_kv_string(w, "console_log", vm->spec.console_log ? vm->spec.console_log : vm->console_path);
    dh_jsonw_kv_string(w, "qemu_log", vm->log_path);
    dh_jsonw_kv_string(w, "qmp_socket", vm->qmp_path);
    dh_jsonw_key(w, "devices");
    dh_jsonw_begin_array(w);
    for (size_t i = 0; i < r->n_devices; i++) {
        const struct dh_vm_device_record *d = &r->devices[i];
        dh_jsonw_begin_object(w);
        dh_jsonw_kv_string(w, "id", d->dev_id);
        dh_jsonw_kv_string(w, "address", d->address);
        dh_jsonw_kv_string(w, "claim", d->claim_id[0] ? d->claim_id : NULL);
        dh_jsonw_kv_string(w, "port", d->port);
        dh_jsonw_kv_bool(w, "boot", d->boot);
        dh_jsonw_kv_bool(w, "hotplugged", d->hotplugged);
        dh_jsonw_kv_string(w, "state", d->state);
        dh_jsonw_end_object(w);
    }
    dh_jsonw_end_array(w);
    dh_jsonw_key(w, "spec");
    dh_jsonw_raw(w, r->spec, strlen(r->spec));
    dh_jsonw_end_object(w);
}

char *vms_vm_json(struct dh_vms *vms, struct vm *vm)
{
    struct dh_jsonw *w = dh_jsonw_new(false);
    if (!w)
        return NULL;
    pthread_mutex_lock(&vms->lock);
    vms_write_vm(vms, w, vm);
    pthread_mutex_unlock(&vms->lock);
    char *text = NULL;
    dh_jsonw_finish(w, &text, NULL);
    dh_jsonw_free(w);
    return text;
}

void dh_vms_write_list(struct dh_vms *vms, struct dh_jsonw *w)
{
    pthread_mutex_lock(&vms->lock);
    dh_jsonw_begin_object(w);
    dh_jsonw_key(w, "vms");
    dh_jsonw_begin_array(w);
    for (size_t i = 0; i < vms->n_vms; i++)
        vms_write_vm(vms, w, vms->vms[i]);
    dh_jsonw_end_array(w);
    dh_jsonw_end_object(w);
    pthread_mutex_unlock(&vms->lock);
}

int dh_vms_write(struct dh_vms *vms, struct dh_jsonw *w, const char *id)
{
    pthread_mutex_lock(&vms->lock);
    struct vm *vm = vms_find(vms, id);
    if (vm)
        vms_write_vm(vms, w, vm);
    pthread_mutex_unlock(&vms->lock);
    return vm ? 0 : -ENOENT;
}

int dh_vms_new(const struct dh_vms_options *o, struct dh_vms **ret, struct dh_error *err)
{
    assert_return(o && o->host && o->store && o->config && o->pools && ret, -EINVAL);
    struct dh_vms *vms = calloc(1, sizeof(*vms));
    if (!vms)
        return -ENOMEM;
    vms->host = o->host;
    vms->store = o->store;
    vms->cfg = o->config;
    vms->pools = o->pools;
    vms->qemu_binary = strdup(o->qemu_binary ? o->qemu_binary : "qemu-system-x86_64");
    if (o->vm_dir)
        vms->vm_dir = strdup(o->vm_dir);
    else if (asprintf(&vms->vm_dir, "%s/vms", o->config->state_dir) < 0)
        vms->vm_dir = NULL;
    vms->start_timeout_ms = o->start_timeout_ms > 0 ? o->start_timeout_ms : 30000;
    vms->stop_timeout_ms = o->stop_timeout_ms > 0 ? o->stop_timeout_ms : 30000;
    vms->unplug_timeout_ms = o->unplug_timeout_ms > 0 ? o->unplug_timeout_ms : 5000;
    vms->on_event = o->on_event;
    vms->event_userdata = o->event_userdata;
    pthread_mutex_init(&vms->lock, NULL);
    pthread_cond_init(&vms->cond, NULL);
    if (!vms->qemu_binary || !vms->vm_dir) {
        dh_vms_free(vms);
        return -ENOMEM;
    }
    if (mkdir(vms->vm_dir, 0700) < 0 && errno != EEXIST) {
        int r = dh_error_set(err, negative_errno(), "cannot create the VM directory %s: %s", vms->vm_dir,
                             strerror(errno));
        dh_vms_free(vms);
        return r;
    }
    *ret = vms;
    return 0;
}

void dh_vms_free(struct dh_vms *vms)
{
    if (!vms)
        return;
    for (size_t i = 0; i < vms->n_vms; i++)
        vm_free(vms->vms[i]);
    free(vms->vms);
    free(vms->qemu_binary);
    free(vms->vm_dir);
    pthread_mutex_destroy(&vms->lock);
    pthread_cond_destroy(&vms->cond);
    free(vms);
}
