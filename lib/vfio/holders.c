/* Who has /dev/vfio/<group> open: every process's fd links under proc/<pid>/fd. Unbinding a device
 * from vfio-pci while userspace holds it blocks in the kernel until it lets go (kata #13837 raced
 * QEMU's exit and left a VF unbound), so restore waits for this list to be empty first. */
#include "vfio-internal.h"

#include <ctype.h>
#include <fcntl.h>

#include "util/fileio.h"
#include "util/macro.h"

static bool holds(int procfd, const char *pid, const char *target)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/fd", pid);
    _cleanup_closedir_ DIR *d = dh_opendir_at(procfd, path);
    if (!d)
        return false; /* exited, or not ours to look at */
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char link[4096];
        ssize_t n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        if (streq(link, target))
            return true;
    }
    return false;
}

int vfio_group_holders(struct dh_host *host, int group, char *buf, size_t size)
{
    if (size)
        buf[0] = '\0';
    _cleanup_closedir_ DIR *d = dh_opendir_at(dh_host_fd(host), "proc");
    if (!d)
        return 0;
    char target[64];
    snprintf(target, sizeof(target), "/dev/vfio/%d", group);
    size_t used = 0;
    int count = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0]) || !holds(dirfd(d), de->d_name, target))
            continue;
        count++;
        char comm_path[300], comm[64] = "?";
        snprintf(comm_path, sizeof(comm_path), "%s/comm", de->d_name);
        dh_read_attr_at(dirfd(d), comm_path, comm, sizeof(comm));
        int w = snprintf(buf + used, size - used, "%spid %s (%s)", used ? ", " : "", de->d_name, comm);
        if (w > 0 && (size_t)w < size - used)
            used += (size_t)w;
    }
    return count;
}
