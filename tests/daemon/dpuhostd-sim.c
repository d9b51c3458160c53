/* dpuhostd-sim: dpuhostd with the kernel simulator (tests/kit/fake_kernel.h) behind its host root, so
 * that claims bind and restore for real against a fake tree, across restarts and SIGKILLs. A
 * test-only build: never installed; the production binary has no such hook, no LD_PRELOAD and no
 * environment switch. It runs the very same dh_daemon_run().
 *
 * The simulated kernel runs in a process of its own, forked before the daemon starts any thread,
 * and the daemon's kernel-facing writes reach it over a socketpair. That is what the real kernel
 * is to a process: a write(2) that has begun is finished even when the writer is SIGKILLed, so a
 * crash test sees the kernel's states and never a half-applied simulator update (a driver link
 * without its uevent line, say). A new daemon waits for the previous life's kernel process to
 * finish (a lock they share) before it reads the tree. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "fake_kernel.h"
#include "fake_sysfs.h"

enum {
    OP_WRITE,
    OP_LOAD,
};

struct request {
    int op;
    char path[512];
    char value[4200];
};

struct reply {
    int r;
    char message[DH_ERROR_MESSAGE_MAX];
};

static int kernel_fd = -1;
static pthread_mutex_t kernel_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the daemon's side: every kernel-facing operation is a round trip ---- */

static int call(const struct request *rq, struct dh_error *err)
{
    struct reply rp = {.r = -EIO};
    pthread_mutex_lock(&kernel_lock);
    if (send(kernel_fd, rq, sizeof(*rq), MSG_NOSIGNAL) != sizeof(*rq) ||
        recv(kernel_fd, &rp, sizeof(rp), 0) != sizeof(rp))
        rp = (struct reply){.r = -EIO, .message = "dpuhostd-sim: the simulated kernel is gone"};
    pthread_mutex_unlock(&kernel_lock);
    if (rp.r < 0 && rp.message[0])
        dh_error_set(err, rp.r, "%s", rp.message);
    return rp.r;
}

static int remote_write(void *userdata, struct dh_host *host, const char *path, const char *value)
{
    (void)userdata;
    (void)host;
    struct request rq = {.op = OP_WRITE};
    snprintf(rq.path, sizeof(rq.path), "%s", path);
    snprintf(rq.value, sizeof(rq.value), "%s", value);
    return call(&rq, NULL);
}

static int remote_load(void *userdata, struct dh_host *host, const char *name, struct dh_error *err)
{
    (void)userdata;
    (void)host;
    struct request rq = {.op = OP_LOAD};
    snprintf(rq.path, sizeof(rq.path), "%s", name);
    return call(&rq, err);
}

static const struct dh_host_ops remote_ops = {.write_attr = remote_write, .load_module = remote_load};

/* ---- the kernel's side ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The kit can only create trees, and the simulator needs one for the tree the test built. So: create
 * an empty one in a scratch directory next to it and replace it with a symlink to the real one;
 * every path the simulator builds goes through that link. (A fake_tree_open() in the kit would make
 * this unnecessary.) */
static struct fake_tree *open_tree(const char *root, char *link_path, size_t size, char *scratch,
                                   size_t ssize)
{
    char parent[4096];
    snprintf(parent, sizeof(parent), "%s", root);
    snprintf(scratch, ssize, "%s/simd.XXXXXX", dirname(parent));
    if (!mkdtemp(scratch))
        return NULL;
    setenv("TMPDIR", scratch, 1);
    struct fake_tree *t = fake_tree_new();
    snprintf(link_path, size, "%s", fake_tree_root(t));
    nftw(link_path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (symlink(root, link_path) < 0) {
        fake_tree_free(t);
        return NULL;
    }
    return t;
}

static void trace_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace_line(int fd, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (fd >= 0 && write(fd, line, (size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1)) < 0) {
        /* tracing is best effort */
    }
}

/* The simulated kernel's process: applies requests until the daemon is gone (EOF), each one to the
 * end. DPUHOSTD_SIM_TRACE=FILE appends every write and its result to FILE. */
static void kernel_main(int fd, const char *root)
{
    char link_path[4096], scratch[4096];
    struct fake_tree *t = open_tree(root, link_path, sizeof(link_path), scratch, sizeof(scratch));
    struct dh_host *host = NULL;
    if (!t || dh_host_new(root, &host, NULL) < 0)
        _exit(1);
    struct fake_kernel *k = fake_kernel_new(t);
    fake_kernel_add_default_drivers(k);
    fake_kernel_attach(k, host);
    /* what a previous life of the daemon loaded is still loaded: the kernel outlives the daemon */
    static const char *const modules[][2] = {
            {"vfio_pci", "vfio-pci"}, {"vfio", "vfio"}, {"vfio_iommu_type1", "vfio_iommu_type1"}};
    for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/sys/module/%s", root, modules[i][0]);
        if (access(path, F_OK) == 0)
            dh_host_load_module(host, modules[i][1], NULL);
    }
    const char *trace = getenv("DPUHOSTD_SIM_TRACE");
    int tfd = trace && *trace ? open(trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    pid_t daemon = getppid();
    struct request rq;
    while (recv(fd, &rq, sizeof(rq), 0) == sizeof(rq)) {
        struct reply rp = {0};
        struct dh_error err = {0};
        if (rq.op == OP_WRITE) {
            rp.r = dh_host_write_attr(host, rq.path, rq.value);
            trace_line(tfd, "%d %s=%.*s -> %d\n", (int)daemon, rq.path, (int)strcspn(rq.value, "\n"),
                       rq.value, rp.r);
        } else {
            rp.r = dh_host_load_module(host, rq.path, &err);
            snprintf(rp.message, sizeof(rp.message), "%s", err.message);
        }
        if (send(fd, &rp, sizeof(rp), MSG_NOSIGNAL) < 0)
            break; /* the daemon died waiting: the write is done all the same */
    }
    if (tfd >= 0)
        close(tfd);
    dh_host_free(host);
    fake_kernel_free(k);
    unlink(link_path); /* the link only: fake_tree_free() then finds nothing to remove */
    fake_tree_free(t);
    rmdir(scratch);
    _exit(0);
}

static int host_opened(void *userdata, struct dh_host *host, struct dh_error *err)
{
    (void)userdata;
    if (dh_host_is_real_root(host))
        return dh_error_set(err, -EINVAL,
                            "dpuhostd-sim simulates the kernel on fake trees only: pass --root DIR");
    const char *root = dh_host_root(host);
    /* one kernel per tree at a time: wait until the previous life's kernel process has finished its
     * last write (the lock is held through the daemon's and its kernel's copies of this fd) */
    char lock[4200], parent[4096];
    snprintf(parent, sizeof(parent), "%s", root);
    snprintf(lock, sizeof(lock), "%s/sim-kernel.lock", dirname(parent));
    int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lfd < 0 || flock(lfd, LOCK_EX) < 0)
        return dh_error_set(err, -errno, "dpuhostd-sim: cannot lock %s: %s", lock, strerror(errno));
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return dh_error_set(err, -errno, "dpuhostd-sim: socketpair: %s", strerror(errno));
    /* no thread exists yet (the hook runs first thing), so fork() is safe */
    pid_t pid = fork();
    if (pid < 0)
        return dh_error_set(err, -errno, "dpuhostd-sim: fork: %s", strerror(errno));
    if (pid == 0) {
        close(sv[0]);
        kernel_main(sv[1], root);
    }
    close(sv[1]);
    kernel_fd = sv[0];
    dh_host_set_ops(host, &remote_ops, NULL);
    return 0; /* lfd stays open (and locked) for the daemon's life */
}

int main(int argc, char **argv)
{
    struct dh_daemon_hooks hooks = {.host_opened = host_opened};
    int r = dh_daemon_run(argc, argv, &hooks);
    if (kernel_fd >= 0)
        close(kernel_fd); /* the kernel process sees EOF and exits */
    return r;
}
