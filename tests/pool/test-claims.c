/* Claims: from a pool and by address, binding and restoring, idempotency, exhaustion, Nova's PF/VF
 * dependency, NUMA, remote-managed binding profiles, a failed bind that changes nothing. */
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

static const char *s(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void claim_binds_and_release_restores(void **state)
{
    struct claimhost *c = *state;
    json_t *cl = claimhost_claim(c, "vm-a", "vfs", NULL, 2, 0);
    assert_string_equal(s(cl, "owner"), "vm-a");
    assert_string_equal(s(cl, "pool"), "vfs");
    assert_string_equal(s(cl, "state"), "claimed");
    assert_true(strncmp(s(cl, "id"), "c-", 2) == 0 && strlen(s(cl, "id")) == 34);
    json_t *fns = json_object_get(cl, "functions");
    assert_int_equal(json_array_size(fns), 2);
    json_t *f0 = json_array_get(fns, 0);
    assert_string_equal(s(f0, "address"), "0000:03:00.2");
    assert_true(json_is_true(json_object_get(f0, "bind")));
    /* the answer shows the kernel's state after the bind, and when it was made */
    assert_string_equal(s(f0, "driver"), "vfio-pci");
    assert_true(strncmp(s(cl, "created"), "20", 2) == 0 && strcmp(s(cl, "created"), "2025") > 0);
    assert_string_equal(claimhost_driver(c, "0000:03:00.2"), "vfio-pci");
    assert_string_equal(claimhost_driver(c, "0000:03:00.3"), "vfio-pci");
    char node[32];
    snprintf(node, sizeof(node), "/dev/vfio/%lld", json_integer_value(json_object_get(f0, "iommu_group")));
    assert_string_equal(s(f0, "vfio_device"), node);
    assert_true(json_is_null(json_object_get(f0, "binding_profile")));
    /* durable */
    struct dh_claim_record rec;
    assert_int_equal(dh_store_claim_get(c->store, s(cl, "id"), &rec, NULL), 0);
    assert_int_equal(rec.state, DH_CLAIM_CLAIMED);
    dh_claim_record_clear(&rec);
    assert_string_equal(c->events[c->n_events - 1], "claimed");

    char id[40];
    snprintf(id, sizeof(id), "%s", s(cl, "id"));
    json_decref(cl);
    char *text = NULL;
    assert_int_equal(dh_pools_release(c->pools, id, &text, NULL), 0);
    json_t *rel = json_loads(text, 0, NULL);
    free(text);
    assert_string_equal(s(rel, "state"), "released");
    assert_string_equal(s(json_array_get(json_object_get(rel, "functions"), 0), "driver"), "mlx5_core");
    json_decref(rel);
    assert_string_equal(claimhost_driver(c, "0000:03:00.2"), "mlx5_core");
    assert_string_equal(claimhost_driver(c, "0000:03:00.3"), "mlx5_core");
    assert_int_equal(dh_store_claim_get(c->store, id, &rec, NULL), -ENOENT);
    assert_string_equal(c->events[c->n_events - 1], "released");
    struct dh_error err = {0};
    assert_int_equal(dh_pools_release(c->pools, id, NULL, &err), -ENOENT);
}

static void releasing_a_claim_that_bound_nothing_is_one_write(void **state)
{
    struct claimhost *c = *state;
    json_t *cl = claimhost_claim(c, "vm-a", "raw", NULL, 1, 0);
    char id[40];
    snprintf(id, sizeof(id), "%s", s(cl, "id"));
    json_decref(cl);
    unsigned long long commits0, writes0, commits1, writes1;
    dh_store_stats(c->store, &commits0, &writes0);
    assert_int_equal(dh_pools_release(c->pools, id, NULL, NULL), 0);
    dh_store_stats(c->store, &commits1, &writes1);
    assert_int_equal(writes1 - writes0, 1); /* the delete; no "releasing" step */
    struct dh_claim_record rec;
    assert_int_equal(dh_store_claim_get(c->store, id, &rec, NULL), -ENOENT);
    /* a bound claim still goes through releasing: two writes besides the bind records */
    cl = claimhost_claim(c, "vm-b", "vfs", NULL, 1, 0);
    snprintf(id, sizeof(id), "%s", s(cl, "id"));
    json_decref(cl);
    dh_store_stats(c->store, &commits0, &writes0);
    assert_int_equal(dh_pools_release(c->pools, id, NULL, NULL), 0);
    dh_store_stats(c->store, &commits1, &writes1);
    assert_true(writes1 - writes0 >= 2);
}

static void the_same_request_gets_the_same_claim(void **state)
{
    struct claimhost *c = *state;
    struct dh_claim_request req = {.owner = "vm-a", .pool = "vfs", .count = 1, .numa_node = -1};
    char *a = NULL, *b = NULL;
    bool created = false;
    assert_int_equal(dh_pools_claim(c->pools, &req, &a, &created, NULL), 0);
    assert_true(created);
    assert_int_equal(dh_pools_claim(c->pools, &req, &b, &created, NULL), 0);
    assert_false(created);
    assert_string_equal(a, b);
    free(b);
    /* another owner with the same request gets another function */
    req.owner = "vm-b";
    assert_int_equal(dh_pools_claim(c->pools, &req, &b, &created, NULL), 0);
    assert_true(created);
    json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL);
    assert_string_not_equal(s(json_array_get(json_object_get(ja, "functions"), 0), "address"),
                            s(json_array_get(json_object_get(jb, "functions"), 0), "address"));
    json_decref(ja);
    json_decref(jb);
    free(a);
    free(b);
    /* a request_id makes separate claims possible, and reusing it for another request is an error */
    req.owner = "vm-c";
    req.request_id = "r1";
    assert_int_equal(dh_pools_claim(c->pools, &req, NULL, &created, NULL), 0);
    req.request_id = "r2";
    assert_int_equal(dh_pools_claim(c->pools, &req, NULL, &created, NULL), 0); /* a second, separate claim */
    assert_true(created);
    assert_int_equal(dh_pools_claim(c->pools, &req, NULL, &created, NULL), 0);
    assert_false(created);
    req.request_id = "r1";
    req.count = 2;
    struct dh_error err = {0};
    assert_int_equal(dh_pools_claim(c->pools, &req, NULL, &created, &err), -EEXIST);
    assert_non_null(strstr(err.message, "request_id 'r1'"));
}

static void exhaustion_and_bad_requests_change_nothing(void **state)
{
    struct claimhost *c = *state;
    struct dh_error err = {0};
    struct dh_claim_request req = {.owner = "vm-a", .pool = "vfs", .count = 5, .numa_node = -1};
    assert_int_equal(dh_pools_claim(c->pools, &req, NULL, NULL, &err), -ENOSPC);
    assert_non_null(strstr(err.message, "pool 'vfs' has 4 free function(s), 5 asked for"));
    static const struct {
        struct dh_claim_request req;
        int code;
        const char *needle;
    } bad[] = {
            {{.owner = "", .pool = "vfs", .numa_node = -1}, -EINVAL, "owner"},
            {{.owner = "vm", .numa_node = -1}, -EINVAL, "exactly one of pool or address"},
            {{.owner = "vm", .pool = "vfs", .address = "0000:03:00.2", .numa_node = -1},
             -EINVAL,
             "exactly one"},
            {{.owner = "vm", .address = "03:00.2", .numa_node = -1}, -EINVAL, "malformed"},
            {{.owner = "vm", .pool = "vfs", .count = 65, .numa_node = -1}, -EINVAL, "count 65"},
            {{.owner = "vm", .address = "0000:03:00.2", .count = 2, .numa_node = -1},
             -EINVAL,
             "names one function"},
            {{.owner = "vm", .pool = "vfs", .numa_node = -2}, -EINVAL, "numa_node"},
            {{.owner = "vm", .pool = "gold", .numa_node = -1}, -ENOENT, "pool 'gold' does not exist"},
            {{.owner = "vm", .address = "0000:99:00.0", .numa_node = -1}, -ENOENT, "no such function"},
            {{.owner = "vm", .address = "0000:03:00.0", .numa_node = -1}, -EINVAL, "in no pool"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        dh_error_clear(&err);
        int r = dh_pools_claim(c->pools, &bad[i].req, NULL, NULL, &err);
        if (r != bad[i].code || !strstr(err.message, bad[i].needle))
            fail_msg("case %zu: %d \"%s\"", i, r, err.message);
    }
    json_t *labels = json_pack("{s:i}", "n", 1);
    struct dh_claim_request l = {.owner = "vm", .pool = "vfs", .numa_node = -1, .labels = labels};
    dh_error_clear(&err);
    assert_int_equal(dh_pools_claim(c->pools, &l, NULL, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.message, "labels.n"));
    json_decref(labels);
    struct dh_claim_record *v = NULL;
    size_t n = 0;
    assert_int_equal(dh_store_claim_list(c->store, NULL, &v, &n, NULL), 0);
    assert_int_equal(n, 0);
    free(v);
    assert_string_equal(claimhost_driver(c, "0000:03:00.2"), "mlx5_core");
}

static void a_claimed_vf_blocks_its_pf_and_the_other_way_round(void **state)
{
    struct claimhost *c = *state;
    json_t *vf = claimhost_claim(c, "vm-a", NULL, "0000:82:00.1", 1, 0);
    assert_string_equal(claimhost_driver(c, "0000:82:00.1"), "mlx5_core"); /* pool raw: no bind */
    struct dh_error err = {0};
    struct dh_claim_request req = {.owner = "vm-b", .address = "0000:82:00.0", .numa_node = -1};
    assert_int_equal(dh_pools_claim(c->pools, &req, NULL, NULL, &err), -EBUSY);
    assert_non_null(strstr(err.message, "1 of its VFs are claimed"));
    assert_int_equal(dh_pools_release(c->pools, s(vf, "id"), NULL, NULL), 0);
    json_decref(vf);
    json_t *pf = claimhost_claim(c, "vm-b", NULL, "0000:82:00.0", 1, 0);
    req = (struct dh_claim_request){.owner = "vm-c", .address = "0000:82:00.2", .numa_node = -1};
    dh_error_clear(&err);
    assert_int_equal(dh_pools_claim(c->pools, &req, NULL, NULL, &err), -EBUSY);
    assert_non_null(strstr(err.message, "its PF 0000:82:00.0 is claimed"));
    /* the pool view agrees */
    struct dh_jsonw *w = dh_jsonw_new(false);
    struct dh_pools_filter f = {.pool = "raw"};
    dh_pools_write_functions(c->pools, w, &f);
    char *text = NULL;
    assert_int_equal(dh_jsonw_finish(w, &text, NULL), 0);
    dh_jsonw_free(w);
    json_t *doc = json_loads(text, 0, NULL);
    json_t *fns = json_object_get(doc, "functions");
    assert_int_equal(json_array_size(fns), 3);
    assert_string_equal(s(json_array_get(fns, 0), "state"), "claimed");
    assert_string_equal(s(json_array_get(fns, 0), "claim"), s(pf, "id"));
    assert_string_equal(s(json_array_get(fns, 1), "state"), "unavailable");
    assert_non_null(strstr(s(json_array_get(fns, 1), "unavailable_reason"), "its PF"));
    json_decref(doc);
    free(text);
    json_decref(pf);
}

static void numa_node_is_honoured(void **state)
{
    struct claimhost *c = *state;
    struct dh_claim_request req = {.owner = "vm-a", .pool = "vfs", .count = 2, .numa_node = 1};
    char *text = NULL;
    assert_int_equal(dh_pools_claim(c->pools, &req, &text, NULL, NULL), 0);
    json_t *cl = json_loads(text, 0, NULL);
    json_t *fns = json_object_get(cl, "functions");
    assert_string_equal(s(json_array_get(fns, 0), "address"), "0000:03:00.4");
    assert_string_equal(s(json_array_get(fns, 1), "address"), "0000:03:00.5");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(fns, 0), "numa_node")), 1);
    json_decref(cl);
    free(text);
    req.owner = "vm-b";
    req.count = 1;
    struct dh_error err = {0};
    assert_int_equal(dh_pools_claim(c->pools, &req, NULL, NULL, &err), -ENOSPC);
    assert_non_null(strstr(err.message, "on NUMA node 1"));
}

static void remote_managed_vfs_carry_a_binding_profile(void **state)
{
    struct claimhost *c = *state;
    json_t *cl = claimhost_claim(c, "port-1", "offpath", NULL, 2, 0);
    json_t *fns = json_object_get(cl, "functions");
    /* the PF is in the pool but cannot be remote-managed: the two VFs were chosen */
    json_t *f0 = json_array_get(fns, 0), *f1 = json_array_get(fns, 1);
    assert_string_equal(s(f0, "address"), "0000:81:00.1");
    json_t *bp = json_object_get(f0, "binding_profile");
    assert_string_equal(s(bp, "pci_vendor_info"), "15b3:101e");
    assert_string_equal(s(bp, "pci_slot"), "0000:81:00.1");
    assert_string_equal(s(bp, "physical_network"), "physnet1");
    assert_string_equal(s(bp, "card_serial_number"), "OFFPATH0001"); /* from the PF's VPD */
    assert_string_equal(s(bp, "pf_mac_address"), "0c:42:a1:81:00:00");
    json_t *vf_num = json_object_get(bp, "vf_num");
    assert_true(json_is_integer(vf_num)); /* 0 is a value, not an absence */
    assert_int_equal(json_integer_value(vf_num), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(f1, "binding_profile"), "vf_num")),
                     1);
    json_decref(cl);
    struct dh_error err = {0};
    struct dh_claim_request req = {.owner = "port-2", .address = "0000:81:00.0", .numa_node = -1};
    assert_int_equal(dh_pools_claim(c->pools, &req, NULL, NULL, &err), -EBUSY);
    if (!strstr(err.message, "only VFs can be remote-managed"))
        fail_msg("%s", err.message);
}

static void remote_managed_without_a_serial_is_not_claimable(void **state)
{
    struct claimhost *c = *state;
    struct dh_error err = {0};
    struct dh_claim_request req = {.owner = "port-1", .pool = "noserial", .numa_node = -1};
    assert_int_equal(dh_pools_claim(c->pools, &req, NULL, NULL, &err), -ENOSPC);
    if (!strstr(err.message, "no card serial number"))
        fail_msg("%s", err.message);
}

static void a_failed_bind_leaves_no_claim_and_nothing_bound(void **state)
{
    struct claimhost *c = *state;
    /* the second VF's netdev is in use: the first VF was bound and must be given back */
    fake_netdev_add(c->tree, fake_pci_dir(c->tree, "0000:03:00.3"), "eth9", "02:00:00:00:00:09", "up");
    snprintf(c->failing_ifname, sizeof(c->failing_ifname), "eth9");
    dh_pools_refresh(c->pools, NULL);
    struct dh_error err = {0};
    struct dh_claim_request req = {.owner = "vm-a", .pool = "vfs", .count = 2, .numa_node = -1};
    assert_int_equal(dh_pools_claim(c->pools, &req, NULL, NULL, &err), -EBUSY);
    assert_non_null(strstr(err.message, "192.0.2.9/24"));
    assert_string_equal(claimhost_driver(c, "0000:03:00.2"), "mlx5_core");
    assert_string_equal(claimhost_driver(c, "0000:03:00.3"), "mlx5_core");
    struct dh_claim_record *v = NULL;
    size_t n = 0;
    assert_int_equal(dh_store_claim_list(c->store, NULL, &v, &n, NULL), 0);
    assert_int_equal(n, 0);
    free(v);
    struct dh_binding_record rec;
    assert_int_equal(dh_store_binding_get(c->store, "0000:03:00.2", &rec, NULL), -ENOENT);
    /* and the functions are free again */
    json_t *cl = claimhost_claim(c, "vm-a", NULL, "0000:03:00.2", 1, 0);
    json_decref(cl);
}

static void pools_report_their_counts(void **state)
{
    struct claimhost *c = *state;
    json_t *cl = claimhost_claim(c, "vm-a", "vfs", NULL, 1, 0);
    json_decref(cl);
    struct dh_jsonw *w = dh_jsonw_new(false);
    dh_pools_write_pools(c->pools, w);
    char *text = NULL;
    assert_int_equal(dh_jsonw_finish(w, &text, NULL), 0);
    dh_jsonw_free(w);
    json_t *doc = json_loads(text, 0, NULL);
    json_t *vfs = json_array_get(json_object_get(doc, "pools"), 0);
    assert_string_equal(s(vfs, "name"), "vfs");
    assert_int_equal(json_integer_value(json_object_get(vfs, "total")), 4);
    assert_int_equal(json_integer_value(json_object_get(vfs, "free")), 3);
    assert_int_equal(json_integer_value(json_object_get(vfs, "claimed")), 1);
    json_t *off = json_array_get(json_object_get(doc, "pools"), 1);
    assert_int_equal(json_integer_value(json_object_get(off, "total")), 3);
    assert_int_equal(json_integer_value(json_object_get(off, "unavailable")), 1); /* the PF */
    assert_true(json_is_false(json_object_get(json_array_get(json_object_get(doc, "pools"), 2), "bind")));
    json_decref(doc);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(claim_binds_and_release_restores, setup, teardown),
            DH_TEST_SETUP(releasing_a_claim_that_bound_nothing_is_one_write, setup, teardown),
            DH_TEST_SETUP(the_same_request_gets_the_same_claim, setup, teardown),
            DH_TEST_SETUP(exhaustion_and_bad_requests_change_nothing, setup, teardown),
            DH_TEST_SETUP(a_claimed_vf_blocks_its_pf_and_the_other_way_round, setup, teardown),
            DH_TEST_SETUP(numa_node_is_honoured, setup, teardown),
            DH_TEST_SETUP(remote_managed_vfs_carry_a_binding_profile, setup, teardown),
            DH_TEST_SETUP(remote_managed_without_a_serial_is_not_claimable, setup, teardown),
            DH_TEST_SETUP(a_failed_bind_leaves_no_claim_and_nothing_bound, setup, teardown),
            DH_TEST_SETUP(pools_report_their_counts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
