/* Several functions bind at once; a failure rolls back only what that bind did. */
#include "test.h"

#include "bindhost.h"

static int setup(void **state)
{
    struct bindhost *b = bindhost_new();
    bindhost_make_vfs(b, "0000:03:00.0", 4);
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    struct bindhost *b = *state;
    int v = fake_kernel_violations(b->kernel);
    bindhost_free(b);
    return v ? -1 : 0;
}

static const char *const vfs[] = {"0000:03:00.2", "0000:03:00.3", "0000:03:00.4", "0000:03:00.5"};

static void four_vfs_bind_and_restore_in_parallel(void **state)
{
    struct bindhost *b = *state;
    struct dh_vfio_result res[4];
    b->ctx.parallel = 4;
    assert_int_equal(dh_vfio_bind(&b->ctx, vfs, 4, 0, res, NULL), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(res[i].error, 0);
        assert_string_equal(res[i].address, vfs[i]);
        assert_string_equal(bindhost_driver(b, vfs[i]), "vfio-pci");
    }
    assert_int_equal(dh_vfio_restore(&b->ctx, vfs, 4, res, NULL), 0);
    for (int i = 0; i < 4; i++)
        assert_string_equal(bindhost_driver(b, vfs[i]), "mlx5_core");
}

static void one_failure_rolls_back_only_itself(void **state)
{
    struct bindhost *b = *state;
    fake_kernel_fail_probe(b->kernel, "0000:03:00.4", "vfio-pci", -EIO);
    struct dh_vfio_result res[4];
    assert_int_equal(dh_vfio_bind(&b->ctx, vfs, 4, 0, res, NULL), -EIO);
    for (int i = 0; i < 4; i++) {
        if (i == 2) {
            assert_int_equal(res[i].error, -EIO);
            assert_true(res[i].changed);
            assert_non_null(strstr(res[i].message, "vfio-pci did not take it"));
            assert_non_null(strstr(res[i].message, "rolled back to mlx5_core"));
            assert_string_equal(bindhost_driver(b, vfs[i]), "mlx5_core");
            assert_string_equal(bindhost_override(b, vfs[i]), "(null)");
            struct dh_binding_record rec;
            assert_int_equal(dh_store_binding_get(b->store, vfs[i], &rec, NULL), -ENOENT);
        } else {
            assert_int_equal(res[i].error, 0);
            assert_string_equal(bindhost_driver(b, vfs[i]), "vfio-pci");
        }
    }
}

static void a_failed_rollback_keeps_the_record_for_restore(void **state)
{
    struct bindhost *b = *state;
    fake_kernel_fail_probe(b->kernel, "0000:03:00.2", "vfio-pci", -EIO);
    fake_kernel_fail_probe(b->kernel, "0000:03:00.2", "mlx5_core", -EIO);
    fake_kernel_fail_probe(b->kernel, "0000:03:00.2", "mlx5_core", -EIO);
    struct dh_vfio_result res;
    assert_int_equal(dh_vfio_bind(&b->ctx, vfs, 1, 0, &res, NULL), -EIO);
    assert_non_null(strstr(res.message, "rolling back failed too"));
    assert_non_null(strstr(res.message, "dpuhost restore 0000:03:00.2"));
    struct dh_binding_record rec;
    assert_int_equal(dh_store_binding_get(b->store, "0000:03:00.2", &rec, NULL), 0);
    assert_int_equal(rec.state, DH_BINDING_BINDING);
    dh_binding_record_clear(&rec);
    /* once the driver behaves again, restore finishes the job */
    assert_int_equal(dh_vfio_restore(&b->ctx, vfs, 1, &res, NULL), 0);
    assert_string_equal(bindhost_driver(b, "0000:03:00.2"), "mlx5_core");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(four_vfs_bind_and_restore_in_parallel, setup, teardown),
            DH_TEST_SETUP(one_failure_rolls_back_only_itself, setup, teardown),
            DH_TEST_SETUP(a_failed_rollback_keeps_the_record_for_restore, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
