/* One operation per function at a time, across processes (two CLIs, the CLI and the daemon): an
 * flock on run/dpuhost/lock/<bdf>. The kernel drops it when the holder dies, so a crash never
 * leaves a function locked. */
#include "vfio-internal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "util/macro.h"

static int mkdir_at(int dirfd, const char *path)
{
    return mkdirat(dirfd, path, 0755) < 0 && errno != EEXIST ? negative_errno() : 0;
}

int vfio_lock(struct dh_host *host, const char *bdf, struct dh_error *err)
{
    int rootfd = dh_host_fd(host);
    int r;
    if ((r = mkdir_at(rootfd, "run/dpuhost")) < 0 || (r = mkdir_at(rootfd, "run/dpuhost/lock")) < 0)
        return dh_error_set(err, r, "%s: cannot create the lock directory run/dpuhost/lock under %s: %s", bdf,
                            dh_host_root(host), strerror(-r));
    char path[128];
    snprintf(path, sizeof(path), "run/dpuhost/lock/%s", bdf);
    int fd = openat(rootfd, path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        r = negative_errno();
        return dh_error_set(err, r, "%s: cannot open its lock file: %s", bdf, strerror(-r));
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        r = negative_errno();
        close(fd);
        if (r == -EWOULDBLOCK)
            return dh_error_set(err, -EBUSY,
                                "%s: another dpuhost operation on it is in progress; try again when it "
                                "is done",
                                bdf);
        return dh_error_set(err, r, "%s: cannot lock it: %s", bdf, strerror(-r));
    }
    return fd;
}
