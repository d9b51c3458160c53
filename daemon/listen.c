/* Listening sockets: see listen.h. */
#include "listen.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "util/macro.h"

static int mkdir_parents(const char *path, struct dh_error *err)
{
    _cleanup_free_ char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    char *slash = strrchr(p, '/');
    if (!slash || slash == p)
        return 0;
    *slash = '\0';
    for (char *s = p + 1;; s++) {
        bool last = *s == '\0';
        if (*s == '/' || last) {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return dh_error_set(err, negative_errno(), "cannot create the socket directory %s: %s", p,
                                    strerror(errno));
            *s = c;
        }
        if (last)
            break;
    }
    return 0;
}

static int make_addr(const char *path, struct sockaddr_un *sa, socklen_t *len, struct dh_error *err)
{
    *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(sa->sun_path))
        return dh_error_set(err, -ENAMETOOLONG,
                            "socket path %s is longer than the %zu bytes a Unix socket allows", path,
                            sizeof(sa->sun_path) - 1);
    memcpy(sa->sun_path, path, n + 1);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return 0;
}

/* Something is at path: a stale socket is removed (0); a live one or a non-socket is refused. */
static int clear_stale(const char *path, struct dh_error *err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : dh_error_set(err, negative_errno(), "%s: %s", path, strerror(errno));
    if (!S_ISSOCK(st.st_mode))
        return dh_error_set(err, -EEXIST, "%s exists and is not a socket: remove it or pass another --socket",
                            path);
    struct sockaddr_un sa;
    socklen_t len;
    int r = make_addr(path, &sa, &len, err);
    if (r < 0)
        return r;
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return dh_error_set(err, negative_errno(), "socket: %s", strerror(errno));
    /* a full backlog answers EAGAIN: somebody is listening */
    if (connect(fd, (struct sockaddr *)&sa, len) == 0 || errno == EAGAIN || errno == EINPROGRESS) {
        struct ucred cred = {0};
        socklen_t cl = sizeof(cred);
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl);
        return dh_error_set(err, -EADDRINUSE,
                            "another process (pid %d) is listening on %s, probably another dpuhostd: stop it "
                            "first, or pass another --socket",
                            (int)cred.pid, path);
    }
    if (errno != ECONNREFUSED)
        return dh_error_set(err, negative_errno(), "cannot tell whether %s is in use: connect: %s", path,
                            strerror(errno));
    if (unlink(path) < 0 && errno != ENOENT)
        return dh_error_set(err, negative_errno(), "cannot remove the stale socket %s: %s", path,
                            strerror(errno));
    return 0;
}

int dhd_unix_listen(const char *path, mode_t mode, gid_t group, struct dhd_unix_socket *ret,
                    struct dh_error *err)
{
    *ret = (struct dhd_unix_socket){.fd = -1};
    struct sockaddr_un sa;
    socklen_t len;
    int r = make_addr(path, &sa, &len, err);
    if (r < 0)
        return r;
    if ((r = mkdir_parents(path, err)) < 0 || (r = clear_stale(path, err)) < 0)
        return r;
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return dh_error_set(err, negative_errno(), "socket: %s", strerror(errno));
    /* bind() creates the file with 0777 & ~umask: with this umask it never exists with more
     * permissions than configured, not even for a moment (no other thread creates files now) */
    mode_t old = umask(~mode & 0777);
    int b = bind(fd, (struct sockaddr *)&sa, len);
    umask(old);
    if (b < 0)
        return dh_error_set(err, negative_errno(), "cannot create the socket %s: %s", path, strerror(errno));
    const char *what = NULL;
    if (chmod(path, mode) < 0)
        what = "chmod";
    else if (group != (gid_t)-1 && chown(path, (uid_t)-1, group) < 0)
        what = "chown";
    else if (listen(fd, SOMAXCONN) < 0)
        what = "listen";
    struct stat st;
    if (!what && stat(path, &st) < 0)
        what = "stat";
    if (what) {
        r = negative_errno();
        unlink(path);
        return dh_error_set(err, r, "cannot set up the socket %s: %s: %s%s", path, what, strerror(-r),
                            streq(what, "chown") ? " (the socket's group is the first of allowed_gids)" : "");
    }
    ret->path = strdup(path);
    if (!ret->path) {
        unlink(path);
        return -ENOMEM;
    }
    ret->dev = st.st_dev;
    ret->ino = st.st_ino;
    ret->fd = TAKE_FD(fd);
    return 0;
}

void dhd_unix_close(struct dhd_unix_socket *s)
{
    if (s->path) {
        struct stat st;
        /* a newer dpuhostd may have replaced it meanwhile: that one is not ours to remove */
        if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
            unlink(s->path);
        free(s->path);
    }
    if (s->fd >= 0)
        close(s->fd);
    *s = (struct dhd_unix_socket){.fd = -1};
}

int dhd_tcp_listen(const char *spec, int *ret_fd, char *ret_name, size_t size, struct dh_error *err)
{
    _cleanup_free_ char *host = strdup(spec);
    if (!host)
        return -ENOMEM;
    char *colon = strrchr(host, ':');
    if (!colon || colon == host || !colon[1])
        return dh_error_set(err, -EINVAL, "--tcp %s: give ADDRESS:PORT, e.g. 127.0.0.1:7411 or [::1]:7411",
                            spec);
    *colon = '\0';
    const char *port = colon + 1, *addr = host;
    if (host[0] == '[') {
        size_t n = strlen(host);
        if (n < 3 || host[n - 1] != ']')
            return dh_error_set(err, -EINVAL, "--tcp %s: an IPv6 address goes in brackets: [::1]:7411", spec);
        host[n - 1] = '\0';
        addr = host + 1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(addr, port, &hints, &ai);
    if (g != 0)
        return dh_error_set(err, -EINVAL, "--tcp %s: %s (give a numeric address and port)", spec,
                            gai_strerror(g));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int r = 0;
    const char *what = "socket";
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        what = "bind";
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            what = "listen";
            if (listen(fd, SOMAXCONN) == 0)
                what = NULL;
        }
    }
    if (what) {
        r = negative_errno();
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return dh_error_set(err, r, "--tcp %s: %s: %s", spec, what, strerror(-r));
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char a[INET6_ADDRSTRLEN] = "?", p[16] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        getnameinfo((struct sockaddr *)&ss, sl, a, sizeof(a), p, sizeof(p), NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(ret_name, size, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", a, p);
    *ret_fd = fd;
    return 0;
}
