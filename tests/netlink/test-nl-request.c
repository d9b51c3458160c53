/* The request loop (dh_nl_request) against the fake peer: acknowledgements, dumps spanning
 * datagrams, error replies with the kernel's extended ack text, replies to older requests, EINTR,
 * ENOBUFS, interrupted dumps, truncated datagrams, callback errors, and a transport that fails. */
#include "test.h"

#include "util/macro.h"

#include <stdalign.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "fake_netlink.h"

struct fixture {
    struct fake_nl *f;
    struct dh_nl *nl;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->f = fake_nl_new();
    fake_nl_add_link(fx->f, "lo", 1, 0);
    fake_nl_add_link(fx->f, "eth0", 2, 0);
    for (int i = 1; i <= 5; i++) {
        char a[32];
        snprintf(a, sizeof(a), "192.0.2.%d", i);
        fake_nl_add_addr(fx->f, 2, a, 24, RT_SCOPE_UNIVERSE);
    }
    fx->nl = fake_nl_connect(fx->f);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    dh_nl_free(fx->nl);
    fake_nl_free(fx->f);
    free(fx);
    return 0;
}

struct req {
    alignas(struct nlmsghdr) uint8_t buf[256];
};

static struct nlmsghdr *getlink(struct req *r, const char *name)
{
    memset(r, 0, sizeof(*r));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf);
    nlh->nlmsg_type = RTM_GETLINK;
    mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    return nlh;
}

static struct nlmsghdr *dumpaddr(struct req *r)
{
    memset(r, 0, sizeof(*r));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf);
    nlh->nlmsg_type = RTM_GETADDR;
    nlh->nlmsg_flags = NLM_F_DUMP;
    mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifaddrmsg));
    return nlh;
}

/* Counts messages by type; a NULL message (restart) resets the counts. */
struct counts {
    unsigned links, addrs, restarts;
    int fail_with;
};

static int count(const struct nlmsghdr *nlh, void *data)
{
    struct counts *c = data;
    if (!nlh) {
        c->links = c->addrs = 0;
        c->restarts++;
        return 0;
    }
    if (nlh->nlmsg_type == RTM_NEWLINK)
        c->links++;
    if (nlh->nlmsg_type == RTM_NEWADDR)
        c->addrs++;
    return c->fail_with;
}

static void ack_request_gets_reply_then_ack(void **state)
{
    struct fixture *fx = *state;
    struct req r;
    struct counts c = {0};
    struct dh_error err = {0};
    assert_int_equal(dh_nl_request(fx->nl, getlink(&r, "eth0"), count, &c, &err), 0);
    assert_int_equal(c.links, 1);
    assert_false(dh_error_is_set(&err));
    const struct nlmsghdr *sent = fake_nl_request(fx->f, 0);
    assert_int_equal(sent->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
    uint32_t seq = sent->nlmsg_seq;
    assert_int_equal(dh_nl_request(fx->nl, getlink(&r, "lo"), count, &c, &err), 0);
    assert_int_equal(c.links, 2);
    assert_int_equal(fake_nl_request(fx->f, 1)->nlmsg_seq, seq + 1);
}

static void dump_spans_datagrams_until_done(void **state)
{
    struct fixture *fx = *state;
    struct req r;
    struct counts c = {0};
    fake_nl_set_dump_batch(fx->f, 2); /* 5 addresses: 3 datagrams, then NLMSG_DONE */
    assert_int_equal(dh_nl_request(fx->nl, dumpaddr(&r), count, &c, NULL), 0);
    assert_int_equal(c.addrs, 5);
    assert_int_equal(fake_nl_request(fx->f, 0)->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
    fake_nl_set_dump_batch(fx->f, 100);
    c = (struct counts){0};
    assert_int_equal(dh_nl_request(fx->nl, dumpaddr(&r), count, &c, NULL), 0);
    assert_int_equal(c.addrs, 5);
}

static void error_reply_message_quotes_ext_ack(void **state)
{
    struct fixture *fx = *state;
    struct req r;
    struct dh_error err = {0};
    fake_nl_fail_next(fx->f, RTM_GETLINK, -EINVAL, "Invalid ifindex");
    assert_int_equal(dh_nl_request(fx->nl, getlink(&r, "eth0"), NULL, NULL, &err), -EINVAL);
    assert_int_equal(err.code, -EINVAL);
    assert_string_equal(err.message,
                        "netlink: RTM_GETLINK request failed: Invalid argument (kernel: Invalid ifindex)");

    /* the same with capped acks (NETLINK_CAP_ACK, what dh_nl_open() asks for) */
    fake_nl_set_cap_ack(fx->f, true);
    fake_nl_fail_next(fx->f, RTM_GETLINK, -EOPNOTSUPP, "not on this port");
    dh_error_clear(&err);
    assert_int_equal(dh_nl_request(fx->nl, getlink(&r, "eth0"), NULL, NULL, &err), -EOPNOTSUPP);
    assert_non_null(strstr(err.message, "(kernel: not on this port)"));

    /* without an extended ack, no parenthesis */
    fake_nl_fail_next(fx->f, RTM_GETLINK, -EPERM, NULL);
    dh_error_clear(&err);
    assert_int_equal(dh_nl_request(fx->nl, getlink(&r, "eth0"), NULL, NULL, &err), -EPERM);
    assert_string_equal(err.message, "netlink: RTM_GETLINK request failed: Operation not permitted");

    /* the kernel's own ENODEV for a missing name */
    dh_error_clear(&err);
    assert_int_equal(dh_nl_request(fx->nl, getlink(&r, "nope0"), NULL, NULL, &err), -ENODEV);
}

static void replies_to_other_requests_are_skipped(void **state)
{
    struct fixture *fx = *state;
    struct req r;
    struct counts c = {0};
    /* a link message and an EBUSY for the previous sequence number, an EIO for another port */
    fake_nl_stale_next(fx->f);
    assert_int_equal(dh_nl_request(fx->nl, getlink(&r, "eth0"), count, &c, NULL), 0);
    assert_int_equal(c.links, 1);
}

static void eintr_is_retried(void **state)
{
    struct fixture *fx = *state;
    struct req r;
    struct counts c = {0};
    fake_nl_eintr(fx->f, 2, 3);
    assert_int_equal(dh_nl_request(fx->nl, getlink(&r, "eth0"), count, &c, NULL), 0);
    assert_int_equal(c.links, 1);
    assert_int_equal(fake_nl_n_requests(fx->f), 1);
}

static void enobufs_restarts_a_read_and_resets_the_callback(void **state)
{
    struct fixture *fx = *state;
    struct req r;
    struct counts c = {0};
    fake_nl_set_dump_batch(fx->f, 2);
    fake_nl_enobufs_after(fx->f, 1); /* two addresses arrive, then the rest is lost */
    assert_int_equal(dh_nl_request(fx->nl, dumpaddr(&r), count, &c, NULL), 0);
    assert_int_equal(c.restarts, 1);
    assert_int_equal(c.addrs, 5);
    assert_int_equal(fake_nl_count(fx->f, RTM_GETADDR), 2);
}

static void enobufs_fails_a_write(void **state)
{
    struct fixture *fx = *state;
    struct req r;
    memset(&r, 0, sizeof(r));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(r.buf);
    nlh->nlmsg_type = RTM_SETLINK;
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_index = 2;
    struct dh_error err = {0};
    fake_nl_enobufs_after(fx->f, 0);
    assert_int_equal(dh_nl_request(fx->nl, nlh, NULL, NULL, &err), -ENOBUFS);
    assert_non_null(strstr(err.message, "may or may not have been applied"));
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK), 1); /* never sent twice */
}

static void interrupted_dump_is_asked_again_then_given_up(void **state)
{
    struct fixture *fx = *state;
    struct req r;
    struct counts c = {0};
    fake_nl_interrupt_dumps(fx->f, 1);
    assert_int_equal(dh_nl_request(fx->nl, dumpaddr(&r), count, &c, NULL), 0);
    assert_int_equal(c.restarts, 1);
    assert_int_equal(c.addrs, 5);
    assert_int_equal(fake_nl_count(fx->f, RTM_GETADDR), 2);

    struct dh_error err = {0};
    fake_nl_interrupt_dumps(fx->f, 10);
    assert_int_equal(dh_nl_request(fx->nl, dumpaddr(&r), count, &c, &err), -EAGAIN);
    assert_int_equal(fake_nl_count(fx->f, RTM_GETADDR), 2 + 3);
    assert_non_null(strstr(err.message, "interrupted"));
}

static void truncated_datagram_is_a_bad_message(void **state)
{
    struct fixture *fx = *state;
    struct req r;
    alignas(struct nlmsghdr) uint8_t raw[64] = {0};
    struct nlmsghdr *nlh = (struct nlmsghdr *)raw;
    nlh->nlmsg_len = 200; /* longer than the 64-byte datagram */
    nlh->nlmsg_type = RTM_NEWLINK;
    struct dh_error err = {0};
    fake_nl_reply_raw(fx->f, RTM_GETLINK, raw, sizeof(raw));
    assert_int_equal(dh_nl_request(fx->nl, getlink(&r, "eth0"), NULL, NULL, &err), -EBADMSG);
    assert_non_null(strstr(err.message, "truncated"));
    /* the next request is not confused by what was left queued */
    struct counts c = {0};
    assert_int_equal(dh_nl_request(fx->nl, getlink(&r, "eth0"), count, &c, NULL), 0);
    assert_int_equal(c.links, 1);
}

static void done_with_an_error_status_fails_the_dump(void **state)
{
    struct fixture *fx = *state;
    struct req r;
    alignas(struct nlmsghdr) uint8_t raw[64] = {0};
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(raw);
    nlh->nlmsg_type = NLMSG_DONE;
    nlh->nlmsg_flags = NLM_F_MULTI;
    int *status = mnl_nlmsg_put_extra_header(nlh, sizeof(int));
    *status = -EMSGSIZE;
    fake_nl_reply_raw(fx->f, RTM_GETADDR, raw, nlh->nlmsg_len);
    assert_int_equal(dh_nl_request(fx->nl, dumpaddr(&r), NULL, NULL, NULL), -EMSGSIZE);
}

static void malformed_error_reply_is_a_bad_message(void **state)
{
    struct fixture *fx = *state;
    struct req r;
    alignas(struct nlmsghdr) uint8_t raw[64] = {0};
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(raw);
    nlh->nlmsg_type = NLMSG_ERROR;
    mnl_nlmsg_put_extra_header(nlh, 4); /* shorter than struct nlmsgerr */
    fake_nl_reply_raw(fx->f, RTM_GETLINK, raw, nlh->nlmsg_len);
    assert_int_equal(dh_nl_request(fx->nl, getlink(&r, "eth0"), NULL, NULL, NULL), -EBADMSG);
}

static void callback_error_ends_the_request_after_draining(void **state)
{
    struct fixture *fx = *state;
    struct req r;
    struct counts c = {.fail_with = -ECANCELED};
    struct dh_error err = {0};
    fake_nl_set_dump_batch(fx->f, 1);
    assert_int_equal(dh_nl_request(fx->nl, dumpaddr(&r), count, &c, &err), -ECANCELED);
    assert_int_equal(c.addrs, 1);        /* not called again after the error */
    assert_false(dh_error_is_set(&err)); /* the callback's error is the callback's to report */
    c = (struct counts){0};
    assert_int_equal(dh_nl_request(fx->nl, dumpaddr(&r), count, &c, NULL), 0);
    assert_int_equal(c.addrs, 5);
}

/* A transport of its own: fails sends, or never answers. */
struct broken {
    int send_error;
};

static int broken_send(void *userdata, const struct nlmsghdr *nlh)
{
    (void)nlh;
    return ((struct broken *)userdata)->send_error;
}

static ssize_t broken_recv(void *userdata, const void **ret)
{
    (void)userdata;
    (void)ret;
    return -ETIMEDOUT;
}

static void transport_failures_are_reported(void **state)
{
    (void)state;
    static const struct dh_nl_transport t = {.send = broken_send, .recv = broken_recv};
    struct broken b = {.send_error = -ECONNREFUSED};
    struct dh_nl *nl = dh_nl_new(&t, &b, 0);
    assert_non_null(nl);
    struct req r;
    struct dh_error err = {0};
    assert_int_equal(dh_nl_request(nl, getlink(&r, "eth0"), NULL, NULL, &err), -ECONNREFUSED);
    assert_non_null(strstr(err.message, "sending the request failed"));
    b.send_error = 0;
    dh_error_clear(&err);
    assert_int_equal(dh_nl_request(nl, getlink(&r, "eth0"), NULL, NULL, &err), -ETIMEDOUT);
    assert_non_null(strstr(err.message, "no reply from the kernel"));
    dh_nl_free(nl);

    static const struct dh_nl_transport incomplete = {.send = broken_send};
    assert_null(dh_nl_new(&incomplete, &b, 0));
    assert_null(dh_nl_new(NULL, &b, 0));
    dh_nl_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(ack_request_gets_reply_then_ack, setup, teardown),
            DH_TEST_SETUP(dump_spans_datagrams_until_done, setup, teardown),
            DH_TEST_SETUP(error_reply_message_quotes_ext_ack, setup, teardown),
            DH_TEST_SETUP(replies_to_other_requests_are_skipped, setup, teardown),
            DH_TEST_SETUP(eintr_is_retried, setup, teardown),
            DH_TEST_SETUP(enobufs_restarts_a_read_and_resets_the_callback, setup, teardown),
            DH_TEST_SETUP(enobufs_fails_a_write, setup, teardown),
            DH_TEST_SETUP(interrupted_dump_is_asked_again_then_given_up, setup, teardown),
            DH_TEST_SETUP(truncated_datagram_is_a_bad_message, setup, teardown),
            DH_TEST_SETUP(done_with_an_error_status_fails_the_dump, setup, teardown),
            DH_TEST_SETUP(malformed_error_reply_is_a_bad_message, setup, teardown),
            DH_TEST_SETUP(callback_error_ends_the_request_after_draining, setup, teardown),
            DH_TEST(transport_failures_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
