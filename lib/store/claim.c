/* Claims in the state store: a claim row plus one row per function. Every write is one transaction
 * (committed durably before the call returns). */
#include "store-internal.h"

#include "util/clock.h"
#include "util/macro.h"

static const char *const state_names[] = {
        [DH_CLAIM_CLAIMING] = "claiming",
        [DH_CLAIM_CLAIMED] = "claimed",
        [DH_CLAIM_RELEASING] = "releasing",
};

const char *dh_claim_state_to_string(enum dh_claim_state s)
{
    return (size_t)s < ELEMENTSOF(state_names) ? state_names[s] : NULL;
}

static int state_from_string(const char *s, enum dh_claim_state *ret)
{
    for (size_t i = 0; s && i < ELEMENTSOF(state_names); i++)
        if (streq(s, state_names[i])) {
            *ret = (enum dh_claim_state)i;
            return 0;
        }
    return -EBADMSG;
}

void dh_claim_record_clear(struct dh_claim_record *c)
{
    if (!c)
        return;
    free(c->owner);
    free(c->pool);
    free(c->key);
    free(c->request);
    free(c->labels);
    free(c->functions);
    *c = (struct dh_claim_record){0};
}

static int op_insert(struct dh_store *s, void *userdata, struct dh_error *err)
{
    const struct dh_claim_record *c = userdata;
    sqlite3_stmt *st = NULL;
    int r = store_stmt(s,
                       "INSERT INTO claims (id, owner, pool, key, request, labels, state, created_usec)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                       &st, err);
    if (r < 0)
        return r;
    int64_t created = c->created_usec ? c->created_usec : dh_realtime_usec();
    store_bind_text(st, 1, c->id);
    store_bind_text(st, 2, c->owner);
    store_bind_text(st, 3, c->pool);
    store_bind_text(st, 4, c->key);
    store_bind_text(st, 5, c->request);
    store_bind_text(st, 6, c->labels ? c->labels : "{}");
    store_bind_text(st, 7, dh_claim_state_to_string(c->state));
    sqlite3_bind_int64(st, 8, created);
    r = store_step_done(s, st, err, "cannot insert a claim");
    for (size_t i = 0; r == 0 && i < c->n_functions; i++) {
        r = store_stmt(s,
                       "INSERT INTO claim_functions (address, claim_id, position, bind, vanished)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)",
                       &st, err);
        if (r < 0)
            return r;
        store_bind_text(st, 1, c->functions[i].address);
        store_bind_text(st, 2, c->id);
        sqlite3_bind_int(st, 3, (int)i);
        sqlite3_bind_int(st, 4, c->functions[i].bind);
        sqlite3_bind_int(st, 5, c->functions[i].vanished);
        r = store_step_done(s, st, err, "cannot insert a claim function");
    }
    if (r == -EEXIST)
        return dh_error_set(err, -EEXIST, "claim %s: a function is claimed already, or the request exists",
                            c->id);
    return r;
}

int dh_store_claim_insert(struct dh_store *s, const struct dh_claim_record *c, struct dh_error *err)
{
    assert_return(s && c && c->owner && c->key && c->request, -EINVAL);
    return store_write(s, op_insert, (void *)c, err);
}

struct state_change {
    const char *id;
    enum dh_claim_state state;
};

static int op_set_state(struct dh_store *s, void *userdata, struct dh_error *err)
{
    const struct state_change *c = userdata;
    sqlite3_stmt *st = NULL;
    int r = store_stmt(s, "UPDATE claims SET state = ?2 WHERE id = ?1", &st, err);
    if (r < 0)
        return r;
    store_bind_text(st, 1, c->id);
    store_bind_text(st, 2, dh_claim_state_to_string(c->state));
    r = store_step_done(s, st, err, "cannot update a claim");
    if (r == 0 && sqlite3_changes(s->db) == 0)
        return -ENOENT;
    return r;
}

int dh_store_claim_set_state(struct dh_store *s, const char *id, enum dh_claim_state state,
                             struct dh_error *err)
{
    assert_return(s && id, -EINVAL);
    struct state_change c = {id, state};
    return store_write(s, op_set_state, &c, err);
}

static int op_delete(struct dh_store *s, void *userdata, struct dh_error *err)
{
    sqlite3_stmt *st = NULL;
    int r = store_stmt(s, "DELETE FROM claims WHERE id = ?1", &st, err);
    if (r < 0)
        return r;
    store_bind_text(st, 1, userdata);
    r = store_step_done(s, st, err, "cannot delete a claim");
    if (r == 0 && sqlite3_changes(s->db) == 0)
        return -ENOENT;
    return r;
}

int dh_store_claim_delete(struct dh_store *s, const char *id, struct dh_error *err)
{
    assert_return(s && id, -EINVAL);
    return store_write(s, op_delete, (void *)id, err);
}

struct vanish {
    const char *address;
    bool vanished;
};

static int op_set_vanished(struct dh_store *s, void *userdata, struct dh_error *err)
{
    const struct vanish *v = userdata;
    sqlite3_stmt *st = NULL;
    int r = store_stmt(s, "UPDATE claim_functions SET vanished = ?2 WHERE address = ?1", &st, err);
    if (r < 0)
        return r;
    store_bind_text(st, 1, v->address);
    sqlite3_bind_int(st, 2, v->vanished);
    return store_step_done(s, st, err, "cannot update a claim function");
}

int dh_store_claim_function_set_vanished(struct dh_store *s, const char *address, bool vanished,
                                         struct dh_error *err)
{
    assert_return(s && address, -EINVAL);
    struct vanish v = {address, vanished};
    return store_write(s, op_set_vanished, &v, err);
}

static int load_functions(struct dh_store *s, struct dh_claim_record *c, struct dh_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
            s->rdb,
            "SELECT address, bind, vanished FROM claim_functions WHERE claim_id = ?1 ORDER BY "
            "position",
            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_error(s, rc, err, "cannot prepare a claim function read");
    store_bind_text(st, 1, c->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct dh_claim_function *v = realloc(c->functions, (c->n_functions + 1) * sizeof(*v));
        if (!v) {
            sqlite3_finalize(st);
            return -ENOMEM;
        }
        c->functions = v;
        struct dh_claim_function *f = &v[c->n_functions++];
        *f = (struct dh_claim_function){0};
        snprintf(f->address, sizeof(f->address), "%s", (const char *)sqlite3_column_text(st, 0));
        f->bind = sqlite3_column_int(st, 1) != 0;
        f->vanished = sqlite3_column_int(st, 2) != 0;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : store_error(s, rc, err, "cannot read claim functions");
}

static int read_row(struct dh_store *s, sqlite3_stmt *st, struct dh_claim_record *c, struct dh_error *err)
{
    *c = (struct dh_claim_record){0};
    const unsigned char *id = sqlite3_column_text(st, 0);
    snprintf(c->id, sizeof(c->id), "%s", id ? (const char *)id : "");
    c->owner = store_column_text(st, 1);
    c->pool = store_column_text(st, 2);
    c->key = store_column_text(st, 3);
    c->request = store_column_text(st, 4);
    c->labels = store_column_text(st, 5);
    c->created_usec = sqlite3_column_int64(st, 7);
    if (state_from_string((const char *)sqlite3_column_text(st, 6), &c->state) < 0 || !c->owner || !c->key)
        return dh_error_set(err, -EBADMSG, "state store %s: claim %s is corrupt", s->path, c->id);
    return load_functions(s, c, err);
}

#define CLAIM_COLUMNS "SELECT id, owner, pool, key, request, labels, state, created_usec FROM claims"

static int get_one(struct dh_store *s, const char *sql, const char *a, const char *b,
                   struct dh_claim_record *ret, struct dh_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->rdb, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_error(s, rc, err, "cannot prepare a claim read");
    store_bind_text(st, 1, a);
    if (b)
        store_bind_text(st, 2, b);
    rc = sqlite3_step(st);
    int r;
    if (rc == SQLITE_ROW) {
        r = read_row(s, st, ret, err);
        if (r < 0)
            dh_claim_record_clear(ret);
    } else
        r = rc == SQLITE_DONE ? -ENOENT : store_error(s, rc, err, "cannot read a claim");
    sqlite3_finalize(st);
    return r;
}

int dh_store_claim_get(struct dh_store *s, const char *id, struct dh_claim_record *ret, struct dh_error *err)
{
    assert_return(s && id && ret, -EINVAL);
    return get_one(s, CLAIM_COLUMNS " WHERE id = ?1", id, NULL, ret, err);
}

int dh_store_claim_find(struct dh_store *s, const char *owner, const char *key, struct dh_claim_record *ret,
                        struct dh_error *err)
{
    assert_return(s && owner && key && ret, -EINVAL);
    return get_one(s, CLAIM_COLUMNS " WHERE owner = ?1 AND key = ?2", owner, key, ret, err);
}

int dh_store_claim_list(struct dh_store *s, const char *owner, struct dh_claim_record **ret, size_t *ret_n,
                        struct dh_error *err)
{
    assert_return(s && ret && ret_n, -EINVAL);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->rdb,
                                owner ? CLAIM_COLUMNS " WHERE owner = ?1 ORDER BY created_usec, id"
                                      : CLAIM_COLUMNS " ORDER BY created_usec, id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_error(s, rc, err, "cannot prepare a claim listing");
    if (owner)
        store_bind_text(st, 1, owner);
    struct dh_claim_record *v = NULL;
    size_t n = 0;
    int r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct dh_claim_record *nv = realloc(v, (n + 1) * sizeof(*v));
        if (!nv) {
            r = -ENOMEM;
            break;
        }
        v = nv;
        r = read_row(s, st, &v[n], err);
        n++;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = store_error(s, rc, err, "cannot list claims");
    sqlite3_finalize(st);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            dh_claim_record_clear(&v[i]);
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}
