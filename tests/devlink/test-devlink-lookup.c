/* PF resolution and lookups (as vif-plug-representor does them) on a BlueField-like DPU and a
 * netdevsim-like local eswitch: by a pcipf port's hw_addr, by the smart_nic file when hw_addr is zero, by the
 * uplink of a local PF; and every failure with what it must say: unknown MAC, ambiguous MAC, VF out
 * of range, a representor without netdev, a netdev udev has not processed yet. */
#include "test.h"

#include "dpu.h"
#include "util/macro.h"

struct fixture {
    struct fake_dl *f;
    struct fake_tree *tree;
    struct dh_host *host;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->f = fake_dl_new();
    dpu_bluefield(fx->f);
    fx->tree = dpu_bluefield_tree(NULL);
    fx->host = dpu_host(fx->tree);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    dh_host_free(fx->host);
    fake_tree_free(fx->tree);
    fake_dl_free(fx->f);
    free(fx);
    return 0;
}

static void the_host_pf_mac_and_vf_number_find_the_representor(void **state)
{
    struct fixture *fx = *state;
    struct dh_devlink_ports *t = dpu_table(fx->f, fx->host);
    /* the DPU's own PF 0 (its SF's, through the uplink p0), then the host's PFs 0 and 1 */
    assert_int_equal(t->n_pfs, 3);
    assert_int_equal(t->pfs[0].mac_source, DH_DEVLINK_MAC_UPLINK);
    assert_int_equal(t->pfs[0].controller, 0);
    assert_int_equal(t->pfs[1].mac_source, DH_DEVLINK_MAC_HW_ADDR);
    assert_int_equal(t->pfs[1].controller, 1);
    assert_true(t->pfs[1].external);
    assert_string_equal(t->ports[t->pfs[1].port].netdev, "pf0hpf");
    struct dh_devlink_match m;
    struct dh_error err = {0};
    for (int vf = 0; vf < 4; vf++) {
        assert_int_equal(dpu_lookup(t, fx->host, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, vf, &m, &err),
                         0);
        char want[16];
        snprintf(want, sizeof(want), "pf0vf%d", vf);
        assert_string_equal(m.port->netdev, want);
        assert_string_equal(m.port->dev, "0000:03:00.0");
        assert_string_equal(m.pf->dev, "0000:03:00.0");
    }
    /* the second PF, its own VF 1; and the MAC in capitals, as a CMS may write it */
    assert_int_equal(
            dpu_lookup(t, fx->host, "0C:42:A1:00:00:02", 1, DEVLINK_PORT_FLAVOUR_PCI_VF, 1, &m, &err), 0);
    assert_string_equal(m.port->netdev, "pf1vf1");
    assert_int_equal(m.port->pfnum, 1);
    dh_devlink_ports_free(t);
}

static void an_sf_is_found_through_its_pf(void **state)
{
    struct fixture *fx = *state;
    struct dh_devlink_ports *t = dpu_table(fx->f, fx->host);
    /* the DPU's own SF 88 belongs to the local controller's PF 0, whose netdev is the uplink p0 */
    struct dh_devlink_match m;
    struct dh_error err = {0};
    assert_int_equal(dpu_lookup(t, fx->host, DPU_P0_MAC, 0, DEVLINK_PORT_FLAVOUR_PCI_SF, 88, &m, &err), 0);
    assert_string_equal(m.port->netdev, "en3f0pf0sf88");
    assert_int_equal(m.pf->mac_source, DH_DEVLINK_MAC_UPLINK);
    /* the host PF has no SFs */
    assert_int_equal(dpu_lookup(t, fx->host, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_SF, 88, &m, &err),
                     -ERANGE);
    dpu_assert_contains(err.message, "SF 88 is out of range");
    dpu_assert_contains(err.message, "it has no SF representors");
    dh_devlink_ports_free(t);
}

static void an_unknown_mac_lists_the_pfs_there_are(void **state)
{
    struct fixture *fx = *state;
    struct dh_devlink_ports *t = dpu_table(fx->f, fx->host);
    struct dh_devlink_match m;
    struct dh_error err = {0};
    assert_int_equal(
            dpu_lookup(t, fx->host, "0c:42:a1:99:99:99", -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 0, &m, &err),
            -ENOENT);
    assert_null(m.port);
    dpu_assert_contains(err.message, "no PF with MAC 0c:42:a1:99:99:99 on this eswitch");
    dpu_assert_contains(err.message, DPU_PF0_MAC " on pci/0000:03:00.0 controller 1 pf 0 (pf0hpf, hw_addr)");
    dpu_assert_contains(err.message, DPU_PF1_MAC " on pci/0000:03:00.1 controller 1 pf 1 (pf1hpf, hw_addr)");
    dpu_assert_contains(err.message, "card_serial_number");
    /* the right MAC with the wrong controller */
    dh_error_clear(&err);
    assert_int_equal(dpu_lookup(t, fx->host, DPU_PF0_MAC, 0, DEVLINK_PORT_FLAVOUR_PCI_VF, 0, &m, &err),
                     -ENOENT);
    dpu_assert_contains(err.message, "a PF of another controller has it");
    dh_devlink_ports_free(t);
}

static void a_vf_out_of_range_names_the_vfs_there_are(void **state)
{
    struct fixture *fx = *state;
    struct dh_devlink_ports *t = dpu_table(fx->f, fx->host);
    struct dh_devlink_match m;
    struct dh_error err = {0};
    assert_int_equal(dpu_lookup(t, fx->host, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 7, &m, &err),
                     -ERANGE);
    dpu_assert_contains(err.message, "VF 7 is out of range for the PF with MAC " DPU_PF0_MAC);
    dpu_assert_contains(err.message, "representors for VF 0-3 (4)");
    dh_devlink_ports_free(t);

    /* representors in index order that is not number order, with gaps */
    struct fake_dl *g = fake_dl_new();
    fake_dl_add_pf(g, "pci/0000:03:00.0", 1, 1, true, 0, "pf0hpf", 11, DPU_PF0_MAC);
    fake_dl_add_vf(g, "pci/0000:03:00.0", 9, 1, true, 0, 5, "pf0vf5", 15);
    fake_dl_add_vf(g, "pci/0000:03:00.0", 2, 1, true, 0, 0, "pf0vf0", 12);
    fake_dl_add_vf(g, "pci/0000:03:00.0", 3, 1, true, 0, 1, "pf0vf1", 13);
    fake_dl_add_vf(g, "pci/0000:03:00.0", 5, 1, true, 0, 3, "pf0vf3", 14);
    t = dpu_table(g, NULL);
    dh_error_clear(&err);
    assert_int_equal(dpu_lookup(t, NULL, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 2, &m, &err), -ERANGE);
    dpu_assert_contains(err.message, "representors for VF 0-1,3,5 (4)");
    dh_devlink_ports_free(t);
    fake_dl_free(g);
}

static void bad_queries_are_refused(void **state)
{
    struct fixture *fx = *state;
    struct dh_devlink_ports *t = dpu_table(fx->f, fx->host);
    struct dh_devlink_match m;
    struct dh_error err = {0};
    assert_int_equal(
            dpu_lookup(t, fx->host, "00:00:00:00:00:00", -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 0, &m, &err),
            -EINVAL);
    dpu_assert_contains(err.message, "it is zero");
    dh_error_clear(&err);
    assert_int_equal(
            dpu_lookup(t, fx->host, "01:00:5e:00:00:01", -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 0, &m, &err),
            -EINVAL);
    dpu_assert_contains(err.message, "multicast");
    assert_int_equal(dpu_lookup(t, fx->host, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_PF, 0, &m, &err),
                     -EINVAL);
    assert_int_equal(dpu_lookup(t, fx->host, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, -1, &m, &err),
                     -EINVAL);
    dh_devlink_ports_free(t);
}

static void the_same_mac_on_two_controllers_needs_a_controller(void **state)
{
    (void)state;
    struct fake_dl *f = fake_dl_new();
    /* a multi-host card: two hosts' PFs, the same (misconfigured) MAC */
    fake_dl_add_pf(f, "pci/0000:03:00.0", 1, 1, true, 0, "c1pf0", 11, DPU_PF0_MAC);
    fake_dl_add_vf(f, "pci/0000:03:00.0", 2, 1, true, 0, 0, "c1pf0vf0", 12);
    fake_dl_add_pf(f, "pci/0000:03:00.0", 3, 2, true, 0, "c2pf0", 13, DPU_PF0_MAC);
    fake_dl_add_vf(f, "pci/0000:03:00.0", 4, 2, true, 0, 0, "c2pf0vf0", 14);
    struct dh_devlink_ports *t = dpu_table(f, NULL);
    struct dh_devlink_match m;
    struct dh_error err = {0};
    assert_int_equal(dpu_lookup(t, NULL, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 0, &m, &err),
                     -ENOTUNIQ);
    dpu_assert_contains(err.message, "belongs to 2 PFs");
    dpu_assert_contains(err.message,
                        "controller 1 pf 0 (c1pf0, hw_addr); pci/0000:03:00.0 controller 2 pf 0");
    dpu_assert_contains(err.message, "--controller");
    assert_int_equal(dpu_lookup(t, NULL, DPU_PF0_MAC, 2, DEVLINK_PORT_FLAVOUR_PCI_VF, 0, &m, &err), 0);
    assert_string_equal(m.port->netdev, "c2pf0vf0");
    dh_devlink_ports_free(t);
    fake_dl_free(f);
}

static void a_zero_hw_addr_falls_back_to_the_smart_nic_file(void **state)
{
    (void)state;
    /* kernels before port functions report the host PF's MAC through mlx5's sysfs only */
    struct fake_tree *tree = dpu_bluefield_tree("00:53:00:00:00:42");
    struct dh_host *host = dpu_host(tree);
    /* pf0hpf reports a zero hw_addr, pf1hpf none at all */
    struct dh_devlink_ports *t;
    {
        struct fake_dl *g = fake_dl_new();
        fake_dl_add_physical(g, "pci/0000:03:00.0", 1, 0, "p0", 10);
        fake_dl_add_pf(g, "pci/0000:03:00.0", 2, 1, true, 0, "pf0hpf", 11, "00:00:00:00:00:00");
        fake_dl_add_vf(g, "pci/0000:03:00.0", 3, 1, true, 0, 0, "pf0vf0", 12);
        fake_dl_add_physical(g, "pci/0000:03:00.1", 1, 1, "p1", 17);
        fake_dl_add_pf(g, "pci/0000:03:00.1", 2, 1, true, 1, "pf1hpf", 18, NULL);
        fake_dl_add_vf(g, "pci/0000:03:00.1", 3, 1, true, 1, 0, "pf1vf0", 19);
        t = dpu_table(g, host);
        fake_dl_free(g);
    }
    assert_int_equal(t->n_pfs, 2);
    assert_int_equal(t->pfs[0].mac_source, DH_DEVLINK_MAC_SMART_NIC);
    assert_int_equal(t->pfs[1].mac_source, DH_DEVLINK_MAC_NONE);
    dpu_assert_contains(t->pfs[1].why_no_mac, "pcipf port pci/0000:03:00.1/2 reports no function hw_addr");
    dpu_assert_contains(t->pfs[1].why_no_mac, "/sys/class/net/p1/smart_nic/pf/config does not exist");
    struct dh_devlink_match m;
    struct dh_error err = {0};
    assert_int_equal(dpu_lookup(t, host, "00:53:00:00:00:42", -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 0, &m, &err),
                     0);
    assert_string_equal(m.port->netdev, "pf0vf0");
    /* the PF without a MAC is named in the error, with the reason */
    assert_int_equal(dpu_lookup(t, host, DPU_PF1_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 0, &m, &err), -ENOENT);
    dpu_assert_contains(err.message, "no MAC known for pci/0000:03:00.1 controller 1 pf 1 (pf1hpf, none)");
    dpu_assert_contains(err.message, "smart_nic/pf/config does not exist");
    dh_devlink_ports_free(t);
    dh_host_free(host);
    fake_tree_free(tree);
}

static void a_local_pf_is_found_through_its_uplink(void **state)
{
    (void)state;
    struct fake_dl *f = fake_dl_new();
    struct fake_tree *tree = fake_tree_new();
    dpu_netdevsim(f, tree, 3);
    struct dh_host *host = dpu_host(tree);
    struct dh_devlink_ports *t = dpu_table(f, host);
    assert_int_equal(t->n_pfs, 1);
    assert_int_equal(t->pfs[0].mac_source, DH_DEVLINK_MAC_UPLINK);
    assert_int_equal(t->pfs[0].port, 0);
    struct dh_devlink_match m;
    struct dh_error err = {0};
    assert_int_equal(dpu_lookup(t, host, NSIM_UPLINK_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 2, &m, &err), 0);
    assert_string_equal(m.port->netdev, "eni10npf0vf2");
    assert_string_equal(m.pf->bus, "netdevsim");
    dh_devlink_ports_free(t);

    /* a second physical port: which one stands for the PF is not known, so none does */
    fake_dl_add_physical(f, "netdevsim/netdevsim10", 1, 2, "eni10np2", 40);
    t = dpu_table(f, host);
    assert_int_equal(t->pfs[0].mac_source, DH_DEVLINK_MAC_NONE);
    dpu_assert_contains(t->pfs[0].why_no_mac, "2 physical ports");
    assert_int_equal(dpu_lookup(t, host, NSIM_UPLINK_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 2, &m, &err),
                     -ENOENT);
    dh_devlink_ports_free(t);
    /* without sysfs the uplink's address is unknown */
    fake_dl_free(f);
    f = fake_dl_new();
    dpu_netdevsim(f, NULL, 1);
    t = dpu_table(f, NULL);
    assert_int_equal(t->pfs[0].mac_source, DH_DEVLINK_MAC_NONE);
    dpu_assert_contains(t->pfs[0].why_no_mac, "the address of uplink eni10np1 cannot be read");
    dh_devlink_ports_free(t);
    dh_host_free(host);
    fake_tree_free(tree);
    fake_dl_free(f);
}

static void a_representor_without_netdev_is_not_returned(void **state)
{
    struct fixture *fx = *state;
    /* the driver created the port but not (yet) its netdev */
    fake_dl_add_vf(fx->f, "pci/0000:03:00.0", 30, 1, true, 0, 4, NULL, 0)->type = DEVLINK_PORT_TYPE_NOTSET;
    struct dh_devlink_ports *t = dpu_table(fx->f, fx->host);
    struct dh_devlink_match m;
    struct dh_error err = {0};
    assert_int_equal(dpu_lookup(t, fx->host, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 4, &m, &err),
                     -ENODEV);
    assert_null(m.port);
    dpu_assert_contains(err.message, "port pci/0000:03:00.0/30 (VF 4 of the PF with MAC " DPU_PF0_MAC
                                     ") has no netdev in this network namespace (type notset)");
    dh_devlink_ports_free(t);
}

static void a_netdev_udev_has_not_processed_is_not_returned_yet(void **state)
{
    struct fixture *fx = *state;
    struct dh_devlink_ports *t = dpu_table(fx->f, fx->host);
    struct dh_devlink_match m;
    struct dh_error err = {0};
    /* udev runs (its control socket exists) and has not written pf0vf2's database entry */
    fake_write_str(fx->tree, "run/udev/control", "");
    fake_mkdir(fx->tree, "run/udev/data");
    assert_int_equal(dpu_lookup(t, fx->host, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 2, &m, &err),
                     -EAGAIN);
    dpu_assert_contains(err.message,
                        "the netdev pf0vf2 of port pci/0000:03:00.0/5 has not been processed by udev "
                        "yet (no /run/udev/data/n14)");
    dpu_assert_contains(err.message, "udevadm settle");
    /* once udev has processed it */
    fake_write_str(fx->tree, "run/udev/data/n14", "I:123\n");
    fake_write_str(fx->tree, "sys/class/net/pf0vf2/ifindex", "14\n");
    assert_int_equal(dpu_lookup(t, fx->host, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 2, &m, &err), 0);
    assert_string_equal(m.port->netdev, "pf0vf2");
    /* renamed by udev after the dump: the name now belongs to another netdev, or to none */
    fake_write_str(fx->tree, "sys/class/net/pf0vf2/ifindex", "99\n");
    dh_error_clear(&err);
    assert_int_equal(dpu_lookup(t, fx->host, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 2, &m, &err),
                     -EAGAIN);
    dpu_assert_contains(err.message, "the netdev of port pci/0000:03:00.0/5 was renamed from pf0vf2");
    fake_write_str(fx->tree, "run/udev/data/n13", "I:123\n");
    fake_remove(fx->tree, "sys/class/net/pf0vf1");
    assert_int_equal(dpu_lookup(t, fx->host, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 1, &m, &err),
                     -EAGAIN);
    /* no udev on the host: no rename is coming */
    fake_remove(fx->tree, "run/udev");
    assert_int_equal(dpu_lookup(t, fx->host, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 3, &m, &err), 0);
    dh_devlink_ports_free(t);
}

static void an_empty_eswitch_says_so(void **state)
{
    (void)state;
    struct dh_devlink_ports *t = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_ports_new(NULL, DH_DEVLINK_SOURCE_SYSFS, NULL, 0, &t, &err), 0);
    struct dh_devlink_match m;
    assert_int_equal(dpu_lookup(t, NULL, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 0, &m, &err), -ENOENT);
    dpu_assert_contains(err.message, "there are no switchdev ports at all (read from sysfs)");
    dpu_assert_contains(err.message, "switchdev mode");
    dh_devlink_ports_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(the_host_pf_mac_and_vf_number_find_the_representor, setup, teardown),
            DH_TEST_SETUP(an_sf_is_found_through_its_pf, setup, teardown),
            DH_TEST_SETUP(an_unknown_mac_lists_the_pfs_there_are, setup, teardown),
            DH_TEST_SETUP(a_vf_out_of_range_names_the_vfs_there_are, setup, teardown),
            DH_TEST_SETUP(bad_queries_are_refused, setup, teardown),
            DH_TEST(the_same_mac_on_two_controllers_needs_a_controller),
            DH_TEST(a_zero_hw_addr_falls_back_to_the_smart_nic_file),
            DH_TEST(a_local_pf_is_found_through_its_uplink),
            DH_TEST_SETUP(a_representor_without_netdev_is_not_returned, setup, teardown),
            DH_TEST_SETUP(a_netdev_udev_has_not_processed_is_not_returned_yet, setup, teardown),
            DH_TEST(an_empty_eswitch_says_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
