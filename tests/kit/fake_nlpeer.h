/* The kernel's end of a netlink socket, for the fake peers (fake_netlink.h for rtnetlink,
 * fake_devlink.h for generic netlink): a transport for struct dh_nl that records every request,
 * hands it to the fake that owns the peer to answer, and keeps the answer the way the socket's
 * receive queue holds it, a list of datagrams each holding a run of messages, handed out one per
 * recv. The message builder follows the kernel: a dump sends a batch of messages per datagram and
 * its NLMSG_DONE in a datagram of its own (netlink_dump() fills one skb per round and adds the
 * terminator in the round that finds nothing more to send); NLM_F_DUMP_INTR marks every message of
 * a dump that changed while it ran (nl_dump_check_consistent()), NLMSG_DONE included;
 * acknowledgements and errors are NLMSG_ERROR as netlink_ack() builds them: the request's header
 * only, flagged NLM_F_CAPPED, for an acknowledgement or on a NETLINK_CAP_ACK socket, else the
 * whole request echoed after the error, and an extended ack as NLMSGERR_ATTR_MSG flagged
 * NLM_F_ACK_TLVS. Transport faults: EINTR on send and recv, and a receive queue that overflowed
 * (ENOBUFS). Misuse fails the test. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#include <dpuhost/netlink.h>

struct fake_nlpeer;

/* One reply being built. Get one from fake_nlpeer_reply() (answer gets one ready); the fields are
 * the builder's. */
struct fake_nlpeer_reply {
    struct fake_nlpeer *peer;
    const struct nlmsghdr *req; /* nlmsg_seq of every message, and what errors echo */
    bool filling;               /* the queue's last datagram takes the next message */
    unsigned in_dgram;          /* messages in it */
    uint16_t extra_flags;       /* NLM_F_DUMP_INTR while a dump is interrupted */
};

struct fake_nlpeer_config {
    const char *name;    /* the fake's name in test failures ("fake_netlink") */
    uint32_t portid;     /* the port id replies are addressed to (nlmsg_pid) */
    size_t dgram_size;   /* bytes of one reply datagram */
    size_t msg_size_max; /* the largest message the fake builds: builders write without bounds
                          * checks, so a datagram filled beyond dgram_size - msg_size_max fails
                          * the test */
    /* Answers a well-formed request (already recorded) through rp: its messages, then the
     * terminator the kernel would send. owner is the fake. */
    void (*answer)(void *owner, struct fake_nlpeer_reply *rp);
    void *owner;
};

/* Copies config (name must outlive the peer). Free with fake_nlpeer_free(), which accepts NULL;
 * free every dh_nl connected to the peer first. */
struct fake_nlpeer *fake_nlpeer_new(const struct fake_nlpeer_config *config);
void fake_nlpeer_free(struct fake_nlpeer *p);
/* A dh_nl whose requests p answers; free it with dh_nl_free(). */
struct dh_nl *fake_nlpeer_connect(struct fake_nlpeer *p);

/* Building a reply. */
struct fake_nlpeer_reply fake_nlpeer_reply(struct fake_nlpeer *p, const struct nlmsghdr *req);
/* Starts a message addressed to the request's sequence number and the peer's port, flags |
 * extra_flags, in the datagram being filled (a new one if none). */
struct nlmsghdr *fake_nlpeer_msg_begin(struct fake_nlpeer_reply *rp, uint16_t type, uint16_t flags);
/* The same for a message of a dump: a new datagram after the peer's dump batch. */
struct nlmsghdr *fake_nlpeer_dump_msg_begin(struct fake_nlpeer_reply *rp, uint16_t type, uint16_t flags);
/* Ends the message that nlh began (nlh->nlmsg_len says how long it is). */
void fake_nlpeer_msg_end(struct fake_nlpeer_reply *rp, struct nlmsghdr *nlh);
/* The next message starts a datagram of its own. */
void fake_nlpeer_end_dgram(struct fake_nlpeer_reply *rp);
/* NLMSG_ERROR with error (0: an acknowledgement) and ext_ack (may be NULL), in a datagram of its
 * own, never flagged NLM_F_DUMP_INTR. */
void fake_nlpeer_put_error(struct fake_nlpeer_reply *rp, int error, const char *ext_ack);
/* NLMSG_DONE (NLM_F_MULTI, status 0) in a datagram of its own. */
void fake_nlpeer_put_done(struct fake_nlpeer_reply *rp);
/* A datagram of its own holding a copy of buf, returned for patching. */
uint8_t *fake_nlpeer_put_dgram(struct fake_nlpeer_reply *rp, const void *buf, size_t len);
/* When fake_nlpeer_interrupt_dumps() left an interruption to give, takes it: rp's messages from
 * now on are flagged NLM_F_DUMP_INTR. */
void fake_nlpeer_interrupt(struct fake_nlpeer_reply *rp);

/* Variations and faults. */
/* Errors echo only the request's header (NETLINK_CAP_ACK), or (false, the default) all of it. */
void fake_nlpeer_set_cap_ack(struct fake_nlpeer *p, bool cap);
/* Messages per datagram in dumps (default 2, so that dumps span datagrams; 0 is taken as 1). */
void fake_nlpeer_set_dump_batch(struct fake_nlpeer *p, unsigned n);
/* The next n dumps that take an interruption (fake_nlpeer_interrupt()) are interrupted. */
void fake_nlpeer_interrupt_dumps(struct fake_nlpeer *p, unsigned n);
/* The next reply loses everything after its first n datagrams: recv reports -ENOBUFS instead. */
void fake_nlpeer_enobufs_after(struct fake_nlpeer *p, unsigned n);
/* The next n sends, and the next n receives, fail with -EINTR first. */
void fake_nlpeer_eintr(struct fake_nlpeer *p, unsigned n_send, unsigned n_recv);

/* What was sent. */
size_t fake_nlpeer_n_requests(const struct fake_nlpeer *p);
/* The i-th request (a copy, valid until fake_nlpeer_free()). */
const struct nlmsghdr *fake_nlpeer_request(const struct fake_nlpeer *p, size_t i);
/* Waits the code under test asked for (none really happen). */
unsigned fake_nlpeer_n_sleeps(const struct fake_nlpeer *p);
unsigned fake_nlpeer_slept_ms(const struct fake_nlpeer *p);
