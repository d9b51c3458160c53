/* dpuhost vm against a running dpuhostd (the simulator build) whose QEMU is the stand-in
 * tests/vm/fake-qemu: create, list, show, attach, detach (acknowledged and pending), reset, stop,
 * start, delete, --spec files, the events the CLI prints, and bad input that exits 2 and changes
 * nothing. The functions' drivers are checked in the fake tree, not taken from the CLI's word. */
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

#include "dkit.h"
#include "util/macro.h"
#include "run.h"

static struct dkit *k;

#define CLI(...) dkit_cli(k, false, (const char *const[]){__VA_ARGS__, NULL})
#define expect dkit_expect_run

/* `dpuhost --json vm show NAME`, parsed */
static json_t *show(const char *name)
{
    struct run_result r = CLI("--json", "vm", "show", name);
    expect(&r, 0, NULL, NULL);
    json_t *doc = json_loads(r.out, 0, NULL);
    run_result_free(&r);
    assert_non_null(doc);
    return doc;
}

static const char *device_field(json_t *vm, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(vm, "devices"), i), key));
}

static void start_daemon(const char *unplug)
{
    struct dkit_options o = {.config_extra = "\"vms\": {\"qemu\": \"" FAKE_QEMU_PATH
                                             "\", \"unplug_timeout_ms\": 300, "
                                             "\"stop_timeout_ms\": 2000}"};
    if (unplug)
        setenv("FAKE_QEMU_UNPLUG", unplug, 1);
    else
        unsetenv("FAKE_QEMU_UNPLUG");
    k = dkit_new(&o);
    assert_int_equal(dkit_start(k, DKIT_SIM, NULL), 0);
}

static int teardown(void **state)
{
    (void)state;
    /* QEMUs outlive dpuhostd by design: delete the VMs first */
    json_t *list = dkit_expect(k, "GET", "/v1/vms", NULL, 200);
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(list, "vms"), i, v) {
        char path[96];
        snprintf(path, sizeof(path), "/v1/vms/%s", json_string_value(json_object_get(v, "id")));
        struct dreply r = dkit_call(k, "DELETE", path, NULL);
        dreply_free(&r);
    }
    json_decref(list);
    dkit_free(k);
    unsetenv("FAKE_QEMU_UNPLUG");
    return 0;
}

static void lifecycle(void **state)
{
    (void)state;
    start_daemon(NULL);
    char drv[64];
    struct run_result r = CLI("vm", "create", "web", "--vcpus", "2", "--memory", "256", "--device",
                              "pool=vfs", "--hotplug-slots", "1", "--env", "IP=192.0.2.10/24");
    expect(&r, 0, "running", NULL);
    assert_non_null(strstr(r.out, "NAME"));
    assert_non_null(strstr(r.out, "dev0=0000:03:00."));
    run_result_free(&r);

    json_t *vm = show("web");
    assert_string_equal(json_string_value(json_object_get(vm, "state")), "running");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(vm, "spec"), "vcpus")), 2);
    char dev0[32];
    snprintf(dev0, sizeof(dev0), "%s", device_field(vm, 0, "address"));
    json_decref(vm);
    assert_string_equal(dkit_driver(k, dev0, drv, sizeof(drv)), "vfio-pci");

    r = CLI("vm", "list");
    expect(&r, 0, "web", NULL);
    assert_non_null(strstr(r.out, "STATE"));
    run_result_free(&r);

    /* hot-plug, then an acknowledged unplug gives the function back */
    r = CLI("--json", "vm", "attach", "web", "--pool", "vfs");
    expect(&r, 0, "\"hp0\"", NULL);
    json_t *d = json_loads(r.out, 0, NULL);
    run_result_free(&r);
    char hp0[32];
    snprintf(hp0, sizeof(hp0), "%s", json_string_value(json_object_get(d, "address")));
    json_decref(d);
    assert_string_equal(dkit_driver(k, hp0, drv, sizeof(drv)), "vfio-pci");
    r = CLI("vm", "detach", "web", "hp0");
    expect(&r, 0, "detached", NULL);
    run_result_free(&r);
    assert_string_equal(dkit_driver(k, hp0, drv, sizeof(drv)), "mlx5_core");

    r = CLI("vm", "stop", "web", "--force");
    expect(&r, 0, "stopped", NULL);
    run_result_free(&r);
    assert_string_equal(dkit_driver(k, dev0, drv, sizeof(drv)), "mlx5_core");
    r = CLI("vm", "start", "web");
    expect(&r, 0, "running", NULL);
    run_result_free(&r);
    r = CLI("vm", "delete", "web");
    expect(&r, 0, "web", NULL);
    run_result_free(&r);
    r = CLI("vm", "show", "web");
    expect(&r, 1, NULL, "does not exist");
    run_result_free(&r);
    struct dreply c = dkit_call(k, "GET", "/v1/claims?owner=vm:web", NULL);
    assert_int_equal(c.status, 200);
    assert_int_equal(json_array_size(json_object_get(c.doc, "claims")), 0);
    dreply_free(&c);
}

static void a_pending_unplug_and_a_reset(void **state)
{
    (void)state;
    start_daemon("never"); /* the stand-in never acknowledges, like a guest still in firmware */
    struct run_result r = CLI("vm", "create", "fw", "--device", "pool=vfs");
    expect(&r, 0, "running", NULL);
    run_result_free(&r);
    json_t *vm = show("fw");
    char dev0[32], drv[64];
    snprintf(dev0, sizeof(dev0), "%s", device_field(vm, 0, "address"));
    json_decref(vm);
    r = CLI("vm", "detach", "fw", "dev0");
    expect(&r, 0, "unplug_pending", NULL);
    run_result_free(&r);
    /* still QEMU's: not given back */
    assert_string_equal(dkit_driver(k, dev0, drv, sizeof(drv)), "vfio-pci");
    r = CLI("vm", "reset", "fw");
    expect(&r, 0, "running", NULL);
    run_result_free(&r);
    vm = show("fw");
    assert_int_equal(json_array_size(json_object_get(vm, "devices")), 0);
    json_decref(vm);
    assert_string_equal(dkit_driver(k, dev0, drv, sizeof(drv)), "mlx5_core");
}

static void a_spec_file(void **state)
{
    (void)state;
    start_daemon(NULL);
    char path[600];
    snprintf(path, sizeof(path), "%s/db.json", k->work);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"name\": \"db\", \"memory_mib\": 128, \"pci_devices\": [{\"pool\": \"vfs\"}, {\"pool\": "
          "\"vfs\"}]}",
          f);
    fclose(f);
    struct run_result r = CLI("--json", "vm", "create", "--spec", path, "--no-start");
    expect(&r, 0, "\"stopped\"", NULL);
    run_result_free(&r);
    r = CLI("vm", "create", "--spec", path);
    expect(&r, 1, NULL, "db"); /* exists already */
    run_result_free(&r);
    r = CLI("vm", "start", "db");
    expect(&r, 0, "running", NULL);
    run_result_free(&r);
    json_t *vm = show("db");
    assert_int_equal(json_array_size(json_object_get(vm, "devices")), 2);
    json_decref(vm);
}

static void bad_input_exits_2_and_changes_nothing(void **state)
{
    (void)state;
    start_daemon(NULL);
    const char *const cases[][8] = {
            {"vm", NULL},
            {"vm", "frobnicate", NULL},
            {"vm", "create", NULL},
            {"vm", "create", "x", "--vcpus", "0", NULL},
            {"vm", "create", "x", "--memory", "lots", NULL},
            {"vm", "create", "x", "--device", "pool=", NULL},
            {"vm", "create", "x", "--device", "address=03:00.2", NULL},
            {"vm", "create", "x", "--device", "pool=vfs,address=0000:03:00.2", NULL},
            {"vm", "create", "x", "--device", "pool=vfs,bootable", NULL},
            {"vm", "create", "x", "--env", "=1", NULL},
            {"vm", "create", "x", "--spec", "/nonexistent.json", NULL},
            {"vm", "attach", "x", NULL},
            {"vm", "attach", "x", "--pool", "vfs", "--address", "0000:03:00.2", NULL},
            {"vm", "detach", "x", NULL},
            {"vm", "start", "x", "--force", NULL},
            {"vm", "show", NULL},
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        struct run_result r = dkit_cli(k, false, cases[i]);
        if (r.status != 2 || !*r.err)
            fail_msg("case %zu (%s %s): expected exit 2 with a message, got %d: %s", i, cases[i][1],
                     cases[i][2] ? cases[i][2] : "", r.status, r.err);
        run_result_free(&r);
    }
    /* the daemon's refusals: invalid (2) and unknown pool (1), with its message */
    struct run_result r = CLI("vm", "create", "x", "--vcpus", "2", "--accel", "warp");
    expect(&r, 2, NULL, "accel");
    run_result_free(&r);
    r = CLI("vm", "create", "x", "--device", "pool=gold");
    expect(&r, 1, NULL, "gold");
    run_result_free(&r);
    json_t *list = dkit_expect(k, "GET", "/v1/vms", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(list, "vms")), 0);
    json_decref(list);
    json_t *claims = dkit_expect(k, "GET", "/v1/claims", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(claims, "claims")), 0);
    json_decref(claims);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(lifecycle, teardown),
            cmocka_unit_test_teardown(a_pending_unplug_and_a_reset, teardown),
            cmocka_unit_test_teardown(a_spec_file, teardown),
            cmocka_unit_test_teardown(bad_input_exits_2_and_changes_nothing, teardown),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return r;
}
