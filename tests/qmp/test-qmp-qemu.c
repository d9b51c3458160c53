/* Smoke test against a real qemu-system-x86_64: a q35 VM paused with -S, no disk, no network, one
 * pcie-root-port rp1, driven through dh_qmp_connect() and the smoke scenario (smoke.h), then
 * reaped. Skips loudly (TAP "1..0 # SKIP") when QEMU is not installed. With DH_QMP_RECORD=FILE
 * the conversation is written to FILE as a transcript for the fake peer (docs/qmp.md). */
#include "qmp-test.h"
#include "smoke.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define QEMU_BINARY "qemu-system-x86_64"
#define QEMU_EXIT_MS 10000

static char qemu_path[PATH_MAX];

static bool find_qemu(void)
{
    const char *path = getenv("PATH");
    _cleanup_free_ char *dirs = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(qemu_path, sizeof(qemu_path), "%s/%s", *d ? d : ".", QEMU_BINARY);
        if (access(qemu_path, X_OK) == 0)
            return true;
    }
    return false;
}

struct vm {
    pid_t pid;
    char dir[64], sock[96], log[96];
};

static int start_vm(void **state)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    if (!vm)
        return -1;
    snprintf(vm->dir, sizeof(vm->dir), "/tmp/dh-qmp-qemu-XXXXXX");
    if (!mkdtemp(vm->dir)) {
        free(vm);
        return -1;
    }
    snprintf(vm->sock, sizeof(vm->sock), "%s/qmp.sock", vm->dir);
    snprintf(vm->log, sizeof(vm->log), "%s/qemu.log", vm->dir);
    char qmp_arg[128];
    snprintf(qmp_arg, sizeof(qmp_arg), "unix:%s,server=on,wait=off", vm->sock);
    char *argv[] = {qemu_path,
                    "-machine",
                    "q35",
                    "-accel",
                    "tcg",
                    "-nodefaults",
                    "-display",
                    "none",
                    "-S",
                    "-qmp",
                    qmp_arg,
                    "-device",
                    "pcie-root-port,id=rp1,chassis=1,slot=1",
                    NULL};
    printf("# %s", qemu_path);
    for (char **a = argv + 1; *a; a++)
        printf(" %s", *a);
    printf("\n");
    fflush(stdout);

    vm->pid = fork();
    if (vm->pid == 0) {
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int log = open(vm->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (devnull < 0 || log < 0)
            _exit(126);
        dup2(devnull, STDIN_FILENO);
        dup2(log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
        execv(qemu_path, argv);
        _exit(127);
    }
    *state = vm;
    return vm->pid > 0 ? 0 : -1;
}

/* Waits up to QEMU_EXIT_MS for the VM to exit; returns its wait status or -1. */
static int reap(struct vm *vm)
{
    for (long long t0 = qmp_test_now_ms(); qmp_test_now_ms() - t0 < QEMU_EXIT_MS;) {
        int status;
        pid_t r = waitpid(vm->pid, &status, WNOHANG);
        if (r == vm->pid) {
            vm->pid = 0;
            return status;
        }
        usleep(10000);
    }
    return -1;
}

/* Whatever happened to the test, QEMU does not outlive it. */
static int stop_vm(void **state)
{
    struct vm *vm = *state;
    if (vm->pid > 0) {
        kill(vm->pid, SIGKILL);
        waitpid(vm->pid, NULL, 0);
    }
    FILE *log = fopen(vm->log, "re");
    if (log) {
        char line[512];
        while (fgets(line, sizeof(line), log))
            printf("# qemu: %s", line);
        fclose(log);
    }
    unlink(vm->sock);
    unlink(vm->log);
    rmdir(vm->dir);
    free(vm);
    return 0;
}

/* Writes the conversation in the transcript format: ids dropped (the fake checks and echoes them). */
static void record_line(void *userdata, bool outgoing, const char *line, size_t size)
{
    FILE *out = userdata;
    json_t *j = json_loadb(line, size, 0, NULL);
    if (j && (outgoing || json_object_get(j, "return") || json_object_get(j, "error")))
        json_object_del(j, "id");
    char *s = j ? json_dumps(j, 0) : strndup(line, size);
    fprintf(out, "%s %s\n", outgoing ? ">" : "<", s ? s : "");
    free(s);
    json_decref(j);
}

static FILE *start_recording(struct dh_qmp *q)
{
    const char *path = getenv("DH_QMP_RECORD");
    if (!path || !*path)
        return NULL;
    FILE *out = fopen(path, "we");
    if (!out)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    const struct dh_qmp_version *v = dh_qmp_version(q);
    json_t *greeting = json_pack("{s:O}", "QMP", dh_qmp_greeting(q));
    char *g = json_dumps(greeting, 0);
    fprintf(out, "# Recorded from %s (QEMU %d.%d.%d, %s) by test-qmp-qemu with DH_QMP_RECORD.\n", qemu_path,
            v->major, v->minor, v->micro, v->package);
    /* the greeting and negotiation happen before a trace can be installed */
    fprintf(out, "< %s\n> {\"execute\": \"qmp_capabilities\"}\n< {\"return\": {}}\n", g);
    free(g);
    json_decref(greeting);
    dh_qmp_set_trace(q, record_line, out);
    return out;
}

static void paused_q35_takes_a_device_into_a_root_port_and_quits(void **state)
{
    struct vm *vm = *state;
    struct dh_qmp *q = NULL;
    struct dh_error err = {0};
    long long t0 = qmp_test_now_ms();
    /* QEMU creates the socket a little after exec: connect retries */
    if (dh_qmp_connect(vm->sock, 30000, &q, &err) < 0)
        fail_msg("%s", err.message);
    const struct dh_qmp_version *v = dh_qmp_version(q);
    printf("# QMP ready after %lld ms: QEMU %d.%d.%d (%s)\n", qmp_test_now_ms() - t0, v->major, v->minor,
           v->micro, v->package);
    assert_true(v->major >= 2);

    FILE *rec = start_recording(q);
    smoke_scenario(q);
    if (rec) {
        fprintf(rec, "close\n");
        fclose(rec);
    }
    dh_qmp_close(q);

    int status = reap(vm);
    assert_int_not_equal(status, -1);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    if (!find_qemu()) {
        printf("1..0 # SKIP %s not found in PATH: install qemu-system-x86 to run the real-QEMU QMP smoke "
               "test\n",
               QEMU_BINARY);
        return 0;
    }
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(paused_q35_takes_a_device_into_a_root_port_and_quits, start_vm, stop_vm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
