/* A fake rtnetlink peer for tests: a transport for struct dh_nl that answers RTM_GETLINK,
 * RTM_SETLINK (VF settings), RTM_GETADDR and RTM_GETROUTE dumps from a small in-memory model, in the
 * kernel's wire format built with libmnl (so the production parsers run on the same bytes they get
 * from the kernel), records every request it receives, and injects the failures the real kernel
 * and drivers produce: error replies with extended acks, EBUSY on MAC writes, refused VLAN clears,
 * unsupported trust, writes that are acknowledged but ignored, EINTR, ENOBUFS, interrupted dumps,
 * stale replies. Model setters abort the test on misuse. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#include <dpuhost/netlink.h>

/* The port id the fake addresses its replies to. */
#define FAKE_NL_PORTID 4242u

/* Field bits for the per-VF knobs. */
#define FAKE_VF_MAC (1u << 0)
#define FAKE_VF_VLAN (1u << 1)
#define FAKE_VF_SPOOFCHK (1u << 2)
#define FAKE_VF_TRUST (1u << 3)
#define FAKE_VF_LINK_STATE (1u << 4)

struct fake_link {
    char name[16];
    unsigned ifindex;
    unsigned master; /* ifindex, 0 for none */
    bool sriov;      /* the driver has VF settings (set by fake_nl_add_vf()); lists an empty table
                      * when it has no VF */
};

struct fake_vf {
    unsigned pf_ifindex;
    unsigned vf;
    uint8_t mac[6];
    unsigned vlan, qos;
    bool spoofchk, trust;
    unsigned link_state; /* IFLA_VF_LINK_STATE_* */

    unsigned mac_busy;     /* the next N MAC writes fail with EBUSY */
    bool vlan_clear_eperm; /* writing VLAN 0 QoS 0 fails with EPERM (some DPUs) */
    unsigned unreported;   /* FAKE_VF_SPOOFCHK/TRUST read back as 0xFFFFFFFF */
    unsigned refused;      /* FAKE_VF_* bits whose writes fail with EOPNOTSUPP */
    unsigned ignored;      /* FAKE_VF_* bits whose writes are acknowledged but change nothing */
};

struct fake_route {
    int family;      /* AF_INET or AF_INET6 */
    const char *dst; /* NULL for a default route */
    unsigned dst_len;
    uint32_t table;   /* 0 means RT_TABLE_MAIN */
    uint8_t type;     /* 0 means RTN_UNICAST */
    unsigned oif;     /* single next hop (RTA_OIF), 0 for none */
    unsigned oifs[8]; /* RTA_MULTIPATH next hops when n_oifs > 0 */
    size_t n_oifs;
};

struct fake_nl;

struct fake_nl *fake_nl_new(void);
/* Accepts NULL. Free every dh_nl connected to f first. */
void fake_nl_free(struct fake_nl *f);
/* A dh_nl whose requests f answers; free it with dh_nl_free(). */
struct dh_nl *fake_nl_connect(struct fake_nl *f);

/* The model. Returned pointers stay valid until fake_nl_free(); tests may change their fields. */
struct fake_link *fake_nl_add_link(struct fake_nl *f, const char *name, unsigned ifindex, unsigned master);
/* addr "192.0.2.1" or "2001:db8::1" (the family follows); scope RT_SCOPE_*. */
void fake_nl_add_addr(struct fake_nl *f, unsigned ifindex, const char *addr, unsigned prefixlen,
                      unsigned scope);
void fake_nl_add_route(struct fake_nl *f, const struct fake_route *r);
/* A VF of the PF pf_ifindex with MAC 00:00:00:00:00:00, no VLAN, spoofchk on, trust off, link state
 * auto; marks the PF sriov. */
struct fake_vf *fake_nl_add_vf(struct fake_nl *f, unsigned pf_ifindex, unsigned vf);
struct fake_vf *fake_nl_vf(struct fake_nl *f, unsigned pf_ifindex, unsigned vf);

/* Faults. */
/* The next request of this type is answered with NLMSG_ERROR error, carrying ext_ack (may be
 * NULL) as NLMSGERR_ATTR_MSG. */
void fake_nl_fail_next(struct fake_nl *f, uint16_t type, int error, const char *ext_ack);
/* The same for the request of this type after n others of it (n 0: the next). Error 0 acknowledges
 * without doing anything. Failures for one type fire in the order they were queued. */
void fake_nl_fail_nth(struct fake_nl *f, uint16_t type, unsigned n, int error, const char *ext_ack);
/* The next request of this type is answered with these bytes (one datagram, nlmsg_seq and nlmsg_pid
 * of every well-formed header patched to the request's), followed by the usual terminator (an
 * acknowledgement, or NLMSG_DONE for a dump) in a datagram of its own. */
void fake_nl_reply_raw(struct fake_nl *f, uint16_t type, const void *buf, size_t len);
/* Error replies echo the whole request (false, the default: no NETLINK_CAP_ACK) or only its header. */
void fake_nl_set_cap_ack(struct fake_nl *f, bool cap);
/* Messages per datagram in dumps (default 2, so that dumps span datagrams). */
void fake_nl_set_dump_batch(struct fake_nl *f, unsigned n);
/* The next n dumps flag their messages NLM_F_DUMP_INTR. */
void fake_nl_interrupt_dumps(struct fake_nl *f, unsigned n);
/* The next reply loses everything after its first n datagrams: recv reports -ENOBUFS instead. */
void fake_nl_enobufs_after(struct fake_nl *f, unsigned n);
/* The next n sends, and the next n receives, fail with -EINTR first. */
void fake_nl_eintr(struct fake_nl *f, unsigned n_send, unsigned n_recv);
/* Before the next reply, queue replies to an older sequence number (a link message and an EBUSY
 * error) and one addressed to another port: a correct reader skips all three. */
void fake_nl_stale_next(struct fake_nl *f);

/* What was sent. */
size_t fake_nl_n_requests(const struct fake_nl *f);
/* The i-th request (a copy). */
const struct nlmsghdr *fake_nl_request(const struct fake_nl *f, size_t i);
/* How many requests of this type were sent. */
size_t fake_nl_count(const struct fake_nl *f, uint16_t type);
/* The VF attribute (IFLA_VF_MAC, ...) carried by a recorded RTM_SETLINK, or NULL. */
const struct nlattr *fake_nl_setlink_vf_attr(const struct nlmsghdr *nlh, uint16_t type);
/* Waits the code under test asked for (none really happen). */
unsigned fake_nl_n_sleeps(const struct fake_nl *f);
unsigned fake_nl_slept_ms(const struct fake_nl *f);
