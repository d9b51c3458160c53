/* struct dh_nl and the request loop: one request out, its replies in, whatever the transport. The
 * loop owns the protocol rules every caller would otherwise repeat: sequence numbers (replies to an
 * abandoned earlier request are skipped), multipart dumps ending in NLMSG_DONE, acknowledgements,
 * NLMSG_ERROR with the kernel's extended ack text, EINTR, and ENOBUFS or an interrupted dump (a
 * read-only request is simply asked again; a write is not, because it may have been applied). */
#include "netlink/netlink-internal.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "util/macro.h"

/* How often a read-only request is asked again after the kernel dropped replies or a dump was
 * interrupted by a concurrent change. */
#define NL_READ_ATTEMPTS 3

struct dh_nl {
    const struct dh_nl_transport *transport;
    void *userdata;
    uint32_t portid;
    uint32_t seq;
    unsigned mac_busy_attempts;
    unsigned mac_busy_interval_ms;
};

struct dh_nl *dh_nl_new(const struct dh_nl_transport *transport, void *userdata, uint32_t portid)
{
    if (!transport || !transport->send || !transport->recv)
        return NULL;
    struct dh_nl *nl = calloc(1, sizeof(*nl));
    if (!nl)
        return NULL;
    nl->transport = transport;
    nl->userdata = userdata;
    nl->portid = portid;
    /* a fresh start per process keeps a restarted daemon from matching a predecessor's replies */
    nl->seq = (uint32_t)time(NULL);
    nl->mac_busy_attempts = DH_NL_MAC_BUSY_ATTEMPTS;
    nl->mac_busy_interval_ms = DH_NL_MAC_BUSY_INTERVAL_MS;
    return nl;
}

void dh_nl_free(struct dh_nl *nl)
{
    if (!nl)
        return;
    if (nl->transport->free)
        nl->transport->free(nl->userdata);
    free(nl);
}

void dh_nl_set_mac_busy_retry(struct dh_nl *nl, unsigned attempts, unsigned interval_ms)
{
    if (!nl)
        return;
    nl->mac_busy_attempts = attempts ? attempts : 1;
    nl->mac_busy_interval_ms = interval_ms;
}

void nl_mac_busy_retry(const struct dh_nl *nl, unsigned *ret_attempts, unsigned *ret_interval_ms)
{
    *ret_attempts = nl->mac_busy_attempts;
    *ret_interval_ms = nl->mac_busy_interval_ms;
}

void nl_sleep(struct dh_nl *nl, unsigned ms)
{
    if (nl->transport->sleep_ms) {
        nl->transport->sleep_ms(nl->userdata, ms);
        return;
    }
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

const char *nl_type_name(uint16_t type, char *buf, size_t size)
{
    static const struct {
        uint16_t type;
        const char *name;
    } names[] = {
            {RTM_NEWLINK, "RTM_NEWLINK"},   {RTM_GETLINK, "RTM_GETLINK"}, {RTM_SETLINK, "RTM_SETLINK"},
            {RTM_NEWADDR, "RTM_NEWADDR"},   {RTM_GETADDR, "RTM_GETADDR"}, {RTM_NEWROUTE, "RTM_NEWROUTE"},
            {RTM_GETROUTE, "RTM_GETROUTE"}, {RTM_DELLINK, "RTM_DELLINK"}, {RTM_DELADDR, "RTM_DELADDR"},
            {RTM_DELROUTE, "RTM_DELROUTE"},
    };
    for (size_t i = 0; i < ELEMENTSOF(names); i++)
        if (names[i].type == type)
            return names[i].name;
    snprintf(buf, size, "message type %u", type);
    return buf;
}

const char *nl_failure_suffix(const struct nl_failure *why, char *buf, size_t size)
{
    if (!why || !why->text[0])
        snprintf(buf, size, "%s", "");
    else if (why->source == NL_FROM_KERNEL)
        snprintf(buf, size, " (kernel: %s)", why->text);
    else
        snprintf(buf, size, " (%s)", why->text);
    return buf;
}

static void fail(struct nl_failure *why, enum nl_source source, const char *text)
{
    why->source = source;
    snprintf(why->text, sizeof(why->text), "%s", text);
}

/* Getters (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, ...) change nothing, so asking again is safe. */
static bool is_read_only(uint16_t type)
{
    return type >= RTM_BASE && type < RTM_MAX && (type & 3) == 2;
}

/* Receives until the request's terminator. *ret_again is set when a read-only request should be
 * asked again (replies lost, dump interrupted). */
static int receive(struct dh_nl *nl, uint32_t seq, bool dump, dh_nl_reply_fn cb, void *userdata,
                   struct nl_failure *why, bool *ret_again)
{
    int cb_error = 0;
    bool interrupted = false;
    *ret_again = false;
    for (;;) {
        const void *buf = NULL;
        ssize_t n;
        do
            n = nl->transport->recv(nl->userdata, &buf);
        while (n == -EINTR);
        if (n == -ENOBUFS) {
            *ret_again = true;
            fail(why, NL_FROM_TRANSPORT, "the kernel dropped replies: the receive buffer overflowed");
            return -ENOBUFS;
        }
        if (n < 0) {
            fail(why, NL_FROM_TRANSPORT,
                 n == -ETIMEDOUT ? "no reply from the kernel" : "receiving the reply failed");
            return (int)n;
        }
        if (n > INT_MAX || !buf) {
            fail(why, NL_FROM_TRANSPORT, "the transport returned no usable reply");
            return -EBADMSG;
        }
        int len = (int)n;
        const struct nlmsghdr *nlh = buf;
        for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
            if ((nl->portid && nlh->nlmsg_pid != nl->portid) || nlh->nlmsg_seq != seq)
                continue; /* a reply to an earlier request that was given up on */
            if (nlh->nlmsg_type == NLMSG_NOOP || nlh->nlmsg_type == NLMSG_OVERRUN)
                continue;
            if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
                if (nlh->nlmsg_type == NLMSG_DONE && !dump)
                    continue;
                int code;
                char text[NL_TEXT_MAX];
                if (nl_parse_error(nlh, &code, text, sizeof(text)) < 0) {
                    fail(why, NL_FROM_TRANSPORT, "malformed NLMSG_ERROR or NLMSG_DONE in the reply");
                    return -EBADMSG;
                }
                if (code < 0) {
                    fail(why, NL_FROM_KERNEL, text);
                    return code;
                }
                if (cb_error < 0) {
                    why->source = NL_FROM_CALLBACK;
                    return cb_error;
                }
                if (interrupted) {
                    *ret_again = true;
                    fail(why, NL_FROM_TRANSPORT, "the dump was interrupted by changes every time");
                    return -EAGAIN;
                }
                return 0;
            }
            if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
                interrupted = true;
            if (cb && cb_error == 0)
                cb_error = cb(nlh, userdata);
        }
        if (len > 0) {
            fail(why, NL_FROM_TRANSPORT, "truncated message in the reply");
            return -EBADMSG;
        }
    }
}

int nl_call(struct dh_nl *nl, struct nlmsghdr *req, dh_nl_reply_fn cb, void *userdata, struct nl_failure *why)
{
    return nl_call_as(nl, req, is_read_only(req->nlmsg_type), cb, userdata, why);
}

int nl_call_as(struct dh_nl *nl, struct nlmsghdr *req, bool read_only, dh_nl_reply_fn cb, void *userdata,
               struct nl_failure *why)
{
    struct nl_failure dummy;
    if (!why)
        why = &dummy;
    memset(why, 0, sizeof(*why));
    bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    req->nlmsg_flags |= NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK);

    for (int attempt = 1;; attempt++) {
        if (attempt > 1 && cb) {
            int r = cb(NULL, userdata);
            if (r < 0) {
                why->source = NL_FROM_CALLBACK;
                return r;
            }
        }
        if (++nl->seq == 0)
            nl->seq = 1;
        req->nlmsg_seq = nl->seq;
        int r;
        do
            r = nl->transport->send(nl->userdata, req);
        while (r == -EINTR);
        if (r < 0) {
            fail(why, NL_FROM_TRANSPORT, "sending the request failed");
            return r;
        }
        bool again;
        r = receive(nl, req->nlmsg_seq, dump, cb, userdata, why, &again);
        if (r < 0 && again && read_only && attempt < NL_READ_ATTEMPTS)
            continue;
        if (r == -ENOBUFS && !read_only)
            fail(why, NL_FROM_TRANSPORT,
                 "the kernel dropped its answer (receive buffer overflow): the change may or may not "
                 "have been applied");
        return r;
    }
}

int dh_nl_request(struct dh_nl *nl, struct nlmsghdr *req, dh_nl_reply_fn cb, void *userdata,
                  struct dh_error *err)
{
    assert_return(nl && req && req->nlmsg_len >= NLMSG_HDRLEN, -EINVAL);
    struct nl_failure why;
    uint16_t type = req->nlmsg_type;
    int r = nl_call(nl, req, cb, userdata, &why);
    if (r >= 0 || why.source == NL_FROM_CALLBACK)
        return r;
    char name[32], suffix[NL_TEXT_MAX + 16];
    return dh_error_set(err, r, "netlink: %s request failed: %s%s", nl_type_name(type, name, sizeof(name)),
                        strerror(-r), nl_failure_suffix(&why, suffix, sizeof(suffix)));
}

bool nl_ifname_is_valid(const char *s)
{
    if (!s || !*s || strlen(s) >= IFNAMSIZ || streq(s, ".") || streq(s, ".."))
        return false;
    for (; *s; s++)
        if (*s == '/' || *s == ':' || *s == ' ' || (*s >= '\t' && *s <= '\r'))
            return false;
    return true;
}
