/* The pure rtnetlink parsers on hand-built messages: every field they read, and every malformed shape
 * (short fixed headers, attributes that overrun their container, unterminated strings, wrong sizes,
 * garbage after the last attribute, next hops that lie about their length). Each malformed message is
 * copied into a heap block of exactly its length, so that under ASan any read past it fails the test;
 * and every valid message is also parsed at every shorter length. */
#include "test.h"

#include "util/macro.h"

#include <arpa/inet.h>
#include <stdalign.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "netlink/netlink-internal.h"

struct msg {
    alignas(struct nlmsghdr) uint8_t buf[4096];
};

static struct nlmsghdr *begin(struct msg *m, uint16_t type, size_t hdrlen)
{
    memset(m, 0, sizeof(*m));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(m->buf);
    nlh->nlmsg_type = type;
    mnl_nlmsg_put_extra_header(nlh, hdrlen);
    return nlh;
}

/* A heap copy of exactly len bytes (nlmsg_len set to len), so that ASan sees any overread. */
static struct nlmsghdr *exact(const struct nlmsghdr *nlh, size_t len)
{
    struct nlmsghdr *c = malloc(len < sizeof(*c) ? sizeof(*c) : len);
    assert_non_null(c);
    memcpy(c, nlh, len < sizeof(*c) ? sizeof(*c) : len);
    c->nlmsg_len = (uint32_t)len;
    return c;
}

static struct nlmsghdr *link_msg(struct msg *m, int ifindex)
{
    struct nlmsghdr *nlh = begin(m, RTM_NEWLINK, sizeof(struct ifinfomsg));
    ((struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_index = ifindex;
    return nlh;
}

static void put_vf(struct nlmsghdr *nlh, uint32_t vf, const char *mac, uint32_t vlan, uint32_t qos,
                   uint32_t spoofchk, uint32_t trust, uint32_t link_state)
{
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
    struct ifla_vf_mac m = {.vf = vf};
    assert_int_equal(sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m.mac[0], &m.mac[1], &m.mac[2], &m.mac[3],
                            &m.mac[4], &m.mac[5]),
                     6);
    mnl_attr_put(nlh, IFLA_VF_MAC, sizeof(m), &m);
    struct ifla_vf_vlan v = {.vf = vf, .vlan = vlan, .qos = qos};
    mnl_attr_put(nlh, IFLA_VF_VLAN, sizeof(v), &v);
    struct ifla_vf_spoofchk s = {.vf = vf, .setting = spoofchk};
    mnl_attr_put(nlh, IFLA_VF_SPOOFCHK, sizeof(s), &s);
    struct ifla_vf_trust t = {.vf = vf, .setting = trust};
    mnl_attr_put(nlh, IFLA_VF_TRUST, sizeof(t), &t);
    struct ifla_vf_link_state l = {.vf = vf, .link_state = link_state};
    mnl_attr_put(nlh, IFLA_VF_LINK_STATE, sizeof(l), &l);
    mnl_attr_nest_end(nlh, info);
}

/* ---- NLMSG_ERROR / NLMSG_DONE ---- */

static struct nlmsghdr *error_msg(struct msg *m, int code, bool capped, const char *ext_ack)
{
    struct nlmsghdr req = {.nlmsg_len = NLMSG_HDRLEN + 8, .nlmsg_type = RTM_SETLINK};
    struct nlmsghdr *nlh = begin(m, NLMSG_ERROR, 0);
    nlh->nlmsg_flags = (capped ? NLM_F_CAPPED : 0) | (ext_ack ? NLM_F_ACK_TLVS : 0);
    struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e) + (capped ? 0 : 8));
    e->error = code;
    e->msg = req;
    if (ext_ack)
        mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, ext_ack);
    return nlh;
}

static void error_reads_code_and_ext_ack_capped_or_echoed(void **state)
{
    (void)state;
    struct msg m;
    int code;
    char text[64];
    assert_int_equal(
            nl_parse_error(error_msg(&m, -EPERM, true, "VF VLAN is locked"), &code, text, sizeof(text)), 0);
    assert_int_equal(code, -EPERM);
    assert_string_equal(text, "VF VLAN is locked");
    assert_int_equal(nl_parse_error(error_msg(&m, -EINVAL, false, "bad vf"), &code, text, sizeof(text)), 0);
    assert_int_equal(code, -EINVAL);
    assert_string_equal(text, "bad vf");
    assert_int_equal(nl_parse_error(error_msg(&m, 0, true, NULL), &code, text, sizeof(text)), 0);
    assert_int_equal(code, 0);
    assert_string_equal(text, "");
}

static void error_cuts_long_ext_ack_to_buffer(void **state)
{
    (void)state;
    struct msg m;
    int code;
    char text[8];
    assert_int_equal(
            nl_parse_error(error_msg(&m, -EIO, true, "a long explanation"), &code, text, sizeof(text)), 0);
    assert_string_equal(text, "a long ");
}

static void error_rejects_malformed(void **state)
{
    (void)state;
    struct msg m;
    int code = 7;
    char text[64];

    /* shorter than struct nlmsgerr */
    struct nlmsghdr *nlh = error_msg(&m, -EPERM, true, NULL);
    struct nlmsghdr *c = exact(nlh, NLMSG_HDRLEN + 8);
    assert_int_equal(nl_parse_error(c, &code, text, sizeof(text)), -EBADMSG);
    free(c);

    /* a positive "errno" */
    assert_int_equal(nl_parse_error(error_msg(&m, 5, true, NULL), &code, text, sizeof(text)), -EBADMSG);

    /* the echoed request claims more than the message holds, with TLVs after it */
    nlh = error_msg(&m, -EPERM, false, "x");
    ((struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->msg.nlmsg_len = 4000;
    c = exact(nlh, nlh->nlmsg_len);
    assert_int_equal(nl_parse_error(c, &code, text, sizeof(text)), -EBADMSG);
    free(c);

    /* an echoed length below a header */
    nlh = error_msg(&m, -EPERM, false, NULL);
    ((struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->msg.nlmsg_len = 3;
    assert_int_equal(nl_parse_error(nlh, &code, text, sizeof(text)), -EBADMSG);

    /* an unterminated message string */
    nlh = error_msg(&m, -EPERM, true, "abc");
    struct nlattr *a = (struct nlattr *)((uint8_t *)mnl_nlmsg_get_payload(nlh) + sizeof(struct nlmsgerr));
    a->nla_len = 4 + 3; /* "abc" without its NUL */
    nlh->nlmsg_len = NLMSG_HDRLEN + sizeof(struct nlmsgerr) + 8;
    c = exact(nlh, nlh->nlmsg_len);
    assert_int_equal(nl_parse_error(c, &code, text, sizeof(text)), -EBADMSG);
    free(c);

    /* a TLV that overruns */
    nlh = error_msg(&m, -EPERM, true, "abc");
    a = (struct nlattr *)((uint8_t *)mnl_nlmsg_get_payload(nlh) + sizeof(struct nlmsgerr));
    a->nla_len = 200;
    c = exact(nlh, nlh->nlmsg_len);
    assert_int_equal(nl_parse_error(c, &code, text, sizeof(text)), -EBADMSG);
    free(c);
    assert_int_equal(code, 7); /* untouched on failure */
}

static void done_reads_status(void **state)
{
    (void)state;
    struct msg m;
    int code = 1;
    char text[16];
    struct nlmsghdr *nlh = begin(&m, NLMSG_DONE, 0);
    assert_int_equal(nl_parse_error(nlh, &code, text, sizeof(text)), 0);
    assert_int_equal(code, 0);
    int *status = mnl_nlmsg_put_extra_header(nlh, sizeof(int));
    *status = -EINTR;
    assert_int_equal(nl_parse_error(nlh, &code, text, sizeof(text)), 0);
    assert_int_equal(code, -EINTR);
    struct nlmsghdr *c = exact(nlh, NLMSG_HDRLEN + 2);
    assert_int_equal(nl_parse_error(c, &code, text, sizeof(text)), -EBADMSG);
    free(c);
}

/* ---- RTM_NEWLINK ---- */

static void link_reads_index_name_master(void **state)
{
    (void)state;
    struct msg m;
    struct nl_link l;
    struct nlmsghdr *nlh = link_msg(&m, 7);
    mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "ens1f0np0");
    mnl_attr_put_u32(nlh, IFLA_MASTER, 12);
    assert_int_equal(nl_parse_link(nlh, &l), 0);
    assert_int_equal(l.ifindex, 7);
    assert_string_equal(l.name, "ens1f0np0");
    assert_int_equal(l.master, 12);

    nlh = link_msg(&m, 3);
    assert_int_equal(nl_parse_link(nlh, &l), 0);
    assert_string_equal(l.name, "");
    assert_int_equal(l.master, 0);
}

static void link_rejects_malformed(void **state)
{
    (void)state;
    struct msg m;
    struct nl_link l = {.ifindex = 99};
    struct nlmsghdr *nlh, *c;

    /* a fixed header cut short */
    nlh = link_msg(&m, 7);
    c = exact(nlh, NLMSG_HDRLEN + 8);
    assert_int_equal(nl_parse_link(c, &l), -EBADMSG);
    free(c);

    /* no ifindex, wrong message type */
    assert_int_equal(nl_parse_link(link_msg(&m, 0), &l), -EBADMSG);
    nlh = link_msg(&m, 7);
    nlh->nlmsg_type = RTM_NEWADDR;
    assert_int_equal(nl_parse_link(nlh, &l), -EBADMSG);

    /* an unterminated name, and one too long for IFNAMSIZ */
    nlh = link_msg(&m, 7);
    mnl_attr_put(nlh, IFLA_IFNAME, 4, "eth0");
    c = exact(nlh, nlh->nlmsg_len);
    assert_int_equal(nl_parse_link(c, &l), -EBADMSG);
    free(c);
    nlh = link_msg(&m, 7);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "a-name-of-twenty-chars");
    assert_int_equal(nl_parse_link(nlh, &l), -EBADMSG);

    /* IFLA_MASTER of the wrong size */
    nlh = link_msg(&m, 7);
    mnl_attr_put_u16(nlh, IFLA_MASTER, 3);
    assert_int_equal(nl_parse_link(nlh, &l), -EBADMSG);

    /* an attribute longer than the message */
    nlh = link_msg(&m, 7);
    struct nlattr *a = mnl_nlmsg_get_payload_tail(nlh);
    mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
    a->nla_len = 64;
    c = exact(nlh, nlh->nlmsg_len);
    assert_int_equal(nl_parse_link(c, &l), -EBADMSG);
    free(c);

    /* garbage after the last attribute */
    nlh = link_msg(&m, 7);
    mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
    nlh->nlmsg_len += 6;
    assert_int_equal(nl_parse_link(nlh, &l), -EBADMSG);

    /* an attribute header claiming less than itself */
    nlh = link_msg(&m, 7);
    a = mnl_nlmsg_get_payload_tail(nlh);
    mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
    a->nla_len = 2;
    assert_int_equal(nl_parse_link(nlh, &l), -EBADMSG);
    assert_int_equal(l.ifindex, 99);
}

/* ---- IFLA_VFINFO_LIST ---- */

static struct nlmsghdr *pf_msg(struct msg *m)
{
    struct nlmsghdr *nlh = link_msg(m, 4);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "ens1f0np0");
    mnl_attr_put_u32(nlh, IFLA_NUM_VF, 2);
    struct nlattr *list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
    put_vf(nlh, 0, "02:00:00:00:00:10", 0, 0, 1, 0, IFLA_VF_LINK_STATE_AUTO);
    put_vf(nlh, 1, "02:00:00:00:00:11", 100, 3, 0, 1, IFLA_VF_LINK_STATE_DISABLE);
    mnl_attr_nest_end(nlh, list);
    return nlh;
}

static void vf_reads_every_field(void **state)
{
    (void)state;
    struct msg m;
    struct dh_vf_config c;
    unsigned n = 0;
    assert_int_equal(nl_parse_vf(pf_msg(&m), 1, &c, &n), 0);
    assert_int_equal(n, 2);
    assert_true(c.has_mac && c.has_vlan && c.has_spoofchk && c.has_trust && c.has_link_state);
    uint8_t mac[6] = {2, 0, 0, 0, 0, 0x11};
    assert_memory_equal(c.mac, mac, 6);
    assert_int_equal(c.vlan, 100);
    assert_int_equal(c.qos, 3);
    assert_false(c.spoofchk);
    assert_true(c.trust);
    assert_int_equal(c.link_state, DH_VF_LINK_STATE_DISABLE);

    assert_int_equal(nl_parse_vf(pf_msg(&m), 0, &c, &n), 0);
    assert_int_equal(c.vlan, 0);
    assert_true(c.spoofchk);
    assert_false(c.trust);
    assert_int_equal(c.link_state, DH_VF_LINK_STATE_AUTO);
}

static void vf_unreported_spoofchk_and_trust_are_unknown(void **state)
{
    (void)state;
    struct msg m;
    struct dh_vf_config c;
    unsigned n;
    struct nlmsghdr *nlh = link_msg(&m, 4);
    struct nlattr *list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
    put_vf(nlh, 0, "02:00:00:00:00:10", 4096, 9, UINT32_MAX, UINT32_MAX, 7);
    mnl_attr_nest_end(nlh, list);
    assert_int_equal(nl_parse_vf(nlh, 0, &c, &n), 0);
    assert_true(c.has_mac);
    assert_false(c.has_spoofchk);
    assert_false(c.has_trust);
    assert_false(c.has_vlan);       /* out of range: not a value to verify against */
    assert_false(c.has_link_state); /* not one the kernel defines */
}

static void vf_missing_list_or_vf(void **state)
{
    (void)state;
    struct msg m;
    struct dh_vf_config c;
    unsigned n = 9;
    assert_int_equal(nl_parse_vf(link_msg(&m, 4), 0, &c, &n), -ENODATA);
    assert_int_equal(n, 0);
    assert_int_equal(nl_parse_vf(pf_msg(&m), 2, &c, &n), -ENOENT);
    assert_int_equal(n, 2);
    struct nlmsghdr *nlh = link_msg(&m, 4);
    mnl_attr_nest_end(nlh, mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST));
    assert_int_equal(nl_parse_vf(nlh, 0, &c, &n), -ENOENT);
    assert_int_equal(n, 0);
}

static void vf_rejects_malformed(void **state)
{
    (void)state;
    struct msg m;
    struct dh_vf_config c;
    unsigned n;
    struct nlmsghdr *nlh;
    struct nlattr *list, *info;

    /* IFLA_VF_MAC shorter than struct ifla_vf_mac */
    nlh = link_msg(&m, 4);
    list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
    info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
    mnl_attr_put(nlh, IFLA_VF_MAC, 10, "0123456789");
    mnl_attr_nest_end(nlh, info);
    mnl_attr_nest_end(nlh, list);
    assert_int_equal(nl_parse_vf(nlh, 0, &c, &n), -EBADMSG);

    /* structs in one IFLA_VF_INFO that disagree on the VF number */
    nlh = link_msg(&m, 4);
    list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
    info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
    struct ifla_vf_mac mac = {.vf = 0};
    mnl_attr_put(nlh, IFLA_VF_MAC, sizeof(mac), &mac);
    struct ifla_vf_trust t = {.vf = 1, .setting = 1};
    mnl_attr_put(nlh, IFLA_VF_TRUST, sizeof(t), &t);
    mnl_attr_nest_end(nlh, info);
    mnl_attr_nest_end(nlh, list);
    assert_int_equal(nl_parse_vf(nlh, 0, &c, &n), -EBADMSG);

    /* an IFLA_VF_INFO without any VF struct */
    nlh = link_msg(&m, 4);
    list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
    info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
    mnl_attr_put_u32(nlh, IFLA_VF_IB_NODE_GUID, 1);
    mnl_attr_nest_end(nlh, info);
    mnl_attr_nest_end(nlh, list);
    assert_int_equal(nl_parse_vf(nlh, 0, &c, &n), -EBADMSG);

    /* the same VF twice, and two lists */
    nlh = link_msg(&m, 4);
    list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
    put_vf(nlh, 0, "02:00:00:00:00:10", 0, 0, 1, 0, 0);
    put_vf(nlh, 0, "02:00:00:00:00:10", 0, 0, 1, 0, 0);
    mnl_attr_nest_end(nlh, list);
    assert_int_equal(nl_parse_vf(nlh, 0, &c, &n), -EBADMSG);
    nlh = pf_msg(&m);
    mnl_attr_nest_end(nlh, mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST));
    assert_int_equal(nl_parse_vf(nlh, 0, &c, &n), -EBADMSG);

    /* a nested attribute inside the list that overruns the list */
    nlh = pf_msg(&m);
    list = (struct nlattr *)((uint8_t *)mnl_nlmsg_get_payload(nlh) + MNL_ALIGN(sizeof(struct ifinfomsg)));
    while (mnl_attr_get_type(list) != IFLA_VFINFO_LIST)
        list = mnl_attr_next(list);
    info = mnl_attr_get_payload(list);
    info->nla_len = (uint16_t)(mnl_attr_get_payload_len(list) + 8);
    struct nlmsghdr *cp = exact(nlh, nlh->nlmsg_len);
    assert_int_equal(nl_parse_vf(cp, 0, &c, &n), -EBADMSG);
    free(cp);
}

/* ---- RTM_NEWADDR ---- */

static struct nlmsghdr *addr_msg(struct msg *m, int family, unsigned prefixlen, unsigned scope,
                                 unsigned ifindex)
{
    struct nlmsghdr *nlh = begin(m, RTM_NEWADDR, sizeof(struct ifaddrmsg));
    struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    ifa->ifa_family = (uint8_t)family;
    ifa->ifa_prefixlen = (uint8_t)prefixlen;
    ifa->ifa_scope = (uint8_t)scope;
    ifa->ifa_index = ifindex;
    return nlh;
}

static void put_ip(struct nlmsghdr *nlh, uint16_t type, int family, const char *text)
{
    uint8_t a[16];
    assert_int_equal(inet_pton(family, text, a), 1);
    mnl_attr_put(nlh, type, family == AF_INET ? 4 : 16, a);
}

static void addr_prefers_local_and_formats(void **state)
{
    (void)state;
    struct msg m;
    struct nl_addr a;
    char text[64];
    /* a point-to-point IPv4 address: IFA_ADDRESS is the peer, IFA_LOCAL ours */
    struct nlmsghdr *nlh = addr_msg(&m, AF_INET, 32, RT_SCOPE_UNIVERSE, 5);
    put_ip(nlh, IFA_ADDRESS, AF_INET, "198.51.100.9");
    put_ip(nlh, IFA_LOCAL, AF_INET, "192.0.2.1");
    mnl_attr_put_strz(nlh, IFA_LABEL, "ppp0");
    assert_int_equal(nl_parse_addr(nlh, &a), 0);
    assert_int_equal(a.ifindex, 5);
    assert_true(nl_addr_is_global(&a));
    assert_int_equal(nl_addr_format(&a, text, sizeof(text)), 0);
    assert_string_equal(text, "192.0.2.1/32");

    nlh = addr_msg(&m, AF_INET6, 64, RT_SCOPE_UNIVERSE, 5);
    put_ip(nlh, IFA_ADDRESS, AF_INET6, "2001:db8::1");
    assert_int_equal(nl_parse_addr(nlh, &a), 0);
    assert_true(nl_addr_is_global(&a));
    assert_int_equal(nl_addr_format(&a, text, sizeof(text)), 0);
    assert_string_equal(text, "2001:db8::1/64");
    assert_int_equal(nl_addr_format(&a, text, 8), -ENOBUFS);
}

static void addr_link_local_and_host_scope_are_not_global(void **state)
{
    (void)state;
    struct msg m;
    struct nl_addr a;
    /* fe80::/10 even if some tool gave it scope universe */
    struct nlmsghdr *nlh = addr_msg(&m, AF_INET6, 64, RT_SCOPE_UNIVERSE, 5);
    put_ip(nlh, IFA_ADDRESS, AF_INET6, "fe80::1");
    assert_int_equal(nl_parse_addr(nlh, &a), 0);
    assert_false(nl_addr_is_global(&a));
    nlh = addr_msg(&m, AF_INET6, 64, RT_SCOPE_UNIVERSE, 5);
    put_ip(nlh, IFA_ADDRESS, AF_INET6, "febf::1");
    assert_int_equal(nl_parse_addr(nlh, &a), 0);
    assert_false(nl_addr_is_global(&a));
    nlh = addr_msg(&m, AF_INET6, 64, RT_SCOPE_UNIVERSE, 5);
    put_ip(nlh, IFA_ADDRESS, AF_INET6, "fec0::1"); /* outside fe80::/10 */
    assert_int_equal(nl_parse_addr(nlh, &a), 0);
    assert_true(nl_addr_is_global(&a));
    nlh = addr_msg(&m, AF_INET, 8, RT_SCOPE_HOST, 1);
    put_ip(nlh, IFA_LOCAL, AF_INET, "127.0.0.1");
    assert_int_equal(nl_parse_addr(nlh, &a), 0);
    assert_false(nl_addr_is_global(&a));
    nlh = addr_msg(&m, AF_INET, 24, RT_SCOPE_LINK, 1);
    put_ip(nlh, IFA_LOCAL, AF_INET, "169.254.0.1");
    assert_int_equal(nl_parse_addr(nlh, &a), 0);
    assert_false(nl_addr_is_global(&a));
    /* no address attribute at all */
    nlh = addr_msg(&m, AF_INET, 24, RT_SCOPE_UNIVERSE, 1);
    assert_int_equal(nl_parse_addr(nlh, &a), 0);
    assert_false(nl_addr_is_global(&a));
    char text[64];
    assert_int_equal(nl_addr_format(&a, text, sizeof(text)), -EAFNOSUPPORT);
}

static void addr_rejects_malformed(void **state)
{
    (void)state;
    struct msg m;
    struct nl_addr a;
    struct nlmsghdr *nlh = addr_msg(&m, AF_INET, 24, 0, 1);
    mnl_attr_put(nlh, IFA_LOCAL, 16, "0123456789abcdef"); /* IPv6-sized in an IPv4 message */
    assert_int_equal(nl_parse_addr(nlh, &a), -EBADMSG);
    nlh = addr_msg(&m, AF_INET6, 129, 0, 1);
    assert_int_equal(nl_parse_addr(nlh, &a), -EBADMSG);
    nlh = addr_msg(&m, AF_INET, 24, 0, 1);
    struct nlmsghdr *c = exact(nlh, NLMSG_HDRLEN + 4);
    assert_int_equal(nl_parse_addr(c, &a), -EBADMSG);
    free(c);
}

/* ---- RTM_NEWROUTE ---- */

static struct nlmsghdr *route_msg(struct msg *m, int family, unsigned dst_len, unsigned table)
{
    struct nlmsghdr *nlh = begin(m, RTM_NEWROUTE, sizeof(struct rtmsg));
    struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    rtm->rtm_family = (uint8_t)family;
    rtm->rtm_dst_len = (uint8_t)dst_len;
    rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_COMPAT;
    rtm->rtm_type = RTN_UNICAST;
    return nlh;
}

static void put_nexthops(struct nlmsghdr *nlh, const int *oifs, size_t n)
{
    struct nlattr *mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
    for (size_t i = 0; i < n; i++) {
        struct rtnexthop *nh = mnl_nlmsg_get_payload_tail(nlh);
        memset(nh, 0, sizeof(*nh));
        nh->rtnh_ifindex = oifs[i];
        nlh->nlmsg_len += RTNH_ALIGN(sizeof(*nh));
        mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(0xc0000201 + (uint32_t)i));
        nh->rtnh_len = (unsigned short)((uint8_t *)mnl_nlmsg_get_payload_tail(nlh) - (uint8_t *)nh);
    }
    mnl_attr_nest_end(nlh, mp);
}

static void route_oif_multipath_table(void **state)
{
    (void)state;
    struct msg m;
    struct nl_route rt;
    struct nlmsghdr *nlh = route_msg(&m, AF_INET, 0, RT_TABLE_MAIN);
    mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
    mnl_attr_put_u32(nlh, RTA_OIF, 5);
    assert_int_equal(nl_parse_route(nlh, 5, &rt), 0);
    assert_true(rt.via_ifindex);
    assert_int_equal(rt.table, RT_TABLE_MAIN);
    assert_int_equal(rt.dst_len, 0);
    assert_int_equal(nl_parse_route(nlh, 6, &rt), 0);
    assert_false(rt.via_ifindex);

    static const int oifs[] = {3, 5, 9};
    nlh = route_msg(&m, AF_INET6, 0, 1000);
    mnl_attr_put_u32(nlh, RTA_TABLE, 1000);
    put_nexthops(nlh, oifs, 3);
    assert_int_equal(nl_parse_route(nlh, 9, &rt), 0);
    assert_true(rt.via_ifindex);
    assert_int_equal(rt.table, 1000); /* RTA_TABLE beats rtm_table's RT_TABLE_COMPAT */
    assert_int_equal(nl_parse_route(nlh, 4, &rt), 0);
    assert_false(rt.via_ifindex);
    /* ifindex 0 never matches a route without an interface */
    nlh = route_msg(&m, AF_INET, 0, RT_TABLE_MAIN);
    assert_int_equal(nl_parse_route(nlh, 0, &rt), 0);
    assert_false(rt.via_ifindex);
}

static void route_flags_ipv6_link_local_destinations(void **state)
{
    (void)state;
    struct msg m;
    struct nl_route rt;
    struct nlmsghdr *nlh = route_msg(&m, AF_INET6, 64, RT_TABLE_MAIN);
    put_ip(nlh, RTA_DST, AF_INET6, "fe80::");
    mnl_attr_put_u32(nlh, RTA_OIF, 5);
    assert_int_equal(nl_parse_route(nlh, 5, &rt), 0);
    assert_true(rt.dst_ll);
    nlh = route_msg(&m, AF_INET6, 64, RT_TABLE_MAIN);
    put_ip(nlh, RTA_DST, AF_INET6, "2001:db8::");
    assert_int_equal(nl_parse_route(nlh, 5, &rt), 0);
    assert_false(rt.dst_ll);
    /* fe80::/8 is wider than link-local: not only link-local */
    nlh = route_msg(&m, AF_INET6, 8, RT_TABLE_MAIN);
    put_ip(nlh, RTA_DST, AF_INET6, "fe00::");
    assert_int_equal(nl_parse_route(nlh, 5, &rt), 0);
    assert_false(rt.dst_ll);
}

static void route_rejects_malformed(void **state)
{
    (void)state;
    struct msg m;
    struct nl_route rt;
    struct nlmsghdr *nlh;
    static const int oifs[] = {3, 5};

    nlh = route_msg(&m, AF_INET, 33, RT_TABLE_MAIN);
    assert_int_equal(nl_parse_route(nlh, 5, &rt), -EBADMSG);
    nlh = route_msg(&m, AF_INET, 0, RT_TABLE_MAIN);
    mnl_attr_put_u16(nlh, RTA_OIF, 5);
    assert_int_equal(nl_parse_route(nlh, 5, &rt), -EBADMSG);
    nlh = route_msg(&m, AF_INET, 0, RT_TABLE_MAIN);
    mnl_attr_put_u8(nlh, RTA_TABLE, 5);
    assert_int_equal(nl_parse_route(nlh, 5, &rt), -EBADMSG);
    nlh = route_msg(&m, AF_INET, 24, RT_TABLE_MAIN);
    put_ip(nlh, RTA_DST, AF_INET6, "2001:db8::");
    assert_int_equal(nl_parse_route(nlh, 5, &rt), -EBADMSG);

    /* a next hop claiming more than RTA_MULTIPATH holds */
    nlh = route_msg(&m, AF_INET, 0, RT_TABLE_MAIN);
    struct nlattr *mp = mnl_nlmsg_get_payload_tail(nlh);
    put_nexthops(nlh, oifs, 2);
    ((struct rtnexthop *)mnl_attr_get_payload(mp))->rtnh_len = 400;
    struct nlmsghdr *c = exact(nlh, nlh->nlmsg_len);
    assert_int_equal(nl_parse_route(c, 5, &rt), -EBADMSG);
    free(c);
    /* a next hop shorter than struct rtnexthop */
    nlh = route_msg(&m, AF_INET, 0, RT_TABLE_MAIN);
    mp = mnl_nlmsg_get_payload_tail(nlh);
    put_nexthops(nlh, oifs, 2);
    ((struct rtnexthop *)mnl_attr_get_payload(mp))->rtnh_len = 4;
    assert_int_equal(nl_parse_route(nlh, 5, &rt), -EBADMSG);
    /* RTA_MULTIPATH holding 4 bytes: less than one next hop */
    nlh = route_msg(&m, AF_INET, 0, RT_TABLE_MAIN);
    mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
    mnl_attr_put(nlh, 0, 0, NULL);
    mnl_attr_nest_end(nlh, mp);
    assert_int_equal(nl_parse_route(nlh, 5, &rt), -EBADMSG);
}

/* Every valid message, cut at every length: the parsers accept or refuse, never read past the end. */
static void every_truncation_is_safe(void **state)
{
    (void)state;
    struct msg m[5];
    static const int oifs[] = {3, 5};
    const struct nlmsghdr *msgs[5];
    msgs[0] = pf_msg(&m[0]);
    struct nlmsghdr *nlh = addr_msg(&m[1], AF_INET6, 64, 0, 5);
    put_ip(nlh, IFA_ADDRESS, AF_INET6, "2001:db8::1");
    msgs[1] = nlh;
    nlh = route_msg(&m[2], AF_INET, 0, RT_TABLE_MAIN);
    put_nexthops(nlh, oifs, 2);
    mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
    msgs[2] = nlh;
    msgs[3] = error_msg(&m[3], -EPERM, false, "refused by the device");
    nlh = begin(&m[4], NLMSG_DONE, sizeof(int));
    msgs[4] = nlh;

    for (size_t i = 0; i < ELEMENTSOF(msgs); i++) {
        for (size_t len = 0; len <= msgs[i]->nlmsg_len; len++) {
            struct nlmsghdr *c = exact(msgs[i], len);
            struct nl_link l;
            struct dh_vf_config vc;
            unsigned n;
            struct nl_addr a;
            struct nl_route rt;
            int code;
            char text[64];
            int r1 = nl_parse_link(c, &l), r2 = nl_parse_vf(c, 1, &vc, &n), r3 = nl_parse_addr(c, &a),
                r4 = nl_parse_route(c, 5, &rt), r5 = nl_parse_error(c, &code, text, sizeof(text));
            int rs[] = {r1, r2, r3, r4, r5};
            for (size_t k = 0; k < ELEMENTSOF(rs); k++)
                if (rs[k] != 0 && rs[k] != -EBADMSG && rs[k] != -ENODATA && rs[k] != -ENOENT)
                    fail_msg("message %zu cut at %zu: parser %zu returned %d", i, len, k, rs[k]);
            free(c);
        }
    }
    /* and the whole VF message still parses */
    struct dh_vf_config vc;
    unsigned n;
    assert_int_equal(nl_parse_vf(msgs[0], 1, &vc, &n), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(error_reads_code_and_ext_ack_capped_or_echoed),
            DH_TEST(error_cuts_long_ext_ack_to_buffer),
            DH_TEST(error_rejects_malformed),
            DH_TEST(done_reads_status),
            DH_TEST(link_reads_index_name_master),
            DH_TEST(link_rejects_malformed),
            DH_TEST(vf_reads_every_field),
            DH_TEST(vf_unreported_spoofchk_and_trust_are_unknown),
            DH_TEST(vf_missing_list_or_vf),
            DH_TEST(vf_rejects_malformed),
            DH_TEST(addr_prefers_local_and_formats),
            DH_TEST(addr_link_local_and_host_scope_are_not_global),
            DH_TEST(addr_rejects_malformed),
            DH_TEST(route_oif_multipath_table),
            DH_TEST(route_flags_ipv6_link_local_destinations),
            DH_TEST(route_rejects_malformed),
            DH_TEST(every_truncation_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
