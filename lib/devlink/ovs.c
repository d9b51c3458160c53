/* The optional plug step: the representor into an Open vSwitch bridge with ovs-vsctl, the tool
 * every OVS installation has (talking OVSDB ourselves would mean a JSON-RPC client for one row).
 * ovs-vsctl runs without a shell, from PATH, with its own --timeout so that a dead ovsdb-server
 * cannot hang us, and --may-exist so that plugging twice is not an error. Its output is read into a
 * bounded buffer; a non-zero exit quotes its last line, which is where ovs-vsctl says why. */
#include "devlink/devlink-internal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/macro.h"

/* What execvp() searches when PATH is unset (confstr(_CS_PATH) plus the sbin directories, where
 * distributions put ovs-vsctl's siblings). */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define OUTPUT_MAX 4096
/* Grace beyond ovs-vsctl's own --timeout before it is killed. */
#define GRACE_MS 5000

/* A name ovs-vsctl takes as the argument it is meant to be: not empty, not an option, no blanks
 * or control characters (the bridge may be any OVSDB name, but a system bridge is a netdev). */
static bool name_is_plain(const char *s, size_t max)
{
    if (!s || !*s || *s == '-' || strlen(s) >= max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '/')
            return false;
    return true;
}

/* The first executable regular file <dir>/ovs-vsctl along PATH, into buf. */
static int find_ovs_vsctl(char *buf, size_t size, const char **ret_path)
{
    const char *path = getenv("PATH");
    if (!path)
        path = DEFAULT_PATH;
    *ret_path = path;
    for (const char *p = path;;) {
        size_t len = strcspn(p, ":");
        /* an empty entry means the current directory, which a daemon should never search */
        if (len > 0 && (size_t)snprintf(buf, size, "%.*s/ovs-vsctl", (int)len, p) < size) {
            struct stat st;
            if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
                return 0;
        }
        if (!p[len])
            return -ENOENT;
        p += len + 1;
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The last non-empty line of s (modified in place). */
static const char *last_line(char *s)
{
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
        s[--len] = '\0';
    char *nl = strrchr(s, '\n');
    return nl ? nl + 1 : s;
}

int dh_devlink_ovs_add_port(const char *bridge, const char *netdev, unsigned timeout_s, struct dh_error *err)
{
    if (!name_is_plain(bridge, 256))
        return dh_error_set(
                err, -EINVAL,
                "representor: '%s' is not a bridge name ovs-vsctl can be given (empty, starts with "
                "'-', or holds blanks or '/')",
                bridge ? bridge : "");
    if (!name_is_plain(netdev, IFNAMSIZ))
        return dh_error_set(err, -EINVAL, "representor: '%s' is not a network interface name",
                            netdev ? netdev : "");
    if (timeout_s == 0)
        timeout_s = 1;
    char exe[4096];
    const char *path;
    if (find_ovs_vsctl(exe, sizeof(exe), &path) < 0)
        return dh_error_set(err, -ENOENT,
                            "representor: ovs-vsctl is not installed (not found on PATH %s): install Open "
                            "vSwitch (e.g. apt-get install openvswitch-switch), or add %s to your switch "
                            "yourself",
                            path, netdev);

    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return dh_error_set(err, negative_errno(), "representor: cannot create a pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDERR_FILENO);
    char timeout_arg[32];
    snprintf(timeout_arg, sizeof(timeout_arg), "--timeout=%u", timeout_s);
    char *argv[] = {"ovs-vsctl",    timeout_arg,    "--may-exist", "add-port",
                    (char *)bridge, (char *)netdev, NULL};
    pid_t pid;
    int r = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (r != 0) {
        close(out[0]);
        return dh_error_set(err, -r, "representor: cannot run %s: %s", exe, strerror(r));
    }

    char output[OUTPUT_MAX];
    size_t len = 0;
    long long deadline = now_ms() + (long long)timeout_s * 1000 + GRACE_MS;
    bool timed_out = false;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = {out[0], POLLIN, 0};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            timed_out = pr == 0;
            break;
        }
        char buf[512];
        ssize_t n = read(out[0], buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* EOF: ovs-vsctl closed its output on exit */
        /* keep the tail: ovs-vsctl's reason is its last line */
        size_t take = (size_t)n;
        if (len + take >= sizeof(output)) {
            size_t drop = len + take - (sizeof(output) - 1);
            if (drop > len)
                drop = len;
            memmove(output, output + drop, len - drop);
            len -= drop;
            if (take > sizeof(output) - 1 - len)
                take = sizeof(output) - 1 - len;
        }
        memcpy(output + len, buf + (size_t)n - take, take);
        len += take;
    }
    close(out[0]);
    output[len] = '\0';
    if (timed_out)
        kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return dh_error_set(err, negative_errno(), "representor: waiting for ovs-vsctl failed: %s",
                                strerror(errno));
    if (timed_out)
        return dh_error_set(
                err, -ETIMEDOUT,
                "representor: ovs-vsctl add-port %s %s did not finish within %u s and was killed (is "
                "ovsdb-server running?)",
                bridge, netdev, timeout_s + GRACE_MS / 1000);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    const char *why = last_line(output);
    if (WIFSIGNALED(status))
        return dh_error_set(err, -EIO, "representor: ovs-vsctl add-port %s %s was killed by signal %d%s%s",
                            bridge, netdev, WTERMSIG(status), *why ? ": " : "", why);
    return dh_error_set(err, -EIO, "representor: ovs-vsctl add-port %s %s failed (exit status %d): %s",
                        bridge, netdev, WEXITSTATUS(status),
                        *why ? why : "no message (run it by hand to see why)");
}
