/* The inventory of a well-formed BlueField-like host: every field of every kind of function. */
#include "test.h"

#include "hosts.h"

static const struct dh_func *get(void **state, const char *addr)
{
    struct bluefield_fixture *fx = *state;
    const struct dh_func *f = dh_inventory_find(fx->inv, addr);
    if (!f)
        fail_msg("%s not in inventory", addr);
    return f;
}

static void lists_every_function_in_order(void **state)
{
    struct bluefield_fixture *fx = *state;
    static const char *const want[] = {
            "0000:00:00.0", "0000:03:00.0", "0000:03:00.1", "0000:03:00.2", "0000:03:00.3",   "0000:04:00.0",
            "0000:04:00.1", "0000:04:00.2", "0000:05:00.0", "0000:05:00.1", "mlx5_core.sf.4",
    };
    assert_int_equal(fx->inv->n_funcs, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < fx->inv->n_funcs; i++)
        assert_string_equal(fx->inv->funcs[i].address, want[i]);
}

static void pf_ids_driver_group_numa(void **state)
{
    const struct dh_func *f = get(state, "0000:03:00.0");
    assert_int_equal(f->kind, DH_FUNC_PF);
    assert_int_equal(f->vendor_id, 0x15b3);
    assert_int_equal(f->device_id, 0xa2d6);
    assert_int_equal(f->subsystem_vendor_id, 0x15b3);
    assert_int_equal(f->subsystem_device_id, 0x0061);
    assert_int_equal(f->class_code, 0x020000);
    assert_string_equal(f->driver, "mlx5_core");
    assert_null(f->driver_override);
    assert_int_equal(f->iommu_group, 12);
    assert_int_equal(f->n_iommu_group_peers, 0);
    assert_int_equal(f->numa_node, 0);
    assert_null(f->pf);
    assert_int_equal(f->vf_index, -1);
}

static void pf_sriov_attributes(void **state)
{
    const struct dh_func *f = get(state, "0000:03:00.0");
    assert_int_equal(f->sriov.total_vfs, 8);
    assert_int_equal(f->sriov.num_vfs, 2);
    assert_int_equal(f->sriov.vf_device_id, 0x101e);
    assert_int_equal(f->sriov.offset, 2);
    assert_int_equal(f->sriov.stride, 1);
    assert_int_equal(f->sriov.drivers_autoprobe, 1);
    const struct dh_func *nvme = get(state, "0000:04:00.0");
    assert_int_equal(nvme->sriov.drivers_autoprobe, 0);
    assert_int_equal(nvme->sriov.num_vfs, 2);
    const struct dh_func *port1 = get(state, "0000:03:00.1");
    assert_int_equal(port1->kind, DH_FUNC_PF);
    assert_int_equal(port1->sriov.num_vfs, 0);
}

static void vf_index_comes_from_virtfn_links(void **state)
{
    const struct dh_func *vf0 = get(state, "0000:03:00.2");
    const struct dh_func *vf1 = get(state, "0000:03:00.3");
    assert_int_equal(vf0->kind, DH_FUNC_VF);
    assert_string_equal(vf0->pf, "0000:03:00.0");
    assert_int_equal(vf0->vf_index, 0);
    assert_int_equal(vf0->device_id, 0x101e);
    assert_string_equal(vf0->driver, "mlx5_core");
    assert_int_equal(vf0->iommu_group, 14);
    assert_int_equal(vf1->vf_index, 1);
    assert_null(vf1->driver);
    assert_string_equal(vf1->driver_override, "vfio-pci");
    const struct dh_func *nvf = get(state, "0000:04:00.2");
    assert_string_equal(nvf->pf, "0000:04:00.0");
    assert_int_equal(nvf->vf_index, 1);
    assert_int_equal(nvf->class_code, 0x010802);
}

static void netdevs_with_switchdev_ports(void **state)
{
    const struct dh_func *f = get(state, "0000:03:00.0");
    assert_int_equal(f->n_netdevs, 3);
    /* sorted by name */
    const struct dh_netdev *up = &f->netdevs[0], *hpf = &f->netdevs[1], *vfrep = &f->netdevs[2];
    assert_string_equal(up->name, "ens1f0np0");
    assert_string_equal(up->mac, "0c:42:a1:00:00:01");
    assert_string_equal(up->operstate, "up");
    assert_string_equal(up->phys_port_name, "p0");
    assert_string_equal(up->phys_switch_id, "0c42a1000001");
    assert_int_equal(up->port.flavour, DH_PORT_PHYSICAL);
    assert_int_equal(up->port.port, 0);
    assert_string_equal(hpf->name, "pf0hpf");
    assert_int_equal(hpf->port.flavour, DH_PORT_PCIPF);
    assert_int_equal(hpf->port.controller, 1);
    assert_int_equal(hpf->port.pf, 0);
    assert_string_equal(vfrep->name, "pf0vf0");
    assert_string_equal(vfrep->operstate, "down");
    assert_int_equal(vfrep->port.flavour, DH_PORT_PCIVF);
    assert_int_equal(vfrep->port.vf, 0);

    const struct dh_func *vf = get(state, "0000:03:00.2");
    assert_int_equal(vf->n_netdevs, 1);
    assert_string_equal(vf->netdevs[0].name, "ens1f0v0");
    assert_null(vf->netdevs[0].phys_port_name);
    assert_null(vf->netdevs[0].phys_switch_id);
    assert_int_equal(vf->netdevs[0].port.flavour, DH_PORT_NONE);
    assert_int_equal(get(state, "0000:03:00.3")->n_netdevs, 0);
}

static void sf_fields(void **state)
{
    const struct dh_func *sf = get(state, "mlx5_core.sf.4");
    assert_int_equal(sf->kind, DH_FUNC_SF);
    assert_string_equal(sf->pf, "0000:03:00.0");
    assert_int_equal(sf->sf_num, 88);
    assert_string_equal(sf->driver, "mlx5_core.sf");
    assert_int_equal(sf->vendor_id, -1);
    assert_int_equal(sf->iommu_group, -1);
    assert_int_equal(sf->numa_node, 0); /* the PF's */
    assert_int_equal(sf->n_netdevs, 1);
    assert_string_equal(sf->netdevs[0].name, "enp3s0f0s88");
    assert_string_equal(sf->netdevs[0].mac, "02:00:00:00:00:58");
}

static void nvme_controller_and_head_namespaces(void **state)
{
    const struct dh_func *f = get(state, "0000:04:00.0");
    assert_string_equal(f->nvme_controller, "nvme0");
    assert_int_equal(f->n_nvme_namespaces, 2);
    assert_string_equal(f->nvme_namespaces[0], "nvme0n1");
    assert_string_equal(f->nvme_namespaces[1], "nvme0n2");
    assert_int_equal(f->numa_node, 1);
    assert_null(get(state, "0000:04:00.1")->nvme_controller);
}

static void iommu_group_peers_exclude_self(void **state)
{
    const struct dh_func *a = get(state, "0000:05:00.0");
    const struct dh_func *b = get(state, "0000:05:00.1");
    assert_int_equal(a->iommu_group, 23);
    assert_int_equal(a->n_iommu_group_peers, 1);
    assert_string_equal(a->iommu_group_peers[0], "0000:05:00.1");
    assert_int_equal(b->n_iommu_group_peers, 1);
    assert_string_equal(b->iommu_group_peers[0], "0000:05:00.0");
    assert_null(b->driver);
    const struct dh_func *host = get(state, "0000:00:00.0");
    assert_int_equal(host->iommu_group, -1);
    assert_int_equal(host->kind, DH_FUNC_PCI);
    assert_int_equal(host->n_netdevs, 0);
}

static void cards_from_own_vpd_and_pf(void **state)
{
    const struct dh_func *pf = get(state, "0000:03:00.0");
    assert_non_null(pf->vpd);
    assert_null(pf->vpd_error);
    assert_int_equal(pf->card_source, DH_CARD_SELF);
    assert_string_equal(dh_func_card_serial(pf), BF_SERIAL);
    assert_string_equal(dh_vpd_get(pf->card, "PN"), BF_PART);
    assert_string_equal(dh_vpd_get(pf->card, "EC"), "A3");
    assert_string_equal(dh_vpd_get(pf->card, "YA"), "asset-7");
    assert_string_equal(pf->card->name, BF_NAME);

    const struct dh_func *vf = get(state, "0000:03:00.2");
    assert_null(vf->vpd);
    assert_int_equal(vf->card_source, DH_CARD_PF);
    assert_string_equal(dh_func_card_serial(vf), BF_SERIAL);
    const struct dh_func *sf = get(state, "mlx5_core.sf.4");
    assert_int_equal(sf->card_source, DH_CARD_PF);
    assert_string_equal(dh_func_card_serial(sf), BF_SERIAL);

    const struct dh_func *nvme = get(state, "0000:04:00.2");
    assert_null(nvme->card);
    assert_int_equal(nvme->card_source, DH_CARD_NONE);
    assert_null(dh_func_card_serial(nvme));
}

static void find_rejects_unknown_and_malformed(void **state)
{
    struct bluefield_fixture *fx = *state;
    assert_null(dh_inventory_find(fx->inv, "0000:99:00.0"));
    assert_null(dh_inventory_find(fx->inv, "mlx5_core.sf.5"));
    assert_null(dh_inventory_find(fx->inv, "03:00.0"));
    assert_null(dh_inventory_find(fx->inv, NULL));
    assert_non_null(dh_inventory_find(fx->inv, "0000:03:00.0"));
}

static void skip_vpd_option_reads_no_vpd(void **state)
{
    struct bluefield_fixture *fx = *state;
    struct dh_host *h = host_open(fx->tree);
    struct dh_inventory *inv = NULL;
    struct dh_inventory_options opts = {.skip_vpd = true};
    assert_int_equal(dh_inventory_scan(h, &opts, &inv, NULL), 0);
    const struct dh_func *pf = dh_inventory_find(inv, "0000:03:00.0");
    assert_null(pf->vpd);
    assert_null(pf->card);
    assert_null(pf->vpd_error);
    dh_inventory_free(inv);
    dh_host_free(h);
}

static void rescans_reuse_vpd_of_unchanged_functions(void **state)
{
    struct bluefield_fixture *fx = *state;
    /* the card's VPD on disk changes: a rescan that reuses the previous scan does not read it */
    fake_pci_write_bytes(fx->tree, "0000:03:00.0", "vpd", "garbage", 7);
    struct dh_host *h = host_open(fx->tree);
    struct dh_inventory *inv = NULL;
    struct dh_inventory_options reuse = {.reuse_vpd = fx->inv};
    assert_int_equal(dh_inventory_scan(h, &reuse, &inv, NULL), 0);
    const struct dh_func *pf = dh_inventory_find(inv, "0000:03:00.0");
    assert_string_equal(dh_func_card_serial(pf), BF_SERIAL);
    assert_ptr_not_equal(pf->vpd, dh_inventory_find(fx->inv, "0000:03:00.0")->vpd); /* a copy */
    assert_string_equal(dh_vpd_get(pf->vpd, "PN"), BF_PART);
    dh_inventory_free(inv);
    /* without reuse the change is seen */
    assert_int_equal(dh_inventory_scan(h, NULL, &inv, NULL), 0);
    assert_non_null(dh_inventory_find(inv, "0000:03:00.0")->vpd_error);
    struct dh_inventory *again = NULL;
    reuse.reuse_vpd = inv;
    assert_int_equal(dh_inventory_scan(h, &reuse, &again, NULL), 0);
    assert_non_null(dh_inventory_find(again, "0000:03:00.0")->vpd_error); /* the error is reused too */
    dh_inventory_free(again);
    dh_inventory_free(inv);
    /* a different device at the same address is read afresh */
    fake_pci_write(fx->tree, "0000:03:00.0", "device", "0xa2dc\n");
    fake_pci_sync_uevent(fx->tree, "0000:03:00.0");
    reuse.reuse_vpd = fx->inv;
    assert_int_equal(dh_inventory_scan(h, &reuse, &inv, NULL), 0);
    assert_non_null(dh_inventory_find(inv, "0000:03:00.0")->vpd_error);
    dh_inventory_free(inv);
    dh_host_free(h);
}

static void kind_names_round_trip(void **state)
{
    (void)state;
    enum dh_func_kind k;
    assert_int_equal(dh_func_kind_from_string("vf", &k), 0);
    assert_int_equal(k, DH_FUNC_VF);
    assert_string_equal(dh_func_kind_to_string(DH_FUNC_SF), "sf");
    assert_int_equal(dh_func_kind_from_string("VF", &k), -EINVAL);
    assert_true(dh_sf_name_is_valid("mlx5_core.sf.4"));
    assert_false(dh_sf_name_is_valid("mlx5_core.eth.0"));
    assert_false(dh_sf_name_is_valid("mlx5_core.sf."));
    assert_false(dh_sf_name_is_valid(".sf.4"));
    assert_false(dh_sf_name_is_valid("../x.sf.4"));
    assert_true(dh_func_address_is_valid("0000:03:00.2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(lists_every_function_in_order, bluefield_fixture_setup, bluefield_fixture_teardown),
            DH_TEST_SETUP(pf_ids_driver_group_numa, bluefield_fixture_setup, bluefield_fixture_teardown),
            DH_TEST_SETUP(pf_sriov_attributes, bluefield_fixture_setup, bluefield_fixture_teardown),
            DH_TEST_SETUP(vf_index_comes_from_virtfn_links, bluefield_fixture_setup,
                          bluefield_fixture_teardown),
            DH_TEST_SETUP(netdevs_with_switchdev_ports, bluefield_fixture_setup, bluefield_fixture_teardown),
            DH_TEST_SETUP(sf_fields, bluefield_fixture_setup, bluefield_fixture_teardown),
            DH_TEST_SETUP(nvme_controller_and_head_namespaces, bluefield_fixture_setup,
                          bluefield_fixture_teardown),
            DH_TEST_SETUP(iommu_group_peers_exclude_self, bluefield_fixture_setup,
                          bluefield_fixture_teardown),
            DH_TEST_SETUP(cards_from_own_vpd_and_pf, bluefield_fixture_setup, bluefield_fixture_teardown),
            DH_TEST_SETUP(find_rejects_unknown_and_malformed, bluefield_fixture_setup,
                          bluefield_fixture_teardown),
            DH_TEST_SETUP(skip_vpd_option_reads_no_vpd, bluefield_fixture_setup, bluefield_fixture_teardown),
            DH_TEST_SETUP(rescans_reuse_vpd_of_unchanged_functions, bluefield_fixture_setup,
                          bluefield_fixture_teardown),
            DH_TEST(kind_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
