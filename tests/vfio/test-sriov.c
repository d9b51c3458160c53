/* SR-IOV provisioning: autoprobe, 0 then N, idempotency, the kernel's refusals, bounded waits. */
#include "test.h"

#include "bindhost.h"

static int setup(void **state)
{
    *state = bindhost_new();
    return 0;
}

static int teardown(void **state)
{
    bindhost_free(*state);
    return 0;
}

static size_t n_writes_to(struct bindhost *b, const char *suffix)
{
    size_t n, count = 0;
    const char *const *w = fake_kernel_writes(b->kernel, &n);
    for (size_t i = 0; i < n; i++)
        if (strstr(w[i], suffix))
            count++;
    return count;
}

static void creates_vfs_with_autoprobe_off(void **state)
{
    struct bindhost *b = *state;
    struct dh_error err = {0};
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:04:00.0", 2, 0, 1000, &err), 0);
    assert_true(bindhost_exists(b, "sys/bus/pci/devices/0000:04:00.1"));
    assert_true(bindhost_exists(b, "sys/bus/pci/devices/0000:04:00.2"));
    assert_string_equal(bindhost_driver(b, "0000:04:00.1"), ""); /* autoprobe off */
    assert_true(fake_kernel_wrote(b->kernel, "0000:04:00.0/sriov_drivers_autoprobe", "0"));
    assert_int_equal(n_writes_to(b, "sriov_numvfs="), 1); /* from 0: no "write 0" first */
}

static void same_count_is_idempotent_and_a_new_count_goes_through_zero(void **state)
{
    struct bindhost *b = *state;
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:04:00.0", 2, 0, 1000, NULL), 0);
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:04:00.0", 2, 0, 1000, NULL), 0);
    assert_int_equal(n_writes_to(b, "sriov_numvfs="), 1);
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:04:00.0", 4, -1, 1000, NULL), 0);
    size_t n;
    const char *const *w = fake_kernel_writes(b->kernel, &n);
    assert_string_equal(w[n - 2], "sys/bus/pci/devices/0000:04:00.0/sriov_numvfs=0");
    assert_string_equal(w[n - 1], "sys/bus/pci/devices/0000:04:00.0/sriov_numvfs=4");
    assert_true(bindhost_exists(b, "sys/bus/pci/devices/0000:04:00.4"));
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:04:00.0", 0, 1, 1000, NULL), 0);
    assert_false(bindhost_exists(b, "sys/bus/pci/devices/0000:04:00.1"));
}

static void too_many_vfs_is_refused_before_writing(void **state)
{
    struct bindhost *b = *state;
    struct dh_error err = {0};
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:04:00.0", 5, 0, 1000, &err), -ERANGE);
    assert_non_null(strstr(err.message, "more than the 4 it supports"));
    size_t n;
    fake_kernel_writes(b->kernel, &n);
    assert_int_equal(n, 0);
}

static void kernel_refusals_are_explained(void **state)
{
    struct bindhost *b = *state;
    struct dh_error err = {0};
    /* the PF has no driver: the kernel says ENOENT */
    dh_host_write_attr(b->host, "sys/bus/pci/devices/0000:04:00.0/driver/unbind", "0000:04:00.0");
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:04:00.0", 1, -1, 1000, &err), -ENOENT);
    assert_non_null(strstr(err.message, "has no driver"));
    dh_error_clear(&err);
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:07:00.0", 1, -1, 1000, &err), -EINVAL);
    assert_non_null(strstr(err.message, "not SR-IOV capable"));
    dh_error_clear(&err);
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:99:00.0", 1, -1, 1000, &err), -ENODEV);
    dh_error_clear(&err);
    assert_int_equal(dh_sriov_configure(b->host, b->store, "04:00.0", 1, -1, 1000, &err), -EINVAL);
    assert_non_null(strstr(err.message, "malformed"));
    dh_error_clear(&err);
    fake_kernel_fail_write(b->kernel, "0000:03:00.0/sriov_numvfs", -EBUSY);
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:03:00.0", 1, -1, 1000, &err), -EBUSY);
    assert_non_null(strstr(err.message, "EBUSY"));
}

static void a_slow_kernel_write_times_out(void **state)
{
    struct bindhost *b = *state;
    fake_kernel_set_numvfs_delay_ms(b->kernel, 600);
    struct dh_error err = {0};
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:04:00.0", 2, 0, 100, &err), -ETIMEDOUT);
    assert_non_null(strstr(err.message, "still working on it"));
    /* the write finishes in the kernel later; the next call sees the result */
    fake_kernel_set_numvfs_delay_ms(b->kernel, 0);
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:04:00.0", 2, 0, 2000, NULL), 0);
}

static void vfs_bound_by_dpuhost_block_a_change(void **state)
{
    struct bindhost *b = *state;
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:03:00.0", 2, 1, 1000, NULL), 0);
    const char *addrs[] = {"0000:03:00.3"};
    struct dh_vfio_result res;
    assert_int_equal(dh_vfio_bind(&b->ctx, addrs, 1, 0, &res, NULL), 0);
    struct dh_error err = {0};
    assert_int_equal(dh_sriov_configure(b->host, b->store, "0000:03:00.0", 0, -1, 1000, &err), -EBUSY);
    assert_non_null(strstr(err.message, "dpuhost restore 0000:03:00.3"));
    assert_string_equal(bindhost_driver(b, "0000:03:00.3"), "vfio-pci");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(creates_vfs_with_autoprobe_off, setup, teardown),
            DH_TEST_SETUP(same_count_is_idempotent_and_a_new_count_goes_through_zero, setup, teardown),
            DH_TEST_SETUP(too_many_vfs_is_refused_before_writing, setup, teardown),
            DH_TEST_SETUP(kernel_refusals_are_explained, setup, teardown),
            DH_TEST_SETUP(a_slow_kernel_write_times_out, setup, teardown),
            DH_TEST_SETUP(vfs_bound_by_dpuhost_block_a_change, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
