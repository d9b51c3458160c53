/* Reading and writing small files relative to a directory fd (sysfs attributes, procfs tables,
 * state files). Kept free of any knowledge of what the files mean. */
#include "util/fileio.h"

#include <ctype.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>

#include "util/macro.h"

char *dh_strip_trailing(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int dh_read_full_at(int dirfd, const char *path, size_t max_bytes, char **ret, size_t *ret_size)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return negative_errno();

    size_t cap = max_bytes < 4096 ? max_bytes : 4096, len = 0;
    _cleanup_free_ char *buf = malloc(cap + 1);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (len == cap) {
            if (cap >= max_bytes) {
                /* Full: the file fits only if nothing follows. */
                char extra;
                ssize_t n = read(fd, &extra, 1);
                if (n < 0)
                    return negative_errno();
                if (n > 0)
                    return -EFBIG;
                break;
            }
            size_t ncap = cap * 2 > max_bytes ? max_bytes : cap * 2;
            char *nbuf = realloc(buf, ncap + 1);
            if (!nbuf)
                return -ENOMEM;
            buf = nbuf;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return negative_errno();
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    if (ret_size)
        *ret_size = len;
    *ret = TAKE_PTR(buf);
    return 0;
}

int dh_read_attr_at(int dirfd, const char *path, char *buf, size_t size)
{
    if (size < 2)
        return -EINVAL;
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return negative_errno();
    /* sysfs hands out a whole attribute in one read, and regular files (fake trees) end a short
     * read only at EOF: one read suffices unless it fills the buffer. This halves the syscalls of
     * an inventory scan. */
    ssize_t n;
    do {
        n = read(fd, buf, size - 1);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return negative_errno();
    if ((size_t)n == size - 1) {
        char extra;
        ssize_t more = read(fd, &extra, 1);
        if (more > 0)
            return -EFBIG;
    }
    buf[n] = '\0';
    /* An embedded NUL ends the value, as it would for any string consumer. */
    return (int)strlen(dh_strip_trailing(buf));
}

int dh_read_attr_alloc_at(int dirfd, const char *path, char **ret)
{
    char buf[4096];
    int r = dh_read_attr_at(dirfd, path, buf, sizeof(buf));
    if (r < 0)
        return r;
    char *s = strdup(buf);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return r;
}

int dh_readlink_at(int dirfd, const char *path, char **ret)
{
    char buf[PATH_MAX];
    ssize_t n = readlinkat(dirfd, path, buf, sizeof(buf) - 1);
    if (n < 0)
        return negative_errno();
    buf[n] = '\0';
    char *s = strdup(buf);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

int dh_readlink_basename_at(int dirfd, const char *path, char **ret)
{
    char buf[PATH_MAX];
    ssize_t n = readlinkat(dirfd, path, buf, sizeof(buf) - 1);
    if (n < 0)
        return negative_errno();
    buf[n] = '\0';
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    const char *base = strrchr(buf, '/');
    base = base ? base + 1 : buf;
    if (!*base)
        return -EINVAL;
    char *s = strdup(base);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

int dh_write_attr_at(int dirfd, const char *path, const char *s)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return negative_errno();
    size_t len = strlen(s);
    ssize_t n;
    do {
        n = write(fd, s, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return negative_errno();
    if ((size_t)n != len)
        return -EIO;
    return 0;
}

int dh_write_atomic_at(int dirfd, const char *path, const void *data, size_t size, mode_t mode)
{
    _cleanup_free_ char *dir_copy = strdup(path);
    _cleanup_free_ char *tmp = NULL;
    if (!dir_copy)
        return -ENOMEM;
    if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
        return -ENOMEM;

    _cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return negative_errno();
    const char *p = data;
    size_t left = size;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int r = negative_errno();
            unlinkat(dirfd, tmp, 0);
            return r;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) < 0 || renameat(dirfd, tmp, dirfd, path) < 0) {
        int r = negative_errno();
        unlinkat(dirfd, tmp, 0);
        return r;
    }
    /* The rename is durable only once the directory entry is. */
    const char *dir = dirname(dir_copy);
    _cleanup_close_ int dfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return negative_errno();
    if (fsync(dfd) < 0)
        return negative_errno();
    return 0;
}

bool dh_exists_at(int dirfd, const char *path)
{
    return faccessat(dirfd, path, F_OK, 0) == 0;
}

DIR *dh_opendir_at(int dirfd, const char *path)
{
    int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return d;
}
