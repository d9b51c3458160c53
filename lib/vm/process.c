/* QEMU as a process: spawned in its own session (so that it outlives a restart of dpuhostd, which
 * re-attaches to it), supervised through a pidfd (which works for a process we did not fork), and
 * recognised after a restart by its start time, which guards against pid reuse. */
#include "vm-internal.h"

#include <fcntl.h>
#include <signal.h>
#include <linux/kvm.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "util/fileio.h"
#include "util/macro.h"

extern char **environ;

int pidfd_open_pid(pid_t pid)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? negative_errno() : fd;
}

int64_t proc_start_time(struct dh_host *host, pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "proc/%d/stat", (int)pid);
    if (pid <= 0 || dh_read_attr_at(dh_host_fd(host), path, buf, sizeof(buf)) < 0)
        return -1;
    /* "pid (comm) state ppid ...": comm may contain spaces and parentheses: skip to the last ')' */
    const char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    /* field 3 (state) follows; starttime is field 22 */
    int field = 2;
    for (p++; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    char *end;
    long long v = strtoll(p, &end, 10);
    return end == p ? -1 : v;
}

bool kvm_usable(struct dh_host *host)
{
    int fd = openat(dh_host_fd(host), "dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false;
    int v = ioctl(fd, KVM_GET_API_VERSION, 0);
    close(fd);
    return v == KVM_API_VERSION;
}

int vm_spawn(struct dh_vms *vms, struct vm *vm, char **argv, struct dh_error *err)
{
    int logfd = open(vm->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (logfd < 0)
        return dh_error_set(err, negative_errno(), "VM %s: cannot open its QEMU log %s", vm->spec.name,
                            vm->log_path);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, logfd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, logfd, STDERR_FILENO);
    /* its own session: no signal meant for dpuhostd (or its terminal) reaches the VM */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    pid_t pid;
    int r = posix_spawnp(&pid, vms->qemu_binary, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(logfd);
    if (r != 0)
        return dh_error_set(err, -r, "VM %s: cannot run %s: %s (install qemu-system-x86)", vm->spec.name,
                            vms->qemu_binary, strerror(r));
    vm->pidfd = pidfd_open_pid(pid);
    vm->our_child = true;
    vm->exit_status = -1;
    vm->rec.pid = pid;
    vm->rec.pid_start = proc_start_time(vms->host, pid);
    if (vm->pidfd < 0)
        return dh_error_set(err, vm->pidfd,
                            "VM %s: pidfd_open(%d) failed: %s (kernel 5.3 or newer is needed)", vm->spec.name,
                            (int)pid, strerror(-vm->pidfd));
    return 0;
}

char *vm_log_tail(struct vm *vm)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    int fd = open(vm->log_path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        if (dh_read_full_at(AT_FDCWD, vm->log_path, 1 << 20, &buf, &len) < 0)
            buf = NULL;
    }
    if (!buf || !len)
        return strdup("(QEMU wrote nothing to its log)");
    /* the last 3 non-empty lines, joined with " | " */
    dh_strip_trailing(buf);
    const char *start = buf + strlen(buf);
    for (int lines = 0; start > buf && lines < 3;) {
        start--;
        if (*start == '\n')
            lines++;
    }
    if (*start == '\n')
        start++;
    char *out = strdup(start);
    for (char *c = out; c && *c; c++)
        if (*c == '\n')
            *c = '|';
    return out ? out : strdup("?");
}
