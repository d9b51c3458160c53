/* struct dh_host: the configurable root every kernel-facing path is relative to. */
#include <dpuhost/host.h>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "util/fileio.h"
#include "util/macro.h"

struct dh_host {
    char *root;
    int fd;
    const struct dh_host_ops *ops;
    void *userdata;
};

static int real_write_attr(void *userdata, struct dh_host *host, const char *path, const char *value)
{
    (void)userdata;
    return dh_write_attr_at(host->fd, path, value);
}

/* modprobe is the only loader that resolves dependencies and options the way the distribution
 * configured them; a module loader of our own would not know either. */
static int real_load_module(void *userdata, struct dh_host *host, const char *name, struct dh_error *err)
{
    (void)userdata;
    if (!dh_host_is_real_root(host))
        return dh_error_set(err, -EOPNOTSUPP,
                            "cannot load module %s under host root %s: modprobe only works on the real root",
                            name, host->root);
    pid_t pid = fork();
    if (pid < 0)
        return dh_error_set(err, negative_errno(), "cannot load module %s: fork failed", name);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            dup2(devnull, STDOUT_FILENO);
        }
        execlp("modprobe", "modprobe", "--", name, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return dh_error_set(err, negative_errno(), "cannot load module %s: waitpid failed", name);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return dh_error_set(err, -ENOENT, "cannot load module %s: modprobe not found (install kmod)", name);
    return dh_error_set(err, -ENOENT, "modprobe %s failed: is the module built for this kernel?", name);
}

static const struct dh_host_ops real_ops = {
        .write_attr = real_write_attr,
        .load_module = real_load_module,
};

int dh_host_new(const char *root, struct dh_host **ret, struct dh_error *err)
{
    assert_return(ret, -EINVAL);
    if (!root || !*root)
        root = "/";

    _cleanup_free_ char *norm = strdup(root);
    if (!norm)
        return -ENOMEM;
    size_t n = strlen(norm);
    while (n > 1 && norm[n - 1] == '/')
        norm[--n] = '\0';

    _cleanup_close_ int fd = open(norm, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int r = negative_errno();
        if (r == -ENOENT)
            return dh_error_set(err, r, "host root %s does not exist: pass an existing directory with --root",
                                norm);
        if (r == -ENOTDIR)
            return dh_error_set(err, r, "host root %s is not a directory: pass a directory with --root",
                                norm);
        return dh_error_set(err, r, "cannot open host root %s: %s", norm, strerror(-r));
    }
    struct stat st;
    if (fstatat(fd, "sys", &st, 0) < 0 || !S_ISDIR(st.st_mode))
        return dh_error_set(err, -ENOENT,
                            "host root %s holds no sys/ directory: point --root (or DPUHOST_ROOT) at a "
                            "host root or a fake tree",
                            norm);

    struct dh_host *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->root = TAKE_PTR(norm);
    h->fd = TAKE_FD(fd);
    h->ops = &real_ops;
    *ret = h;
    return 0;
}

void dh_host_free(struct dh_host *host)
{
    if (!host)
        return;
    if (host->fd >= 0)
        close(host->fd);
    free(host->root);
    free(host);
}

void dh_host_set_ops(struct dh_host *host, const struct dh_host_ops *ops, void *userdata)
{
    if (!host)
        return;
    host->ops = ops ? ops : &real_ops;
    host->userdata = ops ? userdata : NULL;
}

const char *dh_host_root(const struct dh_host *host)
{
    return host ? host->root : NULL;
}

int dh_host_fd(const struct dh_host *host)
{
    return host ? host->fd : -EBADF;
}

bool dh_host_is_real_root(const struct dh_host *host)
{
    return host && streq(host->root, "/");
}

char *dh_host_path(const struct dh_host *host, const char *relpath)
{
    char *p;
    while (*relpath == '/')
        relpath++;
    if (asprintf(&p, "%s/%s", streq(host->root, "/") ? "" : host->root, relpath) < 0)
        return NULL;
    return p;
}

int dh_host_write_attr(struct dh_host *host, const char *relpath, const char *value)
{
    assert_return(host && relpath && value, -EINVAL);
    while (*relpath == '/')
        relpath++;
    if (!host->ops->write_attr)
        return -EOPNOTSUPP;
    return host->ops->write_attr(host->userdata, host, relpath, value);
}

int dh_host_load_module(struct dh_host *host, const char *name, struct dh_error *err)
{
    assert_return(host && name, -EINVAL);
    if (!host->ops->load_module)
        return dh_error_set(err, -EOPNOTSUPP, "cannot load module %s: no module loader", name);
    return host->ops->load_module(host->userdata, host, name, err);
}
