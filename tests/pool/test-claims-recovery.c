/* Restart recovery and live inventory: interrupted claims are rolled back, interrupted releases
 * finished, vanished functions marked, functions that lost vfio-pci bound again, half-done binding
 * records finished; a release blocked by a holder keeps the claim; uevent refreshes. */
#include "test.h"

#include "claimhost.h"

static int setup(void **state)
{
    *state = claimhost_new();
    return 0;
}

static int teardown(void **state)
{
    struct claimhost *c = *state;
    int v = fake_kernel_violations(c->kernel);
    claimhost_free(c);
    return v ? -1 : 0;
}

static char *claim_id(struct claimhost *c, const char *pool, int count)
{
    json_t *cl = claimhost_claim(c, "vm-a", pool, NULL, count, 0);
    char *id = strdup(json_string_value(json_object_get(cl, "id")));
    json_decref(cl);
    return id;
}

static struct dh_recovery_report restart_and_recover(struct claimhost *c)
{
    claimhost_restart(c);
    struct dh_recovery_report rep;
    struct dh_error err = {0};
    if (dh_pools_recover(c->pools, &rep, &err) < 0)
        fail_msg("recover: %s", err.message);
    return rep;
}

static void an_interrupted_claim_is_rolled_back(void **state)
{
    struct claimhost *c = *state;
    char *id = claim_id(c, "vfs", 2);
    /* as if dpuhostd died after binding, before recording "claimed" */
    assert_int_equal(dh_store_claim_set_state(c->store, id, DH_CLAIM_CLAIMING, NULL), 0);
    struct dh_recovery_report rep = restart_and_recover(c);
    assert_int_equal(rep.claims_loaded, 1);
    assert_int_equal(rep.rolled_back, 1);
    assert_int_equal(rep.problems, 0);
    assert_non_null(strstr(rep.log, "rolled back"));
    assert_string_equal(claimhost_driver(c, "0000:03:00.2"), "mlx5_core");
    assert_string_equal(claimhost_driver(c, "0000:03:00.3"), "mlx5_core");
    struct dh_claim_record rec;
    assert_int_equal(dh_store_claim_get(c->store, id, &rec, NULL), -ENOENT);
    struct dh_binding_record brec;
    assert_int_equal(dh_store_binding_get(c->store, "0000:03:00.2", &brec, NULL), -ENOENT);
    free(id);
}

static void an_interrupted_release_is_finished(void **state)
{
    struct claimhost *c = *state;
    char *id = claim_id(c, "vfs", 1);
    assert_int_equal(dh_store_claim_set_state(c->store, id, DH_CLAIM_RELEASING, NULL), 0);
    struct dh_recovery_report rep = restart_and_recover(c);
    assert_int_equal(rep.released, 1);
    assert_string_equal(claimhost_driver(c, "0000:03:00.2"), "mlx5_core");
    struct dh_claim_record rec;
    assert_int_equal(dh_store_claim_get(c->store, id, &rec, NULL), -ENOENT);
    free(id);
}

static void claimed_functions_are_checked_against_the_host(void **state)
{
    struct claimhost *c = *state;
    char *id = claim_id(c, "vfs", 2);
    /* a reboot gave 03:00.2 back to mlx5_core; 03:00.3 disappeared */
    dh_host_write_attr(c->host, "sys/bus/pci/devices/0000:03:00.2/driver/unbind", "0000:03:00.2");
    dh_host_write_attr(c->host, "sys/bus/pci/devices/0000:03:00.2/driver_override", "\n");
    dh_host_write_attr(c->host, "sys/bus/pci/drivers_probe", "0000:03:00.2");
    assert_string_equal(claimhost_driver(c, "0000:03:00.2"), "mlx5_core");
    fake_remove(c->tree, "sys/bus/pci/devices/0000:03:00.3");
    struct dh_recovery_report rep = restart_and_recover(c);
    assert_int_equal(rep.rebound, 1);
    assert_int_equal(rep.vanished, 1);
    assert_string_equal(claimhost_driver(c, "0000:03:00.2"), "vfio-pci");
    struct dh_jsonw *w = dh_jsonw_new(false);
    assert_int_equal(dh_pools_write_claim(c->pools, w, id), 0);
    char *text = NULL;
    assert_int_equal(dh_jsonw_finish(w, &text, NULL), 0);
    dh_jsonw_free(w);
    json_t *doc = json_loads(text, 0, NULL);
    json_t *fns = json_object_get(doc, "functions");
    assert_true(json_is_false(json_object_get(json_array_get(fns, 0), "vanished")));
    assert_true(json_is_true(json_object_get(json_array_get(fns, 1), "vanished")));
    json_decref(doc);
    free(text);
    /* releasing it gives the remaining one back and forgets the vanished one */
    assert_int_equal(dh_pools_release(c->pools, id, NULL, NULL), 0);
    assert_string_equal(claimhost_driver(c, "0000:03:00.2"), "mlx5_core");
    free(id);
}

static void half_done_binding_records_are_finished(void **state)
{
    struct claimhost *c = *state;
    struct dh_vfio_ctx ctx = {.host = c->host, .store = c->store, .timeout_ms = 500};
    const char *a[] = {"0000:03:00.4"}, *b[] = {"0000:03:00.5"};
    struct dh_vfio_result res;
    assert_int_equal(dh_vfio_bind(&ctx, a, 1, 0, &res, NULL), 0);
    assert_int_equal(dh_vfio_bind(&ctx, b, 1, 0, &res, NULL), 0);
    /* 03:00.4: a bind that died half-way; 03:00.5: a finished bind made with the CLI */
    struct dh_binding_record rec;
    assert_int_equal(dh_store_binding_get(c->store, "0000:03:00.4", &rec, NULL), 0);
    rec.state = DH_BINDING_BINDING;
    assert_int_equal(dh_store_binding_put(c->store, &rec, NULL), 0);
    dh_binding_record_clear(&rec);
    struct dh_recovery_report rep = restart_and_recover(c);
    assert_int_equal(rep.restored, 1);
    assert_string_equal(claimhost_driver(c, "0000:03:00.4"), "mlx5_core");
    assert_string_equal(claimhost_driver(c, "0000:03:00.5"), "vfio-pci");
}

static void a_release_blocked_by_a_holder_keeps_the_claim(void **state)
{
    struct claimhost *c = *state;
    json_t *cl = claimhost_claim(c, "vm-a", NULL, "0000:03:00.2", 1, 0);
    char id[40];
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(cl, "id")));
    int group = (int)json_integer_value(
            json_object_get(json_array_get(json_object_get(cl, "functions"), 0), "iommu_group"));
    json_decref(cl);
    fake_kernel_hold_group(c->kernel, 777, "qemu-system-x86", group);
    struct dh_error err = {0};
    assert_int_equal(dh_pools_release(c->pools, id, NULL, &err), -EBUSY);
    assert_non_null(strstr(err.message, "pid 777 (qemu-system-x86)"));
    assert_non_null(strstr(err.message, "stays in state releasing"));
    struct dh_claim_record rec;
    assert_int_equal(dh_store_claim_get(c->store, id, &rec, NULL), 0);
    assert_int_equal(rec.state, DH_CLAIM_RELEASING);
    dh_claim_record_clear(&rec);
    /* its function is not handed out meanwhile */
    struct dh_claim_request req = {.owner = "vm-b", .address = "0000:03:00.2", .numa_node = -1};
    dh_error_clear(&err);
    assert_int_equal(dh_pools_claim(c->pools, &req, NULL, NULL, &err), -EBUSY);
    fake_kernel_release_holder(c->kernel, 777);
    assert_int_equal(dh_pools_release(c->pools, id, NULL, NULL), 0);
    assert_string_equal(claimhost_driver(c, "0000:03:00.2"), "mlx5_core");
}

static void refresh_reports_functions_coming_and_going(void **state)
{
    struct claimhost *c = *state;
    char *id = claim_id(c, "raw", 1); /* 0000:82:00.0 (the PF: first in address order) */
    char *vf = NULL;
    {
        struct dh_claim_request req = {.owner = "vm-v", .address = "0000:03:00.2", .numa_node = -1};
        assert_int_equal(dh_pools_claim(c->pools, &req, &vf, NULL, NULL), 0);
    }
    size_t before = c->n_events;
    /* the VF of 0000:83:00.0 goes away, then it gets two */
    assert_int_equal(dh_host_write_attr(c->host, "sys/bus/pci/devices/0000:83:00.0/sriov_numvfs", "0"), 0);
    assert_int_equal(dh_pools_refresh(c->pools, NULL), 0);
    assert_int_equal(c->n_events, before + 1);
    assert_string_equal(c->events[before], "function_removed");
    assert_int_equal(dh_host_write_attr(c->host, "sys/bus/pci/devices/0000:83:00.0/sriov_numvfs", "2"), 0);
    assert_int_equal(dh_pools_refresh(c->pools, NULL), 0);
    assert_int_equal(c->n_events, before + 3);
    assert_string_equal(c->events[before + 1], "function_added");
    /* a claimed function that vanishes is marked, durably */
    fake_remove(c->tree, "sys/bus/pci/devices/0000:03:00.2");
    assert_int_equal(dh_pools_refresh(c->pools, NULL), 0);
    json_t *doc = json_loads(vf, 0, NULL);
    struct dh_claim_record rec;
    assert_int_equal(dh_store_claim_get(c->store, json_string_value(json_object_get(doc, "id")), &rec, NULL),
                     0);
    assert_true(rec.functions[0].vanished);
    dh_claim_record_clear(&rec);
    json_decref(doc);
    free(vf);
    free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(an_interrupted_claim_is_rolled_back, setup, teardown),
            DH_TEST_SETUP(an_interrupted_release_is_finished, setup, teardown),
            DH_TEST_SETUP(claimed_functions_are_checked_against_the_host, setup, teardown),
            DH_TEST_SETUP(half_done_binding_records_are_finished, setup, teardown),
            DH_TEST_SETUP(a_release_blocked_by_a_holder_keeps_the_claim, setup, teardown),
            DH_TEST_SETUP(refresh_reports_functions_coming_and_going, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
