/* Kernel uevents: see uevent.h. The kernel's message (lib/kobject_uevent.c) is a header
 * "ACTION@DEVPATH" followed by NUL-terminated KEY=VALUE fields; udev's re-broadcasts on group 2
 * start with "libudev" and a binary header, and are not what we subscribe to. */
#include "uevent.h"

#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

#include "util/macro.h"

int dhd_uevent_parse(const char *buf, size_t len, struct dhd_uevent *ret)
{
    *ret = (struct dhd_uevent){0};
    const char *end = buf + len;
    const char *nul = memchr(buf, '\0', len);
    if (!nul || nul == buf)
        return -EINVAL;
    const char *at = memchr(buf, '@', (size_t)(nul - buf));
    if (!at || at == buf || at + 1 == nul)
        return -EINVAL;
    size_t action_len = (size_t)(at - buf);
    const char *devpath = at + 1;
    for (const char *p = nul + 1; p < end;) {
        const char *field_end = memchr(p, '\0', (size_t)(end - p));
        if (!field_end)
            return -EINVAL; /* the last field must be terminated too */
        const char *eq = memchr(p, '=', (size_t)(field_end - p));
        if (!eq || eq == p)
            return -EINVAL;
        size_t klen = (size_t)(eq - p);
        const char *v = eq + 1;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(p, k, klen) == 0)
        if (KEY("ACTION"))
            ret->action = v;
        else if (KEY("DEVPATH"))
            ret->devpath = v;
        else if (KEY("SUBSYSTEM"))
            ret->subsystem = v;
        else if (KEY("DRIVER"))
            ret->driver = v;
        else if (KEY("PCI_SLOT_NAME"))
            ret->pci_slot = v;
        else if (KEY("INTERFACE"))
            ret->interface = v;
        else if (KEY("SEQNUM")) {
            char *e;
            errno = 0;
            unsigned long long s = strtoull(v, &e, 10);
            if (errno || *e || e == v)
                return -EINVAL;
            ret->seqnum = s;
        }
#undef KEY
        p = field_end + 1;
    }
    /* the header and the fields say the same, or this is not the kernel talking */
    if (!ret->action || strlen(ret->action) != action_len || memcmp(ret->action, buf, action_len) != 0 ||
        !ret->devpath || !streq(ret->devpath, devpath))
        return -EINVAL;
    return 0;
}

bool dhd_uevent_is_relevant(const struct dhd_uevent *u)
{
    if (!u->subsystem || !u->action)
        return false;
    bool devices = streq(u->action, "add") || streq(u->action, "remove") || streq(u->action, "bind") ||
                   streq(u->action, "unbind");
    if (streq(u->subsystem, "pci") || streq(u->subsystem, "auxiliary"))
        return devices;
    /* a PCI function's netdev appears after its driver's bind event, and renames are "move":
     * the inventory lists netdev names. Virtual netdevs (veth, bridges) are not ours. */
    if (streq(u->subsystem, "net"))
        return (streq(u->action, "add") || streq(u->action, "remove") || streq(u->action, "move")) &&
               u->devpath && startswith(u->devpath, "/devices/pci");
    return false;
}

int dhd_uevent_open(int *ret_fd, struct dh_error *err)
{
    _cleanup_close_ int fd =
            socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
    if (fd < 0)
        return dh_error_set(err, negative_errno(), "uevents: cannot open a NETLINK_KOBJECT_UEVENT socket: %s",
                            strerror(errno));
    /* a burst of VF creation is hundreds of messages; root may exceed rmem_max */
    int size = 4 * 1024 * 1024;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return dh_error_set(err, negative_errno(), "uevents: cannot join the kernel's uevent group: %s",
                            strerror(errno));
    *ret_fd = TAKE_FD(fd);
    return 0;
}

struct dhd_uevents {
    int fd, stop_fd;
    int debounce_ms;
    dhd_uevents_fn on_change;
    void *userdata;
    pthread_t thread;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what is queued; true when something relevant (or an overrun) was seen. */
static bool drain(struct dhd_uevents *u)
{
    bool relevant = false;
    for (;;) {
        char buf[8192];
        struct sockaddr_storage from;
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n = recvmsg(u->fd, &mh, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == ENOBUFS)
                relevant = true; /* the kernel dropped messages: rescan to be sure */
            if (errno == EINTR || errno == ENOBUFS)
                continue;
            return relevant;
        }
        if (n == 0 || (mh.msg_flags & MSG_TRUNC))
            continue;
        /* only the kernel (port 0) speaks on group 1; anybody else could be forging */
        if (from.ss_family == AF_NETLINK && ((struct sockaddr_nl *)&from)->nl_pid != 0)
            continue;
        struct dhd_uevent ev;
        if (dhd_uevent_parse(buf, (size_t)n, &ev) == 0 && dhd_uevent_is_relevant(&ev))
            relevant = true;
    }
}

static void *run(void *userdata)
{
    struct dhd_uevents *u = userdata;
    long long first = 0, last = 0;
    bool pending = false;
    for (;;) {
        int timeout = -1;
        if (pending) {
            long long now = now_ms();
            long long due = last + u->debounce_ms, cap = first + 10LL * u->debounce_ms;
            if (cap < due)
                due = cap;
            timeout = due > now ? (int)(due - now) : 0;
        }
        struct pollfd p[2] = {{.fd = u->fd, .events = POLLIN}, {.fd = u->stop_fd, .events = POLLIN}};
        int r = poll(p, 2, timeout);
        if (r < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (r > 0 && (p[0].revents & (POLLIN | POLLERR)) && drain(u)) {
            last = now_ms();
            if (!pending)
                first = last;
            pending = true;
            continue;
        }
        if (r > 0 && (p[0].revents & (POLLHUP | POLLNVAL)))
            break;
        if (pending && r == 0) {
            pending = false;
            u->on_change(u->userdata);
        }
    }
    return NULL;
}

int dhd_uevents_start(int fd, int debounce_ms, dhd_uevents_fn on_change, void *userdata,
                      struct dhd_uevents **ret, struct dh_error *err)
{
    struct dhd_uevents *u = calloc(1, sizeof(*u));
    if (!u) {
        close(fd);
        return -ENOMEM;
    }
    *u = (struct dhd_uevents){.fd = fd,
                              .stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
                              .debounce_ms = debounce_ms > 0 ? debounce_ms : 1,
                              .on_change = on_change,
                              .userdata = userdata};
    int r = u->stop_fd < 0 ? negative_errno() : -pthread_create(&u->thread, NULL, run, u);
    if (r < 0) {
        if (u->stop_fd >= 0)
            close(u->stop_fd);
        close(fd);
        free(u);
        return dh_error_set(err, r, "uevents: cannot start the reader thread: %s", strerror(-r));
    }
    *ret = u;
    return 0;
}

void dhd_uevents_stop(struct dhd_uevents *u)
{
    if (!u)
        return;
    uint64_t one = 1;
    if (write(u->stop_fd, &one, sizeof(one)) < 0) {
        /* an eventfd write only fails on overflow, which one write cannot cause */
    }
    pthread_join(u->thread, NULL);
    close(u->stop_fd);
    close(u->fd);
    free(u);
}
