/* The real transport: a netlink socket through libmnl (NETLINK_ROUTE for rtnetlink,
 * NETLINK_GENERIC for devlink). Tests use a fake peer instead (tests/kit/fake_nlpeer), handed to
 * the code under test through its opener (the CLI's cli_context.nl_open). */
#include "netlink/netlink-internal.h"

#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <libmnl/libmnl.h>

#include "util/macro.h"

/* A request that gets no answer within this time is reported instead of hanging the daemon. */
#define NL_RECV_TIMEOUT_S 30

struct nl_socket {
    struct mnl_socket *mnl;
    uint8_t *buf;
    size_t size;
};

static int socket_send(void *userdata, const struct nlmsghdr *nlh)
{
    struct nl_socket *s = userdata;
    ssize_t n = mnl_socket_sendto(s->mnl, nlh, nlh->nlmsg_len);
    if (n < 0)
        return negative_errno();
    return (size_t)n == nlh->nlmsg_len ? 0 : -EIO;
}

static ssize_t recv_error(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : negative_errno();
}

static ssize_t socket_recv(void *userdata, const void **ret)
{
    struct nl_socket *s = userdata;
    /* Peek at the datagram's real size first: a PF with many VFs answers RTM_GETLINK with one
     * message bigger than any fixed buffer we would pick, and a truncated datagram is lost. */
    ssize_t need = recv(mnl_socket_get_fd(s->mnl), NULL, 0, MSG_PEEK | MSG_TRUNC);
    if (need < 0)
        return recv_error();
    size_t want = (size_t)need > DH_NL_RECV_BUFFER_MIN ? (size_t)need : DH_NL_RECV_BUFFER_MIN;
    if (want > s->size) {
        uint8_t *b = realloc(s->buf, want);
        if (!b)
            return -ENOMEM;
        s->buf = b;
        s->size = want;
    }
    ssize_t n = mnl_socket_recvfrom(s->mnl, s->buf, s->size);
    if (n < 0)
        return recv_error();
    *ret = s->buf;
    return n;
}

static void socket_free(void *userdata)
{
    struct nl_socket *s = userdata;
    if (!s)
        return;
    if (s->mnl)
        mnl_socket_close(s->mnl);
    free(s->buf);
    free(s);
}

static const struct dh_nl_transport socket_transport = {
        .send = socket_send,
        .recv = socket_recv,
        .free = socket_free,
};

static const char *protocol_name(int protocol, char *buf, size_t size)
{
    if (protocol == NETLINK_ROUTE)
        return "NETLINK_ROUTE";
    if (protocol == NETLINK_GENERIC)
        return "NETLINK_GENERIC";
    snprintf(buf, size, "netlink protocol %d", protocol);
    return buf;
}

int dh_nl_open(struct dh_nl **ret, struct dh_error *err)
{
    return dh_nl_open_protocol(NETLINK_ROUTE, ret, err);
}

int dh_nl_open_protocol(int protocol, struct dh_nl **ret, struct dh_error *err)
{
    assert_return(ret, -EINVAL);
    char pbuf[32];
    const char *pname = protocol_name(protocol, pbuf, sizeof(pbuf));
    struct nl_socket *s = calloc(1, sizeof(*s));
    if (!s)
        return dh_error_set(err, -ENOMEM, "netlink: out of memory");
    s->mnl = mnl_socket_open2(protocol, SOCK_CLOEXEC);
    if (!s->mnl) {
        int r = negative_errno();
        socket_free(s);
        return dh_error_set(err, r, "netlink: cannot open a %s socket: %s", pname, strerror(-r));
    }
    if (mnl_socket_bind(s->mnl, 0, MNL_SOCKET_AUTOPID) < 0) {
        int r = negative_errno();
        socket_free(s);
        return dh_error_set(err, r, "netlink: cannot bind the %s socket: %s", pname, strerror(-r));
    }
    /* Extended acks carry the driver's reason for a refusal; capped acks keep the kernel from
     * echoing our whole request back. Kernels before 4.12 lack them and still work. */
    int one = 1;
    (void)mnl_socket_setsockopt(s->mnl, NETLINK_EXT_ACK, &one, sizeof(one));
    (void)mnl_socket_setsockopt(s->mnl, NETLINK_CAP_ACK, &one, sizeof(one));
    struct timeval tv = {.tv_sec = NL_RECV_TIMEOUT_S};
    (void)setsockopt(mnl_socket_get_fd(s->mnl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

    struct dh_nl *nl = dh_nl_new(&socket_transport, s, mnl_socket_get_portid(s->mnl));
    if (!nl) {
        socket_free(s);
        return dh_error_set(err, -ENOMEM, "netlink: out of memory");
    }
    *ret = nl;
    return 0;
}
