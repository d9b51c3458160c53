/* Binding records: the original driver, driver_override and VF admin settings of a function taken
 * for vfio-pci, written before the first change to the host. */
#include "store-internal.h"

#include "util/clock.h"
#include "util/macro.h"
#include "util/parse.h"

static const char *const state_names[] = {
        [DH_BINDING_BINDING] = "binding",
        [DH_BINDING_BOUND] = "bound",
        [DH_BINDING_RESTORING] = "restoring",
};

const char *dh_binding_state_to_string(enum dh_binding_state s)
{
    return (size_t)s < ELEMENTSOF(state_names) ? state_names[s] : NULL;
}

static int state_from_string(const char *s, enum dh_binding_state *ret)
{
    for (size_t i = 0; s && i < ELEMENTSOF(state_names); i++)
        if (streq(s, state_names[i])) {
            *ret = (enum dh_binding_state)i;
            return 0;
        }
    return -EBADMSG;
}

void dh_binding_record_clear(struct dh_binding_record *rec)
{
    if (!rec)
        return;
    free(rec->original_driver);
    free(rec->original_override);
    free(rec->vf.pf_ifname);
    *rec = (struct dh_binding_record){0};
}

static int op_put(struct dh_store *s, void *userdata, struct dh_error *err)
{
    const struct dh_binding_record *rec = userdata;
    static const char sql[] =
            "INSERT OR REPLACE INTO bindings (address, state, original_driver, original_override,"
            " iommu_group, vf_valid, vf_pf_ifname, vf_index, vf_mac, vf_vlan, vf_qos, vf_spoofchk,"
            " vf_trust, created_usec, owner_pid)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
    sqlite3_stmt *st = NULL;
    int r = store_stmt(s, sql, &st, err);
    if (r < 0)
        return r;
    char mac[18] = "";
    if (rec->vf.has_mac)
        dh_format_mac(rec->vf.mac, mac);
    int64_t created = rec->created_usec ? rec->created_usec : dh_realtime_usec();
    store_bind_text(st, 1, rec->address);
    store_bind_text(st, 2, dh_binding_state_to_string(rec->state));
    store_bind_text(st, 3, rec->original_driver);
    store_bind_text(st, 4, rec->original_override);
    sqlite3_bind_int(st, 5, rec->iommu_group);
    sqlite3_bind_int(st, 6, rec->vf.valid);
    store_bind_text(st, 7, rec->vf.valid ? rec->vf.pf_ifname : NULL);
    sqlite3_bind_int(st, 8, rec->vf.vf_index);
    store_bind_text(st, 9, rec->vf.has_mac ? mac : NULL);
    sqlite3_bind_int(st, 10, rec->vf.vlan);
    sqlite3_bind_int(st, 11, rec->vf.qos);
    sqlite3_bind_int(st, 12, rec->vf.spoofchk);
    sqlite3_bind_int(st, 13, rec->vf.trust);
    sqlite3_bind_int64(st, 14, created);
    sqlite3_bind_int64(st, 15, rec->owner_pid ? rec->owner_pid : (int64_t)getpid());
    return store_step_done(s, st, err, "cannot write the binding record");
}

int dh_store_binding_put(struct dh_store *s, const struct dh_binding_record *rec, struct dh_error *err)
{
    assert_return(s && rec && dh_pci_addr_is_valid(rec->address), -EINVAL);
    return store_write(s, op_put, (void *)rec, err);
}

static int read_row(sqlite3_stmt *st, struct dh_binding_record *rec)
{
    *rec = (struct dh_binding_record){0};
    const unsigned char *addr = sqlite3_column_text(st, 0);
    if (!addr || !dh_pci_addr_is_valid((const char *)addr))
        return -EBADMSG;
    snprintf(rec->address, sizeof(rec->address), "%s", (const char *)addr);
    if (state_from_string((const char *)sqlite3_column_text(st, 1), &rec->state) < 0)
        return -EBADMSG;
    rec->original_driver = store_column_text(st, 2);
    rec->original_override = store_column_text(st, 3);
    rec->iommu_group = sqlite3_column_int(st, 4);
    rec->vf.valid = sqlite3_column_int(st, 5) != 0;
    rec->vf.pf_ifname = store_column_text(st, 6);
    rec->vf.vf_index = sqlite3_column_int(st, 7);
    const unsigned char *mac = sqlite3_column_text(st, 8);
    if (mac && dh_parse_mac((const char *)mac, rec->vf.mac) == 0)
        rec->vf.has_mac = true;
    rec->vf.vlan = sqlite3_column_int(st, 9);
    rec->vf.qos = sqlite3_column_int(st, 10);
    rec->vf.spoofchk = sqlite3_column_int(st, 11);
    rec->vf.trust = sqlite3_column_int(st, 12);
    rec->created_usec = sqlite3_column_int64(st, 13);
    rec->owner_pid = sqlite3_column_int64(st, 14);
    return 0;
}

#define SELECT_COLUMNS                                                                                \
    "SELECT address, state, original_driver, original_override, iommu_group, vf_valid, vf_pf_ifname," \
    " vf_index, vf_mac, vf_vlan, vf_qos, vf_spoofchk, vf_trust, created_usec, owner_pid FROM bindings"

int dh_store_binding_get(struct dh_store *s, const char *address, struct dh_binding_record *ret,
                         struct dh_error *err)
{
    assert_return(s && address && ret, -EINVAL);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->rdb, SELECT_COLUMNS " WHERE address = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_error(s, rc, err, "cannot prepare a binding read");
    sqlite3_bind_text(st, 1, address, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    int r;
    if (rc == SQLITE_ROW) {
        r = read_row(st, ret);
        if (r < 0) {
            dh_binding_record_clear(ret);
            r = dh_error_set(err, r, "state store %s: the binding record of %s is corrupt", s->path, address);
        }
    } else if (rc == SQLITE_DONE)
        r = -ENOENT;
    else
        r = store_error(s, rc, err, "cannot read a binding record");
    sqlite3_finalize(st);
    return r;
}

static int op_delete(struct dh_store *s, void *userdata, struct dh_error *err)
{
    const char *address = userdata;
    sqlite3_stmt *st = NULL;
    int r = store_stmt(s, "DELETE FROM bindings WHERE address = ?1", &st, err);
    if (r < 0)
        return r;
    store_bind_text(st, 1, address);
    r = store_step_done(s, st, err, "cannot delete a binding record");
    if (r < 0)
        return r;
    return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int dh_store_binding_delete(struct dh_store *s, const char *address, struct dh_error *err)
{
    assert_return(s && address, -EINVAL);
    return store_write(s, op_delete, (void *)address, err);
}

int dh_store_binding_list(struct dh_store *s, struct dh_binding_record **ret, size_t *ret_n,
                          struct dh_error *err)
{
    assert_return(s && ret && ret_n, -EINVAL);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->rdb, SELECT_COLUMNS " ORDER BY address", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_error(s, rc, err, "cannot prepare a binding listing");
    struct dh_binding_record *v = NULL;
    size_t n = 0;
    int r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct dh_binding_record *nv = realloc(v, (n + 1) * sizeof(*v));
        if (!nv) {
            r = -ENOMEM;
            break;
        }
        v = nv;
        if (read_row(st, &v[n]) < 0) {
            dh_binding_record_clear(&v[n]);
            continue; /* a corrupt row is skipped, not fatal for the listing */
        }
        n++;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_error(s, rc, err, "cannot list binding records");
    sqlite3_finalize(st);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            dh_binding_record_clear(&v[i]);
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}
