/* The in-use checks (REFERENCE "refuse unless forced"): global addresses and which ones do not count,
 * default routes (IPv4, IPv6, multipath next hops), any main-table route, the bond or bridge a link
 * is enslaved to, and interface lookup by name. */
#include "test.h"

#include "util/macro.h"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "fake_netlink.h"

enum {
    LO = 1,
    ETH0 = 2,
    ETH1 = 3,
    BR0 = 4,
    VF0 = 5
};

struct fixture {
    struct fake_nl *f;
    struct dh_nl *nl;
    struct dh_link_usage u;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->f = fake_nl_new();
    fake_nl_add_link(fx->f, "lo", LO, 0);
    fake_nl_add_link(fx->f, "eth0", ETH0, 0);
    fake_nl_add_link(fx->f, "eth1", ETH1, BR0);
    fake_nl_add_link(fx->f, "br0", BR0, 0);
    fake_nl_add_link(fx->f, "ens1f0v0", VF0, 0);
    fake_nl_add_addr(fx->f, LO, "127.0.0.1", 8, RT_SCOPE_HOST);
    fake_nl_add_addr(fx->f, LO, "::1", 128, RT_SCOPE_HOST);
    fx->nl = fake_nl_connect(fx->f);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    dh_link_usage_clear(&fx->u);
    dh_nl_free(fx->nl);
    fake_nl_free(fx->f);
    free(fx);
    return 0;
}

static void idle_link_is_not_busy(void **state)
{
    struct fixture *fx = *state;
    fake_nl_add_addr(fx->f, VF0, "fe80::1", 64, RT_SCOPE_LINK);
    fake_nl_add_route(fx->f,
                      &(struct fake_route){.family = AF_INET6, .dst = "fe80::", .dst_len = 64, .oif = VF0});
    struct dh_error err = {0};
    assert_int_equal(dh_nl_link_usage(fx->nl, "ens1f0v0", &fx->u, &err), 0);
    assert_int_equal(fx->u.ifindex, VF0);
    assert_int_equal(fx->u.n_addresses, 0);
    assert_null(fx->u.addresses);
    assert_false(fx->u.default_route);
    assert_int_equal(fx->u.n_routes, 0); /* fe80::/64 is on every IPv6 link */
    assert_int_equal(fx->u.master_ifindex, 0);
    assert_null(fx->u.master);
    assert_false(dh_link_usage_is_busy(&fx->u));
    /* link, addresses, routes */
    assert_int_equal(fake_nl_count(fx->f, RTM_GETLINK), 1);
    assert_int_equal(fake_nl_count(fx->f, RTM_GETADDR), 1);
    assert_int_equal(fake_nl_count(fx->f, RTM_GETROUTE), 1);
}

static void global_addresses_are_listed_and_others_are_not(void **state)
{
    struct fixture *fx = *state;
    fake_nl_add_addr(fx->f, ETH0, "192.0.2.10", 24, RT_SCOPE_UNIVERSE);
    fake_nl_add_addr(fx->f, ETH0, "fe80::10", 64, RT_SCOPE_LINK);
    fake_nl_add_addr(fx->f, ETH0, "fe80::11", 64, RT_SCOPE_UNIVERSE); /* link-local whatever its scope */
    fake_nl_add_addr(fx->f, ETH0, "2001:db8::10", 64, RT_SCOPE_UNIVERSE);
    fake_nl_add_addr(fx->f, ETH0, "10.0.0.1", 32, RT_SCOPE_HOST);
    fake_nl_add_addr(fx->f, ETH1, "198.51.100.1", 24, RT_SCOPE_UNIVERSE); /* another link */
    fake_nl_set_dump_batch(fx->f, 1);
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth0", &fx->u, NULL), 0);
    assert_int_equal(fx->u.n_addresses, 2);
    assert_string_equal(fx->u.addresses[0], "192.0.2.10/24");
    assert_string_equal(fx->u.addresses[1], "2001:db8::10/64");
    assert_true(dh_link_usage_is_busy(&fx->u));
    assert_false(fx->u.default_route);
}

static void default_route_ipv4_and_ipv6(void **state)
{
    struct fixture *fx = *state;
    fake_nl_add_route(fx->f, &(struct fake_route){.family = AF_INET, .oif = ETH1});
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth0", &fx->u, NULL), 0);
    assert_false(fx->u.default_route);
    dh_link_usage_clear(&fx->u);
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth1", &fx->u, NULL), 0);
    assert_true(fx->u.default_route);
    assert_int_equal(fx->u.n_routes, 1);
    dh_link_usage_clear(&fx->u);

    fake_nl_add_route(fx->f, &(struct fake_route){.family = AF_INET6, .oif = ETH0});
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth0", &fx->u, NULL), 0);
    assert_true(fx->u.default_route);
    assert_true(dh_link_usage_is_busy(&fx->u));
}

static void default_route_through_a_multipath_next_hop(void **state)
{
    struct fixture *fx = *state;
    fake_nl_add_route(fx->f, &(struct fake_route){.family = AF_INET, .oifs = {ETH1, VF0}, .n_oifs = 2});
    assert_int_equal(dh_nl_link_usage(fx->nl, "ens1f0v0", &fx->u, NULL), 0);
    assert_true(fx->u.default_route);
    dh_link_usage_clear(&fx->u);
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth0", &fx->u, NULL), 0);
    assert_false(fx->u.default_route);
    dh_link_usage_clear(&fx->u);
    fake_nl_add_route(fx->f, &(struct fake_route){.family = AF_INET6, .oifs = {ETH0, ETH1}, .n_oifs = 2});
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth0", &fx->u, NULL), 0);
    assert_true(fx->u.default_route);
}

static void only_main_table_unicast_routes_count(void **state)
{
    struct fixture *fx = *state;
    /* a default route in another table (policy routing), a blackhole, and plain prefixes */
    fake_nl_add_route(fx->f, &(struct fake_route){.family = AF_INET, .table = 100, .oif = ETH0});
    fake_nl_add_route(fx->f, &(struct fake_route){.family = AF_INET, .table = 1000, .oif = ETH0});
    fake_nl_add_route(fx->f, &(struct fake_route){.family = AF_INET, .type = RTN_LOCAL, .oif = ETH0});
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth0", &fx->u, NULL), 0);
    assert_false(fx->u.default_route);
    assert_int_equal(fx->u.n_routes, 0);
    dh_link_usage_clear(&fx->u);

    fake_nl_add_route(
            fx->f, &(struct fake_route){.family = AF_INET, .dst = "192.0.2.0", .dst_len = 24, .oif = ETH0});
    fake_nl_add_route(
            fx->f, &(struct fake_route){.family = AF_INET6, .dst = "2001:db8::", .dst_len = 64, .oif = ETH0});
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth0", &fx->u, NULL), 0);
    assert_false(fx->u.default_route);
    assert_int_equal(fx->u.n_routes, 2);
    assert_true(dh_link_usage_is_busy(&fx->u)); /* any route is a reason (dpdk-devbind) */
}

static void master_is_named(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth1", &fx->u, NULL), 0);
    assert_int_equal(fx->u.master_ifindex, BR0);
    assert_string_equal(fx->u.master, "br0");
    assert_true(dh_link_usage_is_busy(&fx->u));
}

static void vanished_master_keeps_its_index(void **state)
{
    struct fixture *fx = *state;
    fake_nl_add_link(fx->f, "bond-slave", 9, 77); /* master 77 does not exist */
    assert_int_equal(dh_nl_link_usage(fx->nl, "bond-slave", &fx->u, NULL), 0);
    assert_int_equal(fx->u.master_ifindex, 77);
    assert_null(fx->u.master);
    assert_true(dh_link_usage_is_busy(&fx->u));
}

static void failures_name_the_link(void **state)
{
    struct fixture *fx = *state;
    struct dh_error err = {0};
    assert_int_equal(dh_nl_link_usage(fx->nl, "nope0", &fx->u, &err), -ENODEV);
    assert_string_equal(err.message, "netlink: no network interface named 'nope0' (list them with: ip link)");
    dh_error_clear(&err);
    assert_int_equal(dh_nl_link_usage(fx->nl, "a/b", &fx->u, &err), -EINVAL);
    assert_int_equal(fake_nl_n_requests(fx->f), 1);
    dh_error_clear(&err);
    fake_nl_fail_next(fx->f, RTM_GETROUTE, -EPERM, "routes are secret");
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth0", &fx->u, &err), -EPERM);
    assert_string_equal(err.message,
                        "netlink: listing the routes of eth0 failed: Operation not permitted (kernel: "
                        "routes are secret)");
    dh_link_usage_clear(&fx->u);
    dh_error_clear(&err);
    fake_nl_fail_next(fx->f, RTM_GETADDR, -EIO, NULL);
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth0", &fx->u, &err), -EIO);
    assert_string_equal(err.message, "netlink: listing the addresses of eth0 failed: Input/output error");
    dh_error_clear(&err);
    fake_nl_fail_nth(fx->f, RTM_GETLINK, 1, -EACCES, NULL);
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth1", &fx->u, &err), -EACCES);
    assert_non_null(strstr(err.message, "the master (ifindex 4) of eth1"));
    assert_int_equal(dh_nl_link_usage(NULL, "eth0", &fx->u, NULL), -EINVAL);
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth0", NULL, NULL), -EINVAL);
    dh_link_usage_clear(NULL);
}

static void malformed_address_fails_cleanly(void **state)
{
    struct fixture *fx = *state;
    fake_nl_add_addr(fx->f, ETH0, "192.0.2.10", 24, RT_SCOPE_UNIVERSE);
    fake_nl_add_addr(fx->f, ETH0, "192.0.2.11", 24, RT_SCOPE_UNIVERSE);
    /* an address message whose IFA_LOCAL is IPv6-sized, in a dump */
    struct {
        struct nlmsghdr h;
        struct ifaddrmsg ifa;
        struct nlattr a;
        uint8_t addr[16];
    } raw = {
            .h = {.nlmsg_len = sizeof(raw), .nlmsg_type = RTM_NEWADDR, .nlmsg_flags = NLM_F_MULTI},
            .ifa = {.ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_index = ETH0},
            .a = {.nla_len = 4 + 16, .nla_type = IFA_LOCAL},
    };
    struct dh_error err = {0};
    fake_nl_reply_raw(fx->f, RTM_GETADDR, &raw, sizeof(raw));
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth0", &fx->u, &err), -EBADMSG);
    assert_string_equal(err.message,
                        "netlink: listing the addresses of eth0 failed: the kernel's reply is malformed");
    /* the next call is not disturbed */
    dh_link_usage_clear(&fx->u);
    assert_int_equal(dh_nl_link_usage(fx->nl, "eth0", &fx->u, NULL), 0);
    assert_int_equal(fx->u.n_addresses, 2);
}

static void link_index_by_name(void **state)
{
    struct fixture *fx = *state;
    unsigned ifindex = 0;
    struct dh_error err = {0};
    assert_int_equal(dh_nl_link_index(fx->nl, "br0", &ifindex, &err), 0);
    assert_int_equal(ifindex, BR0);
    assert_int_equal(dh_nl_link_index(fx->nl, "br9", &ifindex, &err), -ENODEV);
    assert_int_equal(ifindex, BR0);
    dh_error_clear(&err);
    assert_int_equal(dh_nl_link_index(fx->nl, "", &ifindex, &err), -EINVAL);
    assert_string_equal(err.message,
                        "netlink: '' is not a valid interface name (1-15 characters, no '/', ':' or blanks)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(idle_link_is_not_busy, setup, teardown),
            DH_TEST_SETUP(global_addresses_are_listed_and_others_are_not, setup, teardown),
            DH_TEST_SETUP(default_route_ipv4_and_ipv6, setup, teardown),
            DH_TEST_SETUP(default_route_through_a_multipath_next_hop, setup, teardown),
            DH_TEST_SETUP(only_main_table_unicast_routes_count, setup, teardown),
            DH_TEST_SETUP(master_is_named, setup, teardown),
            DH_TEST_SETUP(vanished_master_keeps_its_index, setup, teardown),
            DH_TEST_SETUP(failures_name_the_link, setup, teardown),
            DH_TEST_SETUP(malformed_address_fails_cleanly, setup, teardown),
            DH_TEST_SETUP(link_index_by_name, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
