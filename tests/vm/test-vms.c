/* The VM manager against a stand-in QEMU (fake-qemu.c) and the kernel simulator: create and start
 * with functions claimed and bound, hot-plug, acknowledged and pending hot-unplug (completed by a
 * reset), ACPI and forced stop, a crash, a failed start rolled back, validation, and re-attaching
 * after dpuhostd restarts. Functions go back to the host only when QEMU no longer has them. */
#include "test.h"

#include <signal.h>
#include <time.h>

#include <dpuhost/vm.h>

#include "claimhost.h"

static const char *fake_qemu;

struct fixture {
    struct claimhost *c;
    struct dh_vms *vms;
    char vm_dir[512];
};

static struct dh_vms *new_vms(struct fixture *fx)
{
    struct dh_vms_options o = {.host = fx->c->host,
                               .store = fx->c->store,
                               .config = fx->c->config,
                               .pools = fx->c->pools,
                               .qemu_binary = fake_qemu,
                               .vm_dir = fx->vm_dir,
                               .start_timeout_ms = 5000,
                               .stop_timeout_ms = 2000,
                               .unplug_timeout_ms = 300};
    struct dh_vms *vms = NULL;
    struct dh_error err = {0};
    if (dh_vms_new(&o, &vms, &err) < 0)
        fail_msg("dh_vms_new: %s", err.message);
    return vms;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->c = claimhost_new();
    snprintf(fx->vm_dir, sizeof(fx->vm_dir), "%s/vms", fake_tree_root(fx->c->tree));
    fx->vms = new_vms(fx);
    unsetenv("FAKE_QEMU_UNPLUG");
    unsetenv("FAKE_QEMU_POWERDOWN");
    unsetenv("FAKE_QEMU_FAIL");
    unsetenv("FAKE_QEMU_ADD_FAIL");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    /* stop what still runs: QEMUs outlive the manager by design */
    json_t *list = NULL;
    struct dh_jsonw *w = dh_jsonw_new(false);
    dh_vms_write_list(fx->vms, w);
    char *text = NULL;
    dh_jsonw_finish(w, &text, NULL);
    dh_jsonw_free(w);
    list = json_loads(text, 0, NULL);
    free(text);
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(list, "vms"), i, v)
        dh_vms_stop(fx->vms, json_string_value(json_object_get(v, "id")), true, NULL, NULL);
    json_decref(list);
    dh_vms_free(fx->vms);
    int violations = fake_kernel_violations(fx->c->kernel);
    claimhost_free(fx->c);
    free(fx);
    return violations ? -1 : 0;
}

static json_t *vm_json(struct fixture *fx, const char *id)
{
    struct dh_jsonw *w = dh_jsonw_new(false);
    if (dh_vms_write(fx->vms, w, id) < 0) {
        dh_jsonw_free(w);
        return NULL;
    }
    char *text = NULL;
    dh_jsonw_finish(w, &text, NULL);
    dh_jsonw_free(w);
    json_t *doc = json_loads(text, 0, NULL);
    free(text);
    return doc;
}

static const char *state_of(struct fixture *fx, const char *id)
{
    static char buf[32];
    json_t *doc = vm_json(fx, id);
    snprintf(buf, sizeof(buf), "%s", doc ? json_string_value(json_object_get(doc, "state")) : "(none)");
    json_decref(doc);
    return buf;
}

/* Polls cond for up to 5 s: the monitor thread acts asynchronously. */
#define WAIT_FOR(cond)                                \
    do {                                              \
        for (int _i = 0; _i < 500 && !(cond); _i++) { \
            struct timespec _ts = {0, 10000000};      \
            nanosleep(&_ts, NULL);                    \
        }                                             \
        assert_true(cond);                            \
    } while (0)

static char *create(struct fixture *fx, const char *spec, bool start)
{
    json_t *doc = json_loads(spec, 0, NULL);
    char *text = NULL;
    struct dh_error err = {0};
    if (dh_vms_create(fx->vms, doc, start, &text, &err) < 0)
        fail_msg("create: %s", err.message);
    json_decref(doc);
    json_t *vm = json_loads(text, 0, NULL);
    char *id = strdup(json_string_value(json_object_get(vm, "id")));
    json_decref(vm);
    free(text);
    return id;
}

static const char two_devices[] = "{\"name\": \"web\", \"pci_devices\": [{\"pool\": \"vfs\"}, {\"address\": "
                                  "\"0000:03:00.5\"}], \"hotplug_slots\": 2}";

static void create_start_stop_with_two_functions(void **state)
{
    struct fixture *fx = *state;
    char *id = create(fx, two_devices, true);
    assert_string_equal(state_of(fx, id), "running");
    json_t *vm = vm_json(fx, id);
    assert_string_equal(json_string_value(json_object_get(vm, "accel")), "tcg"); /* no /dev/kvm in the tree */
    json_t *devs = json_object_get(vm, "devices");
    assert_int_equal(json_array_size(devs), 2);
    json_t *d0 = json_array_get(devs, 0), *d1 = json_array_get(devs, 1);
    assert_string_equal(json_string_value(json_object_get(d0, "id")), "dev0");
    assert_string_equal(json_string_value(json_object_get(d0, "address")), "0000:03:00.2");
    assert_string_equal(json_string_value(json_object_get(d0, "port")), "rp1");
    assert_string_equal(json_string_value(json_object_get(d1, "address")), "0000:03:00.5");
    assert_true(json_object_get(vm, "pid") && json_integer_value(json_object_get(vm, "pid")) > 0);
    json_decref(vm);
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.2"), "vfio-pci");
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.5"), "vfio-pci");
    char *ids[1];
    size_t n = 0;
    char **owners = NULL;
    assert_int_equal(dh_pools_owners(fx->c->pools, &owners, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(owners[0], "vm:web");
    free(owners[0]);
    free(owners);
    (void)ids;

    assert_int_equal(dh_vms_stop(fx->vms, id, false, NULL, NULL), 0); /* the guest acknowledges ACPI */
    vm = vm_json(fx, id);
    assert_string_equal(json_string_value(json_object_get(vm, "state")), "stopped");
    assert_string_equal(json_string_value(json_object_get(vm, "reason")), "stopped");
    assert_int_equal(json_array_size(json_object_get(vm, "devices")), 0);
    json_decref(vm);
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.2"), "mlx5_core");
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.5"), "mlx5_core");
    /* and again: stop is idempotent, start works twice */
    assert_int_equal(dh_vms_stop(fx->vms, id, false, NULL, NULL), 0);
    assert_int_equal(dh_vms_start(fx->vms, id, NULL, NULL), 0);
    assert_string_equal(state_of(fx, id), "running");
    assert_int_equal(dh_vms_delete(fx->vms, id, NULL), 0);
    assert_null(vm_json(fx, id));
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.2"), "mlx5_core");
    free(id);
}

static void hotplug_and_an_acknowledged_unplug(void **state)
{
    struct fixture *fx = *state;
    char *id = create(fx, two_devices, true);
    json_t *dev = json_pack("{s:s}", "pool", "vfs");
    char *text = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_vms_attach(fx->vms, id, dev, &text, &err), 0);
    json_decref(dev);
    json_t *d = json_loads(text, 0, NULL);
    free(text);
    assert_string_equal(json_string_value(json_object_get(d, "id")), "hp0");
    assert_string_equal(json_string_value(json_object_get(d, "port")), "rp3");
    assert_string_equal(json_string_value(json_object_get(d, "address")), "0000:03:00.3");
    json_decref(d);
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.3"), "vfio-pci");
    bool pending = true;
    assert_int_equal(dh_vms_detach(fx->vms, id, "hp0", &pending, NULL, &err), 0);
    assert_false(pending);
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.3"), "mlx5_core");
    json_t *vm = vm_json(fx, id);
    assert_int_equal(json_array_size(json_object_get(vm, "devices")), 2);
    json_decref(vm);
    /* the slots run out */
    dev = json_pack("{s:s}", "address", "0000:03:00.3");
    assert_int_equal(dh_vms_attach(fx->vms, id, dev, NULL, NULL), 0);
    json_decref(dev);
    dev = json_pack("{s:s}", "address", "0000:03:00.4");
    assert_int_equal(dh_vms_attach(fx->vms, id, dev, NULL, NULL), 0);
    json_decref(dev);
    dev = json_pack("{s:s}", "pool", "raw");
    dh_error_clear(&err);
    assert_int_equal(dh_vms_attach(fx->vms, id, dev, NULL, &err), -ENOSPC);
    assert_non_null(strstr(err.message, "no free hot-plug slot"));
    json_decref(dev);
    free(id);
}

static void an_unacknowledged_unplug_stays_pending_until_a_reset(void **state)
{
    struct fixture *fx = *state;
    setenv("FAKE_QEMU_UNPLUG", "never", 1); /* a firmware-only guest */
    char *id = create(fx, two_devices, true);
    bool pending = false;
    char *text = NULL;
    assert_int_equal(dh_vms_detach(fx->vms, id, "dev1", &pending, &text, NULL), 0);
    assert_true(pending);
    assert_non_null(strstr(text, "unplug_pending"));
    free(text);
    /* never given back while QEMU may use it */
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.5"), "vfio-pci");
    json_t *vm = vm_json(fx, id);
    assert_string_equal(
            json_string_value(json_object_get(json_array_get(json_object_get(vm, "devices"), 1), "state")),
            "unplug_pending");
    json_decref(vm);
    /* asking again is not an error: still pending */
    assert_int_equal(dh_vms_detach(fx->vms, id, "dev1", &pending, NULL, NULL), 0);
    assert_true(pending);
    /* a reset completes it: DEVICE_DELETED, the monitor gives the function back, and the reset
     * answers only after that */
    assert_int_equal(dh_vms_reset(fx->vms, id, NULL, NULL), 0);
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.5"), "mlx5_core");
    vm = vm_json(fx, id);
    assert_int_equal(json_array_size(json_object_get(vm, "devices")), 1);
    json_decref(vm);
    free(id);
}

static void a_pending_unplug_completes_when_the_vm_stops(void **state)
{
    struct fixture *fx = *state;
    setenv("FAKE_QEMU_UNPLUG", "never", 1);
    setenv("FAKE_QEMU_POWERDOWN", "ignore", 1); /* and ACPI is ignored: quit after the timeout */
    char *id = create(fx, two_devices, true);
    bool pending = false;
    assert_int_equal(dh_vms_detach(fx->vms, id, "dev0", &pending, NULL, NULL), 0);
    assert_true(pending);
    assert_int_equal(dh_vms_stop(fx->vms, id, false, NULL, NULL), 0);
    assert_string_equal(state_of(fx, id), "stopped");
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.2"), "mlx5_core");
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.5"), "mlx5_core");
    free(id);
}

static void a_crash_is_noticed_and_the_functions_go_back(void **state)
{
    struct fixture *fx = *state;
    char *id = create(fx, two_devices, true);
    json_t *vm = vm_json(fx, id);
    pid_t pid = (pid_t)json_integer_value(json_object_get(vm, "pid"));
    json_decref(vm);
    assert_int_equal(kill(pid, SIGKILL), 0);
    WAIT_FOR(strcmp(state_of(fx, id), "crashed") == 0);
    vm = vm_json(fx, id);
    assert_non_null(strstr(json_string_value(json_object_get(vm, "reason")), "signal 9"));
    json_decref(vm);
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.2"), "mlx5_core");
    /* a crashed VM starts again */
    assert_int_equal(dh_vms_start(fx->vms, id, NULL, NULL), 0);
    assert_string_equal(state_of(fx, id), "running");
    free(id);
}

static void a_failed_start_is_rolled_back(void **state)
{
    struct fixture *fx = *state;
    setenv("FAKE_QEMU_FAIL", "start", 1);
    json_t *doc = json_loads(two_devices, 0, NULL);
    struct dh_error err = {0};
    assert_true(dh_vms_create(fx->vms, doc, true, NULL, &err) < 0);
    json_decref(doc);
    assert_non_null(strstr(err.message, "not viable"));
    assert_null(vm_json(fx, "web"));
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.2"), "mlx5_core");
    char **owners = NULL;
    size_t n = 0;
    assert_int_equal(dh_pools_owners(fx->c->pools, &owners, &n), 0);
    assert_int_equal(n, 0);
    free(owners);
    /* created without starting, the VM stays, stopped with the reason */
    char *id = create(fx, two_devices, false);
    dh_error_clear(&err);
    assert_true(dh_vms_start(fx->vms, id, NULL, &err) < 0);
    json_t *vm = vm_json(fx, id);
    assert_string_equal(json_string_value(json_object_get(vm, "state")), "stopped");
    assert_non_null(strstr(json_string_value(json_object_get(vm, "reason")), "not viable"));
    json_decref(vm);
    free(id);
}

static void create_validates_before_anything_starts(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *spec;
        int code;
        const char *needle;
    } bad[] = {
            {"{\"name\": \"v\", \"pci_devices\": [{\"pool\": \"gold\"}]}", -ENOENT,
             "pool 'gold' does not exist"},
            {"{\"name\": \"v\", \"pci_devices\": [{\"address\": \"0000:99:00.0\"}]}", -ENOENT,
             "no such function"},
            {"{\"name\": \"v\", \"pci_devices\": [{\"address\": \"0000:03:00.0\"}]}", -EINVAL, "in no pool"},
            {"{\"name\": \"v\", \"boot\": {\"kernel\": \"/nonexistent/vmlinuz\"}}", -ENOENT,
             "/nonexistent/vmlinuz"},
            {"{\"name\": \"v\", \"vcpus\": 0}", -EINVAL, "vcpus"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *doc = json_loads(bad[i].spec, 0, NULL);
        struct dh_error err = {0};
        int r = dh_vms_create(fx->vms, doc, true, NULL, &err);
        json_decref(doc);
        if (r != bad[i].code || !strstr(err.message, bad[i].needle))
            fail_msg("case %zu: %d %s", i, r, err.message);
    }
    char *id = create(fx, "{\"name\": \"a\", \"pci_devices\": [{\"address\": \"0000:03:00.2\"}]}", true);
    json_t *doc = json_loads("{\"name\": \"a\"}", 0, NULL);
    struct dh_error err = {0};
    assert_int_equal(dh_vms_create(fx->vms, doc, false, NULL, &err), -EEXIST);
    json_decref(doc);
    doc = json_loads("{\"name\": \"b\", \"pci_devices\": [{\"address\": \"0000:03:00.2\"}]}", 0, NULL);
    dh_error_clear(&err);
    assert_int_equal(dh_vms_create(fx->vms, doc, false, NULL, &err), -EBUSY);
    assert_non_null(strstr(err.message, "owner vm:a"));
    json_decref(doc);
    free(id);
}

static void a_restarted_manager_reattaches_and_notices_deaths(void **state)
{
    struct fixture *fx = *state;
    char *a = create(fx, "{\"name\": \"a\", \"pci_devices\": [{\"address\": \"0000:03:00.2\"}]}", true);
    char *b = create(fx, "{\"name\": \"b\", \"pci_devices\": [{\"address\": \"0000:03:00.3\"}]}", true);
    json_t *vm = vm_json(fx, b);
    pid_t pid_b = (pid_t)json_integer_value(json_object_get(vm, "pid"));
    json_decref(vm);
    /* dpuhostd goes away; its QEMUs stay; one of them dies meanwhile */
    dh_vms_free(fx->vms);
    assert_int_equal(kill(pid_b, SIGKILL), 0);
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    /* the claims of a VM that never got its record: released at recovery */
    struct dh_claim_request req = {.owner = "vm:ghost", .address = "0000:03:00.4", .numa_node = -1};
    assert_int_equal(dh_pools_claim(fx->c->pools, &req, NULL, NULL, NULL), 0);
    fx->vms = new_vms(fx);
    char log[4096];
    assert_int_equal(dh_vms_recover(fx->vms, log, sizeof(log), NULL), 0);
    if (!strstr(log, "VM a: re-attached"))
        fail_msg("recovery log: %s", log);
    assert_non_null(strstr(log, "VM b: QEMU"));
    assert_non_null(strstr(log, "vm:ghost"));
    assert_string_equal(state_of(fx, a), "running");
    assert_string_equal(state_of(fx, b), "crashed");
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.3"), "mlx5_core");
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.4"), "mlx5_core");
    /* the re-attached VM is fully managed: hot-plug and stop work (QEMU is not our child now) */
    json_t *dev = json_pack("{s:s}", "address", "0000:03:00.4");
    assert_int_equal(dh_vms_attach(fx->vms, a, dev, NULL, NULL), 0);
    json_decref(dev);
    assert_int_equal(dh_vms_stop(fx->vms, a, false, NULL, NULL), 0);
    assert_string_equal(state_of(fx, a), "stopped");
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.2"), "mlx5_core");
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.4"), "mlx5_core");
    free(a);
    free(b);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-FAKE-QEMU\n", argv[0]);
        return 2;
    }
    fake_qemu = argv[1];
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(create_start_stop_with_two_functions, setup, teardown),
            DH_TEST_SETUP(hotplug_and_an_acknowledged_unplug, setup, teardown),
            DH_TEST_SETUP(an_unacknowledged_unplug_stays_pending_until_a_reset, setup, teardown),
            DH_TEST_SETUP(a_pending_unplug_completes_when_the_vm_stops, setup, teardown),
            DH_TEST_SETUP(a_crash_is_noticed_and_the_functions_go_back, setup, teardown),
            DH_TEST_SETUP(a_failed_start_is_rolled_back, setup, teardown),
            DH_TEST_SETUP(create_validates_before_anything_starts, setup, teardown),
            DH_TEST_SETUP(a_restarted_manager_reattaches_and_notices_deaths, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
