/* A VM's functions are claims: one per device, owned by "vm:<name>" with the request id
 * "<vm id>/<device id>", so that a retried start reuses its claims and a hot-unplug releases
 * exactly one. A claim is released only once QEMU no longer has the device (it exited, or
 * DEVICE_DELETED arrived): never while the guest may still use it. */
#include "vm-internal.h"

#include "util/macro.h"

int vm_claim_device(struct dh_vms *vms, struct vm *vm, const char *dev_id, const char *pool,
                    const char *address, struct dh_vm_device_record *ret, struct dh_error *err)
{
    char owner[80], request_id[80];
    vms_owner(vm, owner);
    snprintf(request_id, sizeof(request_id), "%s/%s", vm->rec.id, dev_id);
    struct dh_claim_request req = {.owner = owner,
                                   .pool = pool,
                                   .address = address,
                                   .count = 1,
                                   .numa_node = -1,
                                   .request_id = request_id};
    _cleanup_free_ char *text = NULL;
    int r = dh_pools_claim(vms->pools, &req, &text, NULL, err);
    if (r < 0)
        return r;
    json_t *doc = json_loads(text, 0, NULL);
    const char *id = json_string_value(json_object_get(doc, "id"));
    const char *addr = json_string_value(
            json_object_get(json_array_get(json_object_get(doc, "functions"), 0), "address"));
    if (!id || !addr) {
        json_decref(doc);
        return dh_error_set(err, -EIO, "VM %s: the claim for %s came back malformed", vm->spec.name, dev_id);
    }
    *ret = (struct dh_vm_device_record){0};
    snprintf(ret->dev_id, sizeof(ret->dev_id), "%s", dev_id);
    snprintf(ret->address, sizeof(ret->address), "%s", addr);
    snprintf(ret->claim_id, sizeof(ret->claim_id), "%s", id);
    snprintf(ret->state, sizeof(ret->state), "attached");
    json_decref(doc);
    return 0;
}

void vm_release_devices(struct dh_vms *vms, struct vm *vm)
{
    pthread_mutex_lock(&vms->lock);
    size_t n = vm->rec.n_devices;
    struct dh_vm_device_record *devs = vm->rec.devices;
    vm->rec.devices = NULL;
    vm->rec.n_devices = 0;
    pthread_mutex_unlock(&vms->lock);
    /* kept devices: those whose release failed stay with the VM, so that nothing is handed out
     * while it may still be in use */
    struct dh_vm_device_record *kept = calloc(n ? n : 1, sizeof(*kept));
    size_t n_kept = 0;
    for (size_t i = 0; i < n; i++) {
        int r = devs[i].claim_id[0] ? dh_pools_release(vms->pools, devs[i].claim_id, NULL, NULL) : 0;
        if (r < 0 && r != -ENOENT && kept)
            kept[n_kept++] = devs[i];
        else
            vms_emit_device(vms, vm, &devs[i], "detached");
    }
    free(devs);
    pthread_mutex_lock(&vms->lock);
    vm->rec.devices = n_kept ? kept : NULL;
    vm->rec.n_devices = n_kept;
    pthread_mutex_unlock(&vms->lock);
    if (!n_kept)
        free(kept);
    vms_save_devices(vms, vm);
}

void vm_complete_unplug(struct dh_vms *vms, struct vm *vm, const char *dev_id)
{
    struct dh_vm_device_record d = {0};
    bool found = false;
    pthread_mutex_lock(&vms->lock);
    for (size_t i = 0; i < vm->rec.n_devices; i++)
        if (streq(vm->rec.devices[i].dev_id, dev_id)) {
            d = vm->rec.devices[i];
            memmove(&vm->rec.devices[i], &vm->rec.devices[i + 1],
                    (vm->rec.n_devices - i - 1) * sizeof(*vm->rec.devices));
            vm->rec.n_devices--;
            vm->completing++;
            found = true;
            break;
        }
    pthread_mutex_unlock(&vms->lock);
    if (!found)
        return;
    vms_save_devices(vms, vm);
    if (d.claim_id[0])
        dh_pools_release(vms->pools, d.claim_id, NULL, NULL);
    vms_emit_device(vms, vm, &d, "detached");
    pthread_mutex_lock(&vms->lock);
    vm->completing--;
    pthread_cond_broadcast(&vms->cond);
    pthread_mutex_unlock(&vms->lock);
}
