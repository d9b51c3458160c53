/* Restore never unbinds a vfio device that a process still holds: it waits (bounded) and then
 * reports who holds it, changing nothing. */
#include "test.h"

#include <pthread.h>
#include <time.h>

#include "bindhost.h"

static int setup(void **state)
{
    struct bindhost *b = bindhost_new();
    bindhost_make_vfs(b, "0000:03:00.0", 1);
    const char *addrs[] = {"0000:03:00.2"};
    struct dh_vfio_result res;
    if (dh_vfio_bind(&b->ctx, addrs, 1, 0, &res, NULL) < 0)
        fail_msg("bind: %s", res.message);
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

static int group(struct bindhost *b)
{
    struct dh_binding_record rec;
    if (dh_store_binding_get(b->store, "0000:03:00.2", &rec, NULL) < 0)
        fail_msg("no record");
    int g = rec.iommu_group;
    dh_binding_record_clear(&rec);
    return g;
}

static void a_held_group_is_reported_and_left_alone(void **state)
{
    struct bindhost *b = *state;
    fake_kernel_hold_group(b->kernel, 4242, "qemu-system-x86", group(b));
    const char *addrs[] = {"0000:03:00.2"};
    struct dh_vfio_result res;
    assert_int_equal(dh_vfio_restore(&b->ctx, addrs, 1, &res, NULL), -EBUSY);
    assert_non_null(strstr(res.message, "pid 4242 (qemu-system-x86)"));
    assert_non_null(strstr(res.message, "nothing was changed"));
    assert_string_equal(bindhost_driver(b, "0000:03:00.2"), "vfio-pci");
    struct dh_binding_record rec;
    assert_int_equal(dh_store_binding_get(b->store, "0000:03:00.2", &rec, NULL), 0);
    assert_int_equal(rec.state, DH_BINDING_BOUND);
    dh_binding_record_clear(&rec);
    fake_kernel_release_holder(b->kernel, 4242);
    assert_int_equal(dh_vfio_restore(&b->ctx, addrs, 1, &res, NULL), 0);
    assert_string_equal(bindhost_driver(b, "0000:03:00.2"), "mlx5_core");
}

struct release_later {
    struct bindhost *b;
    int delay_ms;
};

static void *release_thread(void *arg)
{
    struct release_later *r = arg;
    struct timespec ts = {0, (long)r->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
    fake_kernel_release_holder(r->b->kernel, 4243);
    return NULL;
}

static void restore_waits_for_the_holder_to_exit(void **state)
{
    struct bindhost *b = *state;
    fake_kernel_hold_group(b->kernel, 4243, "qemu-system-x86", group(b));
    b->ctx.holder_timeout_ms = 3000;
    struct release_later rl = {b, 150};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, release_thread, &rl), 0);
    const char *addrs[] = {"0000:03:00.2"};
    struct dh_vfio_result res;
    assert_int_equal(dh_vfio_restore(&b->ctx, addrs, 1, &res, NULL), 0);
    pthread_join(t, NULL);
    assert_string_equal(bindhost_driver(b, "0000:03:00.2"), "mlx5_core");
}

static void holders_of_other_groups_do_not_matter(void **state)
{
    struct bindhost *b = *state;
    fake_kernel_hold_group(b->kernel, 4244, "qemu-system-x86", group(b) + 100);
    const char *addrs[] = {"0000:03:00.2"};
    struct dh_vfio_result res;
    assert_int_equal(dh_vfio_restore(&b->ctx, addrs, 1, &res, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(a_held_group_is_reported_and_left_alone, setup, teardown),
            DH_TEST_SETUP(restore_waits_for_the_holder_to_exit, setup, teardown),
            DH_TEST_SETUP(holders_of_other_groups_do_not_matter, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
