/* Interface lookup and the in-use checks the binding code runs before it takes a netdev away from
 * the host (REFERENCE "refuse unless forced", after the SR-IOV device plugin and dpdk-devbind): the
 * netdev's global addresses, its main-table routes and whether one is a default route, and its
 * bond or bridge. Only the main table counts, as in `ip route`: the local table holds a route for
 * every address, which the address check already covers. */
#include "netlink/netlink-internal.h"

#include <arpa/inet.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "util/macro.h"
#include "util/strv.h"

int nl_get_link(struct dh_nl *nl, const char *ifname, unsigned ifindex, uint32_t ext_mask, dh_nl_reply_fn cb,
                void *userdata, struct nl_failure *why)
{
    alignas(struct nlmsghdr) uint8_t buf[256] = {0};
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_GETLINK;
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifname ? 0 : (int)ifindex;
    if (ifname)
        mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
    if (ext_mask)
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, ext_mask);
    return nl_call(nl, nlh, cb, userdata, why);
}

int nl_link_error(struct dh_error *err, int r, const struct nl_failure *why, const char *ifname,
                  const char *what)
{
    char suffix[NL_TEXT_MAX + 16];
    if (r == -ENODEV && why->source == NL_FROM_KERNEL)
        return dh_error_set(err, r, "netlink: no network interface named '%s' (list them with: ip link)",
                            ifname);
    if (r == -EBADMSG)
        return dh_error_set(err, r, "netlink: %s %s failed: the kernel's reply is malformed%s", what, ifname,
                            nl_failure_suffix(why, suffix, sizeof(suffix)));
    return dh_error_set(err, r, "netlink: %s %s failed: %s%s", what, ifname, strerror(-r),
                        nl_failure_suffix(why, suffix, sizeof(suffix)));
}

struct link_reply {
    bool found;
    struct nl_link link;
};

static int link_reply(const struct nlmsghdr *nlh, void *data)
{
    struct link_reply *l = data;
    if (!nlh) {
        memset(l, 0, sizeof(*l));
        return 0;
    }
    if (nlh->nlmsg_type != RTM_NEWLINK)
        return 0;
    int r = nl_parse_link(nlh, &l->link);
    if (r < 0)
        return r;
    l->found = true;
    return 0;
}

/* RTM_GETLINK by name or index; -EBADMSG when the kernel acknowledged without describing a link. */
static int get_link(struct dh_nl *nl, const char *ifname, unsigned ifindex, struct nl_link *ret,
                    struct nl_failure *why)
{
    struct link_reply l = {0};
    /* statistics are most of a plain link message and nothing here reads them */
    int r = nl_get_link(nl, ifname, ifindex, RTEXT_FILTER_SKIP_STATS, link_reply, &l, why);
    if (r < 0)
        return r;
    if (!l.found) {
        why->source = NL_FROM_TRANSPORT;
        snprintf(why->text, sizeof(why->text), "no RTM_NEWLINK in the reply");
        return -EBADMSG;
    }
    *ret = l.link;
    return 0;
}

static int check_ifname(const char *ifname, struct dh_error *err)
{
    if (nl_ifname_is_valid(ifname))
        return 0;
    return dh_error_set(
            err, -EINVAL,
            "netlink: '%s' is not a valid interface name (1-15 characters, no '/', ':' or blanks)",
            ifname ? ifname : "(null)");
}

int dh_nl_link_index(struct dh_nl *nl, const char *ifname, unsigned *ret_ifindex, struct dh_error *err)
{
    assert_return(nl && ret_ifindex, -EINVAL);
    int r = check_ifname(ifname, err);
    if (r < 0)
        return r;
    struct nl_link link;
    struct nl_failure why;
    r = get_link(nl, ifname, 0, &link, &why);
    if (r < 0)
        return nl_link_error(err, r, &why, ifname, "looking up interface");
    *ret_ifindex = link.ifindex;
    return 0;
}

struct addr_reply {
    unsigned ifindex;
    char **list;
    size_t n;
};

static int addr_reply(const struct nlmsghdr *nlh, void *data)
{
    struct addr_reply *a = data;
    if (!nlh) {
        dh_strv_free(a->list, a->n);
        a->list = NULL;
        a->n = 0;
        return 0;
    }
    if (nlh->nlmsg_type != RTM_NEWADDR)
        return 0;
    struct nl_addr addr;
    int r = nl_parse_addr(nlh, &addr);
    if (r < 0)
        return r;
    if (addr.ifindex != a->ifindex || !nl_addr_is_global(&addr))
        return 0;
    char text[INET6_ADDRSTRLEN + 8];
    r = nl_addr_format(&addr, text, sizeof(text));
    if (r < 0)
        return r;
    return dh_strv_push_dup(&a->list, &a->n, text);
}

struct route_reply {
    unsigned ifindex;
    size_t n_routes;
    bool default_route;
};

static int route_reply(const struct nlmsghdr *nlh, void *data)
{
    struct route_reply *rr = data;
    if (!nlh) {
        rr->n_routes = 0;
        rr->default_route = false;
        return 0;
    }
    if (nlh->nlmsg_type != RTM_NEWROUTE)
        return 0;
    struct nl_route rt;
    int r = nl_parse_route(nlh, rr->ifindex, &rt);
    if (r < 0)
        return r;
    /* Routes through next-hop objects (RTA_NH_ID) carry RTA_OIF or RTA_MULTIPATH as well while
     * net.ipv4.nexthop_compat_mode is 1, the default. */
    if ((rt.family != AF_INET && rt.family != AF_INET6) || rt.table != RT_TABLE_MAIN ||
        rt.type != RTN_UNICAST || !rt.via_ifindex || rt.dst_ll)
        return 0;
    rr->n_routes++;
    if (rt.dst_len == 0)
        rr->default_route = true;
    return 0;
}

/* A dump of every family's addresses or routes; the kernel ignores the filter fields without
 * NETLINK_GET_STRICT_CHK, so the callbacks filter by ifindex themselves. */
static int dump(struct dh_nl *nl, uint16_t type, size_t hdrlen, dh_nl_reply_fn cb, void *data,
                struct nl_failure *why)
{
    alignas(struct nlmsghdr) uint8_t buf[128] = {0};
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_DUMP;
    uint8_t *family = mnl_nlmsg_put_extra_header(nlh, hdrlen);
    *family = AF_UNSPEC; /* ifa_family and rtm_family are both the first byte */
    return nl_call(nl, nlh, cb, data, why);
}

int dh_nl_link_usage(struct dh_nl *nl, const char *ifname, struct dh_link_usage *ret, struct dh_error *err)
{
    assert_return(ret, -EINVAL);
    memset(ret, 0, sizeof(*ret));
    assert_return(nl, -EINVAL);
    int r = check_ifname(ifname, err);
    if (r < 0)
        return r;

    struct nl_failure why;
    struct nl_link link;
    r = get_link(nl, ifname, 0, &link, &why);
    if (r < 0)
        return nl_link_error(err, r, &why, ifname, "looking up interface");
    ret->ifindex = link.ifindex;
    ret->master_ifindex = link.master;

    if (link.master) {
        struct nl_link master;
        r = get_link(nl, NULL, link.master, &master, &why);
        if (r >= 0) {
            ret->master = strdup(master.name);
            if (!ret->master)
                return dh_error_set(err, -ENOMEM, "netlink: out of memory");
        } else if (!(r == -ENODEV && why.source == NL_FROM_KERNEL))
            /* ENODEV: the master went away between the two requests; master_ifindex still tells */
            return dh_error_set(err, r, "netlink: looking up the master (ifindex %u) of %s failed: %s",
                                link.master, ifname, strerror(-r));
    }

    struct addr_reply a = {.ifindex = link.ifindex};
    r = dump(nl, RTM_GETADDR, sizeof(struct ifaddrmsg), addr_reply, &a, &why);
    ret->addresses = a.list;
    ret->n_addresses = a.n;
    if (r < 0)
        return nl_link_error(err, r, &why, ifname, "listing the addresses of");

    struct route_reply rr = {.ifindex = link.ifindex};
    r = dump(nl, RTM_GETROUTE, sizeof(struct rtmsg), route_reply, &rr, &why);
    if (r < 0)
        return nl_link_error(err, r, &why, ifname, "listing the routes of");
    ret->n_routes = rr.n_routes;
    ret->default_route = rr.default_route;
    return 0;
}

void dh_link_usage_clear(struct dh_link_usage *u)
{
    if (!u)
        return;
    dh_strv_free(u->addresses, u->n_addresses);
    free(u->master);
    memset(u, 0, sizeof(*u));
}

bool dh_link_usage_is_busy(const struct dh_link_usage *u)
{
    return u && (u->n_addresses > 0 || u->n_routes > 0 || u->default_route || u->master_ifindex);
}
