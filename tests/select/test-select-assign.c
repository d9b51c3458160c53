/* Assignment of functions to pools: a function belongs to the first pool that selects it, the
 * others never see it; and compiled selectors are shared read-only between threads. */
#include "select-kit.h"

#include <pthread.h>

/* "address:pool" for every function, pool "-" for none */
static const char *assignment(struct dh_selector *const *pools, size_t n, const struct dh_inventory *inv,
                              int *ret)
{
    static char buf[2048];
    size_t *of = calloc(inv->n_funcs, sizeof(*of));
    *ret = dh_select_assign(pools, n, inv, of);
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < inv->n_funcs && *ret >= 0; i++) {
        char pool[8];
        if (of[i] == n)
            snprintf(pool, sizeof(pool), "-");
        else
            snprintf(pool, sizeof(pool), "%zu", of[i]);
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s:%s", used ? " " : "",
                                 inv->funcs[i].address, pool);
    }
    free(of);
    return buf;
}

static void first_pool_that_selects_wins(void **state)
{
    struct bluefield_fixture *fx = *state;
    struct dh_selector *pools[3] = {
            parse_ok("{\"device_spec\": {\"address\": \"0000:03:00.0\"}}"),
            parse_ok("{\"selectors\": {\"vendors\": [\"15b3\"]}}"),
            parse_ok("{\"selectors\": {\"auxTypes\": [\"sf\"]}}"),
    };
    int r;
    assert_string_equal(assignment(pools, 3, fx->inv, &r),
                        "0000:00:00.0:- 0000:03:00.0:0 0000:03:00.1:1 0000:03:00.2:0 0000:03:00.3:0 "
                        "0000:04:00.0:- 0000:04:00.1:- 0000:04:00.2:- 0000:05:00.0:- 0000:05:00.1:- "
                        "mlx5_core.sf.4:2");
    assert_int_equal(r, 5);

    /* swapped: the selectors pool takes the VFs first; it never offers the PF, which stays with
     * the device_spec pool */
    struct dh_selector *swapped[2] = {pools[1], pools[0]};
    assert_string_equal(assignment(swapped, 2, fx->inv, &r),
                        "0000:00:00.0:- 0000:03:00.0:1 0000:03:00.1:0 0000:03:00.2:0 0000:03:00.3:0 "
                        "0000:04:00.0:- 0000:04:00.1:- 0000:04:00.2:- 0000:05:00.0:- 0000:05:00.1:- "
                        "mlx5_core.sf.4:-");
    assert_int_equal(r, 4);
    for (size_t i = 0; i < 3; i++)
        dh_select_free(pools[i]);
}

static void no_pools_assign_nothing(void **state)
{
    struct bluefield_fixture *fx = *state;
    int r;
    assert_string_equal(assignment(NULL, 0, fx->inv, &r),
                        "0000:00:00.0:- 0000:03:00.0:- 0000:03:00.1:- 0000:03:00.2:- 0000:03:00.3:- "
                        "0000:04:00.0:- 0000:04:00.1:- 0000:04:00.2:- 0000:05:00.0:- 0000:05:00.1:- "
                        "mlx5_core.sf.4:-");
    assert_int_equal(r, 0);
}

static void bad_arguments_are_refused(void **state)
{
    struct bluefield_fixture *fx = *state;
    struct dh_selector *s = parse_ok("{\"device_spec\": {}}");
    struct dh_selector *with_null[2] = {s, NULL};
    size_t of[32];
    assert_int_equal(dh_select_assign(&s, 1, NULL, of), -EINVAL);
    assert_int_equal(dh_select_assign(&s, 1, fx->inv, NULL), -EINVAL);
    assert_int_equal(dh_select_assign(NULL, 1, fx->inv, of), -EINVAL);
    assert_int_equal(dh_select_assign(with_null, 2, fx->inv, of), -EINVAL);
    dh_select_free(s);
}

struct worker {
    struct dh_selector *const *pools;
    size_t n_pools;
    const struct dh_inventory *inv;
    const size_t *want;
    int mismatches;
};

static void *work(void *p)
{
    struct worker *w = p;
    size_t *of = calloc(w->inv->n_funcs, sizeof(*of));
    for (int round = 0; round < 200; round++) {
        if (dh_select_assign(w->pools, w->n_pools, w->inv, of) < 0)
            w->mismatches++;
        for (size_t i = 0; i < w->inv->n_funcs; i++)
            w->mismatches += of[i] != w->want[i];
        for (size_t i = 0; i < w->inv->n_funcs; i++)
            (void)dh_select_tag(w->pools[0], &w->inv->funcs[i], w->inv, "physical_network");
    }
    free(of);
    return NULL;
}

static void selectors_are_shared_between_threads(void **state)
{
    struct bluefield_fixture *fx = *state;
    struct dh_selector *pools[3] = {
            parse_ok("{\"device_spec\": [{\"address\": {\"bus\": \"0[4]\", \"function\": \"[12]\"}, "
                     "\"physical_network\": \"a\"}, {\"devname\": \"ens1f0np0\"}]}"),
            parse_ok("{\"selectors\": [{\"pfNames\": [\"ens1f0np0#0-3\"]}, {\"linkTypes\": [\"ether\"]}]}"),
            parse_ok("{\"selectors\": {\"auxTypes\": [\"sf\"], \"rootDevices\": [\"0000:03:00.0#88\"]}}"),
    };
    size_t *want = calloc(fx->inv->n_funcs, sizeof(*want));
    assert_int_equal(dh_select_assign(pools, 3, fx->inv, want), 9);
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){.pools = pools, .n_pools = 3, .inv = fx->inv, .want = want};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].mismatches, 0);
    }
    free(want);
    for (size_t i = 0; i < 3; i++)
        dh_select_free(pools[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(first_pool_that_selects_wins, bluefield_fixture_setup, bluefield_fixture_teardown),
            DH_TEST_SETUP(no_pools_assign_nothing, bluefield_fixture_setup, bluefield_fixture_teardown),
            DH_TEST_SETUP(bad_arguments_are_refused, bluefield_fixture_setup, bluefield_fixture_teardown),
            DH_TEST_SETUP(selectors_are_shared_between_threads, bluefield_fixture_setup,
                          bluefield_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
