/* The fake devlink peer: see fake_devlink.h. Replies are laid out the way Linux 6.1 lays them out:
 * ctrl_fill_info() for the family (name, id, version, header size, max attribute, operations,
 * multicast groups), devlink_nl_port_fill() and devlink_nl_port_attrs_put() for ports (handle,
 * index, type, netdev, splittable, flavour and its numbers, the function nest). The socket's end,
 * acknowledgements and errors (netlink_ack()) and the datagram queue are fake_nlpeer.c's. */
#include "test.h"

#include "util/macro.h"
#include "util/parse.h"

#include "fake_devlink.h"
#include "fake_nlpeer.h"

#include <ctype.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

/* room for a dump batch of ports, and the largest message it builds */
#define DGRAM_SIZE (64u * 1024u)
#define MSG_SIZE_MAX 4096u

struct fake_dl {
    struct fake_dl_port **ports;
    size_t n_ports;
    uint16_t family_id;
    bool no_family;

    struct fake_nlpeer *peer;

    bool fail_dump;
    int fail_error;
    char fail_ext_ack[128];
    bool has_fail_ext_ack;
    uint8_t *raw;
    size_t raw_len;
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        fail_msg("fake_devlink: out of memory");
    return p;
}

static void *xrealloc(void *p, size_t n, size_t size)
{
    p = realloc(p, (n ? n : 1) * size);
    if (!p)
        fail_msg("fake_devlink: out of memory");
    return p;
}

static void answer(void *owner, struct fake_nlpeer_reply *rp);

struct fake_dl *fake_dl_new(void)
{
    struct fake_dl *f = xcalloc(1, sizeof(*f));
    f->family_id = FAKE_DL_FAMILY_ID;
    f->peer = fake_nlpeer_new(&(struct fake_nlpeer_config){
            .name = "fake_devlink",
            .portid = FAKE_DL_PORTID,
            .dgram_size = DGRAM_SIZE,
            .msg_size_max = MSG_SIZE_MAX,
            .answer = answer,
            .owner = f,
    });
    return f;
}

void fake_dl_free(struct fake_dl *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_ports; i++)
        free(f->ports[i]);
    free(f->ports);
    fake_nlpeer_free(f->peer);
    free(f->raw);
    free(f);
}

/* The model. */

static struct fake_dl_port *add_port(struct fake_dl *f, const char *handle, uint32_t index, uint16_t flavour,
                                     const char *netdev, uint32_t ifindex)
{
    const char *slash = handle ? strchr(handle, '/') : NULL;
    if (!slash || slash == handle || !slash[1] ||
        (size_t)(slash - handle) >= sizeof(((struct fake_dl_port *)0)->bus) ||
        strlen(slash + 1) >= sizeof(((struct fake_dl_port *)0)->dev) ||
        (netdev && strlen(netdev) >= sizeof(((struct fake_dl_port *)0)->netdev)))
        fail_msg("fake_dl: bad port %s/%u", handle ? handle : "(null)", index);
    for (size_t i = 0; i < f->n_ports; i++)
        if (f->ports[i]->index == index && strncmp(f->ports[i]->bus, handle, (size_t)(slash - handle)) == 0 &&
            streq(f->ports[i]->dev, slash + 1))
            fail_msg("fake_dl: duplicate port %s/%u", handle, index);
    struct fake_dl_port *p = xcalloc(1, sizeof(*p));
    snprintf(p->bus, sizeof(p->bus), "%.*s", (int)(slash - handle), handle);
    snprintf(p->dev, sizeof(p->dev), "%s", slash + 1);
    p->index = index;
    p->flavour = flavour;
    p->type = DEVLINK_PORT_TYPE_ETH;
    snprintf(p->netdev, sizeof(p->netdev), "%s", netdev ? netdev : "");
    p->ifindex = netdev && *netdev ? ifindex : 0;
    p->state = p->opstate = -1;
    f->ports = xrealloc(f->ports, f->n_ports + 1, sizeof(*f->ports));
    f->ports[f->n_ports++] = p;
    return p;
}

struct fake_dl_port *fake_dl_add_physical(struct fake_dl *f, const char *handle, uint32_t index,
                                          uint32_t port_number, const char *netdev, uint32_t ifindex)
{
    struct fake_dl_port *p = add_port(f, handle, index, DEVLINK_PORT_FLAVOUR_PHYSICAL, netdev, ifindex);
    p->port_number = port_number;
    return p;
}

struct fake_dl_port *fake_dl_add_pf(struct fake_dl *f, const char *handle, uint32_t index,
                                    uint32_t controller, bool external, uint16_t pfnum, const char *netdev,
                                    uint32_t ifindex, const char *hw_addr)
{
    struct fake_dl_port *p = add_port(f, handle, index, DEVLINK_PORT_FLAVOUR_PCI_PF, netdev, ifindex);
    p->controller = controller;
    p->external = external;
    p->pfnum = pfnum;
    if (hw_addr) {
        if (dh_parse_mac(hw_addr, p->hw_addr) < 0)
            fail_msg("fake_dl_add_pf: bad hw_addr %s", hw_addr);
        p->hw_addr_len = 6;
        p->has_function = true;
    }
    return p;
}

struct fake_dl_port *fake_dl_add_vf(struct fake_dl *f, const char *handle, uint32_t index,
                                    uint32_t controller, bool external, uint16_t pfnum, uint16_t vfnum,
                                    const char *netdev, uint32_t ifindex)
{
    struct fake_dl_port *p = add_port(f, handle, index, DEVLINK_PORT_FLAVOUR_PCI_VF, netdev, ifindex);
    p->controller = controller;
    p->external = external;
    p->pfnum = pfnum;
    p->vfnum = vfnum;
    return p;
}

struct fake_dl_port *fake_dl_add_sf(struct fake_dl *f, const char *handle, uint32_t index,
                                    uint32_t controller, bool external, uint16_t pfnum, uint32_t sfnum,
                                    const char *netdev, uint32_t ifindex, int state, int opstate)
{
    struct fake_dl_port *p = add_port(f, handle, index, DEVLINK_PORT_FLAVOUR_PCI_SF, netdev, ifindex);
    p->controller = controller;
    p->external = external;
    p->pfnum = pfnum;
    p->sfnum = sfnum;
    p->has_function = true;
    p->state = state;
    p->opstate = opstate;
    return p;
}

/* Faults. */

void fake_dl_set_family_id(struct fake_dl *f, uint16_t id)
{
    if (id < GENL_MIN_ID)
        fail_msg("fake_dl_set_family_id: %u is below GENL_MIN_ID", id);
    f->family_id = id;
}

void fake_dl_no_family(struct fake_dl *f)
{
    f->no_family = true;
}

void fake_dl_fail_next_dump(struct fake_dl *f, int error, const char *ext_ack)
{
    f->fail_dump = true;
    f->fail_error = error;
    f->has_fail_ext_ack = ext_ack != NULL;
    snprintf(f->fail_ext_ack, sizeof(f->fail_ext_ack), "%s", ext_ack ? ext_ack : "");
}

void fake_dl_set_dump_batch(struct fake_dl *f, unsigned n)
{
    fake_nlpeer_set_dump_batch(f->peer, n);
}

void fake_dl_interrupt_dumps(struct fake_dl *f, unsigned n)
{
    fake_nlpeer_interrupt_dumps(f->peer, n);
}

void fake_dl_reply_raw(struct fake_dl *f, const void *buf, size_t len)
{
    free(f->raw);
    f->raw = xcalloc(1, len);
    memcpy(f->raw, buf, len);
    f->raw_len = len;
}

/* Replies. */

static struct genlmsghdr *put_genl(struct nlmsghdr *nlh, uint8_t cmd, uint8_t version)
{
    struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
    g->cmd = cmd;
    g->version = version;
    return g;
}

/* ctrl_fill_info(): what nlctrl says about the devlink family. */
static void put_family(struct fake_dl *f, struct fake_nlpeer_reply *rp)
{
    struct nlmsghdr *nlh = fake_nlpeer_msg_begin(rp, GENL_ID_CTRL, 0);
    put_genl(nlh, CTRL_CMD_NEWFAMILY, 2);
    mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, DEVLINK_GENL_NAME);
    mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, f->family_id);
    mnl_attr_put_u32(nlh, CTRL_ATTR_VERSION, DEVLINK_GENL_VERSION);
    mnl_attr_put_u32(nlh, CTRL_ATTR_HDRSIZE, 0);
    mnl_attr_put_u32(nlh, CTRL_ATTR_MAXATTR, DEVLINK_ATTR_MAX);
    struct nlattr *ops = mnl_attr_nest_start(nlh, CTRL_ATTR_OPS);
    static const uint8_t cmds[] = {DEVLINK_CMD_GET, DEVLINK_CMD_PORT_GET, DEVLINK_CMD_PORT_SET};
    for (size_t i = 0; i < ELEMENTSOF(cmds); i++) {
        struct nlattr *op = mnl_attr_nest_start(nlh, (uint16_t)(i + 1));
        mnl_attr_put_u32(nlh, CTRL_ATTR_OP_ID, cmds[i]);
        mnl_attr_put_u32(nlh, CTRL_ATTR_OP_FLAGS, GENL_CMD_CAP_DO | GENL_CMD_CAP_HASPOL);
        mnl_attr_nest_end(nlh, op);
    }
    mnl_attr_nest_end(nlh, ops);
    struct nlattr *groups = mnl_attr_nest_start(nlh, CTRL_ATTR_MCAST_GROUPS);
    struct nlattr *grp = mnl_attr_nest_start(nlh, 1);
    mnl_attr_put_strz(nlh, CTRL_ATTR_MCAST_GRP_NAME, DEVLINK_GENL_MCGRP_CONFIG_NAME);
    mnl_attr_put_u32(nlh, CTRL_ATTR_MCAST_GRP_ID, 7);
    mnl_attr_nest_end(nlh, grp);
    mnl_attr_nest_end(nlh, groups);
    fake_nlpeer_msg_end(rp, nlh);
}

static void put_port(struct fake_dl *f, struct fake_nlpeer_reply *rp, const struct fake_dl_port *p)
{
    struct nlmsghdr *nlh = fake_nlpeer_dump_msg_begin(rp, f->family_id, NLM_F_MULTI);
    /* the kernel's port dumpit fills its messages with DEVLINK_CMD_NEW (see the lab recording) */
    put_genl(nlh, DEVLINK_CMD_NEW, DEVLINK_GENL_VERSION);
    mnl_attr_put_strz(nlh, DEVLINK_ATTR_BUS_NAME, p->bus);
    mnl_attr_put_strz(nlh, DEVLINK_ATTR_DEV_NAME, p->dev);
    mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_INDEX, p->index);
    mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_TYPE, p->type);
    if (p->type == DEVLINK_PORT_TYPE_ETH && p->netdev[0]) {
        mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_NETDEV_IFINDEX, p->ifindex);
        mnl_attr_put_strz(nlh, DEVLINK_ATTR_PORT_NETDEV_NAME, p->netdev);
    }
    mnl_attr_put_u8(nlh, DEVLINK_ATTR_PORT_SPLITTABLE, 0);
    mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_FLAVOUR, p->flavour);
    switch (p->flavour) {
    case DEVLINK_PORT_FLAVOUR_PCI_PF:
        mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_CONTROLLER_NUMBER, p->controller);
        mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_PCI_PF_NUMBER, p->pfnum);
        mnl_attr_put_u8(nlh, DEVLINK_ATTR_PORT_EXTERNAL, p->external);
        break;
    case DEVLINK_PORT_FLAVOUR_PCI_VF:
        mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_CONTROLLER_NUMBER, p->controller);
        mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_PCI_PF_NUMBER, p->pfnum);
        mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_PCI_VF_NUMBER, p->vfnum);
        mnl_attr_put_u8(nlh, DEVLINK_ATTR_PORT_EXTERNAL, p->external);
        break;
    case DEVLINK_PORT_FLAVOUR_PCI_SF:
        mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_CONTROLLER_NUMBER, p->controller);
        mnl_attr_put_u16(nlh, DEVLINK_ATTR_PORT_PCI_PF_NUMBER, p->pfnum);
        mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_PCI_SF_NUMBER, p->sfnum);
        mnl_attr_put_u8(nlh, DEVLINK_ATTR_PORT_EXTERNAL, p->external);
        break;
    case DEVLINK_PORT_FLAVOUR_PHYSICAL:
    case DEVLINK_PORT_FLAVOUR_CPU:
    case DEVLINK_PORT_FLAVOUR_DSA:
        mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_NUMBER, p->port_number);
        break;
    default:
        break;
    }
    if (p->has_function) {
        struct nlattr *fn = mnl_attr_nest_start(nlh, DEVLINK_ATTR_PORT_FUNCTION);
        if (p->hw_addr_len)
            mnl_attr_put(nlh, DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR, p->hw_addr_len, p->hw_addr);
        if (p->state >= 0)
            mnl_attr_put_u8(nlh, DEVLINK_PORT_FN_ATTR_STATE, (uint8_t)p->state);
        if (p->opstate >= 0)
            mnl_attr_put_u8(nlh, DEVLINK_PORT_FN_ATTR_OPSTATE, (uint8_t)p->opstate);
        mnl_attr_nest_end(nlh, fn);
    }
    fake_nlpeer_msg_end(rp, nlh);
}

/* The recording, batched into datagrams, with sequence number and port id of the request. */
static void put_raw(struct fake_dl *f, struct fake_nlpeer_reply *rp)
{
    int len = (int)f->raw_len;
    bool done = false;
    for (const struct nlmsghdr *m = (const void *)f->raw; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
        if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_ERROR) {
            fake_nlpeer_end_dgram(rp); /* the terminator comes in a datagram of its own, as from the kernel */
            done = true;
        }
        struct nlmsghdr *nlh = fake_nlpeer_dump_msg_begin(rp, m->nlmsg_type, m->nlmsg_flags);
        memcpy(nlh, m, m->nlmsg_len);
        nlh->nlmsg_seq = rp->req->nlmsg_seq;
        nlh->nlmsg_pid = FAKE_DL_PORTID;
        fake_nlpeer_msg_end(rp, nlh);
    }
    if (len != 0)
        fail_msg("fake_dl_reply_raw: the recording ends in a truncated message");
    if (!done)
        fake_nlpeer_put_done(rp);
}

static uint8_t genl_cmd(const struct nlmsghdr *nlh)
{
    if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
        return 0;
    return ((const struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->cmd;
}

/* The family the request asks for (CTRL_ATTR_FAMILY_NAME), or "". */
static void requested_family(const struct nlmsghdr *nlh, char *buf, size_t size)
{
    buf[0] = '\0';
    const struct nlattr *a;
    mnl_attr_for_each(a, nlh, GENL_HDRLEN)
    {
        if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_NAME)
            snprintf(buf, size, "%.*s", (int)mnl_attr_get_payload_len(a), mnl_attr_get_str(a));
    }
}

static void answer(void *owner, struct fake_nlpeer_reply *rp)
{
    struct fake_dl *f = owner;
    const struct nlmsghdr *nlh = rp->req;
    bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;

    if (nlh->nlmsg_type == GENL_ID_CTRL) {
        char name[GENL_NAMSIZ + 1];
        requested_family(nlh, name, sizeof(name));
        if (dump || genl_cmd(nlh) != CTRL_CMD_GETFAMILY)
            fake_nlpeer_put_error(rp, -EOPNOTSUPP, NULL);
        else if (f->no_family || !streq(name, DEVLINK_GENL_NAME))
            fake_nlpeer_put_error(rp, -ENOENT, NULL); /* ctrl_getfamily() without the family */
        else {
            put_family(f, rp);
            if (nlh->nlmsg_flags & NLM_F_ACK)
                fake_nlpeer_put_error(rp, 0, NULL);
        }
        return;
    }
    if (nlh->nlmsg_type != f->family_id) {
        fake_nlpeer_put_error(rp, -EOPNOTSUPP, NULL); /* no family has that id */
        return;
    }
    if (genl_cmd(nlh) != DEVLINK_CMD_PORT_GET || !dump) {
        fake_nlpeer_put_error(rp, -EOPNOTSUPP, "the fake answers port dumps only");
        return;
    }
    if (f->fail_dump) {
        f->fail_dump = false;
        fake_nlpeer_put_error(rp, f->fail_error, f->has_fail_ext_ack ? f->fail_ext_ack : NULL);
        return;
    }
    fake_nlpeer_interrupt(rp);
    if (f->raw) {
        put_raw(f, rp);
        free(f->raw);
        f->raw = NULL;
        return;
    }
    for (size_t i = 0; i < f->n_ports; i++)
        put_port(f, rp, f->ports[i]);
    fake_nlpeer_put_done(rp);
}

struct dh_nl *fake_dl_connect(struct fake_dl *f)
{
    return fake_nlpeer_connect(f->peer);
}

struct dh_devlink *fake_dl_devlink(struct fake_dl *f)
{
    struct dh_devlink *dl = NULL;
    struct dh_error err = {0};
    if (dh_devlink_new(fake_dl_connect(f), &dl, &err) < 0)
        fail_msg("fake_dl_devlink: %s", err.message);
    return dl;
}

/* What was sent. */

size_t fake_dl_n_requests(const struct fake_dl *f)
{
    return fake_nlpeer_n_requests(f->peer);
}

const struct nlmsghdr *fake_dl_request(const struct fake_dl *f, size_t i)
{
    return fake_nlpeer_request(f->peer, i);
}

/* How many requests of this message type and genl command were sent. */
static size_t count(const struct fake_dl *f, uint16_t type, uint8_t cmd)
{
    size_t n = 0;
    for (size_t i = 0; i < fake_nlpeer_n_requests(f->peer); i++) {
        const struct nlmsghdr *nlh = fake_nlpeer_request(f->peer, i);
        n += nlh->nlmsg_type == type && genl_cmd(nlh) == cmd;
    }
    return n;
}

size_t fake_dl_n_getfamily(const struct fake_dl *f)
{
    return count(f, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
}

size_t fake_dl_count(const struct fake_dl *f, uint8_t cmd)
{
    return count(f, f->family_id, cmd);
}

/* Recordings. */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

uint8_t *fake_dl_load_hex(const char *path, size_t *ret_len)
{
    FILE *in = fopen(path, "re");
    if (!in)
        fail_msg("fake_dl_load_hex: cannot open %s: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, lineno = 0;
    char *line = NULL;
    size_t line_cap = 0;
    while (getline(&line, &line_cap, in) >= 0) {
        lineno++;
        const char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '#')
            continue;
        size_t start = len;
        for (; *s; s++) {
            if (isspace((unsigned char)*s))
                continue;
            int hi = hexval((unsigned char)s[0]), lo = s[1] ? hexval((unsigned char)s[1]) : -1;
            if (hi < 0 || lo < 0)
                fail_msg("fake_dl_load_hex: %s:%zu: not hex at '%.8s'", path, lineno, s);
            if (len == cap) {
                cap = cap ? cap * 2 : 4096;
                buf = xrealloc(buf, cap, 1);
            }
            buf[len++] = (uint8_t)(hi << 4 | lo);
            s++;
        }
        /* one message per line: its length says where it ends */
        if (len - start < NLMSG_HDRLEN || ((const struct nlmsghdr *)(buf + start))->nlmsg_len != len - start)
            fail_msg("fake_dl_load_hex: %s:%zu: the line is not one whole netlink message", path, lineno);
        /* messages follow each other at NLMSG_ALIGNTO in a datagram */
        while (len % NLMSG_ALIGNTO) {
            if (len == cap)
                buf = xrealloc(buf, cap += 4, 1);
            buf[len++] = 0;
        }
    }
    free(line);
    fclose(in);
    if (!len)
        fail_msg("fake_dl_load_hex: %s holds no message", path);
    *ret_len = len;
    return buf;
}
