/* The JSON contract of docs/inventory.md: names, types, nulls, cards grouping, filters. */
#include "test.h"

#include <errno.h>

#include "hosts.h"

struct fixture {
    struct fake_tree *tree;
    struct dh_inventory *inv;
    json_t *doc;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->tree = host_bluefield();
    fx->inv = host_scan(fx->tree);
    fx->doc = dh_inventory_to_json(fx->inv, NULL);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    json_decref(fx->doc);
    dh_inventory_free(fx->inv);
    fake_tree_free(fx->tree);
    free(fx);
    return 0;
}

static json_t *func(void **state, const char *addr)
{
    struct fixture *fx = *state;
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get(fx->doc, "functions"), i, f) {
        if (strcmp(json_string_value(json_object_get(f, "address")), addr) == 0)
            return f;
    }
    fail_msg("%s not in JSON", addr);
    return NULL;
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    return json_string_value(v);
}

static void assert_null_key(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        fail_msg("key %s missing (absent facts must be null, not missing)", key);
    if (!json_is_null(v))
        fail_msg("key %s is not null", key);
}

static const char *const contract_keys[] = {
        "address",
        "kind",
        "vendor_id",
        "device_id",
        "subsystem_vendor_id",
        "subsystem_device_id",
        "class",
        "class_name",
        "driver",
        "driver_override",
        "iommu_group",
        "iommu_group_peers",
        "numa_node",
        "pf",
        "vf_index",
        "sf_num",
        "sriov",
        "netdevs",
        "nvme",
        "card",
        "vpd_error",
};

static void every_function_has_every_contract_key(void **state)
{
    struct fixture *fx = *state;
    json_t *funcs = json_object_get(fx->doc, "functions");
    assert_int_equal(json_array_size(funcs), fx->inv->n_funcs);
    size_t i;
    json_t *f;
    json_array_foreach (funcs, i, f) {
        for (size_t k = 0; k < sizeof(contract_keys) / sizeof(contract_keys[0]); k++)
            if (!json_object_get(f, contract_keys[k]))
                fail_msg("%s lacks key %s", json_string_value(json_object_get(f, "address")),
                         contract_keys[k]);
        assert_int_equal(json_object_size(f), sizeof(contract_keys) / sizeof(contract_keys[0]));
    }
}

static void pf_values_and_types(void **state)
{
    json_t *f = func(state, "0000:03:00.0");
    assert_string_equal(str(f, "kind"), "pf");
    assert_string_equal(str(f, "vendor_id"), "0x15b3");
    assert_string_equal(str(f, "device_id"), "0xa2d6");
    assert_string_equal(str(f, "subsystem_device_id"), "0x0061");
    assert_string_equal(str(f, "class"), "0x020000");
    assert_string_equal(str(f, "class_name"), "ethernet");
    assert_string_equal(str(f, "driver"), "mlx5_core");
    assert_null_key(f, "driver_override");
    assert_true(json_is_integer(json_object_get(f, "iommu_group")));
    assert_int_equal(json_integer_value(json_object_get(f, "iommu_group")), 12);
    assert_int_equal(json_array_size(json_object_get(f, "iommu_group_peers")), 0);
    assert_int_equal(json_integer_value(json_object_get(f, "numa_node")), 0);
    assert_null_key(f, "pf");
    assert_null_key(f, "vf_index");
    assert_null_key(f, "sf_num");
    json_t *s = json_object_get(f, "sriov");
    assert_int_equal(json_integer_value(json_object_get(s, "total_vfs")), 8);
    assert_int_equal(json_integer_value(json_object_get(s, "num_vfs")), 2);
    assert_string_equal(str(s, "vf_device_id"), "0x101e");
    assert_int_equal(json_integer_value(json_object_get(s, "offset")), 2);
    assert_int_equal(json_integer_value(json_object_get(s, "stride")), 1);
    assert_true(json_is_true(json_object_get(s, "drivers_autoprobe")));
    assert_false(json_is_true(
            json_object_get(json_object_get(func(state, "0000:04:00.0"), "sriov"), "drivers_autoprobe")));
    assert_true(json_is_boolean(
            json_object_get(json_object_get(func(state, "0000:04:00.0"), "sriov"), "drivers_autoprobe")));
    json_t *card = json_object_get(f, "card");
    assert_string_equal(str(card, "serial_number"), BF_SERIAL);
    assert_string_equal(str(card, "part_number"), BF_PART);
    assert_string_equal(str(card, "name"), BF_NAME);
    assert_string_equal(str(card, "source"), "self");
    assert_string_equal(str(json_object_get(card, "fields"), "V2"), "MBF2H332A");
    assert_null_key(f, "vpd_error");
    assert_null_key(f, "nvme");
}

static void vf_and_sf_values(void **state)
{
    json_t *vf = func(state, "0000:03:00.3");
    assert_string_equal(str(vf, "kind"), "vf");
    assert_string_equal(str(vf, "pf"), "0000:03:00.0");
    assert_true(json_is_integer(json_object_get(vf, "vf_index")));
    assert_int_equal(json_integer_value(json_object_get(vf, "vf_index")), 1);
    assert_null_key(vf, "driver");
    assert_string_equal(str(vf, "driver_override"), "vfio-pci");
    assert_null_key(vf, "sriov");
    assert_string_equal(str(json_object_get(vf, "card"), "source"), "pf");
    /* vf_index 0 is a value, not an absence */
    json_t *vf0 = func(state, "0000:03:00.2");
    assert_true(json_is_integer(json_object_get(vf0, "vf_index")));
    assert_int_equal(json_integer_value(json_object_get(vf0, "vf_index")), 0);

    json_t *sf = func(state, "mlx5_core.sf.4");
    assert_string_equal(str(sf, "kind"), "sf");
    assert_int_equal(json_integer_value(json_object_get(sf, "sf_num")), 88);
    assert_string_equal(str(sf, "pf"), "0000:03:00.0");
    assert_null_key(sf, "vendor_id");
    assert_null_key(sf, "class");
    assert_null_key(sf, "class_name");
    assert_null_key(sf, "iommu_group");
    assert_null_key(sf, "iommu_group_peers");
    assert_null_key(sf, "vf_index");
}

static void netdev_and_representor_objects(void **state)
{
    json_t *netdevs = json_object_get(func(state, "0000:03:00.0"), "netdevs");
    assert_int_equal(json_array_size(netdevs), 3);
    json_t *up = json_array_get(netdevs, 0);
    assert_string_equal(str(up, "name"), "ens1f0np0");
    assert_string_equal(str(up, "mac"), "0c:42:a1:00:00:01");
    assert_string_equal(str(up, "operstate"), "up");
    assert_string_equal(str(up, "phys_port_name"), "p0");
    assert_string_equal(str(up, "phys_switch_id"), "0c42a1000001");
    json_t *rep = json_object_get(json_array_get(netdevs, 2), "representor");
    assert_string_equal(str(rep, "flavour"), "pcivf");
    assert_int_equal(json_integer_value(json_object_get(rep, "controller")), 1);
    assert_int_equal(json_integer_value(json_object_get(rep, "pf")), 0);
    assert_int_equal(json_integer_value(json_object_get(rep, "vf")), 0);
    assert_null_key(rep, "sf");
    json_t *vfnet = json_array_get(json_object_get(func(state, "0000:03:00.2"), "netdevs"), 0);
    assert_null_key(vfnet, "phys_port_name");
    assert_null_key(vfnet, "representor");
}

static void nvme_object(void **state)
{
    json_t *nvme = json_object_get(func(state, "0000:04:00.0"), "nvme");
    assert_string_equal(str(nvme, "controller"), "nvme0");
    json_t *ns = json_object_get(nvme, "namespaces");
    assert_int_equal(json_array_size(ns), 2);
    assert_string_equal(json_string_value(json_array_get(ns, 0)), "nvme0n1");
    assert_string_equal(str(func(state, "0000:04:00.0"), "class_name"), "nvme");
}

static void iommu_peers_listed(void **state)
{
    json_t *peers = json_object_get(func(state, "0000:05:00.1"), "iommu_group_peers");
    assert_int_equal(json_array_size(peers), 1);
    assert_string_equal(json_string_value(json_array_get(peers, 0)), "0000:05:00.0");
}

static void cards_group_functions_by_serial(void **state)
{
    struct fixture *fx = *state;
    json_t *doc = dh_inventory_cards_to_json(fx->inv);
    json_t *cards = json_object_get(doc, "cards");
    assert_int_equal(json_array_size(cards), 1);
    json_t *c = json_array_get(cards, 0);
    assert_string_equal(str(c, "serial_number"), BF_SERIAL);
    assert_string_equal(str(c, "part_number"), BF_PART);
    assert_string_equal(str(c, "name"), BF_NAME);
    json_t *fns = json_object_get(c, "functions");
    assert_int_equal(json_array_size(fns), 5); /* 2 PFs, 2 VFs, 1 SF */
    assert_string_equal(json_string_value(json_array_get(fns, 0)), "0000:03:00.0");
    assert_string_equal(json_string_value(json_array_get(fns, 4)), "mlx5_core.sf.4");
    json_t *pfs = json_object_get(c, "pfs");
    assert_int_equal(json_array_size(pfs), 2);
    assert_string_equal(json_string_value(json_array_get(pfs, 1)), "0000:03:00.1");
    assert_int_equal(json_integer_value(json_object_get(c, "vf_count")), 2);
    assert_int_equal(json_integer_value(json_object_get(c, "sf_count")), 1);
    json_decref(doc);
}

static size_t count(struct dh_inventory *inv, const char *kind, const char *vendor, const char *driver)
{
    struct dh_func_filter f = {.kind = kind, .vendor = vendor, .driver = driver};
    json_t *doc = dh_inventory_to_json(inv, &f);
    size_t n = json_array_size(json_object_get(doc, "functions"));
    json_decref(doc);
    return n;
}

static void filters_select_and_validate(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(count(fx->inv, "pf", NULL, NULL), 3);
    assert_int_equal(count(fx->inv, "vf", NULL, NULL), 4);
    assert_int_equal(count(fx->inv, "sf", NULL, NULL), 1);
    assert_int_equal(count(fx->inv, "pci", NULL, NULL), 3);
    assert_int_equal(count(fx->inv, NULL, "15b3", NULL), 4);
    assert_int_equal(count(fx->inv, NULL, "0x1B36", NULL), 3);
    assert_int_equal(count(fx->inv, "vf", "15b3", "mlx5_core"), 1);
    assert_int_equal(count(fx->inv, NULL, NULL, "none"), 4);
    assert_int_equal(count(fx->inv, NULL, NULL, "vfio-pci"), 1);
    struct dh_error err = {0};
    struct dh_func_filter bad = {.kind = "bridge"};
    assert_int_equal(dh_func_filter_validate(&bad, &err), -EINVAL);
    assert_non_null(strstr(err.message, "bridge"));
    struct dh_func_filter badv = {.vendor = "mellanox"};
    dh_error_clear(&err);
    assert_int_equal(dh_func_filter_validate(&badv, &err), -EINVAL);
    assert_non_null(strstr(err.message, "mellanox"));
    struct dh_func_filter longv = {.vendor = "0x00015b3"};
    assert_int_equal(dh_func_filter_validate(&longv, NULL), -EINVAL);
    assert_int_equal(dh_func_filter_validate(NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(every_function_has_every_contract_key, setup, teardown),
            DH_TEST_SETUP(pf_values_and_types, setup, teardown),
            DH_TEST_SETUP(vf_and_sf_values, setup, teardown),
            DH_TEST_SETUP(netdev_and_representor_objects, setup, teardown),
            DH_TEST_SETUP(nvme_object, setup, teardown),
            DH_TEST_SETUP(iommu_peers_listed, setup, teardown),
            DH_TEST_SETUP(cards_group_functions_by_serial, setup, teardown),
            DH_TEST_SETUP(filters_select_and_validate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
