/* The sysfs fallback on fake trees: every netdev whose phys_port_name parses is a port, its handle
 * is the device it hangs off (PCI or not), c<C> means an external controller; non-switch, virtual
 * and unparsable netdevs are not ports. Lookups work on what sysfs has (no hw_addr: the smart_nic
 * file or the uplink stand in), and the JSON says null for what sysfs cannot know. */
#include "test.h"

#include <jansson.h>

#include "dpu.h"
#include "util/fileio.h"
#include "util/macro.h"

static const struct dh_devlink_port *find(const struct dh_devlink_port *v, size_t n, const char *netdev)
{
    for (size_t i = 0; i < n; i++)
        if (streq(v[i].netdev, netdev))
            return &v[i];
    fail_msg("no port %s", netdev);
    return NULL;
}

static unsigned ifindex_of(struct fake_tree *t, const char *netdev)
{
    char path[64], buf[32];
    snprintf(path, sizeof(path), "sys/class/net/%s/ifindex", netdev);
    struct dh_host *h = dpu_host(t);
    int r = dh_read_attr_at(dh_host_fd(h), path, buf, sizeof(buf));
    dh_host_free(h);
    if (r < 0)
        fail_msg("no ifindex for %s", netdev);
    return (unsigned)atoi(buf);
}

static void the_dpu_ports_from_sysfs(void **state)
{
    (void)state;
    struct fake_tree *tree = dpu_bluefield_tree(NULL);
    /* not ports: a virtual netdev that claims a port name, and an unparsable port name */
    fake_netdev_add(tree, "sys/devices/virtual", "vx0", "02:00:00:00:00:01", "up");
    fake_netdev_set_port(tree, "vx0", "p9", "aa");
    fake_netdev_add(tree, fake_pci_dir(tree, "0000:03:00.1"), "weird0", "02:00:00:00:00:02", "up");
    fake_netdev_set_port(tree, "weird0", "pf0vfx", "aa");
    struct dh_host *host = dpu_host(tree);
    struct dh_devlink_port *v = NULL;
    size_t n = 0;
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_sysfs_ports(host, &v, &n, &err), 0);
    assert_int_equal(n, 11);
    /* sorted by device, then netdev in natural order */
    assert_string_equal(v[0].dev, "0000:03:00.0");
    assert_string_equal(v[0].netdev, "en3f0pf0sf88");
    assert_string_equal(v[10].dev, "0000:03:00.1");

    const struct dh_devlink_port *p = find(v, n, "pf0vf2");
    assert_string_equal(p->bus, "pci");
    assert_int_equal(p->index, -1);
    assert_true(p->has_flavour);
    assert_int_equal(p->flavour, DEVLINK_PORT_FLAVOUR_PCI_VF);
    assert_int_equal(p->controller, 1);
    assert_int_equal(p->external, 1);
    assert_int_equal(p->pfnum, 0);
    assert_int_equal(p->vfnum, 2);
    assert_int_equal(p->type, DEVLINK_PORT_TYPE_ETH);
    assert_int_equal(p->ifindex, ifindex_of(tree, "pf0vf2"));
    assert_string_equal(p->switch_id, DPU_SWITCH_ID);
    assert_false(p->has_function);

    p = find(v, n, "p0");
    assert_int_equal(p->flavour, DEVLINK_PORT_FLAVOUR_PHYSICAL);
    assert_int_equal(p->port_number, 0);
    assert_int_equal(p->controller, -1);
    assert_int_equal(p->external, -1);
    assert_int_equal(p->pfnum, -1);

    /* a local function: no c<C> in the name, controller 0 as devlink would say */
    p = find(v, n, "en3f0pf0sf88");
    assert_int_equal(p->flavour, DEVLINK_PORT_FLAVOUR_PCI_SF);
    assert_int_equal(p->sfnum, 88);
    assert_int_equal(p->controller, 0);
    assert_int_equal(p->external, 0);

    p = find(v, n, "pf1hpf");
    assert_int_equal(p->flavour, DEVLINK_PORT_FLAVOUR_PCI_PF);
    assert_int_equal(p->pfnum, 1);
    free(v);
    dh_host_free(host);
    fake_tree_free(tree);
}

static void a_device_outside_pci_and_one_without_a_subsystem_link(void **state)
{
    (void)state;
    struct fake_tree *tree = fake_tree_new();
    struct fake_dl *f = fake_dl_new();
    dpu_netdevsim(f, tree, 2);
    /* a PCI device in a tree without subsystem links: the address says it is on PCI */
    fake_pci_add(tree, "0000:05:00.0", 0x15b3, 0x101d, 0x020000);
    fake_netdev_add(tree, fake_pci_dir(tree, "0000:05:00.0"), "enp5s0np0", "02:00:00:00:05:00", "up");
    fake_netdev_set_port(tree, "enp5s0np0", "p0s1", "05");
    struct dh_host *host = dpu_host(tree);
    struct dh_devlink_port *v = NULL;
    size_t n = 0;
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_sysfs_ports(host, &v, &n, &err), 0);
    assert_int_equal(n, 4);
    const struct dh_devlink_port *p = find(v, n, "eni10npf0vf1");
    assert_string_equal(p->bus, "netdevsim");
    assert_string_equal(p->dev, "netdevsim10");
    p = find(v, n, "enp5s0np0");
    assert_string_equal(p->bus, "pci");
    assert_string_equal(p->dev, "0000:05:00.0");
    assert_int_equal(p->port_number, 0);
    assert_int_equal(p->split_subport, 1);
    free(v);
    dh_host_free(host);
    fake_tree_free(tree);
    fake_dl_free(f);
}

static void lookups_on_sysfs_alone(void **state)
{
    (void)state;
    struct fake_tree *tree = dpu_bluefield_tree("0c:42:a1:00:00:01");
    struct dh_host *host = dpu_host(tree);
    struct dh_devlink_ports *t = NULL;
    struct dh_error err = {0};
    struct dh_devlink_scan_options o = {.source = DH_DEVLINK_SOURCE_SYSFS};
    assert_int_equal(dh_devlink_scan(host, &o, &t, &err), 0);
    assert_int_equal(t->source, DH_DEVLINK_SOURCE_SYSFS);
    assert_string_equal(t->fallback_reason, "");
    /* host PF 0 through p0's smart_nic file; host PF 1 has none; the DPU's own PF 0 is p0 itself */
    assert_int_equal(t->n_pfs, 3);
    struct dh_devlink_match m;
    assert_int_equal(dpu_lookup(t, host, DPU_PF0_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 3, &m, &err), 0);
    assert_string_equal(m.port->netdev, "pf0vf3");
    assert_int_equal(m.pf->mac_source, DH_DEVLINK_MAC_SMART_NIC);
    assert_int_equal(dpu_lookup(t, host, DPU_PF1_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 0, &m, &err), -ENOENT);
    dpu_assert_contains(err.message, "pcipf port pf1hpf reports no function hw_addr");
    dh_devlink_ports_free(t);
    dh_host_free(host);
    fake_tree_free(tree);
}

static void the_json_says_null_for_what_sysfs_cannot_know(void **state)
{
    (void)state;
    struct fake_tree *tree = dpu_bluefield_tree(NULL);
    struct dh_host *host = dpu_host(tree);
    struct dh_devlink_ports *t = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_scan(host, NULL, &t, &err), 0);
    struct dh_jsonw *w = dh_jsonw_new(false);
    dh_devlink_ports_write_json(w, t);
    char *text = NULL;
    assert_int_equal(dh_jsonw_finish(w, &text, NULL), 0);
    dh_jsonw_free(w);
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "source")), "sysfs");
    dpu_assert_contains(json_string_value(json_object_get(doc, "fallback_reason")), "not /");
    json_t *ports = json_object_get(doc, "ports");
    assert_int_equal(json_array_size(ports), 11);
    json_t *p = NULL, *it;
    size_t i;
    json_array_foreach (ports, i, it)
        if (streq(json_string_value(json_object_get(it, "netdev")), "pf0vf1"))
            p = it;
    assert_non_null(p);
    assert_true(json_is_null(json_object_get(p, "port")));
    assert_true(json_is_null(json_object_get(p, "index")));
    assert_true(json_is_null(json_object_get(p, "function")));
    assert_true(json_is_null(json_object_get(p, "sfnum")));
    assert_string_equal(json_string_value(json_object_get(p, "device")), "pci/0000:03:00.0");
    assert_string_equal(json_string_value(json_object_get(p, "flavour")), "pcivf");
    assert_int_equal(json_integer_value(json_object_get(p, "vfnum")), 1);
    assert_true(json_is_true(json_object_get(p, "external")));
    json_t *pf = json_array_get(json_object_get(doc, "pfs"), 1);
    assert_string_equal(json_string_value(json_object_get(pf, "netdev")), "pf0hpf");
    assert_true(json_is_null(json_object_get(pf, "mac")));
    assert_true(json_is_null(json_object_get(pf, "mac_source")));
    dpu_assert_contains(json_string_value(json_object_get(pf, "why_no_mac")),
                        "smart_nic/pf/config does not exist");
    json_t *vfs = json_object_get(pf, "vfs");
    assert_int_equal(json_array_size(vfs), 4);
    assert_int_equal(json_integer_value(json_array_get(vfs, 3)), 3);
    json_decref(doc);
    free(text);
    dh_devlink_ports_free(t);
    dh_host_free(host);
    fake_tree_free(tree);
}

static void a_root_without_class_net(void **state)
{
    (void)state;
    struct fake_tree *tree = fake_tree_new();
    fake_remove(tree, "sys/class/net");
    struct dh_host *host = dpu_host(tree);
    struct dh_devlink_port *v = NULL;
    size_t n = 0;
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_sysfs_ports(host, &v, &n, &err), -ENOENT);
    dpu_assert_contains(err.message, "sys/class/net");
    dh_host_free(host);
    fake_tree_free(tree);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(the_dpu_ports_from_sysfs), DH_TEST(a_device_outside_pci_and_one_without_a_subsystem_link),
            DH_TEST(lookups_on_sysfs_alone),   DH_TEST(the_json_says_null_for_what_sysfs_cannot_know),
            DH_TEST(a_root_without_class_net),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
