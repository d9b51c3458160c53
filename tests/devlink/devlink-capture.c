/* Records what the kernel answers to the devlink family resolution and to a DEVLINK_CMD_PORT_GET
 * dump, byte for byte, as the hex recordings the unit tests replay (fake_dl_load_hex()). Run in the
 * lab (lab/scenarios/representors.sh) against netdevsim. It talks to the kernel with plain libmnl on
 * purpose: a recording made through dpuhost's own netlink code could not catch that code's
 * mistakes. Usage: devlink-capture OUT_DIR (writes getfamily.hex and port-dump.hex). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/devlink.h>
#include <linux/genetlink.h>

static void die(const char *what)
{
    fprintf(stderr, "devlink-capture: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Sends nlh and writes every message of the answer, one per line, until NLMSG_DONE or NLMSG_ERROR.
 * Returns the devlink family id when the answer is a CTRL_CMD_NEWFAMILY, else 0. */
static uint16_t exchange(struct mnl_socket *s, struct nlmsghdr *nlh, FILE *out)
{
    if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0)
        die("send");
    static uint8_t buf[1 << 16];
    uint16_t family = 0;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(s, buf, sizeof(buf));
        if (n < 0)
            die("recv");
        int len = (int)n;
        for (const struct nlmsghdr *m = (const void *)buf; mnl_nlmsg_ok(m, len);
             m = mnl_nlmsg_next(m, &len)) {
            for (uint32_t i = 0; i < m->nlmsg_len; i++)
                fprintf(out, "%02x", ((const uint8_t *)m)[i]);
            fputc('\n', out);
            if (m->nlmsg_type == GENL_ID_CTRL) {
                const struct nlattr *a;
                mnl_attr_for_each(a, m, GENL_HDRLEN)
                {
                    if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
                        family = mnl_attr_get_u16(a);
                }
            }
            if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_ERROR)
                return family;
        }
    }
}

static FILE *open_out(const char *dir, const char *name, const char *what)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "we");
    if (!f)
        die(path);
    struct utsname u;
    uname(&u);
    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
    fprintf(f, "# %s, recorded by tests/devlink/devlink-capture on Linux %s %s (%s), %s.\n", what, u.release,
            u.version, u.machine, when);
    fprintf(f, "# One netlink message per line, in hex, exactly as the kernel sent it.\n");
    return f;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: devlink-capture OUT_DIR\n");
        return 2;
    }
    struct mnl_socket *s = mnl_socket_open(NETLINK_GENERIC);
    if (!s || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0)
        die("NETLINK_GENERIC socket");
    uint8_t req[256];
    uint32_t seq = (uint32_t)time(NULL);

    struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
    nlh->nlmsg_type = GENL_ID_CTRL;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = ++seq;
    struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
    g->cmd = CTRL_CMD_GETFAMILY;
    g->version = 2;
    mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, DEVLINK_GENL_NAME);
    FILE *out = open_out(argv[1], "getfamily.hex",
                         "The answer to CTRL_CMD_GETFAMILY \"devlink\" (with NLM_F_ACK)");
    uint16_t family = exchange(s, nlh, out);
    fclose(out);
    if (!family) {
        fprintf(stderr, "devlink-capture: the kernel has no devlink family\n");
        return 1;
    }

    nlh = mnl_nlmsg_put_header(req);
    nlh->nlmsg_type = family;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++seq;
    g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
    g->cmd = DEVLINK_CMD_PORT_GET;
    g->version = DEVLINK_GENL_VERSION;
    out = open_out(argv[1], "port-dump.hex", "The answer to a DEVLINK_CMD_PORT_GET dump");
    exchange(s, nlh, out);
    fclose(out);
    mnl_socket_close(s);
    return 0;
}
