/* The real kernel, inside a private network namespace so that the host's network is never touched:
 * a child process unshares CLONE_NEWNET, creates a veth pair and a bridge over rtnetlink, gives them
 * addresses, an IPv4 multipath default route and an IPv6 default route, and checks what
 * dh_nl_link_usage() and dh_nl_vf_get() make of the kernel's own replies. Where unsharing is not
 * permitted (no CAP_SYS_ADMIN, seccomp) or veth is missing, the test reports TAP "1..0 # SKIP".
 * VF settings need SR-IOV hardware (or netdevsim) and are left to the QEMU lab. */
#include "test.h"

#include "util/macro.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <stdalign.h>
#include <sys/wait.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <dpuhost/netlink.h>

#define SKIP_STATUS 77

static struct dh_nl *nl;

struct req {
    alignas(struct nlmsghdr) uint8_t buf[1024];
};

static struct nlmsghdr *begin(struct req *r, uint16_t type, uint16_t flags, size_t hdrlen)
{
    memset(r, 0, sizeof(*r));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    mnl_nlmsg_put_extra_header(nlh, hdrlen);
    return nlh;
}

static void must(int r, const struct dh_error *err, const char *what)
{
    if (r < 0)
        fail_msg("%s: %s", what, err->message);
}

static unsigned ifindex(const char *name)
{
    unsigned i = 0;
    struct dh_error err = {0};
    must(dh_nl_link_index(nl, name, &i, &err), &err, name);
    return i;
}

static int add_veth(const char *name, const char *peer, struct dh_error *err)
{
    struct req r;
    struct nlmsghdr *nlh = begin(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
    struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    struct nlattr *p = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
    mnl_attr_nest_end(nlh, p);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, info);
    return dh_nl_request(nl, nlh, NULL, NULL, err);
}

static void add_bridge(const char *name)
{
    struct req r;
    struct nlmsghdr *nlh = begin(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
    mnl_attr_nest_end(nlh, info);
    struct dh_error err = {0};
    must(dh_nl_request(nl, nlh, NULL, NULL, &err), &err, "creating a bridge");
}

/* Sets the link up, and its master when master is not 0. */
static void set_link(unsigned index, unsigned master)
{
    struct req r;
    struct nlmsghdr *nlh = begin(&r, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
    struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
    ifi->ifi_index = (int)index;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    if (master)
        mnl_attr_put_u32(nlh, IFLA_MASTER, master);
    struct dh_error err = {0};
    must(dh_nl_request(nl, nlh, NULL, NULL, &err), &err, "setting a link up");
}

static void add_addr(unsigned index, int family, const char *text, unsigned prefixlen)
{
    struct req r;
    struct nlmsghdr *nlh = begin(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));
    struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    ifa->ifa_family = (uint8_t)family;
    ifa->ifa_prefixlen = (uint8_t)prefixlen;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = index;
    uint8_t a[16];
    assert_int_equal(inet_pton(family, text, a), 1);
    mnl_attr_put(nlh, IFA_LOCAL, family == AF_INET ? 4 : 16, a);
    mnl_attr_put(nlh, IFA_ADDRESS, family == AF_INET ? 4 : 16, a);
    if (family == AF_INET6)
        mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD); /* usable at once, no duplicate detection */
    struct dh_error err = {0};
    must(dh_nl_request(nl, nlh, NULL, NULL, &err), &err, text);
}

struct hop {
    unsigned oif;
    const char *gateway;
};

/* A default route of the main table through one or several next hops. */
static void add_default_route(int family, const struct hop *hops, size_t n)
{
    struct req r;
    struct nlmsghdr *nlh = begin(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct rtmsg));
    struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    rtm->rtm_family = (uint8_t)family;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    size_t alen = family == AF_INET ? 4 : 16;
    uint8_t gw[16];
    if (n == 1) {
        assert_int_equal(inet_pton(family, hops[0].gateway, gw), 1);
        mnl_attr_put(nlh, RTA_GATEWAY, alen, gw);
        mnl_attr_put_u32(nlh, RTA_OIF, hops[0].oif);
    } else {
        struct nlattr *mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
        for (size_t i = 0; i < n; i++) {
            struct rtnexthop *nh = mnl_nlmsg_get_payload_tail(nlh);
            memset(nh, 0, sizeof(*nh));
            nh->rtnh_ifindex = (int)hops[i].oif;
            nlh->nlmsg_len += RTNH_ALIGN(sizeof(*nh));
            assert_int_equal(inet_pton(family, hops[i].gateway, gw), 1);
            mnl_attr_put(nlh, RTA_GATEWAY, alen, gw);
            nh->rtnh_len = (unsigned short)((uint8_t *)mnl_nlmsg_get_payload_tail(nlh) - (uint8_t *)nh);
        }
        mnl_attr_nest_end(nlh, mp);
    }
    struct dh_error err = {0};
    must(dh_nl_request(nl, nlh, NULL, NULL, &err), &err, "adding a default route");
}

static bool has_string(char **v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (streq(v[i], s))
            return true;
    return false;
}

static int setup(void **state)
{
    (void)state;
    struct dh_error err = {0};
    if (dh_nl_open(&nl, &err) < 0) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dh_nl_free(nl);
    nl = NULL;
    return 0;
}

static void fresh_namespace_has_an_idle_loopback(void **state)
{
    (void)state;
    assert_int_equal(ifindex("lo"), 1);
    struct dh_link_usage u;
    struct dh_error err = {0};
    must(dh_nl_link_usage(nl, "lo", &u, &err), &err, "lo");
    assert_int_equal(u.n_addresses, 0); /* down, and 127.0.0.1 would be scope host anyway */
    assert_false(u.default_route);
    assert_null(u.master);
    dh_link_usage_clear(&u);
    dh_error_clear(&err);
    assert_int_equal(dh_nl_link_usage(nl, "nothere0", &u, &err), -ENODEV);
    assert_string_equal(err.message,
                        "netlink: no network interface named 'nothere0' (list them with: ip link)");
    dh_link_usage_clear(&u);
}

static void addresses_routes_and_master_as_the_kernel_reports_them(void **state)
{
    (void)state;
    unsigned a = ifindex("dhtest0"), b = ifindex("dhtest1");
    set_link(a, 0);
    set_link(b, 0);
    add_addr(a, AF_INET, "192.0.2.1", 24);
    add_addr(a, AF_INET6, "2001:db8::1", 64);
    add_addr(b, AF_INET, "198.51.100.1", 24);
    static const struct hop v4[] = {{0, "192.0.2.254"}, {0, "198.51.100.254"}};
    struct hop hops[2] = {v4[0], v4[1]};
    hops[0].oif = a;
    hops[1].oif = b;
    add_default_route(AF_INET, hops, 2);
    struct hop v6 = {a, "2001:db8::fe"};
    add_default_route(AF_INET6, &v6, 1);

    struct dh_link_usage u;
    struct dh_error err = {0};
    must(dh_nl_link_usage(nl, "dhtest0", &u, &err), &err, "dhtest0");
    assert_int_equal(u.ifindex, a);
    assert_int_equal(u.n_addresses, 2); /* the kernel's fe80:: address does not count */
    assert_true(has_string(u.addresses, u.n_addresses, "192.0.2.1/24"));
    assert_true(has_string(u.addresses, u.n_addresses, "2001:db8::1/64"));
    assert_true(u.default_route);
    /* 192.0.2.0/24, 2001:db8::/64, the multipath default, the IPv6 default */
    assert_int_equal(u.n_routes, 4);
    assert_true(dh_link_usage_is_busy(&u));
    dh_link_usage_clear(&u);

    /* dhtest1 carries the IPv4 default only as the second next hop of the multipath route */
    must(dh_nl_link_usage(nl, "dhtest1", &u, &err), &err, "dhtest1");
    assert_true(u.default_route);
    assert_int_equal(u.n_addresses, 1);
    assert_null(u.master);
    dh_link_usage_clear(&u);

    add_bridge("dhbr0");
    unsigned br = ifindex("dhbr0");
    set_link(b, br);
    must(dh_nl_link_usage(nl, "dhtest1", &u, &err), &err, "dhtest1");
    assert_int_equal(u.master_ifindex, br);
    assert_string_equal(u.master, "dhbr0");
    dh_link_usage_clear(&u);

    must(dh_nl_link_usage(nl, "dhbr0", &u, &err), &err, "dhbr0");
    assert_int_equal(u.n_addresses, 0);
    assert_false(u.default_route);
    assert_false(dh_link_usage_is_busy(&u));
    dh_link_usage_clear(&u);
}

static void veth_has_no_vf_table(void **state)
{
    (void)state;
    struct dh_vf_config c;
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_get(nl, "dhtest0", 0, &c, &err), -EOPNOTSUPP);
    assert_non_null(strstr(err.message, "dhtest0 reports no VF table"));
    struct dh_vf_config want = {.has_trust = true, .trust = true};
    dh_error_clear(&err);
    assert_int_equal(dh_nl_vf_set(nl, "dhtest0", 0, &want, &err), -EOPNOTSUPP);
}

static void tap_skip(const char *why)
{
    printf("1..0 # SKIP %s\n", why);
    fflush(stdout);
}

/* Runs in the child: a namespace of its own, then the tests. */
static int run_in_namespace(void)
{
    if (unshare(CLONE_NEWNET) < 0) {
        char why[128];
        snprintf(why, sizeof(why), "cannot unshare a network namespace: %s", strerror(errno));
        tap_skip(why);
        return SKIP_STATUS;
    }
    struct dh_error err = {0};
    if (dh_nl_open(&nl, &err) < 0) {
        tap_skip(err.message);
        return SKIP_STATUS;
    }
    int r = add_veth("dhtest0", "dhtest1", &err);
    dh_nl_free(nl);
    nl = NULL;
    if (r < 0) {
        tap_skip(err.message); /* a kernel without veth */
        return SKIP_STATUS;
    }
    const struct CMUnitTest tests[] = {
            DH_TEST(fresh_namespace_has_an_idle_loopback),
            DH_TEST(addresses_routes_and_master_as_the_kernel_reports_them),
            DH_TEST(veth_has_no_vf_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

int main(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0)
        _exit(run_in_namespace() & 0xff);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_STATUS)
        return 0; /* the child printed the TAP skip line */
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
