/* The fake devlink peer: see fake_devlink.h. Replies are laid out the way Linux 6.1 lays them out:
 * ctrl_fill_info() for the family (name, id, version, header size, max attribute, operations,
 * multicast groups), devlink_nl_port_fill() and devlink_nl_port_attrs_put() for ports (handle,
 * index, type, netdev, splittable, flavour and its numbers, the function nest), netlink_ack() for
 * acknowledgements and errors. Every reply datagram is queued on send and handed out by recv, like
 * a socket's receive queue. */
#include "test.h"

#include "util/macro.h"
#include "util/parse.h"

#include "fake_devlink.h"

#include <ctype.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#define DGRAM_SIZE (64u * 1024u)

struct dgram {
    uint8_t *buf;
    size_t len;
};

struct fake_dl {
    struct fake_dl_port **ports;
    size_t n_ports;
    uint16_t family_id;
    bool no_family;

    struct dgram *queue;
    size_t n_queue, head;

    struct nlmsghdr **requests;
    size_t n_requests;

    bool fail_dump;
    int fail_error;
    char fail_ext_ack[128];
    bool has_fail_ext_ack;
    unsigned dump_batch;
    unsigned interrupt_dumps;
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

struct fake_dl *fake_dl_new(void)
{
    struct fake_dl *f = xcalloc(1, sizeof(*f));
    f->family_id = FAKE_DL_FAMILY_ID;
    f->dump_batch = 2;
    return f;
}

void fake_dl_free(struct fake_dl *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_ports; i++)
        free(f->ports[i]);
    free(f->ports);
    for (size_t i = 0; i < f->n_queue; i++)
        free(f->queue[i].buf);
    free(f->queue);
    for (size_t i = 0; i < f->n_requests; i++)
        free(f->requests[i]);
    free(f->requests);
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
    f->dump_batch = n ? n : 1;
}

void fake_dl_interrupt_dumps(struct fake_dl *f, unsigned n)
{
    f->interrupt_dumps = n;
}

void fake_dl_reply_raw(struct fake_dl *f, const void *buf, size_t len)
{
    free(f->raw);
    f->raw = xcalloc(1, len);
    memcpy(f->raw, buf, len);
    f->raw_len = len;
}

/* Reply building: a reply is a list of datagrams, each a run of messages. */

struct reply {
    struct fake_dl *f;
    const struct nlmsghdr *req;
    struct dgram *cur;
    unsigned in_cur;
    uint16_t extra_flags;
};

static struct dgram *new_dgram(struct fake_dl *f)
{
    f->queue = xrealloc(f->queue, f->n_queue + 1, sizeof(*f->queue));
    struct dgram *d = &f->queue[f->n_queue++];
    *d = (struct dgram){.buf = xcalloc(1, DGRAM_SIZE)};
    return d;
}

static struct nlmsghdr *msg_begin(struct reply *rp, uint16_t type, uint16_t flags, unsigned batch)
{
    if (!rp->cur || (batch && rp->in_cur >= batch)) {
        rp->cur = new_dgram(rp->f);
        rp->in_cur = 0;
    }
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(rp->cur->buf + rp->cur->len);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags | rp->extra_flags;
    nlh->nlmsg_seq = rp->req->nlmsg_seq;
    nlh->nlmsg_pid = FAKE_DL_PORTID;
    return nlh;
}

static void msg_end(struct reply *rp, struct nlmsghdr *nlh)
{
    rp->cur->len += NLMSG_ALIGN(nlh->nlmsg_len);
    rp->in_cur++;
    if (rp->cur->len > DGRAM_SIZE - 4096)
        fail_msg("fake_devlink: reply too large");
    rp->cur = &rp->f->queue[rp->f->n_queue - 1];
}

/* NLMSG_ERROR as netlink_ack() builds it on a socket without NETLINK_CAP_ACK for errors (the request
 * echoed), capped for acknowledgements. */
static void put_error(struct reply *rp, int error, const char *ext_ack)
{
    const struct nlmsghdr *req = rp->req;
    bool capped = error == 0;
    uint16_t flags = (capped ? NLM_F_CAPPED : 0) | (ext_ack ? NLM_F_ACK_TLVS : 0);
    rp->cur = NULL;
    struct nlmsghdr *nlh = msg_begin(rp, NLMSG_ERROR, flags, 0);
    nlh->nlmsg_flags &= (uint16_t)~NLM_F_DUMP_INTR;
    size_t echo = capped ? 0 : req->nlmsg_len - NLMSG_HDRLEN;
    struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e) + echo);
    e->error = error;
    memcpy(&e->msg, req, capped ? sizeof(*req) : req->nlmsg_len);
    if (ext_ack)
        mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, ext_ack);
    msg_end(rp, nlh);
}

static void put_done(struct reply *rp)
{
    rp->cur = NULL;
    struct nlmsghdr *nlh = msg_begin(rp, NLMSG_DONE, NLM_F_MULTI, 0);
    int *status = mnl_nlmsg_put_extra_header(nlh, sizeof(int));
    *status = 0;
    msg_end(rp, nlh);
}

static struct genlmsghdr *put_genl(struct nlmsghdr *nlh, uint8_t cmd, uint8_t version)
{
    struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
    g->cmd = cmd;
    g->version = version;
    return g;
}

/* ctrl_fill_info(): what nlctrl says about the devlink family. */
static void put_family(struct reply *rp)
{
    struct fake_dl *f = rp->f;
    struct nlmsghdr *nlh = msg_begin(rp, GENL_ID_CTRL, 0, 0);
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
    msg_end(rp, nlh);
}

static void put_port(struct reply *rp, const struct fake_dl_port *p)
{
    struct nlmsghdr *nlh = msg_begin(rp, rp->f->family_id, NLM_F_MULTI, rp->f->dump_batch);
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
    msg_end(rp, nlh);
}

/* The recording, batched into datagrams, with sequence number and port id of the request. */
static void put_raw(struct reply *rp)
{
    struct fake_dl *f = rp->f;
    int len = (int)f->raw_len;
    bool done = false;
    for (const struct nlmsghdr *m = (const void *)f->raw; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
        if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_ERROR) {
            rp->cur = NULL; /* the terminator comes in a datagram of its own, as from the kernel */
            done = true;
        }
        struct nlmsghdr *nlh = msg_begin(rp, m->nlmsg_type, m->nlmsg_flags, f->dump_batch);
        memcpy(nlh, m, m->nlmsg_len);
        nlh->nlmsg_seq = rp->req->nlmsg_seq;
        nlh->nlmsg_pid = FAKE_DL_PORTID;
        msg_end(rp, nlh);
    }
    if (len != 0)
        fail_msg("fake_dl_reply_raw: the recording ends in a truncated message");
    if (!done)
        put_done(rp);
}

static void record(struct fake_dl *f, const struct nlmsghdr *nlh)
{
    struct nlmsghdr *copy = xcalloc(1, nlh->nlmsg_len);
    memcpy(copy, nlh, nlh->nlmsg_len);
    f->requests = xrealloc(f->requests, f->n_requests + 1, sizeof(*f->requests));
    f->requests[f->n_requests++] = copy;
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

static int fake_send(void *userdata, const struct nlmsghdr *nlh)
{
    struct fake_dl *f = userdata;
    if (nlh->nlmsg_len < NLMSG_HDRLEN || !(nlh->nlmsg_flags & NLM_F_REQUEST))
        fail_msg("fake_devlink: malformed request");
    record(f, nlh);
    bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    struct reply rp = {.f = f, .req = nlh};

    if (nlh->nlmsg_type == GENL_ID_CTRL) {
        char name[GENL_NAMSIZ + 1];
        requested_family(nlh, name, sizeof(name));
        if (dump || genl_cmd(nlh) != CTRL_CMD_GETFAMILY)
            put_error(&rp, -EOPNOTSUPP, NULL);
        else if (f->no_family || !streq(name, DEVLINK_GENL_NAME))
            put_error(&rp, -ENOENT, NULL); /* ctrl_getfamily() without the family */
        else {
            put_family(&rp);
            if (nlh->nlmsg_flags & NLM_F_ACK)
                put_error(&rp, 0, NULL);
        }
        return 0;
    }
    if (nlh->nlmsg_type != f->family_id) {
        put_error(&rp, -EOPNOTSUPP, NULL); /* no family has that id */
        return 0;
    }
    if (genl_cmd(nlh) != DEVLINK_CMD_PORT_GET || !dump) {
        put_error(&rp, -EOPNOTSUPP, "the fake answers port dumps only");
        return 0;
    }
    if (f->fail_dump) {
        f->fail_dump = false;
        put_error(&rp, f->fail_error, f->has_fail_ext_ack ? f->fail_ext_ack : NULL);
        return 0;
    }
    if (f->interrupt_dumps) {
        f->interrupt_dumps--;
        rp.extra_flags = NLM_F_DUMP_INTR;
    }
    if (f->raw) {
        put_raw(&rp);
        free(f->raw);
        f->raw = NULL;
        return 0;
    }
    for (size_t i = 0; i < f->n_ports; i++)
        put_port(&rp, f->ports[i]);
    put_done(&rp);
    return 0;
}

static ssize_t fake_recv(void *userdata, const void **ret)
{
    struct fake_dl *f = userdata;
    if (f->head >= f->n_queue)
        return -ETIMEDOUT; /* a real socket would block: the code under test waits for a reply never sent */
    struct dgram *d = &f->queue[f->head++];
    *ret = d->buf;
    return (ssize_t)d->len;
}

static void fake_sleep(void *userdata, unsigned ms)
{
    (void)userdata;
    (void)ms;
}

static const struct dh_nl_transport fake_transport = {
        .send = fake_send,
        .recv = fake_recv,
        .sleep_ms = fake_sleep,
};

struct dh_nl *fake_dl_connect(struct fake_dl *f)
{
    struct dh_nl *nl = dh_nl_new(&fake_transport, f, FAKE_DL_PORTID);
    if (!nl)
        fail_msg("fake_dl_connect: out of memory");
    return nl;
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
    return f->n_requests;
}

const struct nlmsghdr *fake_dl_request(const struct fake_dl *f, size_t i)
{
    if (i >= f->n_requests)
        fail_msg("fake_dl_request: only %zu requests", f->n_requests);
    return f->requests[i];
}

size_t fake_dl_n_getfamily(const struct fake_dl *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_requests; i++)
        n += f->requests[i]->nlmsg_type == GENL_ID_CTRL && genl_cmd(f->requests[i]) == CTRL_CMD_GETFAMILY;
    return n;
}

size_t fake_dl_count(const struct fake_dl *f, uint8_t cmd)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_requests; i++)
        n += f->requests[i]->nlmsg_type == f->family_id && genl_cmd(f->requests[i]) == cmd;
    return n;
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
