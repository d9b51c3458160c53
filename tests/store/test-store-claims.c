/* Claims in the store: round trip, double allocation refused by the database, idempotency keys,
 * group commit under concurrency, a failing write that does not take its batch down, and the
 * migration from schema 1. */
#include "test.h"

#include <pthread.h>
#include <sqlite3.h>

#include <dpuhost/store.h>

#include "fake_sysfs.h"
#include "store/store-internal.h"

struct fixture {
    struct fake_tree *tree;
    char path[512];
    struct dh_store *s;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->tree = fake_tree_new();
    snprintf(fx->path, sizeof(fx->path), "%s/state.db", fake_tree_root(fx->tree));
    struct dh_error err = {0};
    if (dh_store_open(fx->path, &fx->s, &err) < 0)
        fail_msg("%s", err.message);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    dh_store_close(fx->s);
    fake_tree_free(fx->tree);
    free(fx);
    return 0;
}

static struct dh_claim_record claim(const char *id, const char *owner, const char *key, const char *a1,
                                    const char *a2)
{
    static struct dh_claim_function fns[2];
    struct dh_claim_record c = {.owner = (char *)owner,
                                .pool = (char *)"vfs",
                                .key = (char *)key,
                                .request = (char *)"{\"pool\":\"vfs\"}",
                                .labels = (char *)"{\"vm\":\"a\"}",
                                .state = DH_CLAIM_CLAIMING,
                                .functions = fns,
                                .n_functions = a2 ? 2 : 1};
    snprintf(c.id, sizeof(c.id), "%s", id);
    fns[0] = (struct dh_claim_function){.bind = true};
    snprintf(fns[0].address, sizeof(fns[0].address), "%s", a1);
    if (a2) {
        fns[1] = (struct dh_claim_function){.bind = false};
        snprintf(fns[1].address, sizeof(fns[1].address), "%s", a2);
    }
    return c;
}

static void claim_round_trip(void **state)
{
    struct fixture *fx = *state;
    struct dh_claim_record c = claim("c-1", "vm-a", "k1", "0000:03:00.2", "0000:03:00.3");
    assert_int_equal(dh_store_claim_insert(fx->s, &c, NULL), 0);
    struct dh_claim_record out;
    assert_int_equal(dh_store_claim_get(fx->s, "c-1", &out, NULL), 0);
    assert_string_equal(out.owner, "vm-a");
    assert_string_equal(out.pool, "vfs");
    assert_string_equal(out.labels, "{\"vm\":\"a\"}");
    assert_int_equal(out.state, DH_CLAIM_CLAIMING);
    assert_int_equal(out.n_functions, 2);
    assert_string_equal(out.functions[0].address, "0000:03:00.2");
    assert_true(out.functions[0].bind);
    assert_false(out.functions[1].bind);
    dh_claim_record_clear(&out);
    assert_int_equal(dh_store_claim_set_state(fx->s, "c-1", DH_CLAIM_CLAIMED, NULL), 0);
    assert_int_equal(dh_store_claim_function_set_vanished(fx->s, "0000:03:00.3", true, NULL), 0);
    assert_int_equal(dh_store_claim_find(fx->s, "vm-a", "k1", &out, NULL), 0);
    assert_int_equal(out.state, DH_CLAIM_CLAIMED);
    assert_true(out.functions[1].vanished);
    dh_claim_record_clear(&out);
    assert_int_equal(dh_store_claim_find(fx->s, "vm-b", "k1", &out, NULL), -ENOENT);
    assert_int_equal(dh_store_claim_delete(fx->s, "c-1", NULL), 0);
    assert_int_equal(dh_store_claim_get(fx->s, "c-1", &out, NULL), -ENOENT);
    assert_int_equal(dh_store_claim_delete(fx->s, "c-1", NULL), -ENOENT);
    assert_int_equal(dh_store_claim_set_state(fx->s, "c-1", DH_CLAIM_CLAIMED, NULL), -ENOENT);
    /* its functions went with it: the address can be claimed again */
    struct dh_claim_record again = claim("c-2", "vm-b", "k2", "0000:03:00.2", NULL);
    assert_int_equal(dh_store_claim_insert(fx->s, &again, NULL), 0);
}

static void the_database_refuses_double_allocation(void **state)
{
    struct fixture *fx = *state;
    struct dh_claim_record a = claim("c-1", "vm-a", "k1", "0000:03:00.2", NULL);
    assert_int_equal(dh_store_claim_insert(fx->s, &a, NULL), 0);
    struct dh_claim_record b = claim("c-2", "vm-b", "k2", "0000:03:00.3", "0000:03:00.2");
    struct dh_error err = {0};
    assert_int_equal(dh_store_claim_insert(fx->s, &b, &err), -EEXIST);
    /* nothing of the failed claim remains: 03:00.3 is free, c-2 does not exist */
    struct dh_claim_record out;
    assert_int_equal(dh_store_claim_get(fx->s, "c-2", &out, NULL), -ENOENT);
    struct dh_claim_record c = claim("c-3", "vm-c", "k3", "0000:03:00.3", NULL);
    assert_int_equal(dh_store_claim_insert(fx->s, &c, NULL), 0);
    /* the same owner and key twice */
    struct dh_claim_record d = claim("c-4", "vm-a", "k1", "0000:03:00.4", NULL);
    assert_int_equal(dh_store_claim_insert(fx->s, &d, NULL), -EEXIST);
}

struct worker {
    struct dh_store *s;
    int id, n, failures;
};

static void *insert_many(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        char id[40], key[40], addr[32];
        snprintf(id, sizeof(id), "c-%d-%d", w->id, i);
        snprintf(key, sizeof(key), "k-%d-%d", w->id, i);
        snprintf(addr, sizeof(addr), "0000:%02x:%02x.%x", w->id, i >> 3, i & 7);
        struct dh_claim_function fn = {.bind = false};
        snprintf(fn.address, sizeof(fn.address), "%s", addr);
        struct dh_claim_record c = {.owner = (char *)"o",
                                    .key = key,
                                    .request = (char *)"{}",
                                    .state = DH_CLAIM_CLAIMED,
                                    .functions = &fn,
                                    .n_functions = 1};
        snprintf(c.id, sizeof(c.id), "%s", id);
        if (dh_store_claim_insert(w->s, &c, NULL) < 0)
            w->failures++;
    }
    return NULL;
}

static void concurrent_writers_share_commits(void **state)
{
    struct fixture *fx = *state;
    enum {
        THREADS = 16,
        EACH = 40
    };
    struct worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){fx->s, i + 1, EACH, 0};
        assert_int_equal(pthread_create(&t[i], NULL, insert_many, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(fx->s->ops, THREADS * EACH);
    /* group commit: concurrent writers were batched (the exact number depends on timing) */
    assert_true(fx->s->commits < fx->s->ops);
    struct dh_claim_record *v = NULL;
    size_t n = 0;
    assert_int_equal(dh_store_claim_list(fx->s, NULL, &v, &n, NULL), 0);
    assert_int_equal(n, THREADS * EACH);
    for (size_t i = 0; i < n; i++)
        dh_claim_record_clear(&v[i]);
    free(v);
}

static void list_filters_by_owner_oldest_first(void **state)
{
    struct fixture *fx = *state;
    struct dh_claim_record a = claim("c-a", "vm-a", "k1", "0000:03:00.2", NULL);
    a.created_usec = 2000;
    assert_int_equal(dh_store_claim_insert(fx->s, &a, NULL), 0);
    struct dh_claim_record b = claim("c-b", "vm-b", "k1", "0000:03:00.3", NULL);
    b.created_usec = 1000;
    assert_int_equal(dh_store_claim_insert(fx->s, &b, NULL), 0);
    struct dh_claim_record c = claim("c-c", "vm-a", "k2", "0000:03:00.4", NULL);
    c.created_usec = 3000;
    assert_int_equal(dh_store_claim_insert(fx->s, &c, NULL), 0);
    struct dh_claim_record *v = NULL;
    size_t n = 0;
    assert_int_equal(dh_store_claim_list(fx->s, NULL, &v, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].id, "c-b");
    for (size_t i = 0; i < n; i++)
        dh_claim_record_clear(&v[i]);
    free(v);
    assert_int_equal(dh_store_claim_list(fx->s, "vm-a", &v, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].id, "c-a");
    assert_string_equal(v[1].id, "c-c");
    for (size_t i = 0; i < n; i++)
        dh_claim_record_clear(&v[i]);
    free(v);
}

static void schema_1_is_migrated_with_its_records(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    char path[512];
    snprintf(path, sizeof(path), "%s/old.db", fake_tree_root(t));
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
            sqlite3_exec(db,
                         "CREATE TABLE bindings (address TEXT PRIMARY KEY NOT NULL, state TEXT NOT NULL,"
                         " original_driver TEXT, original_override TEXT, iommu_group INTEGER NOT NULL,"
                         " vf_valid INTEGER NOT NULL DEFAULT 0, vf_pf_ifname TEXT, vf_index INTEGER,"
                         " vf_mac TEXT, vf_vlan INTEGER, vf_qos INTEGER, vf_spoofchk INTEGER,"
                         " vf_trust INTEGER, created_usec INTEGER NOT NULL, owner_pid INTEGER NOT NULL);"
                         "INSERT INTO bindings VALUES ('0000:03:00.2', 'bound', 'mlx5_core', NULL, 14, 0,"
                         " NULL, 0, NULL, 0, 0, -1, -1, 1, 1);"
                         "PRAGMA user_version = 1;",
                         NULL, NULL, NULL),
            SQLITE_OK);
    sqlite3_close(db);
    struct dh_store *s = NULL;
    assert_int_equal(dh_store_open(path, &s, NULL), 0);
    assert_int_equal(dh_store_schema_version(s), DH_STORE_SCHEMA_VERSION);
    struct dh_binding_record rec;
    assert_int_equal(dh_store_binding_get(s, "0000:03:00.2", &rec, NULL), 0);
    assert_string_equal(rec.original_driver, "mlx5_core");
    dh_binding_record_clear(&rec);
    struct dh_claim_record c = claim("c-1", "vm-a", "k1", "0000:03:00.2", NULL);
    assert_int_equal(dh_store_claim_insert(s, &c, NULL), 0);
    dh_store_close(s);
    fake_tree_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(claim_round_trip, setup, teardown),
            DH_TEST_SETUP(the_database_refuses_double_allocation, setup, teardown),
            DH_TEST_SETUP(concurrent_writers_share_commits, setup, teardown),
            DH_TEST_SETUP(list_filters_by_owner_oldest_first, setup, teardown),
            DH_TEST(schema_1_is_migrated_with_its_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
