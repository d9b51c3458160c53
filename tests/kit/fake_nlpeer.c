/* The kernel's end of a netlink socket for the fake peers: see fake_nlpeer.h. Every reply datagram
 * is queued on send and handed out by recv, like a socket's receive queue; a datagram lives until
 * the peer is freed, so that what recv handed out stays valid. */
#include "test.h"

#include "fake_nlpeer.h"

#include <libmnl/libmnl.h>

struct dgram {
    uint8_t *buf; /* NULL for an error entry */
    size_t len;
    int error; /* what recv reports instead of a datagram (-ENOBUFS) */
};

struct fake_nlpeer {
    struct fake_nlpeer_config c;

    struct dgram *queue;
    size_t n_queue, head;

    struct nlmsghdr **requests;
    size_t n_requests;

    bool cap_ack;
    unsigned dump_batch;
    unsigned interrupt_dumps;
    bool enobufs;
    unsigned enobufs_after;
    unsigned eintr_send, eintr_recv;
    unsigned n_sleeps, slept_ms;
};

static void *xcalloc(const struct fake_nlpeer *p, size_t n, size_t size)
{
    void *m = calloc(n ? n : 1, size);
    if (!m)
        fail_msg("%s: out of memory", p->c.name);
    return m;
}

static void *xrealloc(const struct fake_nlpeer *p, void *m, size_t n, size_t size)
{
    m = realloc(m, (n ? n : 1) * size);
    if (!m)
        fail_msg("%s: out of memory", p->c.name);
    return m;
}

struct fake_nlpeer *fake_nlpeer_new(const struct fake_nlpeer_config *config)
{
    if (!config->name || !config->answer || config->msg_size_max >= config->dgram_size)
        fail_msg("fake_nlpeer_new: needs a name, an answer and room for a message");
    struct fake_nlpeer *p = calloc(1, sizeof(*p));
    if (!p)
        fail_msg("%s: out of memory", config->name);
    p->c = *config;
    p->dump_batch = 2;
    return p;
}

void fake_nlpeer_free(struct fake_nlpeer *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_queue; i++)
        free(p->queue[i].buf);
    free(p->queue);
    for (size_t i = 0; i < p->n_requests; i++)
        free(p->requests[i]);
    free(p->requests);
    free(p);
}

/* Building a reply. */

static struct dgram *new_dgram(struct fake_nlpeer *p)
{
    p->queue = xrealloc(p, p->queue, p->n_queue + 1, sizeof(*p->queue));
    struct dgram *d = &p->queue[p->n_queue++];
    *d = (struct dgram){.buf = xcalloc(p, 1, p->c.dgram_size)};
    return d;
}

struct fake_nlpeer_reply fake_nlpeer_reply(struct fake_nlpeer *p, const struct nlmsghdr *req)
{
    return (struct fake_nlpeer_reply){.peer = p, .req = req};
}

/* batch: messages per datagram, 0 for no limit */
static struct nlmsghdr *msg_begin(struct fake_nlpeer_reply *rp, uint16_t type, uint16_t flags, unsigned batch)
{
    struct fake_nlpeer *p = rp->peer;
    if (!rp->filling || (batch && rp->in_dgram >= batch)) {
        new_dgram(p);
        rp->filling = true;
        rp->in_dgram = 0;
    }
    /* the queue's array moves as it grows, its buffers do not */
    struct dgram *d = &p->queue[p->n_queue - 1];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(d->buf + d->len);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags | rp->extra_flags;
    nlh->nlmsg_seq = rp->req->nlmsg_seq;
    nlh->nlmsg_pid = p->c.portid;
    return nlh;
}

struct nlmsghdr *fake_nlpeer_msg_begin(struct fake_nlpeer_reply *rp, uint16_t type, uint16_t flags)
{
    return msg_begin(rp, type, flags, 0);
}

struct nlmsghdr *fake_nlpeer_dump_msg_begin(struct fake_nlpeer_reply *rp, uint16_t type, uint16_t flags)
{
    return msg_begin(rp, type, flags, rp->peer->dump_batch);
}

void fake_nlpeer_msg_end(struct fake_nlpeer_reply *rp, struct nlmsghdr *nlh)
{
    struct fake_nlpeer *p = rp->peer;
    struct dgram *d = &p->queue[p->n_queue - 1];
    d->len += NLMSG_ALIGN(nlh->nlmsg_len);
    rp->in_dgram++;
    if (d->len > p->c.dgram_size - p->c.msg_size_max)
        fail_msg("%s: reply too large", p->c.name);
}

void fake_nlpeer_end_dgram(struct fake_nlpeer_reply *rp)
{
    rp->filling = false;
}

void fake_nlpeer_put_error(struct fake_nlpeer_reply *rp, int error, const char *ext_ack)
{
    const struct nlmsghdr *req = rp->req;
    bool capped = error == 0 || rp->peer->cap_ack;
    uint16_t flags = 0;
    if (capped)
        flags |= NLM_F_CAPPED;
    if (ext_ack)
        flags |= NLM_F_ACK_TLVS;
    fake_nlpeer_end_dgram(rp); /* an ack or error starts its own datagram, as after a dump's last batch */
    struct nlmsghdr *nlh = fake_nlpeer_msg_begin(rp, NLMSG_ERROR, flags);
    nlh->nlmsg_flags &= (uint16_t)~NLM_F_DUMP_INTR;
    size_t echo = capped ? 0 : req->nlmsg_len - NLMSG_HDRLEN;
    struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e) + echo);
    e->error = error;
    memcpy(&e->msg, req, capped ? sizeof(*req) : req->nlmsg_len);
    if (ext_ack)
        mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, ext_ack);
    fake_nlpeer_msg_end(rp, nlh);
}

void fake_nlpeer_put_done(struct fake_nlpeer_reply *rp)
{
    fake_nlpeer_end_dgram(rp);
    struct nlmsghdr *nlh = fake_nlpeer_msg_begin(rp, NLMSG_DONE, NLM_F_MULTI);
    int *status = mnl_nlmsg_put_extra_header(nlh, sizeof(int));
    *status = 0;
    fake_nlpeer_msg_end(rp, nlh);
}

uint8_t *fake_nlpeer_put_dgram(struct fake_nlpeer_reply *rp, const void *buf, size_t len)
{
    struct fake_nlpeer *p = rp->peer;
    if (len > p->c.dgram_size)
        fail_msg("%s: a datagram of %zu bytes is too large", p->c.name, len);
    struct dgram *d = new_dgram(p);
    memcpy(d->buf, buf, len);
    d->len = len;
    fake_nlpeer_end_dgram(rp);
    return d->buf;
}

void fake_nlpeer_interrupt(struct fake_nlpeer_reply *rp)
{
    if (rp->peer->interrupt_dumps) {
        rp->peer->interrupt_dumps--;
        rp->extra_flags = NLM_F_DUMP_INTR;
    }
}

/* Variations and faults. */

void fake_nlpeer_set_cap_ack(struct fake_nlpeer *p, bool cap)
{
    p->cap_ack = cap;
}

void fake_nlpeer_set_dump_batch(struct fake_nlpeer *p, unsigned n)
{
    p->dump_batch = n ? n : 1;
}

void fake_nlpeer_interrupt_dumps(struct fake_nlpeer *p, unsigned n)
{
    p->interrupt_dumps = n;
}

void fake_nlpeer_enobufs_after(struct fake_nlpeer *p, unsigned n)
{
    p->enobufs = true;
    p->enobufs_after = n;
}

void fake_nlpeer_eintr(struct fake_nlpeer *p, unsigned n_send, unsigned n_recv)
{
    p->eintr_send = n_send;
    p->eintr_recv = n_recv;
}

/* The transport. */

static void record(struct fake_nlpeer *p, const struct nlmsghdr *nlh)
{
    struct nlmsghdr *copy = xcalloc(p, 1, nlh->nlmsg_len);
    memcpy(copy, nlh, nlh->nlmsg_len);
    p->requests = xrealloc(p, p->requests, p->n_requests + 1, sizeof(*p->requests));
    p->requests[p->n_requests++] = copy;
}

static int peer_send(void *userdata, const struct nlmsghdr *nlh)
{
    struct fake_nlpeer *p = userdata;
    if (p->eintr_send) {
        p->eintr_send--;
        return -EINTR;
    }
    if (nlh->nlmsg_len < NLMSG_HDRLEN || !(nlh->nlmsg_flags & NLM_F_REQUEST))
        fail_msg("%s: malformed request (len %u, flags 0x%x)", p->c.name, nlh->nlmsg_len, nlh->nlmsg_flags);
    record(p, nlh);
    size_t first = p->n_queue;
    struct fake_nlpeer_reply rp = fake_nlpeer_reply(p, nlh);
    p->c.answer(p->c.owner, &rp);
    if (p->enobufs) {
        /* the kernel reports the overflow once and the rest of the reply is gone */
        p->enobufs = false;
        size_t keep = first + p->enobufs_after;
        if (keep < p->n_queue) {
            for (size_t i = keep; i < p->n_queue; i++)
                free(p->queue[i].buf);
            p->n_queue = keep;
            struct dgram *d = new_dgram(p);
            free(d->buf);
            *d = (struct dgram){.error = -ENOBUFS};
        }
    }
    return 0;
}

static ssize_t peer_recv(void *userdata, const void **ret)
{
    struct fake_nlpeer *p = userdata;
    if (p->eintr_recv) {
        p->eintr_recv--;
        return -EINTR;
    }
    if (p->head >= p->n_queue)
        return -ETIMEDOUT; /* a real socket would block: the code under test waits for a reply never sent */
    struct dgram *d = &p->queue[p->head++];
    if (d->error)
        return d->error;
    *ret = d->buf;
    return (ssize_t)d->len;
}

static void peer_sleep(void *userdata, unsigned ms)
{
    struct fake_nlpeer *p = userdata;
    p->n_sleeps++;
    p->slept_ms += ms;
}

static const struct dh_nl_transport peer_transport = {
        .send = peer_send,
        .recv = peer_recv,
        .sleep_ms = peer_sleep,
};

struct dh_nl *fake_nlpeer_connect(struct fake_nlpeer *p)
{
    struct dh_nl *nl = dh_nl_new(&peer_transport, p, p->c.portid);
    if (!nl)
        fail_msg("%s: out of memory", p->c.name);
    return nl;
}

/* What was sent. */

size_t fake_nlpeer_n_requests(const struct fake_nlpeer *p)
{
    return p->n_requests;
}

const struct nlmsghdr *fake_nlpeer_request(const struct fake_nlpeer *p, size_t i)
{
    if (i >= p->n_requests)
        fail_msg("%s: asked for request %zu, only %zu were sent", p->c.name, i, p->n_requests);
    return p->requests[i];
}

unsigned fake_nlpeer_n_sleeps(const struct fake_nlpeer *p)
{
    return p->n_sleeps;
}

unsigned fake_nlpeer_slept_ms(const struct fake_nlpeer *p)
{
    return p->slept_ms;
}
