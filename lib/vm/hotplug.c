/* Hot-plug and hot-unplug on a running VM (REFERENCE §6). Plug: claim and bind the function, then
 * device_add into a free spare pcie-root-port (pcie.0 is not hot-pluggable), then check that QEMU
 * realized it. Unplug: device_del, then wait (bounded) for DEVICE_DELETED; a guest that does not
 * acknowledge in time (firmware only, no pciehp/acpiphp) leaves the device "unplug_pending": it
 * stays the VM's, and its function is given back only when the event arrives (the monitor sees
 * it; a reset completes the unplug) or QEMU exits. libvirt gives up after 5 s; so do we by
 * default, without ever giving the function back early. */
#include "vm-internal.h"

#include "util/macro.h"

static bool port_used(struct vm *vm, int port)
{
    char name[16];
    snprintf(name, sizeof(name), "rp%d", port);
    for (size_t i = 0; i < vm->rec.n_devices; i++)
        if (streq(vm->rec.devices[i].port, name))
            return true;
    /* the boot disk sits on the first port after the cold-plugged devices */
    return vm->spec.disk && port == (int)vm->spec.n_devices + 1;
}

static bool dev_id_used(struct vm *vm, const char *id)
{
    for (size_t i = 0; i < vm->rec.n_devices; i++)
        if (streq(vm->rec.devices[i].dev_id, id))
            return true;
    return false;
}

/* The answer of attach and detach: the device, with its claim and port while the VM holds it. */
static char *device_answer(struct vm *vm, const struct dh_vm_device_record *d, bool held)
{
    struct dh_jsonw *w = dh_jsonw_new(false);
    if (!w)
        return NULL;
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "vm", vm->rec.id);
    dh_jsonw_kv_string(w, "id", d->dev_id);
    dh_jsonw_kv_string(w, "address", d->address);
    dh_jsonw_kv_string(w, "claim", held && d->claim_id[0] ? d->claim_id : NULL);
    dh_jsonw_kv_string(w, "port", held && d->port[0] ? d->port : NULL);
    dh_jsonw_kv_string(w, "state", d->state);
    dh_jsonw_end_object(w);
    char *text = NULL;
    dh_jsonw_finish(w, &text, NULL);
    dh_jsonw_free(w);
    return text;
}

int dh_vms_attach(struct dh_vms *vms, const char *id, json_t *device, char **ret_json, struct dh_error *err)
{
    static const char *const keys[] = {"address", "pool", NULL};
    const char *address = NULL, *pool = NULL;
    if (!json_is_object(device))
        return dh_error_set(err, -EINVAL, "the device must be an object {\"address\"} or {\"pool\"}");
    const char *k;
    json_t *v;
    json_object_foreach (device, k, v) {
        bool ok = false;
        for (size_t i = 0; keys[i]; i++)
            ok |= streq(keys[i], k);
        if (!ok)
            return dh_error_set(err, -EINVAL, "unknown field '%s'; the fields are: address, pool", k);
        if (!json_is_string(v))
            return dh_error_set(err, -EINVAL, "field '%s' must be a string", k);
    }
    address = json_string_value(json_object_get(device, "address"));
    pool = json_string_value(json_object_get(device, "pool"));
    if (!address == !pool)
        return dh_error_set(err, -EINVAL, "give exactly one of address or pool");
    if (address && !dh_pci_addr_is_valid(address))
        return dh_error_set(err, -EINVAL, "address '%s' is malformed: expected DDDD:BB:DD.F", address);

    struct vm *vm = vms_get(vms, id);
    if (!vm)
        return dh_error_set(err, -ENOENT, "VM %s does not exist", id);
    pthread_mutex_lock(&vm->op_lock);
    int r = 0, port = 0;
    char dev_id[16] = "";
    pthread_mutex_lock(&vms->lock);
    if (vm->removed || !streq(vm->rec.state, "running"))
        r = dh_error_set(err, -EBUSY, "VM %s is %s; devices are hot-plugged into running VMs", id,
                         vm->removed ? "deleted" : vm->rec.state);
    for (int p = (int)vm->spec.n_devices + 1; r == 0 && p <= vm->n_ports && !port; p++)
        if (!port_used(vm, p))
            port = p;
    if (r == 0 && !port)
        r = dh_error_set(err, -ENOSPC,
                         "VM %s has no free hot-plug slot (it was started with %d; set hotplug_slots)", id,
                         vm->spec.hotplug_slots);
    for (int i = 0; r == 0 && !dev_id[0]; i++) {
        snprintf(dev_id, sizeof(dev_id), "hp%d", i);
        if (dev_id_used(vm, dev_id))
            dev_id[0] = '\0';
    }
    pthread_mutex_unlock(&vms->lock);

    struct dh_vm_device_record d;
    if (r == 0)
        r = vm_claim_device(vms, vm, dev_id, pool, address, &d, err);
    if (r == 0) {
        snprintf(d.port, sizeof(d.port), "rp%d", port);
        d.hotplugged = true;
        json_t *props = json_pack("{s:s, s:s, s:s, s:s}", "driver", "vfio-pci", "host", d.address, "bus",
                                  d.port, "id", dev_id);
        bool realized = false;
        pthread_mutex_lock(&vm->qmp_lock);
        if (!vm->qmp)
            r = dh_error_set(err, -ENOTCONN, "VM %s: QMP is not connected", id);
        /* device_add is synchronous: its {} means the device is realized (0.3 s in the lab) */
        if (r == 0)
            r = dh_qmp_device_add(vm->qmp, props, 30000, err);
        if (r == 0)
            r = dh_qmp_device_realized(vm->qmp, dev_id, 10000, &realized, err);
        if (r == 0 && !realized)
            r = dh_error_set(err, -EIO, "VM %s: QEMU did not realize %s (%s)", id, dev_id, d.address);
        pthread_mutex_unlock(&vm->qmp_lock);
        json_decref(props);
        if (r < 0)
            dh_pools_release(vms->pools, d.claim_id, NULL, NULL); /* QEMU does not have it */
    }
    if (r == 0) {
        pthread_mutex_lock(&vms->lock);
        struct dh_vm_device_record *nv = realloc(vm->rec.devices, (vm->rec.n_devices + 1) * sizeof(*nv));
        if (nv) {
            vm->rec.devices = nv;
            vm->rec.devices[vm->rec.n_devices++] = d;
        }
        pthread_mutex_unlock(&vms->lock);
        vms_save_devices(vms, vm);
        vms_emit_device(vms, vm, &d, "attached");
        if (ret_json)
            *ret_json = device_answer(vm, &d, true);
    }
    pthread_mutex_unlock(&vm->op_lock);
    vms_put(vms, vm);
    return r;
}

int dh_vms_detach(struct dh_vms *vms, const char *id, const char *dev_id, bool *ret_pending, char **ret_json,
                  struct dh_error *err)
{
    struct vm *vm = vms_get(vms, id);
    if (!vm)
        return dh_error_set(err, -ENOENT, "VM %s does not exist", id);
    pthread_mutex_lock(&vm->op_lock);
    int r = 0;
    struct dh_vm_device_record d = {0};
    bool found = false;
    pthread_mutex_lock(&vms->lock);
    for (size_t i = 0; i < vm->rec.n_devices; i++)
        if (streq(vm->rec.devices[i].dev_id, dev_id)) {
            d = vm->rec.devices[i];
            found = true;
        }
    if (!found)
        r = dh_error_set(err, -ENOENT, "VM %s has no device %s", id, dev_id);
    else if (!streq(vm->rec.state, "running"))
        r = dh_error_set(err, -EBUSY, "VM %s is %s; devices are hot-unplugged from running VMs", id,
                         vm->rec.state);
    pthread_mutex_unlock(&vms->lock);
    bool done = false;
    if (r == 0) {
        pthread_mutex_lock(&vm->qmp_lock);
        r = vm->qmp ? dh_qmp_unplug(vm->qmp, dev_id, vms->unplug_timeout_ms, &done, err)
                    : dh_error_set(err, -ENOTCONN, "VM %s: QMP is not connected", id);
        pthread_mutex_unlock(&vm->qmp_lock);
    }
    if (r == 0 && done) {
        vm_complete_unplug(vms, vm, dev_id);
        snprintf(d.state, sizeof(d.state), "detached");
    } else if (r == 0) {
        pthread_mutex_lock(&vms->lock);
        for (size_t i = 0; i < vm->rec.n_devices; i++)
            if (streq(vm->rec.devices[i].dev_id, dev_id))
                snprintf(vm->rec.devices[i].state, sizeof(vm->rec.devices[i].state), "unplug_pending");
        pthread_mutex_unlock(&vms->lock);
        vms_save_devices(vms, vm);
        snprintf(d.state, sizeof(d.state), "unplug_pending");
        vms_emit_device(vms, vm, &d, "unplug_pending");
    }
    if (r == 0) {
        if (ret_pending)
            *ret_pending = !done;
        if (ret_json)
            *ret_json = device_answer(vm, &d, !done); /* pending: still the VM's */
    }
    pthread_mutex_unlock(&vm->op_lock);
    vms_put(vms, vm);
    return r;
}
