/* Pure parsers for the rtnetlink messages the module reads: NLMSG_ERROR/NLMSG_DONE with extended
 * acks, RTM_NEWLINK (name, master, the VF table), RTM_NEWADDR and RTM_NEWROUTE. Every length is
 * checked against the enclosing one before anything is read, and attributes must tile their
 * container exactly (up to the final alignment padding): the kernel always sends them that way, so
 * anything else is a truncated or corrupt reply and is reported as -EBADMSG, never guessed at. */
#include "netlink/netlink-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

/* The attributes after a message's fixed header of hdrlen bytes. -EBADMSG when even the fixed
 * header does not fit. */
static int walk_message(const struct nlmsghdr *nlh, size_t hdrlen, dh_nl_attr_fn fn, void *data)
{
    size_t off = NLMSG_HDRLEN + MNL_ALIGN(hdrlen);
    if (nlh->nlmsg_len < NLMSG_HDRLEN + hdrlen)
        return -EBADMSG;
    if (nlh->nlmsg_len <= off)
        return 0;
    return dh_nl_attr_walk((const uint8_t *)nlh + off, nlh->nlmsg_len - off, fn, data);
}

static bool payload_at_least(const struct nlattr *a, size_t size)
{
    return mnl_attr_get_payload_len(a) >= size;
}

static bool payload_is_u32(const struct nlattr *a)
{
    return mnl_attr_get_payload_len(a) == sizeof(uint32_t);
}

/* Copies a NUL-terminated string attribute into buf; -EBADMSG unless it is terminated inside the
 * attribute and fits. */
static int copy_string(const struct nlattr *a, char *buf, size_t size)
{
    size_t len = mnl_attr_get_payload_len(a);
    const char *s = mnl_attr_get_payload(a);
    const char *nul = memchr(s, '\0', len);
    if (!nul || (size_t)(nul - s) >= size)
        return -EBADMSG;
    memcpy(buf, s, (size_t)(nul - s) + 1);
    return 0;
}

struct ext_ack {
    char *buf;
    size_t size;
};

static int ext_ack_attr(const struct nlattr *a, void *data)
{
    struct ext_ack *e = data;
    if (mnl_attr_get_type(a) != NLMSGERR_ATTR_MSG || e->size == 0)
        return 0;
    /* a message longer than the buffer is cut, not refused: it is for humans */
    size_t len = mnl_attr_get_payload_len(a);
    const char *s = mnl_attr_get_payload(a);
    const char *nul = memchr(s, '\0', len);
    if (!nul)
        return -EBADMSG;
    snprintf(e->buf, e->size, "%s", s);
    return 0;
}

int nl_parse_error(const struct nlmsghdr *nlh, int *ret_code, char *ext_ack, size_t size)
{
    if (size > 0)
        ext_ack[0] = '\0';
    if (nlh->nlmsg_len < NLMSG_HDRLEN)
        return -EBADMSG;
    size_t len = nlh->nlmsg_len - NLMSG_HDRLEN, hlen;
    const uint8_t *payload = mnl_nlmsg_get_payload(nlh);
    int code;

    if (nlh->nlmsg_type == NLMSG_DONE) {
        if (len == 0) {
            *ret_code = 0;
            return 0;
        }
        if (len < sizeof(int))
            return -EBADMSG;
        memcpy(&code, payload, sizeof(code));
        hlen = sizeof(int);
    } else if (nlh->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = (const struct nlmsgerr *)payload;
        if (len < sizeof(*e))
            return -EBADMSG;
        code = e->error;
        hlen = sizeof(*e);
        /* Without NETLINK_CAP_ACK (or for an acknowledgement, which is always capped) the kernel
         * echoes the whole request before the TLVs. */
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
            if (e->msg.nlmsg_len < NLMSG_HDRLEN)
                return -EBADMSG;
            hlen += e->msg.nlmsg_len - NLMSG_HDRLEN;
        }
    } else
        return -EBADMSG;

    if (code > 0 || code < -4095)
        return -EBADMSG;
    hlen = MNL_ALIGN(hlen);
    if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
        if (hlen > len)
            return -EBADMSG;
        struct ext_ack e = {ext_ack, size};
        int r = dh_nl_attr_walk(payload + hlen, len - hlen, ext_ack_attr, &e);
        if (r < 0)
            return r;
    }
    *ret_code = code;
    return 0;
}

static int link_attr(const struct nlattr *a, void *data)
{
    struct nl_link *l = data;
    switch (mnl_attr_get_type(a)) {
    case IFLA_IFNAME:
        return copy_string(a, l->name, sizeof(l->name));
    case IFLA_MASTER:
        if (!payload_is_u32(a))
            return -EBADMSG;
        l->master = mnl_attr_get_u32(a);
        return 0;
    default:
        return 0;
    }
}

int nl_parse_link(const struct nlmsghdr *nlh, struct nl_link *ret)
{
    struct nl_link l = {0};
    if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct ifinfomsg))
        return -EBADMSG;
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
    if (ifi->ifi_index <= 0)
        return -EBADMSG;
    l.ifindex = (unsigned)ifi->ifi_index;
    int r = walk_message(nlh, sizeof(*ifi), link_attr, &l);
    if (r < 0)
        return r;
    *ret = l;
    return 0;
}

/* One IFLA_VF_INFO. Every struct in it starts with the VF number; they must agree. */
struct vf_info {
    bool has_vf;
    uint32_t vf;
    struct dh_vf_config c;
};

static int vf_number(struct vf_info *v, const struct nlattr *a, size_t size)
{
    uint32_t n;
    if (!payload_at_least(a, size))
        return -EBADMSG;
    memcpy(&n, mnl_attr_get_payload(a), sizeof(n));
    if (v->has_vf && v->vf != n)
        return -EBADMSG;
    v->has_vf = true;
    v->vf = n;
    return 0;
}

static int vf_info_attr(const struct nlattr *a, void *data)
{
    struct vf_info *v = data;
    const void *p = mnl_attr_get_payload(a);
    int r;
    switch (mnl_attr_get_type(a)) {
    case IFLA_VF_MAC: {
        struct ifla_vf_mac m;
        if ((r = vf_number(v, a, sizeof(m))) < 0)
            return r;
        memcpy(&m, p, sizeof(m));
        v->c.has_mac = true;
        memcpy(v->c.mac, m.mac, sizeof(v->c.mac));
        return 0;
    }
    case IFLA_VF_VLAN: {
        struct ifla_vf_vlan vl;
        if ((r = vf_number(v, a, sizeof(vl))) < 0)
            return r;
        memcpy(&vl, p, sizeof(vl));
        /* out of range is not a VLAN we could verify against: unknown */
        v->c.has_vlan = vl.vlan <= 4095 && vl.qos <= 7;
        v->c.vlan = v->c.has_vlan ? (uint16_t)vl.vlan : 0;
        v->c.qos = v->c.has_vlan ? (uint8_t)vl.qos : 0;
        return 0;
    }
    case IFLA_VF_SPOOFCHK: {
        struct ifla_vf_spoofchk s;
        if ((r = vf_number(v, a, sizeof(s))) < 0)
            return r;
        memcpy(&s, p, sizeof(s));
        /* 0xFFFFFFFF: the driver's ndo_get_vf_config() left the kernel's "unknown" in place */
        v->c.has_spoofchk = s.setting <= 1;
        v->c.spoofchk = s.setting == 1;
        return 0;
    }
    case IFLA_VF_TRUST: {
        struct ifla_vf_trust t;
        if ((r = vf_number(v, a, sizeof(t))) < 0)
            return r;
        memcpy(&t, p, sizeof(t));
        v->c.has_trust = t.setting <= 1;
        v->c.trust = t.setting == 1;
        return 0;
    }
    case IFLA_VF_LINK_STATE: {
        struct ifla_vf_link_state ls;
        if ((r = vf_number(v, a, sizeof(ls))) < 0)
            return r;
        memcpy(&ls, p, sizeof(ls));
        v->c.has_link_state = ls.link_state <= DH_VF_LINK_STATE_DISABLE;
        v->c.link_state = v->c.has_link_state ? (enum dh_vf_link_state)ls.link_state : 0;
        return 0;
    }
    default:
        /* IFLA_VF_STATS, IFLA_VF_VLAN_LIST, IFLA_VF_RATE, ...: not ours, but their framing was
         * checked by the walk */
        return 0;
    }
}

struct vf_list {
    unsigned want;
    unsigned n;
    bool found;
    struct dh_vf_config c;
};

static int vf_list_attr(const struct nlattr *a, void *data)
{
    struct vf_list *l = data;
    if (mnl_attr_get_type(a) != IFLA_VF_INFO)
        return 0;
    struct vf_info v = {0};
    int r = dh_nl_attr_walk_nested(a, vf_info_attr, &v);
    if (r < 0)
        return r;
    if (!v.has_vf)
        return -EBADMSG; /* the kernel always sends at least IFLA_VF_MAC */
    l->n++;
    if (v.vf == l->want) {
        if (l->found)
            return -EBADMSG;
        l->found = true;
        l->c = v.c;
    }
    return 0;
}

struct vf_link {
    struct vf_list list;
    bool has_list;
};

static int vf_link_attr(const struct nlattr *a, void *data)
{
    struct vf_link *l = data;
    if (mnl_attr_get_type(a) != IFLA_VFINFO_LIST)
        return 0;
    if (l->has_list)
        return -EBADMSG;
    l->has_list = true;
    return dh_nl_attr_walk_nested(a, vf_list_attr, &l->list);
}

int nl_parse_vf(const struct nlmsghdr *nlh, unsigned vf, struct dh_vf_config *ret, unsigned *ret_n_vfs)
{
    struct vf_link l = {.list.want = vf};
    if (nlh->nlmsg_type != RTM_NEWLINK)
        return -EBADMSG;
    int r = walk_message(nlh, sizeof(struct ifinfomsg), vf_link_attr, &l);
    if (r < 0)
        return r;
    *ret_n_vfs = l.list.n;
    if (!l.has_list)
        return -ENODATA;
    if (!l.list.found)
        return -ENOENT;
    *ret = l.list.c;
    return 0;
}

struct addr_parse {
    struct nl_addr *a;
    bool has_local, has_address;
    uint8_t local[16], address[16];
};

static int addr_attr(const struct nlattr *at, void *data)
{
    struct addr_parse *p = data;
    uint16_t type = mnl_attr_get_type(at);
    if (type != IFA_LOCAL && type != IFA_ADDRESS)
        return 0;
    size_t want = p->a->family == AF_INET ? 4 : p->a->family == AF_INET6 ? 16 : 0;
    if (want == 0)
        return 0;
    if (mnl_attr_get_payload_len(at) != want)
        return -EBADMSG;
    if (type == IFA_LOCAL) {
        p->has_local = true;
        memcpy(p->local, mnl_attr_get_payload(at), want);
    } else {
        p->has_address = true;
        memcpy(p->address, mnl_attr_get_payload(at), want);
    }
    return 0;
}

int nl_parse_addr(const struct nlmsghdr *nlh, struct nl_addr *ret)
{
    struct nl_addr a = {0};
    if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct ifaddrmsg))
        return -EBADMSG;
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    a.family = ifa->ifa_family;
    a.prefixlen = ifa->ifa_prefixlen;
    a.scope = ifa->ifa_scope;
    a.ifindex = ifa->ifa_index;
    if ((a.family == AF_INET && a.prefixlen > 32) || (a.family == AF_INET6 && a.prefixlen > 128))
        return -EBADMSG;
    struct addr_parse p = {.a = &a};
    int r = walk_message(nlh, sizeof(*ifa), addr_attr, &p);
    if (r < 0)
        return r;
    if (p.has_local || p.has_address) {
        a.has_addr = true;
        memcpy(a.addr, p.has_local ? p.local : p.address, sizeof(a.addr));
    }
    *ret = a;
    return 0;
}

static bool is_ipv6_link_local(const uint8_t a[16])
{
    return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

bool nl_addr_is_global(const struct nl_addr *a)
{
    if (!a->has_addr || a->scope != RT_SCOPE_UNIVERSE)
        return false;
    return a->family == AF_INET || (a->family == AF_INET6 && !is_ipv6_link_local(a->addr));
}

int nl_addr_format(const struct nl_addr *a, char *buf, size_t size)
{
    char text[INET6_ADDRSTRLEN];
    if (!a->has_addr || (a->family != AF_INET && a->family != AF_INET6))
        return -EAFNOSUPPORT;
    if (!inet_ntop(a->family, a->addr, text, sizeof(text)))
        return -EAFNOSUPPORT;
    int n = snprintf(buf, size, "%s/%u", text, a->prefixlen);
    return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

struct route_parse {
    struct nl_route *rt;
    unsigned ifindex;
    bool has_dst;
    uint8_t dst[16];
};

/* RTA_MULTIPATH: a packed sequence of struct rtnexthop, each followed by its own attributes and
 * rtnh_len covering both. */
static int multipath(const struct nlattr *a, struct route_parse *p)
{
    const uint8_t *q = mnl_attr_get_payload(a);
    size_t rest = mnl_attr_get_payload_len(a);
    while (rest > 0) {
        struct rtnexthop nh;
        if (rest < sizeof(nh))
            return -EBADMSG;
        memcpy(&nh, q, sizeof(nh));
        if (nh.rtnh_len < sizeof(nh) || nh.rtnh_len > rest)
            return -EBADMSG;
        if (nh.rtnh_ifindex > 0 && (unsigned)nh.rtnh_ifindex == p->ifindex)
            p->rt->via_ifindex = true;
        size_t step = RTNH_ALIGN(nh.rtnh_len);
        if (step >= rest)
            break;
        q += step;
        rest -= step;
    }
    return 0;
}

static int route_attr(const struct nlattr *a, void *data)
{
    struct route_parse *p = data;
    switch (mnl_attr_get_type(a)) {
    case RTA_TABLE:
        if (!payload_is_u32(a))
            return -EBADMSG;
        p->rt->table = mnl_attr_get_u32(a);
        return 0;
    case RTA_OIF:
        if (!payload_is_u32(a))
            return -EBADMSG;
        if (mnl_attr_get_u32(a) == p->ifindex)
            p->rt->via_ifindex = true;
        return 0;
    case RTA_DST: {
        size_t want = p->rt->family == AF_INET ? 4 : p->rt->family == AF_INET6 ? 16 : 0;
        if (want == 0)
            return 0;
        if (mnl_attr_get_payload_len(a) != want)
            return -EBADMSG;
        p->has_dst = true;
        memcpy(p->dst, mnl_attr_get_payload(a), want);
        return 0;
    }
    case RTA_MULTIPATH:
        return multipath(a, p);
    default:
        return 0;
    }
}

int nl_parse_route(const struct nlmsghdr *nlh, unsigned ifindex, struct nl_route *ret)
{
    struct nl_route rt = {0};
    if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct rtmsg))
        return -EBADMSG;
    const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    rt.family = rtm->rtm_family;
    rt.dst_len = rtm->rtm_dst_len;
    rt.type = rtm->rtm_type;
    rt.table = rtm->rtm_table;
    if ((rt.family == AF_INET && rt.dst_len > 32) || (rt.family == AF_INET6 && rt.dst_len > 128))
        return -EBADMSG;
    /* ifindex 0 never matches: a route without RTA_OIF is not "through" anything */
    struct route_parse p = {.rt = &rt, .ifindex = ifindex ? ifindex : UINT32_MAX};
    int r = walk_message(nlh, sizeof(*rtm), route_attr, &p);
    if (r < 0)
        return r;
    rt.dst_ll = rt.family == AF_INET6 && p.has_dst && rt.dst_len >= 10 && is_ipv6_link_local(p.dst);
    *ret = rt;
    return 0;
}
