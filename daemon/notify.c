/* The service manager protocol is one datagram of newline-separated assignments to the AF_UNIX
 * socket named in $NOTIFY_SOCKET, a path or, with a leading '@', an abstract name (sd_notify(3)).
 * Fifteen lines of our own instead of a libsystemd dependency for one call. */
#include "notify.h"

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "util/macro.h"

int dhd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
        return -EINVAL;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return negative_errno();
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/' ? 1 : 0));
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
        return negative_errno();
    return 0;
}
