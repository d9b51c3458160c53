/* The dpuhost binary's inventory commands on fake trees: exit statuses, text and JSON output, bad
 * input, and the promise that they never write anything. */
#include "test.h"

#include <jansson.h>

#include "hosts.h"
#include "run.h"
#include "tree_digest.h"

static const char *dpuhost_bin;

struct fixture {
    struct fake_tree *tree;
    uint64_t digest;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->tree = host_bluefield();
    fx->digest = tree_digest(fake_tree_root(fx->tree));
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    /* whatever the test ran, the tree is untouched */
    uint64_t before = fx->digest, after = tree_digest(fake_tree_root(fx->tree));
    fake_tree_free(fx->tree);
    free(fx);
    if (after != before) {
        fprintf(stderr, "the fake tree changed under a read-only command\n");
        return -1;
    }
    return 0;
}

/* Runs dpuhost with up to 8 arguments (NULL-terminated list). */
static struct run_result dh(const char *a0, ...)
{
    char *argv[16] = {(char *)dpuhost_bin};
    int i = 1;
    va_list ap;
    va_start(ap, a0);
    for (const char *a = a0; a && i < 15; a = va_arg(ap, const char *))
        argv[i++] = (char *)a;
    va_end(ap);
    argv[i] = NULL;
    struct run_result r;
    if (run_capture(argv, NULL, &r) < 0)
        fail_msg("cannot run %s", dpuhost_bin);
    return r;
}

static const char *root(void **state)
{
    return fake_tree_root(((struct fixture *)*state)->tree);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void functions_table_lists_every_function(void **state)
{
    struct run_result r = dh("--root", root(state), "functions", NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out), 12); /* header + 11 functions */
    assert_non_null(strstr(r.out, "ADDRESS"));
    const char *line = strstr(r.out, "0000:03:00.2 ");
    assert_non_null(line);
    char row[256];
    snprintf(row, sizeof(row), "%.*s", (int)strcspn(line, "\n"), line);
    assert_non_null(strstr(row, " vf "));
    assert_non_null(strstr(row, " 15b3:101e "));
    assert_non_null(strstr(row, " mlx5_core "));
    assert_non_null(strstr(row, " ens1f0v0 "));
    assert_non_null(strstr(r.out, "mlx5_core.sf.4"));
    assert_non_null(strstr(r.out, BF_SERIAL));
    assert_string_equal(r.err, "");
    run_result_free(&r);
}

static void functions_json_is_the_contract_document(void **state)
{
    struct run_result r = dh("functions", "--json", "--root", root(state), "--kind", "vf", NULL);
    assert_int_equal(r.status, 0);
    json_error_t jerr;
    json_t *doc = json_loads(r.out, 0, &jerr);
    if (!doc)
        fail_msg("not JSON: %s", jerr.text);
    json_t *funcs = json_object_get(doc, "functions");
    assert_int_equal(json_array_size(funcs), 4);
    json_t *f = json_array_get(funcs, 0);
    assert_string_equal(json_string_value(json_object_get(f, "address")), "0000:03:00.2");
    assert_int_equal(json_integer_value(json_object_get(f, "vf_index")), 0);
    json_decref(doc);
    run_result_free(&r);
}

static void filters_combine(void **state)
{
    struct run_result r =
            dh("--root", root(state), "functions", "--vendor", "0x15b3", "--driver", "none", NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out), 2);
    assert_non_null(strstr(r.out, "0000:03:00.3"));
    run_result_free(&r);
}

static void show_prints_every_field(void **state)
{
    struct run_result r = dh("--root", root(state), "show", "0000:04:00.0", NULL);
    assert_int_equal(r.status, 0);
    static const char *const want[] = {"address: 0000:04:00.0", "kind: pf",
                                       "class_name: nvme",      "driver: nvme",
                                       "iommu_group: 20",       "numa_node: 1",
                                       "  total_vfs: 4",        "  drivers_autoprobe: no",
                                       "  controller: nvme0",   "  namespaces: nvme0n1,nvme0n2",
                                       "vpd_error: -"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(r.out, want[i]))
            fail_msg("show output lacks '%s':\n%s", want[i], r.out);
    run_result_free(&r);
    r = dh("--root", root(state), "show", "mlx5_core.sf.4", "--json", NULL);
    assert_int_equal(r.status, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(doc, "sf_num")), 88);
    json_decref(doc);
    run_result_free(&r);
}

static void cards_text_and_json(void **state)
{
    struct run_result r = dh("--root", root(state), "cards", NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out), 2);
    assert_non_null(strstr(r.out, BF_SERIAL "  " BF_PART "  " BF_NAME "  0000:03:00.0,0000:03:00.1  2    1"));
    run_result_free(&r);
    r = dh("--root", root(state), "--json", "cards", NULL);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(doc, "cards")), 1);
    json_decref(doc);
    run_result_free(&r);
}

static void malformed_address_is_exit_2(void **state)
{
    static const char *const bad[] = {"03:00.0", "0000:03:00.8", "0000:03:00.0x", "../etc", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct run_result r = dh("--root", root(state), "show", bad[i], NULL);
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, "malformed address"));
        assert_non_null(strstr(r.err, "DDDD:BB:DD.F"));
        assert_string_equal(r.out, "");
        run_result_free(&r);
    }
}

static void unknown_address_is_exit_1(void **state)
{
    struct run_result r = dh("--root", root(state), "show", "0000:99:00.0", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "no function 0000:99:00.0"));
    run_result_free(&r);
}

static void unusable_roots_are_exit_2(void **state)
{
    struct run_result r = dh("--root", "/nonexistent/root", "functions", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "/nonexistent/root"));
    run_result_free(&r);

    char path[512];
    snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers_probe", root(state));
    r = dh("--root", path, "functions", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "not a directory"));
    run_result_free(&r);

    snprintf(path, sizeof(path), "%s/sys/bus", root(state)); /* a directory without sys/ */
    r = dh("--root", path, "cards", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "no sys/"));
    run_result_free(&r);

    r = dh("--root", NULL);
    assert_int_equal(r.status, 2);
    run_result_free(&r);
}

static void root_without_pci_sysfs_is_exit_2(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    fake_remove(t, "sys/bus/pci");
    struct run_result r = dh("--root", fake_tree_root(t), "functions", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "sys/bus/pci/devices"));
    run_result_free(&r);
    fake_tree_free(t);
}

static void environment_sets_the_root(void **state)
{
    char env[600];
    snprintf(env, sizeof(env), "DPUHOST_ROOT=%s", root(state));
    char *argv[] = {(char *)dpuhost_bin, "functions", "--kind", "sf", NULL};
    char *envp[] = {env, NULL};
    struct run_result r;
    assert_int_equal(run_capture(argv, envp, &r), 0);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "mlx5_core.sf.4"));
    run_result_free(&r);
}

static void usage_errors_are_exit_2(void **state)
{
    struct run_result r = dh("--root", root(state), "functions", "--kind", "bridge", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "unknown kind 'bridge'"));
    run_result_free(&r);
    r = dh("--root", root(state), "functions", "--bogus", NULL);
    assert_int_equal(r.status, 2);
    run_result_free(&r);
    r = dh("--root", root(state), "functions", "extra", NULL);
    assert_int_equal(r.status, 2);
    run_result_free(&r);
    r = dh("frobnicate", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "unknown command"));
    run_result_free(&r);
    r = dh("--root", root(state), "show", NULL);
    assert_int_equal(r.status, 2);
    run_result_free(&r);
    r = dh("--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "functions"));
    run_result_free(&r);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-DPUHOST\n", argv[0]);
        return 2;
    }
    dpuhost_bin = argv[1];
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(functions_table_lists_every_function, setup, teardown),
            DH_TEST_SETUP(functions_json_is_the_contract_document, setup, teardown),
            DH_TEST_SETUP(filters_combine, setup, teardown),
            DH_TEST_SETUP(show_prints_every_field, setup, teardown),
            DH_TEST_SETUP(cards_text_and_json, setup, teardown),
            DH_TEST_SETUP(malformed_address_is_exit_2, setup, teardown),
            DH_TEST_SETUP(unknown_address_is_exit_1, setup, teardown),
            DH_TEST_SETUP(unusable_roots_are_exit_2, setup, teardown),
            DH_TEST_SETUP(root_without_pci_sysfs_is_exit_2, setup, teardown),
            DH_TEST_SETUP(environment_sets_the_root, setup, teardown),
            DH_TEST_SETUP(usage_errors_are_exit_2, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
