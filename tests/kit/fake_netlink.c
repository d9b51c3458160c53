/* The fake rtnetlink peer: see fake_netlink.h. Replies are laid out the way the kernel lays them out
 * (rtnl_fill_ifinfo(), rtnl_fill_vfinfo(), inet_fill_ifaddr(), fib_dump_info(), netlink_ack()),
 * including the attributes the production code does not read (IFLA_VF_STATS unless
 * RTEXT_FILTER_SKIP_STATS, IFLA_VF_VLAN_LIST, IFLA_VF_RATE, ...), so that skipping them is tested too.
 * The socket's end, the reply builder and the transport faults are fake_nlpeer.c's. */
#include "test.h"

#include "util/macro.h"

#include "fake_netlink.h"
#include "fake_nlpeer.h"

#include <arpa/inet.h>
#include <net/if_arp.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

/* room for a link with a full VF table, and the largest message it builds */
#define DGRAM_SIZE (256u * 1024u)
#define MSG_SIZE_MAX 8192u

struct fake_addr {
    int family;
    unsigned ifindex, prefixlen, scope;
    uint8_t addr[16];
};

struct stored_route {
    struct fake_route r;
    uint8_t dst[16];
};

struct failure {
    uint16_t type;
    unsigned skip;
    int error;
    char ext_ack[128];
    bool has_ext_ack;
};

struct fake_nl {
    struct fake_link **links;
    size_t n_links;
    struct fake_vf **vfs;
    size_t n_vfs;
    struct fake_addr *addrs;
    size_t n_addrs;
    struct stored_route *routes;
    size_t n_routes;

    struct fake_nlpeer *peer;

    struct failure *failures;
    size_t n_failures;
    uint8_t *raw;
    size_t raw_len;
    uint16_t raw_type;
    bool has_raw;
    bool stale;
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        fail_msg("fake_netlink: out of memory");
    return p;
}

static void *xrealloc(void *p, size_t n, size_t size)
{
    p = realloc(p, (n ? n : 1) * size);
    if (!p)
        fail_msg("fake_netlink: out of memory");
    return p;
}

static void answer(void *owner, struct fake_nlpeer_reply *rp);

struct fake_nl *fake_nl_new(void)
{
    struct fake_nl *f = xcalloc(1, sizeof(*f));
    f->peer = fake_nlpeer_new(&(struct fake_nlpeer_config){
            .name = "fake_netlink",
            .portid = FAKE_NL_PORTID,
            .dgram_size = DGRAM_SIZE,
            .msg_size_max = MSG_SIZE_MAX,
            .answer = answer,
            .owner = f,
    });
    return f;
}

void fake_nl_free(struct fake_nl *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_links; i++)
        free(f->links[i]);
    free(f->links);
    for (size_t i = 0; i < f->n_vfs; i++)
        free(f->vfs[i]);
    free(f->vfs);
    free(f->addrs);
    free(f->routes);
    fake_nlpeer_free(f->peer);
    free(f->failures);
    free(f->raw);
    free(f);
}

/* The model. */

static struct fake_link *find_link_index(struct fake_nl *f, unsigned ifindex)
{
    for (size_t i = 0; i < f->n_links; i++)
        if (f->links[i]->ifindex == ifindex)
            return f->links[i];
    return NULL;
}

static struct fake_link *find_link_name(struct fake_nl *f, const char *name)
{
    for (size_t i = 0; i < f->n_links; i++)
        if (strcmp(f->links[i]->name, name) == 0)
            return f->links[i];
    return NULL;
}

struct fake_link *fake_nl_add_link(struct fake_nl *f, const char *name, unsigned ifindex, unsigned master)
{
    if (!name || strlen(name) >= sizeof(((struct fake_link *)0)->name) || ifindex == 0 ||
        find_link_index(f, ifindex) || find_link_name(f, name))
        fail_msg("fake_nl_add_link: bad or duplicate link %s/%u", name ? name : "(null)", ifindex);
    struct fake_link *l = xcalloc(1, sizeof(*l));
    snprintf(l->name, sizeof(l->name), "%s", name);
    l->ifindex = ifindex;
    l->master = master;
    f->links = xrealloc(f->links, f->n_links + 1, sizeof(*f->links));
    f->links[f->n_links++] = l;
    return l;
}

void fake_nl_add_addr(struct fake_nl *f, unsigned ifindex, const char *addr, unsigned prefixlen,
                      unsigned scope)
{
    struct fake_addr a = {.ifindex = ifindex, .prefixlen = prefixlen, .scope = scope};
    if (inet_pton(AF_INET, addr, a.addr) == 1)
        a.family = AF_INET;
    else if (inet_pton(AF_INET6, addr, a.addr) == 1)
        a.family = AF_INET6;
    else
        fail_msg("fake_nl_add_addr: bad address %s", addr);
    f->addrs = xrealloc(f->addrs, f->n_addrs + 1, sizeof(*f->addrs));
    f->addrs[f->n_addrs++] = a;
}

void fake_nl_add_route(struct fake_nl *f, const struct fake_route *r)
{
    struct stored_route s = {.r = *r};
    if (r->dst && inet_pton(r->family, r->dst, s.dst) != 1)
        fail_msg("fake_nl_add_route: bad destination %s", r->dst);
    if (r->n_oifs > ELEMENTSOF(r->oifs))
        fail_msg("fake_nl_add_route: too many next hops");
    s.r.dst = NULL; /* the bytes are kept in s.dst */
    if (!r->dst)
        s.r.dst_len = 0;
    f->routes = xrealloc(f->routes, f->n_routes + 1, sizeof(*f->routes));
    f->routes[f->n_routes++] = s;
}

struct fake_vf *fake_nl_vf(struct fake_nl *f, unsigned pf_ifindex, unsigned vf)
{
    for (size_t i = 0; i < f->n_vfs; i++)
        if (f->vfs[i]->pf_ifindex == pf_ifindex && f->vfs[i]->vf == vf)
            return f->vfs[i];
    return NULL;
}

struct fake_vf *fake_nl_add_vf(struct fake_nl *f, unsigned pf_ifindex, unsigned vf)
{
    struct fake_link *pf = find_link_index(f, pf_ifindex);
    if (!pf || fake_nl_vf(f, pf_ifindex, vf))
        fail_msg("fake_nl_add_vf: no PF %u or duplicate VF %u", pf_ifindex, vf);
    pf->sriov = true;
    struct fake_vf *v = xcalloc(1, sizeof(*v));
    v->pf_ifindex = pf_ifindex;
    v->vf = vf;
    v->spoofchk = true;
    f->vfs = xrealloc(f->vfs, f->n_vfs + 1, sizeof(*f->vfs));
    f->vfs[f->n_vfs++] = v;
    return v;
}

/* Faults. */

void fake_nl_fail_next(struct fake_nl *f, uint16_t type, int error, const char *ext_ack)
{
    fake_nl_fail_nth(f, type, 0, error, ext_ack);
}

void fake_nl_fail_nth(struct fake_nl *f, uint16_t type, unsigned n, int error, const char *ext_ack)
{
    struct failure x = {.type = type, .skip = n, .error = error, .has_ext_ack = ext_ack != NULL};
    if (ext_ack)
        snprintf(x.ext_ack, sizeof(x.ext_ack), "%s", ext_ack);
    f->failures = xrealloc(f->failures, f->n_failures + 1, sizeof(*f->failures));
    f->failures[f->n_failures++] = x;
}

void fake_nl_reply_raw(struct fake_nl *f, uint16_t type, const void *buf, size_t len)
{
    if (len > DGRAM_SIZE)
        fail_msg("fake_nl_reply_raw: %zu bytes is too large", len);
    f->raw_type = type;
    free(f->raw);
    f->raw = xcalloc(1, len);
    memcpy(f->raw, buf, len);
    f->raw_len = len;
    f->has_raw = true;
}

void fake_nl_set_cap_ack(struct fake_nl *f, bool cap)
{
    fake_nlpeer_set_cap_ack(f->peer, cap);
}

void fake_nl_set_dump_batch(struct fake_nl *f, unsigned n)
{
    fake_nlpeer_set_dump_batch(f->peer, n);
}

void fake_nl_interrupt_dumps(struct fake_nl *f, unsigned n)
{
    fake_nlpeer_interrupt_dumps(f->peer, n);
}

void fake_nl_enobufs_after(struct fake_nl *f, unsigned n)
{
    fake_nlpeer_enobufs_after(f->peer, n);
}

void fake_nl_eintr(struct fake_nl *f, unsigned n_send, unsigned n_recv)
{
    fake_nlpeer_eintr(f->peer, n_send, n_recv);
}

void fake_nl_stale_next(struct fake_nl *f)
{
    f->stale = true;
}

/* Replies. */

static const struct nlattr *find_attr(const struct nlmsghdr *nlh, size_t hdrlen, uint16_t type)
{
    const struct nlattr *a;
    mnl_attr_for_each(a, nlh, hdrlen)
    {
        if (mnl_attr_get_type(a) == type)
            return a;
    }
    return NULL;
}

static void put_vf_info(struct nlmsghdr *nlh, const struct fake_vf *v, bool stats)
{
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
    struct ifla_vf_mac mac = {.vf = v->vf};
    memcpy(mac.mac, v->mac, sizeof(v->mac));
    mnl_attr_put(nlh, IFLA_VF_MAC, sizeof(mac), &mac);
    struct ifla_vf_broadcast bc;
    memset(bc.broadcast, 0xff, 6);
    memset(bc.broadcast + 6, 0, sizeof(bc.broadcast) - 6);
    mnl_attr_put(nlh, IFLA_VF_BROADCAST, sizeof(bc), &bc);
    struct ifla_vf_vlan vlan = {.vf = v->vf, .vlan = v->vlan, .qos = v->qos};
    mnl_attr_put(nlh, IFLA_VF_VLAN, sizeof(vlan), &vlan);
    struct ifla_vf_rate rate = {.vf = v->vf};
    mnl_attr_put(nlh, IFLA_VF_RATE, sizeof(rate), &rate);
    struct ifla_vf_tx_rate tx = {.vf = v->vf};
    mnl_attr_put(nlh, IFLA_VF_TX_RATE, sizeof(tx), &tx);
    struct ifla_vf_spoofchk sc = {.vf = v->vf,
                                  .setting = (v->unreported & FAKE_VF_SPOOFCHK) ? UINT32_MAX : v->spoofchk};
    mnl_attr_put(nlh, IFLA_VF_SPOOFCHK, sizeof(sc), &sc);
    struct ifla_vf_link_state ls = {.vf = v->vf, .link_state = v->link_state};
    mnl_attr_put(nlh, IFLA_VF_LINK_STATE, sizeof(ls), &ls);
    struct ifla_vf_rss_query_en rss = {.vf = v->vf, .setting = UINT32_MAX};
    mnl_attr_put(nlh, IFLA_VF_RSS_QUERY_EN, sizeof(rss), &rss);
    struct ifla_vf_trust tr = {.vf = v->vf,
                               .setting = (v->unreported & FAKE_VF_TRUST) ? UINT32_MAX : v->trust};
    mnl_attr_put(nlh, IFLA_VF_TRUST, sizeof(tr), &tr);
    struct nlattr *vl = mnl_attr_nest_start(nlh, IFLA_VF_VLAN_LIST);
    struct ifla_vf_vlan_info vi;
    memset(&vi, 0, sizeof(vi)); /* the padding too, as the kernel sends it */
    vi.vf = v->vf;
    vi.vlan = v->vlan;
    vi.qos = v->qos;
    vi.vlan_proto = htons(0x8100);
    mnl_attr_put(nlh, IFLA_VF_VLAN_INFO, sizeof(vi), &vi);
    mnl_attr_nest_end(nlh, vl);
    if (stats) {
        struct nlattr *st = mnl_attr_nest_start(nlh, IFLA_VF_STATS);
        mnl_attr_put_u64(nlh, IFLA_VF_STATS_RX_PACKETS, 10);
        mnl_attr_put_u64(nlh, IFLA_VF_STATS_TX_PACKETS, 20);
        mnl_attr_nest_end(nlh, st);
    }
    mnl_attr_nest_end(nlh, info);
}

static void put_link(struct fake_nl *f, struct fake_nlpeer_reply *rp, const struct fake_link *l,
                     uint32_t ext_mask)
{
    struct nlmsghdr *nlh = fake_nlpeer_msg_begin(rp, RTM_NEWLINK, 0);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_type = ARPHRD_ETHER;
    ifi->ifi_index = (int)l->ifindex;
    ifi->ifi_flags = 0x1043; /* IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST */
    mnl_attr_put_strz(nlh, IFLA_IFNAME, l->name);
    mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
    if (l->master)
        mnl_attr_put_u32(nlh, IFLA_MASTER, l->master);
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, (uint8_t)l->ifindex};
    mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
    if (!(ext_mask & RTEXT_FILTER_SKIP_STATS)) {
        struct rtnl_link_stats64 st = {.rx_packets = 1};
        mnl_attr_put(nlh, IFLA_STATS64, sizeof(st), &st);
    }
    if ((ext_mask & RTEXT_FILTER_VF) && l->sriov) {
        uint32_t n = 0;
        for (size_t i = 0; i < f->n_vfs; i++)
            n += f->vfs[i]->pf_ifindex == l->ifindex;
        mnl_attr_put_u32(nlh, IFLA_NUM_VF, n);
        struct nlattr *list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
        /* the kernel lists VFs 0..n-1 in order; the model may hold them in any order */
        for (unsigned vf = 0, seen = 0; seen < n && vf < 4096; vf++) {
            const struct fake_vf *v = fake_nl_vf(f, l->ifindex, vf);
            if (v) {
                put_vf_info(nlh, v, !(ext_mask & RTEXT_FILTER_SKIP_STATS));
                seen++;
            }
        }
        mnl_attr_nest_end(nlh, list);
    }
    fake_nlpeer_msg_end(rp, nlh);
}

static int handle_getlink(struct fake_nl *f, struct fake_nlpeer_reply *rp)
{
    const struct nlmsghdr *req = rp->req;
    if ((req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP)
        return -EOPNOTSUPP; /* nothing in dpuhost dumps links */
    if (req->nlmsg_len < NLMSG_HDRLEN + sizeof(struct ifinfomsg))
        return -EINVAL;
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(req);
    const struct nlattr *name = find_attr(req, sizeof(*ifi), IFLA_IFNAME);
    const struct nlattr *mask = find_attr(req, sizeof(*ifi), IFLA_EXT_MASK);
    struct fake_link *l = NULL;
    if (ifi->ifi_index > 0)
        l = find_link_index(f, (unsigned)ifi->ifi_index);
    else if (name)
        l = find_link_name(f, mnl_attr_get_str(name));
    else
        return -EINVAL;
    if (!l)
        return -ENODEV;
    put_link(f, rp, l, mask ? mnl_attr_get_u32(mask) : 0);
    return 0;
}

/* do_setvfinfo() for one IFLA_VF_INFO, in the kernel's order; a field's error stops the rest. */
static int apply_vf_info(struct fake_nl *f, const struct fake_link *pf, const struct nlattr *info)
{
    const struct nlattr *tb[IFLA_VF_MAX + 1] = {0};
    const struct nlattr *a;
    mnl_attr_for_each_nested(a, info)
    {
        if (mnl_attr_get_type(a) <= IFLA_VF_MAX)
            tb[mnl_attr_get_type(a)] = a;
    }
    static const struct {
        uint16_t type;
        unsigned bit;
        size_t size;
    } order[] = {
            {IFLA_VF_MAC, FAKE_VF_MAC, sizeof(struct ifla_vf_mac)},
            {IFLA_VF_VLAN, FAKE_VF_VLAN, sizeof(struct ifla_vf_vlan)},
            {IFLA_VF_SPOOFCHK, FAKE_VF_SPOOFCHK, sizeof(struct ifla_vf_spoofchk)},
            {IFLA_VF_LINK_STATE, FAKE_VF_LINK_STATE, sizeof(struct ifla_vf_link_state)},
            {IFLA_VF_TRUST, FAKE_VF_TRUST, sizeof(struct ifla_vf_trust)},
    };
    for (size_t i = 0; i < ELEMENTSOF(order); i++) {
        const struct nlattr *x = tb[order[i].type];
        if (!x)
            continue;
        if (mnl_attr_get_payload_len(x) < order[i].size)
            return -EINVAL; /* the kernel's policy check */
        const uint8_t *p = mnl_attr_get_payload(x);
        uint32_t vfn;
        memcpy(&vfn, p, sizeof(vfn));
        struct fake_vf *v = fake_nl_vf(f, pf->ifindex, vfn);
        if (!v)
            return -EINVAL; /* drivers check vf < num_vfs */
        if (v->refused & order[i].bit)
            return -EOPNOTSUPP;
        uint32_t w[3] = {0};
        size_t have = mnl_attr_get_payload_len(x);
        memcpy(w, p, have < sizeof(w) ? have : sizeof(w));
        switch (order[i].type) {
        case IFLA_VF_MAC:
            if (v->mac_busy) {
                v->mac_busy--;
                return -EBUSY;
            }
            if (!(v->ignored & FAKE_VF_MAC))
                memcpy(v->mac, p + sizeof(uint32_t), 6);
            break;
        case IFLA_VF_VLAN:
            if (w[1] > 4095 || w[2] > 7)
                return -EINVAL;
            if (v->vlan_clear_eperm && w[1] == 0 && w[2] == 0)
                return -EPERM;
            if (!(v->ignored & FAKE_VF_VLAN)) {
                v->vlan = w[1];
                v->qos = w[2];
            }
            break;
        case IFLA_VF_SPOOFCHK:
            if (!(v->ignored & FAKE_VF_SPOOFCHK))
                v->spoofchk = w[1] != 0;
            break;
        case IFLA_VF_LINK_STATE:
            if (w[1] > IFLA_VF_LINK_STATE_DISABLE)
                return -EINVAL;
            if (!(v->ignored & FAKE_VF_LINK_STATE))
                v->link_state = w[1];
            break;
        case IFLA_VF_TRUST:
            if (!(v->ignored & FAKE_VF_TRUST))
                v->trust = w[1] != 0;
            break;
        }
    }
    return 0;
}

static int handle_setlink(struct fake_nl *f, struct fake_nlpeer_reply *rp)
{
    const struct nlmsghdr *req = rp->req;
    if (req->nlmsg_len < NLMSG_HDRLEN + sizeof(struct ifinfomsg))
        return -EINVAL;
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(req);
    struct fake_link *l = ifi->ifi_index > 0 ? find_link_index(f, (unsigned)ifi->ifi_index) : NULL;
    if (!l)
        return -ENODEV;
    const struct nlattr *list = find_attr(req, sizeof(*ifi), IFLA_VFINFO_LIST);
    if (!list)
        return 0;
    if (!l->sriov)
        return -EOPNOTSUPP;
    const struct nlattr *info;
    mnl_attr_for_each_nested(info, list)
    {
        if (mnl_attr_get_type(info) != IFLA_VF_INFO)
            return -EINVAL;
        int r = apply_vf_info(f, l, info);
        if (r < 0)
            return r;
    }
    return 0;
}

static uint8_t request_family(const struct nlmsghdr *req)
{
    return req->nlmsg_len > NLMSG_HDRLEN ? *(const uint8_t *)mnl_nlmsg_get_payload(req) : AF_UNSPEC;
}

static int handle_getaddr(struct fake_nl *f, struct fake_nlpeer_reply *rp)
{
    uint8_t family = request_family(rp->req);
    for (size_t i = 0; i < f->n_addrs; i++) {
        const struct fake_addr *a = &f->addrs[i];
        if (family != AF_UNSPEC && family != a->family)
            continue;
        struct nlmsghdr *nlh = fake_nlpeer_dump_msg_begin(rp, RTM_NEWADDR, NLM_F_MULTI);
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = (uint8_t)a->family;
        ifa->ifa_prefixlen = (uint8_t)a->prefixlen;
        ifa->ifa_flags = IFA_F_PERMANENT;
        ifa->ifa_scope = (uint8_t)a->scope;
        ifa->ifa_index = a->ifindex;
        size_t len = a->family == AF_INET ? 4 : 16;
        mnl_attr_put(nlh, IFA_ADDRESS, len, a->addr);
        if (a->family == AF_INET) {
            /* IPv4 sends both; on point-to-point links IFA_ADDRESS is the peer */
            mnl_attr_put(nlh, IFA_LOCAL, len, a->addr);
            const struct fake_link *l = find_link_index(f, a->ifindex);
            mnl_attr_put_strz(nlh, IFA_LABEL, l ? l->name : "?");
        }
        mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_PERMANENT);
        struct ifa_cacheinfo ci = {.ifa_prefered = UINT32_MAX, .ifa_valid = UINT32_MAX};
        mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
        fake_nlpeer_msg_end(rp, nlh);
    }
    return 0;
}

static void put_multipath(struct nlmsghdr *nlh, const struct fake_route *r)
{
    struct nlattr *mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
    for (size_t i = 0; i < r->n_oifs; i++) {
        struct rtnexthop *nh = mnl_nlmsg_get_payload_tail(nlh);
        memset(nh, 0, sizeof(*nh));
        nh->rtnh_ifindex = (int)r->oifs[i];
        nlh->nlmsg_len += RTNH_ALIGN(sizeof(*nh));
        uint8_t gw[16] = {0};
        gw[0] = r->family == AF_INET ? 192 : 0xfe;
        gw[1] = r->family == AF_INET ? 0 : 0x80;
        gw[r->family == AF_INET ? 3 : 15] = (uint8_t)(i + 1);
        mnl_attr_put(nlh, RTA_GATEWAY, r->family == AF_INET ? 4 : 16, gw);
        nh->rtnh_len = (unsigned short)((uint8_t *)mnl_nlmsg_get_payload_tail(nlh) - (uint8_t *)nh);
    }
    mnl_attr_nest_end(nlh, mp);
}

static int handle_getroute(struct fake_nl *f, struct fake_nlpeer_reply *rp)
{
    uint8_t family = request_family(rp->req);
    for (size_t i = 0; i < f->n_routes; i++) {
        const struct fake_route *r = &f->routes[i].r;
        if (family != AF_UNSPEC && family != r->family)
            continue;
        uint32_t table = r->table ? r->table : RT_TABLE_MAIN;
        struct nlmsghdr *nlh = fake_nlpeer_dump_msg_begin(rp, RTM_NEWROUTE, NLM_F_MULTI);
        struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
        rtm->rtm_family = (uint8_t)r->family;
        rtm->rtm_dst_len = (uint8_t)r->dst_len;
        rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_COMPAT;
        rtm->rtm_protocol = RTPROT_STATIC;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = r->type ? r->type : RTN_UNICAST;
        mnl_attr_put_u32(nlh, RTA_TABLE, table);
        if (r->dst_len)
            mnl_attr_put(nlh, RTA_DST, r->family == AF_INET ? 4 : 16, f->routes[i].dst);
        mnl_attr_put_u32(nlh, RTA_PRIORITY, r->family == AF_INET6 ? 1024 : 0);
        if (r->n_oifs)
            put_multipath(nlh, r);
        else if (r->oif)
            mnl_attr_put_u32(nlh, RTA_OIF, r->oif);
        fake_nlpeer_msg_end(rp, nlh);
    }
    return 0;
}

/* Answering a request. */

static bool take_failure(struct fake_nl *f, uint16_t type, struct failure *ret)
{
    for (size_t i = 0; i < f->n_failures; i++)
        if (f->failures[i].type == type) {
            if (f->failures[i].skip > 0) {
                f->failures[i].skip--;
                return false;
            }
            *ret = f->failures[i];
            memmove(&f->failures[i], &f->failures[i + 1], (f->n_failures - i - 1) * sizeof(*f->failures));
            f->n_failures--;
            return true;
        }
    return false;
}

static void queue_stale(struct fake_nl *f, const struct nlmsghdr *req)
{
    struct nlmsghdr *old = xcalloc(1, req->nlmsg_len);
    memcpy(old, req, req->nlmsg_len);
    old->nlmsg_seq = req->nlmsg_seq - 1;
    struct fake_nlpeer_reply rp = fake_nlpeer_reply(f->peer, old);
    if (f->n_links)
        put_link(f, &rp, f->links[0], 0);
    fake_nlpeer_put_error(&rp, -EBUSY, "stale");
    /* the right sequence number but another port: not ours either */
    fake_nlpeer_end_dgram(&rp);
    struct nlmsghdr *nlh = fake_nlpeer_msg_begin(&rp, NLMSG_ERROR, NLM_F_CAPPED);
    nlh->nlmsg_seq = req->nlmsg_seq;
    nlh->nlmsg_pid = FAKE_NL_PORTID + 1;
    struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
    e->error = -EIO;
    e->msg = *req;
    fake_nlpeer_msg_end(&rp, nlh);
    free(old);
}

/* Patches sequence number and port of every well-formed header in a raw datagram. */
static void patch_raw(uint8_t *buf, size_t len, const struct nlmsghdr *req)
{
    size_t off = 0;
    while (len - off >= sizeof(struct nlmsghdr)) {
        struct nlmsghdr *nlh = (struct nlmsghdr *)(buf + off);
        nlh->nlmsg_seq = req->nlmsg_seq;
        nlh->nlmsg_pid = FAKE_NL_PORTID;
        if (nlh->nlmsg_len < sizeof(*nlh))
            break;
        size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
        if (step > len - off)
            break;
        off += step;
    }
}

static void answer(void *owner, struct fake_nlpeer_reply *rp)
{
    struct fake_nl *f = owner;
    const struct nlmsghdr *nlh = rp->req;
    bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;

    if (f->stale) {
        f->stale = false;
        queue_stale(f, nlh);
    }

    if (dump)
        fake_nlpeer_interrupt(rp);
    struct failure fl;
    int r = 0;
    if (f->has_raw && f->raw_type == nlh->nlmsg_type) {
        f->has_raw = false;
        patch_raw(fake_nlpeer_put_dgram(rp, f->raw, f->raw_len), f->raw_len, nlh);
    } else if (take_failure(f, nlh->nlmsg_type, &fl)) {
        fake_nlpeer_put_error(rp, fl.error, fl.has_ext_ack ? fl.ext_ack : NULL);
        return;
    } else {
        switch (nlh->nlmsg_type) {
        case RTM_GETLINK:
            r = handle_getlink(f, rp);
            break;
        case RTM_SETLINK:
            r = handle_setlink(f, rp);
            break;
        case RTM_GETADDR:
            r = dump ? handle_getaddr(f, rp) : -EOPNOTSUPP;
            break;
        case RTM_GETROUTE:
            r = dump ? handle_getroute(f, rp) : -EOPNOTSUPP;
            break;
        default:
            r = -EOPNOTSUPP;
        }
    }
    if (r < 0)
        fake_nlpeer_put_error(rp, r, NULL);
    else if (dump)
        fake_nlpeer_put_done(rp);
    else if (nlh->nlmsg_flags & NLM_F_ACK)
        fake_nlpeer_put_error(rp, 0, NULL);
}

struct dh_nl *fake_nl_connect(struct fake_nl *f)
{
    return fake_nlpeer_connect(f->peer);
}

/* What was sent. */

size_t fake_nl_n_requests(const struct fake_nl *f)
{
    return fake_nlpeer_n_requests(f->peer);
}

const struct nlmsghdr *fake_nl_request(const struct fake_nl *f, size_t i)
{
    return fake_nlpeer_request(f->peer, i);
}

size_t fake_nl_count(const struct fake_nl *f, uint16_t type)
{
    size_t n = 0;
    for (size_t i = 0; i < fake_nlpeer_n_requests(f->peer); i++)
        n += fake_nlpeer_request(f->peer, i)->nlmsg_type == type;
    return n;
}

const struct nlattr *fake_nl_setlink_vf_attr(const struct nlmsghdr *nlh, uint16_t type)
{
    if (nlh->nlmsg_type != RTM_SETLINK)
        return NULL;
    const struct nlattr *list = find_attr(nlh, sizeof(struct ifinfomsg), IFLA_VFINFO_LIST), *info, *a;
    if (!list)
        return NULL;
    mnl_attr_for_each_nested(info, list)
    {
        mnl_attr_for_each_nested(a, info)
        {
            if (mnl_attr_get_type(a) == type)
                return a;
        }
    }
    return NULL;
}

unsigned fake_nl_n_sleeps(const struct fake_nl *f)
{
    return fake_nlpeer_n_sleeps(f->peer);
}

unsigned fake_nl_slept_ms(const struct fake_nl *f)
{
    return fake_nlpeer_slept_ms(f->peer);
}
