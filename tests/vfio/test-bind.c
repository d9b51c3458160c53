/* Binding to vfio-pci and restoring, against the kernel simulator: the happy path, the order of
 * writes, records, and restoring to the recorded driver when the kernel would pick another. */
#include "test.h"

#include "bindhost.h"

static int setup(void **state)
{
    *state = bindhost_new();
    return 0;
}

static int teardown(void **state)
{
    struct bindhost *b = *state;
    int violations = fake_kernel_violations(b->kernel);
    bindhost_free(b);
    if (violations) {
        fprintf(stderr, "the kernel simulator saw %d forbidden operations (new_id, unbind while held)\n",
                violations);
        return -1;
    }
    return 0;
}

static int bind1(struct bindhost *b, const char *addr, unsigned flags, struct dh_vfio_result *res)
{
    const char *addrs[] = {addr};
    return dh_vfio_bind(&b->ctx, addrs, 1, flags, res, NULL);
}

static int restore1(struct bindhost *b, const char *addr, struct dh_vfio_result *res)
{
    const char *addrs[] = {addr};
    return dh_vfio_restore(&b->ctx, addrs, 1, res, NULL);
}

static size_t write_index(struct bindhost *b, const char *path_suffix, const char *value)
{
    size_t n;
    const char *const *w = fake_kernel_writes(b->kernel, &n);
    char want[256];
    snprintf(want, sizeof(want), "%s=%s", path_suffix, value);
    for (size_t i = 0; i < n; i++) {
        size_t wl = strlen(w[i]), sl = strlen(want);
        if (wl >= sl && strcmp(w[i] + wl - sl, want) == 0)
            return i;
    }
    fail_msg("no write %s", want);
    return 0;
}

static void vf_goes_to_vfio_with_a_record_and_comes_back(void **state)
{
    struct bindhost *b = *state;
    bindhost_make_vfs(b, "0000:03:00.0", 2);
    assert_string_equal(bindhost_driver(b, "0000:03:00.2"), "mlx5_core"); /* autoprobe on */
    struct dh_vfio_result res;
    assert_int_equal(bind1(b, "0000:03:00.2", 0, &res), 0);
    assert_int_equal(res.error, 0);
    assert_true(res.changed);
    assert_string_equal(bindhost_driver(b, "0000:03:00.2"), "vfio-pci");
    assert_string_equal(bindhost_override(b, "0000:03:00.2"), "vfio-pci");
    char node[32];
    snprintf(node, sizeof(node), "dev/vfio/%d", res.iommu_group);
    assert_true(bindhost_exists(b, node));
    assert_true(bindhost_exists(b, "sys/module/vfio_pci"));
    assert_true(bindhost_exists(b, "sys/module/vfio_iommu_type1"));

    /* the order libvirt uses: override first, then unbind, then probe */
    size_t o = write_index(b, "0000:03:00.2/driver_override", "vfio-pci");
    size_t u = write_index(b, "0000:03:00.2/driver/unbind", "0000:03:00.2");
    size_t p = write_index(b, "drivers_probe", "0000:03:00.2");
    assert_true(o < u && u < p);
    assert_false(fake_kernel_wrote(b->kernel, "new_id", NULL));

    struct dh_binding_record rec;
    assert_int_equal(dh_store_binding_get(b->store, "0000:03:00.2", &rec, NULL), 0);
    assert_int_equal(rec.state, DH_BINDING_BOUND);
    assert_string_equal(rec.original_driver, "mlx5_core");
    assert_null(rec.original_override);
    assert_int_equal(rec.iommu_group, res.iommu_group);
    assert_true(rec.vf.valid);
    assert_string_equal(rec.vf.pf_ifname, "ens1f0np0");
    assert_int_equal(rec.vf.mac[5], 0x10);
    dh_binding_record_clear(&rec);

    assert_int_equal(restore1(b, "0000:03:00.2", &res), 0);
    assert_string_equal(bindhost_driver(b, "0000:03:00.2"), "mlx5_core");
    assert_string_equal(bindhost_override(b, "0000:03:00.2"), "(null)");
    assert_false(bindhost_exists(b, node));
    assert_int_equal(dh_store_binding_get(b->store, "0000:03:00.2", &rec, NULL), -ENOENT);
    assert_non_null(strstr(res.message, "restored to mlx5_core"));
}

static void restore_insists_on_the_recorded_driver(void **state)
{
    struct bindhost *b = *state;
    bindhost_make_vfs(b, "0000:03:00.0", 1);
    struct dh_vfio_result res;
    assert_int_equal(bind1(b, "0000:03:00.2", 0, &res), 0);
    /* a vfio variant driver appears that matches the VF before mlx5_core would (registration order) */
    fake_kernel_add_driver(b->kernel, "mlx5_vfio_pci", 0x15b3, 0x101e, NULL, true, false);
    fake_kernel_prefer(b->kernel, "mlx5_vfio_pci");
    assert_int_equal(restore1(b, "0000:03:00.2", &res), 0);
    assert_string_equal(bindhost_driver(b, "0000:03:00.2"), "mlx5_core");
    assert_string_equal(bindhost_override(b, "0000:03:00.2"), "(null)");
    assert_true(fake_kernel_wrote(b->kernel, "0000:03:00.2/driver_override", "mlx5_core"));
}

static void restore_with_autoprobe_off_binds_through_a_temporary_override(void **state)
{
    struct bindhost *b = *state;
    dh_host_write_attr(b->host, "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe", "0");
    bindhost_make_vfs(b, "0000:03:00.0", 1);
    assert_string_equal(bindhost_driver(b, "0000:03:00.2"), ""); /* autoprobe off: no driver */
    /* an admin bound it to mlx5_core by hand (with an override, as the kernel requires) */
    fake_pci_bind(b->tree, "0000:03:00.2", "mlx5_core");
    struct dh_vfio_result res;
    assert_int_equal(bind1(b, "0000:03:00.2", 0, &res), 0);
    size_t before;
    fake_kernel_writes(b->kernel, &before);
    assert_int_equal(restore1(b, "0000:03:00.2", &res), 0);
    /* one probe, through the override: a plain one would bind nothing and cost half the timeout */
    size_t n;
    const char *const *w = fake_kernel_writes(b->kernel, &n);
    int probes = 0;
    for (size_t i = before; i < n; i++)
        probes += strstr(w[i], "drivers_probe") != NULL;
    assert_int_equal(probes, 1);
    /* clearing the override and probing leaves a VF of an autoprobe-off PF driverless (kernel 5.3+):
     * restore must have steered it with a temporary override and cleared that again */
    assert_string_equal(bindhost_driver(b, "0000:03:00.2"), "mlx5_core");
    assert_string_equal(bindhost_override(b, "0000:03:00.2"), "(null)");
    assert_true(fake_kernel_wrote(b->kernel, "0000:03:00.2/driver_override", "mlx5_core"));
}

static void original_override_is_put_back(void **state)
{
    struct bindhost *b = *state;
    bindhost_make_vfs(b, "0000:03:00.0", 1);
    dh_host_write_attr(b->host, "sys/bus/pci/devices/0000:03:00.2/driver_override", "mlx5_core");
    struct dh_vfio_result res;
    assert_int_equal(bind1(b, "0000:03:00.2", 0, &res), 0);
    assert_int_equal(restore1(b, "0000:03:00.2", &res), 0);
    assert_string_equal(bindhost_driver(b, "0000:03:00.2"), "mlx5_core");
    assert_string_equal(bindhost_override(b, "0000:03:00.2"), "mlx5_core");
}

static void a_driverless_function_is_left_driverless(void **state)
{
    struct bindhost *b = *state;
    struct dh_vfio_result res;
    assert_int_equal(bind1(b, "0000:05:00.1", 0, &res), -EBUSY); /* group 23: enp5s0 on e1000e */
    const char *both[] = {"0000:05:00.1", "0000:05:00.0"};
    struct dh_vfio_result r2[2];
    assert_int_equal(dh_vfio_bind(&b->ctx, both, 2, 0, r2, NULL), 0);
    assert_string_equal(bindhost_driver(b, "0000:05:00.1"), "vfio-pci");
    assert_int_equal(dh_vfio_restore(&b->ctx, both, 2, r2, NULL), 0);
    assert_string_equal(bindhost_driver(b, "0000:05:00.1"), "");
    assert_string_equal(bindhost_driver(b, "0000:05:00.0"), "e1000e");
}

static void binding_twice_is_a_no_op(void **state)
{
    struct bindhost *b = *state;
    bindhost_make_vfs(b, "0000:03:00.0", 1);
    struct dh_vfio_result res;
    assert_int_equal(bind1(b, "0000:03:00.2", 0, &res), 0);
    size_t before;
    fake_kernel_writes(b->kernel, &before);
    assert_int_equal(bind1(b, "0000:03:00.2", 0, &res), 0);
    size_t after;
    fake_kernel_writes(b->kernel, &after);
    assert_int_equal(before, after);
    assert_false(res.changed);
    assert_non_null(strstr(res.message, "already bound"));
    struct dh_binding_record rec;
    assert_int_equal(dh_store_binding_get(b->store, "0000:03:00.2", &rec, NULL), 0);
    assert_string_equal(rec.original_driver, "mlx5_core"); /* the first record survives */
    dh_binding_record_clear(&rec);
}

static void vf_admin_settings_are_restored(void **state)
{
    struct bindhost *b = *state;
    bindhost_make_vfs(b, "0000:03:00.0", 2);
    struct dh_vfio_result res;
    assert_int_equal(bind1(b, "0000:03:00.3", 0, &res), 0);
    /* while the VF was away its settings changed (a VM's MAC, a VLAN) */
    b->vfs[1].mac[5] = 0x99;
    b->vfs[1].vlan = 42;
    assert_int_equal(restore1(b, "0000:03:00.3", &res), 0);
    assert_int_equal(b->vf_set_calls, 1);
    assert_int_equal(b->vfs[1].mac[5], 0x11);
    assert_int_equal(b->vfs[1].vlan, 0);
}

static void restore_without_a_record_refuses(void **state)
{
    struct bindhost *b = *state;
    struct dh_vfio_result res;
    assert_int_equal(restore1(b, "0000:07:00.0", &res), -ENOENT);
    assert_non_null(strstr(res.message, "no record"));
    assert_string_equal(bindhost_driver(b, "0000:07:00.0"), "e1000e");
}

static void restore_of_an_unknown_function_says_so(void **state)
{
    struct bindhost *b = *state;
    struct dh_vfio_result res;
    /* not "no record": there is nothing to restore because there is no such function */
    assert_int_equal(restore1(b, "0000:3f:00.0", &res), -ENODEV);
    assert_non_null(strstr(res.message, "0000:3f:00.0: no such PCI function on this host"));
}

static void an_interrupted_restore_is_finished(void **state)
{
    struct bindhost *b = *state;
    bindhost_make_vfs(b, "0000:03:00.0", 1);
    struct dh_vfio_result res;
    assert_int_equal(bind1(b, "0000:03:00.2", 0, &res), 0);
    /* a restore that died after unbinding: state restoring, device driverless */
    struct dh_binding_record rec;
    assert_int_equal(dh_store_binding_get(b->store, "0000:03:00.2", &rec, NULL), 0);
    rec.state = DH_BINDING_RESTORING;
    assert_int_equal(dh_store_binding_put(b->store, &rec, NULL), 0);
    dh_binding_record_clear(&rec);
    dh_host_write_attr(b->host, "sys/bus/pci/devices/0000:03:00.2/driver/unbind", "0000:03:00.2");
    assert_int_equal(restore1(b, "0000:03:00.2", &res), 0);
    assert_string_equal(bindhost_driver(b, "0000:03:00.2"), "mlx5_core");
    assert_non_null(strstr(res.message, "interrupted"));
}

static void restore_of_a_vanished_function_forgets_it(void **state)
{
    struct bindhost *b = *state;
    bindhost_make_vfs(b, "0000:03:00.0", 1);
    struct dh_vfio_result res;
    assert_int_equal(bind1(b, "0000:03:00.2", 0, &res), 0);
    fake_remove(b->tree, "sys/bus/pci/devices/0000:03:00.2");
    assert_int_equal(restore1(b, "0000:03:00.2", &res), 0);
    assert_non_null(strstr(res.message, "gone"));
    struct dh_binding_record rec;
    assert_int_equal(dh_store_binding_get(b->store, "0000:03:00.2", &rec, NULL), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(vf_goes_to_vfio_with_a_record_and_comes_back, setup, teardown),
            DH_TEST_SETUP(restore_insists_on_the_recorded_driver, setup, teardown),
            DH_TEST_SETUP(restore_with_autoprobe_off_binds_through_a_temporary_override, setup, teardown),
            DH_TEST_SETUP(original_override_is_put_back, setup, teardown),
            DH_TEST_SETUP(a_driverless_function_is_left_driverless, setup, teardown),
            DH_TEST_SETUP(binding_twice_is_a_no_op, setup, teardown),
            DH_TEST_SETUP(vf_admin_settings_are_restored, setup, teardown),
            DH_TEST_SETUP(restore_without_a_record_refuses, setup, teardown),
            DH_TEST_SETUP(restore_of_an_unknown_function_says_so, setup, teardown),
            DH_TEST_SETUP(an_interrupted_restore_is_finished, setup, teardown),
            DH_TEST_SETUP(restore_of_a_vanished_function_forgets_it, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
