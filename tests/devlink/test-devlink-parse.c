/* The devlink port parser and the generic netlink family parser on messages built the way the
 * kernel builds them: every flavour, ports without netdevs, function nests, and a table of every
 * malformed shape (wrong family or command, missing handle or index, wrong attribute sizes,
 * unterminated strings, attributes that do not tile the message), each refused with -EBADMSG. */
#include "test.h"

#include <stdalign.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include <dpuhost/devlink.h>
#include <dpuhost/netlink.h>

#include "devlink/devlink-internal.h"

#define FAMILY 21

struct msg {
    alignas(struct nlmsghdr) uint8_t buf[1024];
};

static struct nlmsghdr *port_msg(struct msg *m, uint8_t cmd, const char *bus, const char *dev, uint32_t index)
{
    memset(m, 0, sizeof(*m));
    struct nlmsghdr *nlh = dh_genl_put_header(m->buf, FAMILY, NLM_F_MULTI, cmd, DEVLINK_GENL_VERSION);
    if (bus)
        mnl_attr_put_strz(nlh, DEVLINK_ATTR_BUS_NAME, bus);
    if (dev)
        mnl_attr_put_strz(nlh, DEVLINK_ATTR_DEV_NAME, dev);
    if (index != UINT32_MAX)
        mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_INDEX, index);
    return nlh;
}

static void put_netdev(struct nlmsghdr *nlh, uint32_t ifindex, const char *name)
{
    mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_TYPE, DEVLINK_PORT_TYPE_ETH);
    mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_NETDEV_IFINDEX, ifindex);
    mnl_attr_put_strz(nlh, DEVLINK_ATTR_PORT_NETDEV_NAME, name);
    mnl_attr_put_u8(nlh, DEVLINK_ATTR_PORT_SPLITTABLE, 0);
}

static void put_function(struct nlmsghdr *nlh, uint16_t pfnum, uint32_t controller, bool external)
{
    mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_CONTROLLER_NUMBER, controller);
    mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_PCI_PF_NUMBER, pfnum);
    mnl_attr_put_u8(nlh, DEVLINK_ATTR_PORT_EXTERNAL, external);
}

static void a_physical_port(void **state)
{
    (void)state;
    struct msg m;
    struct nlmsghdr *nlh = port_msg(&m, DEVLINK_CMD_NEW, "pci", "0000:03:00.0", 65535);
    put_netdev(nlh, 10, "p0");
    mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_FLAVOUR, DEVLINK_PORT_FLAVOUR_PHYSICAL);
    mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_NUMBER, 0);
    struct dh_devlink_port p;
    assert_int_equal(dh_devlink_port_parse(nlh, FAMILY, &p), 0);
    assert_string_equal(p.bus, "pci");
    assert_string_equal(p.dev, "0000:03:00.0");
    assert_int_equal(p.index, 65535);
    assert_true(p.has_flavour);
    assert_int_equal(p.flavour, DEVLINK_PORT_FLAVOUR_PHYSICAL);
    assert_int_equal(p.port_number, 0); /* 0 is a port number, not an absence */
    assert_int_equal(p.split_subport, -1);
    assert_int_equal(p.controller, -1);
    assert_int_equal(p.external, -1);
    assert_int_equal(p.pfnum, -1);
    assert_int_equal(p.vfnum, -1);
    assert_int_equal(p.type, DEVLINK_PORT_TYPE_ETH);
    assert_string_equal(p.netdev, "p0");
    assert_int_equal(p.ifindex, 10);
    assert_false(p.has_function);
    assert_int_equal(p.hw_addr_len, 0);
}

static void a_host_pf_port_with_its_hw_addr(void **state)
{
    (void)state;
    struct msg m;
    struct nlmsghdr *nlh = port_msg(&m, DEVLINK_CMD_PORT_NEW, "pci", "0000:03:00.0", 2);
    put_netdev(nlh, 11, "pf0hpf");
    mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_FLAVOUR, DEVLINK_PORT_FLAVOUR_PCI_PF);
    put_function(nlh, 0, 1, true);
    struct nlattr *fn = mnl_attr_nest_start(nlh, DEVLINK_ATTR_PORT_FUNCTION);
    static const uint8_t mac[6] = {0x0c, 0x42, 0xa1, 0, 0, 1};
    mnl_attr_put(nlh, DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR, 6, mac);
    mnl_attr_put_u32(nlh, 99, 7); /* a function attribute of a later kernel: skipped */
    mnl_attr_nest_end(nlh, fn);
    struct dh_devlink_port p;
    assert_int_equal(dh_devlink_port_parse(nlh, FAMILY, &p), 0);
    assert_int_equal(p.flavour, DEVLINK_PORT_FLAVOUR_PCI_PF);
    assert_int_equal(p.controller, 1);
    assert_int_equal(p.external, 1);
    assert_int_equal(p.pfnum, 0);
    assert_int_equal(p.vfnum, -1);
    assert_true(p.has_function);
    assert_int_equal(p.hw_addr_len, 6);
    assert_memory_equal(p.hw_addr, mac, 6);
    assert_int_equal(p.fn_state, -1);
    assert_string_equal(p.netdev, "pf0hpf");
}

static void vf_and_sf_ports(void **state)
{
    (void)state;
    struct msg m;
    struct nlmsghdr *nlh = port_msg(&m, DEVLINK_CMD_NEW, "pci", "0000:03:00.0", 5);
    put_netdev(nlh, 14, "pf0vf2");
    mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_FLAVOUR, DEVLINK_PORT_FLAVOUR_PCI_VF);
    mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_CONTROLLER_NUMBER, 1);
    mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_PCI_PF_NUMBER, 0);
    mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_PCI_VF_NUMBER, 2);
    mnl_attr_put_u8(nlh, DEVLINK_ATTR_PORT_EXTERNAL, 1);
    struct dh_devlink_port p;
    assert_int_equal(dh_devlink_port_parse(nlh, FAMILY, &p), 0);
    assert_int_equal(p.flavour, DEVLINK_PORT_FLAVOUR_PCI_VF);
    assert_int_equal(p.vfnum, 2);
    assert_int_equal(p.sfnum, -1);

    nlh = port_msg(&m, DEVLINK_CMD_NEW, "pci", "0000:03:00.0", 7);
    put_netdev(nlh, 16, "en3f0pf0sf88");
    mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_FLAVOUR, DEVLINK_PORT_FLAVOUR_PCI_SF);
    put_function(nlh, 0, 0, false);
    mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_PCI_SF_NUMBER, 88);
    struct nlattr *fn = mnl_attr_nest_start(nlh, DEVLINK_ATTR_PORT_FUNCTION);
    mnl_attr_put_u8(nlh, DEVLINK_PORT_FN_ATTR_STATE, DEVLINK_PORT_FN_STATE_ACTIVE);
    mnl_attr_put_u8(nlh, DEVLINK_PORT_FN_ATTR_OPSTATE, DEVLINK_PORT_FN_OPSTATE_DETACHED);
    mnl_attr_nest_end(nlh, fn);
    assert_int_equal(dh_devlink_port_parse(nlh, FAMILY, &p), 0);
    assert_int_equal(p.flavour, DEVLINK_PORT_FLAVOUR_PCI_SF);
    assert_int_equal(p.sfnum, 88);
    assert_int_equal(p.controller, 0);
    assert_int_equal(p.external, 0);
    assert_int_equal(p.fn_state, DEVLINK_PORT_FN_STATE_ACTIVE);
    assert_int_equal(p.fn_opstate, DEVLINK_PORT_FN_OPSTATE_DETACHED);
    assert_int_equal(p.hw_addr_len, 0);
}

static void a_port_without_netdev_or_flavour(void **state)
{
    (void)state;
    struct msg m;
    /* a port whose netdev is gone or in another namespace: type eth, no netdev attributes */
    struct nlmsghdr *nlh = port_msg(&m, DEVLINK_CMD_NEW, "auxiliary", "mlx5_core.sf.4", 9);
    mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_TYPE, DEVLINK_PORT_TYPE_NOTSET);
    mnl_attr_put_u32(nlh, 4242, 1); /* an attribute of a later kernel: skipped */
    struct dh_devlink_port p;
    assert_int_equal(dh_devlink_port_parse(nlh, 0, &p), 0);
    assert_string_equal(p.bus, "auxiliary");
    assert_false(p.has_flavour);
    assert_string_equal(p.netdev, "");
    assert_int_equal(p.ifindex, 0);
    assert_int_equal(p.type, DEVLINK_PORT_TYPE_NOTSET);
}

static void an_infiniband_length_hw_addr_is_kept(void **state)
{
    (void)state;
    struct msg m;
    struct nlmsghdr *nlh = port_msg(&m, DEVLINK_CMD_NEW, "pci", "0000:03:00.0", 2);
    mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_FLAVOUR, DEVLINK_PORT_FLAVOUR_PCI_PF);
    put_function(nlh, 0, 0, false);
    struct nlattr *fn = mnl_attr_nest_start(nlh, DEVLINK_ATTR_PORT_FUNCTION);
    uint8_t ib[20];
    for (size_t i = 0; i < sizeof(ib); i++)
        ib[i] = (uint8_t)i;
    mnl_attr_put(nlh, DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR, sizeof(ib), ib);
    mnl_attr_nest_end(nlh, fn);
    struct dh_devlink_port p;
    assert_int_equal(dh_devlink_port_parse(nlh, FAMILY, &p), 0);
    assert_int_equal(p.hw_addr_len, 20);
    assert_memory_equal(p.hw_addr, ib, 20);
}

/* Malformed shapes: each builder makes one, and the parser must refuse it. */

typedef struct nlmsghdr *(*build_fn)(struct msg *m);

static struct nlmsghdr *wrong_family(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "x", 1);
    nlh->nlmsg_type = FAMILY + 1;
    return nlh;
}

static struct nlmsghdr *wrong_command(struct msg *m)
{
    return port_msg(m, DEVLINK_CMD_PORT_DEL, "pci", "x", 1);
}

static struct nlmsghdr *no_bus(struct msg *m)
{
    return port_msg(m, DEVLINK_CMD_NEW, NULL, "x", 1);
}

static struct nlmsghdr *no_dev(struct msg *m)
{
    return port_msg(m, DEVLINK_CMD_NEW, "pci", NULL, 1);
}

static struct nlmsghdr *no_index(struct msg *m)
{
    return port_msg(m, DEVLINK_CMD_NEW, "pci", "x", UINT32_MAX);
}

static struct nlmsghdr *empty_bus(struct msg *m)
{
    return port_msg(m, DEVLINK_CMD_NEW, "", "x", 1);
}

static struct nlmsghdr *flavour_as_u32(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "x", 1);
    mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_FLAVOUR, DEVLINK_PORT_FLAVOUR_PCI_VF);
    return nlh;
}

static struct nlmsghdr *index_as_u16(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "x", UINT32_MAX);
    mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_INDEX, 1);
    return nlh;
}

static struct nlmsghdr *vfnum_as_u32(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "x", 1);
    mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_PCI_VF_NUMBER, 3);
    return nlh;
}

static struct nlmsghdr *external_as_u32(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "x", 1);
    mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_EXTERNAL, 1);
    return nlh;
}

static struct nlmsghdr *external_not_a_flag(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "x", 1);
    mnl_attr_put_u8(nlh, DEVLINK_ATTR_PORT_EXTERNAL, 2);
    return nlh;
}

static struct nlmsghdr *unterminated_netdev(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "x", 1);
    mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_NETDEV_IFINDEX, 3);
    mnl_attr_put(nlh, DEVLINK_ATTR_PORT_NETDEV_NAME, 4, "eth0");
    return nlh;
}

static struct nlmsghdr *netdev_name_too_long(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "x", 1);
    mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_NETDEV_IFINDEX, 3);
    mnl_attr_put_strz(nlh, DEVLINK_ATTR_PORT_NETDEV_NAME, "a-name-of-sixteen");
    return nlh;
}

static struct nlmsghdr *netdev_without_ifindex(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "x", 1);
    mnl_attr_put_strz(nlh, DEVLINK_ATTR_PORT_NETDEV_NAME, "eth0");
    return nlh;
}

static struct nlmsghdr *hw_addr_too_long(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "x", 1);
    struct nlattr *fn = mnl_attr_nest_start(nlh, DEVLINK_ATTR_PORT_FUNCTION);
    uint8_t big[33] = {0};
    mnl_attr_put(nlh, DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR, sizeof(big), big);
    mnl_attr_nest_end(nlh, fn);
    return nlh;
}

static struct nlmsghdr *state_as_u32(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "x", 1);
    struct nlattr *fn = mnl_attr_nest_start(nlh, DEVLINK_ATTR_PORT_FUNCTION);
    mnl_attr_put_u32(nlh, DEVLINK_PORT_FN_ATTR_STATE, 1);
    mnl_attr_nest_end(nlh, fn);
    return nlh;
}

static struct nlmsghdr *function_nest_truncated(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "x", 1);
    struct nlattr *fn = mnl_attr_nest_start(nlh, DEVLINK_ATTR_PORT_FUNCTION);
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    mnl_attr_put(nlh, DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR, 6, mac);
    mnl_attr_nest_end(nlh, fn);
    fn->nla_len = 8; /* the nest claims less than its first attribute */
    return nlh;
}

static struct nlmsghdr *message_cut_inside_an_attribute(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "0000:03:00.0", 1);
    nlh->nlmsg_len -= 6;
    return nlh;
}

static struct nlmsghdr *trailing_bytes(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, "pci", "x", 1);
    nlh->nlmsg_len += 2; /* two bytes that are not an attribute */
    return nlh;
}

static struct nlmsghdr *no_genl_header(struct msg *m)
{
    struct nlmsghdr *nlh = port_msg(m, DEVLINK_CMD_NEW, NULL, NULL, UINT32_MAX);
    nlh->nlmsg_len = NLMSG_HDRLEN + 2;
    return nlh;
}

static void malformed_messages_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        build_fn build;
    } cases[] = {
            {"wrong family", wrong_family},
            {"wrong command", wrong_command},
            {"no bus", no_bus},
            {"no dev", no_dev},
            {"no index", no_index},
            {"empty bus", empty_bus},
            {"flavour as u32", flavour_as_u32},
            {"index as u16", index_as_u16},
            {"vfnum as u32", vfnum_as_u32},
            {"external as u32", external_as_u32},
            {"external not a flag", external_not_a_flag},
            {"unterminated netdev", unterminated_netdev},
            {"netdev name too long", netdev_name_too_long},
            {"netdev without ifindex", netdev_without_ifindex},
            {"hw_addr too long", hw_addr_too_long},
            {"state as u32", state_as_u32},
            {"function nest truncated", function_nest_truncated},
            {"message cut inside an attribute", message_cut_inside_an_attribute},
            {"trailing bytes", trailing_bytes},
            {"no genl header", no_genl_header},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct msg m;
        struct nlmsghdr *nlh = cases[i].build(&m);
        struct dh_devlink_port p;
        memset(&p, 0x5a, sizeof(p));
        int r = dh_devlink_port_parse(nlh, FAMILY, &p);
        if (r != -EBADMSG)
            fail_msg("%s: expected -EBADMSG, got %d", cases[i].name, r);
    }
}

static struct nlmsghdr *family_msg(struct msg *m, uint8_t cmd, const char *name, int id)
{
    memset(m, 0, sizeof(*m));
    struct nlmsghdr *nlh = dh_genl_put_header(m->buf, GENL_ID_CTRL, 0, cmd, 2);
    if (name)
        mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
    if (id >= 0)
        mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, (uint16_t)id);
    struct nlattr *ops = mnl_attr_nest_start(nlh, CTRL_ATTR_OPS);
    mnl_attr_nest_end(nlh, ops);
    return nlh;
}

static void family_replies(void **state)
{
    (void)state;
    struct msg m;
    char name[GENL_NAMSIZ];
    uint16_t id = 0;
    assert_int_equal(
            dh_genl_parse_family(family_msg(&m, CTRL_CMD_NEWFAMILY, "devlink", 27), &id, name, sizeof(name)),
            0);
    assert_int_equal(id, 27);
    assert_string_equal(name, "devlink");
    assert_int_equal(
            dh_genl_parse_family(family_msg(&m, CTRL_CMD_NEWFAMILY, NULL, 27), &id, name, sizeof(name)),
            -EBADMSG);
    assert_int_equal(
            dh_genl_parse_family(family_msg(&m, CTRL_CMD_NEWFAMILY, "devlink", -1), &id, name, sizeof(name)),
            -EBADMSG);
    assert_int_equal(
            dh_genl_parse_family(family_msg(&m, CTRL_CMD_DELFAMILY, "devlink", 27), &id, name, sizeof(name)),
            -EBADMSG);
    /* ids below GENL_MIN_ID are the netlink core's own */
    assert_int_equal(
            dh_genl_parse_family(family_msg(&m, CTRL_CMD_NEWFAMILY, "devlink", 3), &id, name, sizeof(name)),
            -EBADMSG);
    struct nlmsghdr *nlh = family_msg(&m, CTRL_CMD_NEWFAMILY, "devlink", 27);
    nlh->nlmsg_type = 27; /* not an nlctrl message */
    assert_int_equal(dh_genl_parse_family(nlh, &id, name, sizeof(name)), -EBADMSG);
    /* a name that does not fit the caller's buffer is refused, not cut */
    assert_int_equal(dh_genl_parse_family(family_msg(&m, CTRL_CMD_NEWFAMILY, "devlink", 27), &id, name, 4),
                     -EBADMSG);
}

static int count_attr(const struct nlattr *a, void *data)
{
    (void)a;
    (*(int *)data)++;
    return 0;
}

static void attributes_must_tile_their_container(void **state)
{
    (void)state;
    alignas(struct nlattr) uint8_t buf[64] = {0};
    struct nlattr *a = (struct nlattr *)buf;
    a->nla_type = 1;
    a->nla_len = 5; /* a u8: padded to 8 */
    struct nlattr *b = (struct nlattr *)(buf + 8);
    b->nla_type = 2;
    b->nla_len = 8;
    int n = 0;
    assert_int_equal(dh_nl_attr_walk(buf, 16, count_attr, &n), 0);
    assert_int_equal(n, 2);
    n = 0; /* the last attribute's padding may be missing */
    assert_int_equal(dh_nl_attr_walk(buf, 5, count_attr, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(dh_nl_attr_walk(buf, 14, count_attr, &n), -EBADMSG);
    assert_int_equal(dh_nl_attr_walk(buf, 20, count_attr, &n), -EBADMSG);
    assert_int_equal(dh_nl_attr_walk(buf, 0, count_attr, &n), 0);
    b->nla_len = 2; /* shorter than its own header */
    assert_int_equal(dh_nl_attr_walk(buf, 16, count_attr, &n), -EBADMSG);
}

static void smart_nic_config_files(void **state)
{
    (void)state;
    uint8_t mac[6];
    static const uint8_t want[6] = {0x00, 0x53, 0x00, 0x00, 0x00, 0x42};
    /* as ovn-vif's tests and mlx5's sysfs write it */
    assert_int_equal(
            dl_parse_smart_nic_config("MAC        : 00:53:00:00:00:42\nMaxTxRate  : 0\nMinTxRate  : 0\n"
                                      "State      : Follow\n\n",
                                      mac),
            0);
    assert_memory_equal(mac, want, 6);
    assert_int_equal(dl_parse_smart_nic_config("State : Follow\r\nMAC:00:53:00:00:00:42 \r\n", mac), 0);
    assert_memory_equal(mac, want, 6);
    assert_int_equal(dl_parse_smart_nic_config("MaxTxRate  : 0\nState      : Follow\n", mac), -EBADMSG);
    assert_int_equal(dl_parse_smart_nic_config("MACS : 00:53:00:00:00:42\n", mac), -EBADMSG);
    assert_int_equal(dl_parse_smart_nic_config("MAC : 00:53:00:00:00\n", mac), -EBADMSG);
    assert_int_equal(dl_parse_smart_nic_config("MAC : 00:53:00:00:00:42:11\n", mac), -EBADMSG);
    assert_int_equal(dl_parse_smart_nic_config("", mac), -EBADMSG);
}

static void names(void **state)
{
    (void)state;
    assert_string_equal(dh_devlink_flavour_to_string(DEVLINK_PORT_FLAVOUR_PCI_SF), "pcisf");
    assert_string_equal(dh_devlink_flavour_to_string(DEVLINK_PORT_FLAVOUR_PHYSICAL), "physical");
    assert_null(dh_devlink_flavour_to_string((enum devlink_port_flavour)42));
    assert_string_equal(dh_devlink_port_type_to_string(DEVLINK_PORT_TYPE_ETH), "eth");
    assert_null(dh_devlink_port_type_to_string(-1));
    enum dh_devlink_source s;
    assert_int_equal(dh_devlink_source_from_string("sysfs", &s), 0);
    assert_int_equal(s, DH_DEVLINK_SOURCE_SYSFS);
    assert_int_equal(dh_devlink_source_from_string("netlink", &s), -EINVAL);
    assert_int_equal(dh_devlink_source_from_string(NULL, &s), -EINVAL);
    assert_string_equal(dh_devlink_mac_source_to_string(DH_DEVLINK_MAC_SMART_NIC), "smart_nic");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(a_physical_port),
            DH_TEST(a_host_pf_port_with_its_hw_addr),
            DH_TEST(vf_and_sf_ports),
            DH_TEST(a_port_without_netdev_or_flavour),
            DH_TEST(an_infiniband_length_hw_addr_is_kept),
            DH_TEST(malformed_messages_are_refused),
            DH_TEST(family_replies),
            DH_TEST(attributes_must_tile_their_container),
            DH_TEST(smart_nic_config_files),
            DH_TEST(names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
