/* VM records in the state store: the spec, the lifecycle state with its reason, the QEMU process
 * (pid and start time, to find it again after a restart of dpuhostd) and the devices passed through. */
#include "store-internal.h"

#include "util/clock.h"
#include "util/macro.h"

void dh_vm_record_clear(struct dh_vm_record *v)
{
    if (!v)
        return;
    free(v->name);
    free(v->spec);
    free(v->state);
    free(v->reason);
    free(v->accel);
    free(v->devices);
    *v = (struct dh_vm_record){0};
}

static int op_insert(struct dh_store *s, void *userdata, struct dh_error *err)
{
    const struct dh_vm_record *v = userdata;
    sqlite3_stmt *st = NULL;
    int r = store_stmt(s,
                       "INSERT INTO vms (id, name, spec, state, reason, accel, pid, pid_start, created_usec)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                       &st, err);
    if (r < 0)
        return r;
    int64_t created = v->created_usec ? v->created_usec : dh_realtime_usec();
    store_bind_text(st, 1, v->id);
    store_bind_text(st, 2, v->name);
    store_bind_text(st, 3, v->spec);
    store_bind_text(st, 4, v->state);
    store_bind_text(st, 5, v->reason);
    store_bind_text(st, 6, v->accel);
    sqlite3_bind_int64(st, 7, v->pid);
    sqlite3_bind_int64(st, 8, v->pid_start);
    sqlite3_bind_int64(st, 9, created);
    r = store_step_done(s, st, err, "cannot insert a VM");
    return r == -EEXIST ? dh_error_set(err, -EEXIST, "a VM named '%s' exists already", v->name) : r;
}

int dh_store_vm_insert(struct dh_store *s, const struct dh_vm_record *v, struct dh_error *err)
{
    assert_return(s && v && v->name && v->spec && v->state, -EINVAL);
    return store_write(s, op_insert, (void *)v, err);
}

static int op_update(struct dh_store *s, void *userdata, struct dh_error *err)
{
    const struct dh_vm_record *v = userdata;
    sqlite3_stmt *st = NULL;
    int r = store_stmt(
            s, "UPDATE vms SET state = ?2, reason = ?3, accel = ?4, pid = ?5, pid_start = ?6 WHERE id = ?1",
            &st, err);
    if (r < 0)
        return r;
    store_bind_text(st, 1, v->id);
    store_bind_text(st, 2, v->state);
    store_bind_text(st, 3, v->reason);
    store_bind_text(st, 4, v->accel);
    sqlite3_bind_int64(st, 5, v->pid);
    sqlite3_bind_int64(st, 6, v->pid_start);
    r = store_step_done(s, st, err, "cannot update a VM");
    if (r == 0 && sqlite3_changes(s->db) == 0)
        return -ENOENT;
    return r;
}

int dh_store_vm_update(struct dh_store *s, const struct dh_vm_record *v, struct dh_error *err)
{
    assert_return(s && v && v->state, -EINVAL);
    return store_write(s, op_update, (void *)v, err);
}

static int op_set_devices(struct dh_store *s, void *userdata, struct dh_error *err)
{
    const struct dh_vm_record *v = userdata;
    sqlite3_stmt *st = NULL;
    int r = store_stmt(s, "DELETE FROM vm_devices WHERE vm_id = ?1", &st, err);
    if (r < 0)
        return r;
    store_bind_text(st, 1, v->id);
    r = store_step_done(s, st, err, "cannot delete VM devices");
    for (size_t i = 0; r == 0 && i < v->n_devices; i++) {
        const struct dh_vm_device_record *d = &v->devices[i];
        r = store_stmt(s,
                       "INSERT INTO vm_devices (vm_id, dev_id, address, claim_id, port, boot, hotplugged, "
                       "state, position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                       &st, err);
        if (r < 0)
            return r;
        store_bind_text(st, 1, v->id);
        store_bind_text(st, 2, d->dev_id);
        store_bind_text(st, 3, d->address);
        store_bind_text(st, 4, d->claim_id);
        store_bind_text(st, 5, d->port);
        sqlite3_bind_int(st, 6, d->boot);
        sqlite3_bind_int(st, 7, d->hotplugged);
        store_bind_text(st, 8, d->state);
        sqlite3_bind_int(st, 9, (int)i);
        r = store_step_done(s, st, err, "cannot insert a VM device");
    }
    return r;
}

int dh_store_vm_set_devices(struct dh_store *s, const struct dh_vm_record *v, struct dh_error *err)
{
    assert_return(s && v, -EINVAL);
    return store_write(s, op_set_devices, (void *)v, err);
}

static int op_delete(struct dh_store *s, void *userdata, struct dh_error *err)
{
    sqlite3_stmt *st = NULL;
    int r = store_stmt(s, "DELETE FROM vms WHERE id = ?1", &st, err);
    if (r < 0)
        return r;
    store_bind_text(st, 1, userdata);
    r = store_step_done(s, st, err, "cannot delete a VM");
    if (r == 0 && sqlite3_changes(s->db) == 0)
        return -ENOENT;
    return r;
}

int dh_store_vm_delete(struct dh_store *s, const char *id, struct dh_error *err)
{
    assert_return(s && id, -EINVAL);
    return store_write(s, op_delete, (void *)id, err);
}

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static int load_devices(struct dh_store *s, struct dh_vm_record *v, struct dh_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
            s->rdb,
            "SELECT dev_id, address, claim_id, port, boot, hotplugged, state FROM vm_devices"
            " WHERE vm_id = ?1 ORDER BY position",
            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_error(s, rc, err, "cannot prepare a VM device read");
    store_bind_text(st, 1, v->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct dh_vm_device_record *d = realloc(v->devices, (v->n_devices + 1) * sizeof(*d));
        if (!d) {
            sqlite3_finalize(st);
            return -ENOMEM;
        }
        v->devices = d;
        d = &v->devices[v->n_devices++];
        *d = (struct dh_vm_device_record){0};
        copy_col(d->dev_id, sizeof(d->dev_id), st, 0);
        copy_col(d->address, sizeof(d->address), st, 1);
        copy_col(d->claim_id, sizeof(d->claim_id), st, 2);
        copy_col(d->port, sizeof(d->port), st, 3);
        d->boot = sqlite3_column_int(st, 4) != 0;
        d->hotplugged = sqlite3_column_int(st, 5) != 0;
        copy_col(d->state, sizeof(d->state), st, 6);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : store_error(s, rc, err, "cannot read VM devices");
}

#define VM_COLUMNS "SELECT id, name, spec, state, reason, accel, pid, pid_start, created_usec FROM vms"

static int read_row(struct dh_store *s, sqlite3_stmt *st, struct dh_vm_record *v, struct dh_error *err)
{
    *v = (struct dh_vm_record){0};
    copy_col(v->id, sizeof(v->id), st, 0);
    v->name = store_column_text(st, 1);
    v->spec = store_column_text(st, 2);
    v->state = store_column_text(st, 3);
    v->reason = store_column_text(st, 4);
    v->accel = store_column_text(st, 5);
    v->pid = sqlite3_column_int64(st, 6);
    v->pid_start = sqlite3_column_int64(st, 7);
    v->created_usec = sqlite3_column_int64(st, 8);
    if (!v->name || !v->spec || !v->state)
        return dh_error_set(err, -EBADMSG, "state store %s: VM %s is corrupt", s->path, v->id);
    return load_devices(s, v, err);
}

int dh_store_vm_get(struct dh_store *s, const char *id, struct dh_vm_record *ret, struct dh_error *err)
{
    assert_return(s && id && ret, -EINVAL);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->rdb, VM_COLUMNS " WHERE id = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_error(s, rc, err, "cannot prepare a VM read");
    store_bind_text(st, 1, id);
    rc = sqlite3_step(st);
    int r;
    if (rc == SQLITE_ROW) {
        r = read_row(s, st, ret, err);
        if (r < 0)
            dh_vm_record_clear(ret);
    } else
        r = rc == SQLITE_DONE ? -ENOENT : store_error(s, rc, err, "cannot read a VM");
    sqlite3_finalize(st);
    return r;
}

int dh_store_vm_list(struct dh_store *s, struct dh_vm_record **ret, size_t *ret_n, struct dh_error *err)
{
    assert_return(s && ret && ret_n, -EINVAL);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->rdb, VM_COLUMNS " ORDER BY created_usec, id", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_error(s, rc, err, "cannot prepare a VM listing");
    struct dh_vm_record *v = NULL;
    size_t n = 0;
    int r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct dh_vm_record *nv = realloc(v, (n + 1) * sizeof(*v));
        if (!nv) {
            r = -ENOMEM;
            break;
        }
        v = nv;
        r = read_row(s, st, &v[n], err);
        n++;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = store_error(s, rc, err, "cannot list VMs");
    sqlite3_finalize(st);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            dh_vm_record_clear(&v[i]);
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}
