/* The state store: creation, migrations, binding records round trip, durability across a process
 * that dies without closing, refusal of newer schemas. */
#include "test.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dpuhost/store.h>

#include "fake_sysfs.h"

struct fixture {
    struct fake_tree *tree;
    char path[512];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->tree = fake_tree_new();
    snprintf(fx->path, sizeof(fx->path), "%s/state.db", fake_tree_root(fx->tree));
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    fake_tree_free(fx->tree);
    free(fx);
    return 0;
}

static struct dh_store *open_ok(const char *path)
{
    struct dh_store *s = NULL;
    struct dh_error err = {0};
    if (dh_store_open(path, &s, &err) < 0)
        fail_msg("dh_store_open: %s", err.message);
    return s;
}

static struct dh_binding_record sample(const char *addr)
{
    struct dh_binding_record r = {
            .state = DH_BINDING_BOUND,
            .original_driver = strdup("mlx5_core"),
            .original_override = NULL,
            .iommu_group = 14,
            .vf = {.valid = true,
                   .pf_ifname = strdup("ens1f0np0"),
                   .vf_index = 0,
                   .has_mac = true,
                   .mac = {0x02, 0, 0, 0, 0, 0x02},
                   .vlan = 100,
                   .qos = 3,
                   .spoofchk = 1,
                   .trust = -1},
    };
    snprintf(r.address, sizeof(r.address), "%s", addr);
    return r;
}

static void creates_a_private_database_at_the_current_schema(void **state)
{
    struct fixture *fx = *state;
    struct dh_store *s = open_ok(fx->path);
    assert_int_equal(dh_store_schema_version(s), DH_STORE_SCHEMA_VERSION);
    struct stat st;
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    dh_store_close(s);
    /* reopening does not migrate again */
    s = open_ok(fx->path);
    assert_int_equal(dh_store_schema_version(s), DH_STORE_SCHEMA_VERSION);
    dh_store_close(s);
}

static void binding_record_round_trip(void **state)
{
    struct fixture *fx = *state;
    struct dh_store *s = open_ok(fx->path);
    struct dh_binding_record in = sample("0000:03:00.2");
    assert_int_equal(dh_store_binding_put(s, &in, NULL), 0);
    struct dh_binding_record out;
    assert_int_equal(dh_store_binding_get(s, "0000:03:00.2", &out, NULL), 0);
    assert_string_equal(out.address, "0000:03:00.2");
    assert_int_equal(out.state, DH_BINDING_BOUND);
    assert_string_equal(out.original_driver, "mlx5_core");
    assert_null(out.original_override);
    assert_int_equal(out.iommu_group, 14);
    assert_true(out.vf.valid);
    assert_string_equal(out.vf.pf_ifname, "ens1f0np0");
    assert_int_equal(out.vf.vf_index, 0);
    assert_true(out.vf.has_mac);
    assert_memory_equal(out.vf.mac, in.vf.mac, 6);
    assert_int_equal(out.vf.vlan, 100);
    assert_int_equal(out.vf.qos, 3);
    assert_int_equal(out.vf.spoofchk, 1);
    assert_int_equal(out.vf.trust, -1);
    assert_int_equal(out.owner_pid, getpid());
    assert_true(out.created_usec > 0);
    dh_binding_record_clear(&out);

    /* replace: state moves on, override recorded */
    in.state = DH_BINDING_RESTORING;
    in.original_override = strdup("mlx5_core");
    assert_int_equal(dh_store_binding_put(s, &in, NULL), 0);
    assert_int_equal(dh_store_binding_get(s, "0000:03:00.2", &out, NULL), 0);
    assert_int_equal(out.state, DH_BINDING_RESTORING);
    assert_string_equal(out.original_override, "mlx5_core");
    dh_binding_record_clear(&out);
    dh_binding_record_clear(&in);
    dh_store_close(s);
}

static void list_is_ordered_and_delete_removes(void **state)
{
    struct fixture *fx = *state;
    struct dh_store *s = open_ok(fx->path);
    const char *addrs[] = {"0000:04:00.1", "0000:03:00.3", "0000:03:00.2"};
    for (size_t i = 0; i < 3; i++) {
        struct dh_binding_record r = sample(addrs[i]);
        assert_int_equal(dh_store_binding_put(s, &r, NULL), 0);
        dh_binding_record_clear(&r);
    }
    struct dh_binding_record *v = NULL;
    size_t n = 0;
    assert_int_equal(dh_store_binding_list(s, &v, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].address, "0000:03:00.2");
    assert_string_equal(v[2].address, "0000:04:00.1");
    for (size_t i = 0; i < n; i++)
        dh_binding_record_clear(&v[i]);
    free(v);
    assert_int_equal(dh_store_binding_delete(s, "0000:03:00.3", NULL), 0);
    assert_int_equal(dh_store_binding_delete(s, "0000:03:00.3", NULL), -ENOENT);
    struct dh_binding_record out;
    assert_int_equal(dh_store_binding_get(s, "0000:03:00.3", &out, NULL), -ENOENT);
    assert_int_equal(dh_store_binding_list(s, &v, &n, NULL), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        dh_binding_record_clear(&v[i]);
    free(v);
    dh_store_close(s);
}

static void a_write_survives_a_process_that_dies_without_closing(void **state)
{
    struct fixture *fx = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct dh_store *s = NULL;
        if (dh_store_open(fx->path, &s, NULL) < 0)
            _exit(1);
        struct dh_binding_record r = sample("0000:03:00.2");
        if (dh_store_binding_put(s, &r, NULL) < 0)
            _exit(2);
        _exit(0); /* no close, no checkpoint: only the WAL holds the commit */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    struct dh_store *s = open_ok(fx->path);
    struct dh_binding_record out;
    assert_int_equal(dh_store_binding_get(s, "0000:03:00.2", &out, NULL), 0);
    assert_string_equal(out.original_driver, "mlx5_core");
    assert_int_equal(out.owner_pid, pid);
    dh_binding_record_clear(&out);
    dh_store_close(s);
}

static void newer_schema_is_refused(void **state)
{
    struct fixture *fx = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct dh_store *s = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_store_open(fx->path, &s, &err), -EPROTONOSUPPORT);
    assert_null(s);
    assert_non_null(strstr(err.message, "schema version 99"));
}

static void unusable_paths_say_what_to_do(void **state)
{
    (void)state;
    struct dh_store *s = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_store_open("/nonexistent/dir/state.db", &s, &err), -ENOENT);
    assert_non_null(strstr(err.message, "/nonexistent/dir/state.db"));
    assert_non_null(strstr(err.message, "state directory"));
}

static void invalid_records_are_refused(void **state)
{
    struct fixture *fx = *state;
    struct dh_store *s = open_ok(fx->path);
    struct dh_binding_record r = {0};
    snprintf(r.address, sizeof(r.address), "bogus");
    assert_int_equal(dh_store_binding_put(s, &r, NULL), -EINVAL);
    dh_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(creates_a_private_database_at_the_current_schema, setup, teardown),
            DH_TEST_SETUP(binding_record_round_trip, setup, teardown),
            DH_TEST_SETUP(list_is_ordered_and_delete_removes, setup, teardown),
            DH_TEST_SETUP(a_write_survives_a_process_that_dies_without_closing, setup, teardown),
            DH_TEST_SETUP(newer_schema_is_refused, setup, teardown),
            DH_TEST(unusable_paths_say_what_to_do),
            DH_TEST_SETUP(invalid_records_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
