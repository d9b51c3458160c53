/* Child process runner with captured output, for tests that exercise the built binaries. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int append(char **buf, size_t *len, int fd)
{
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n <= 0)
        return (int)n;
    char *b = realloc(*buf, *len + (size_t)n + 1);
    if (!b)
        return -1;
    memcpy(b + *len, chunk, (size_t)n);
    *len += (size_t)n;
    b[*len] = '\0';
    *buf = b;
    return (int)n;
}

int run_capture(char *const argv[], char *const env[], struct run_result *ret)
{
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        for (size_t i = 0; env && env[i]; i++)
            putenv(env[i]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    *ret = (struct run_result){0};
    ret->out = calloc(1, 1);
    ret->err = calloc(1, 1);
    size_t olen = 0, elen = 0;
    struct pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
                continue;
            int n = append(i == 0 ? &ret->out : &ret->err, i == 0 ? &olen : &elen, p[i].fd);
            if (n <= 0) {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
            }
        }
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return 0;
}

void run_result_free(struct run_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

static void slurp(FILE *f, char *buf, size_t size)
{
    size_t n = 0;
    if (f) {
        rewind(f);
        n = fread(buf, 1, size - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

void run_call_captured(int (*fn)(void *userdata), void *userdata, struct run_output *ret)
{
    FILE *out = tmpfile(), *err = tmpfile();
    if (!out || !err)
        abort(); /* a test cannot go on without its capture */
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
    dup2(fileno(out), STDOUT_FILENO);
    dup2(fileno(err), STDERR_FILENO);
    ret->status = fn(userdata);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved_out);
    close(saved_err);
    slurp(out, ret->out, sizeof(ret->out));
    slurp(err, ret->err, sizeof(ret->err));
}
