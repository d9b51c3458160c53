/* The daemon tests' kit: see dkit.h. */
#include "test.h"

#include "dkit.h"
#include "run.h"

#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dpuhost/host.h>

extern char **environ;

double dkit_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

const char *dkit_vf(const char *pf, int n, char *buf, size_t size)
{
    unsigned bus = (unsigned)strtoul(pf + 5, NULL, 16);
    unsigned rid = (bus << 8) + 2 + (unsigned)n; /* offset 2, stride 1 */
    snprintf(buf, size, "0000:%02x:%02x.%x", rid >> 8, (rid >> 3) & 0x1f, rid & 7);
    return buf;
}

static void add_pf(struct fake_tree *t, const char *pf, int group)
{
    fake_pci_add(t, pf, 0x15b3, 0x101d, 0x020000);
    fake_pci_bind(t, pf, "mlx5_core");
    fake_pci_iommu_group(t, pf, group);
    fake_pci_sriov(t, pf, 64, 0x101e, 2, 1);
}

struct dkit *dkit_new(const struct dkit_options *o)
{
    struct dkit_options def = {0};
    if (!o)
        o = &def;
    struct dkit *k = calloc(1, sizeof(*k));
    const char *tmp = getenv("TMPDIR");
    snprintf(k->work, sizeof(k->work), "%s/dpuhostd-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(k->work) || chmod(k->work, 0711) < 0)
        fail_msg("mkdtemp %s: %s", k->work, strerror(errno));
    /* the tree lives in the work dir, so that one rm -r cleans up everything */
    setenv("TMPDIR", k->work, 1);
    k->tree = fake_tree_new();
    if (tmp)
        setenv("TMPDIR", tmp, 1);
    else
        unsetenv("TMPDIR");
    snprintf(k->root, sizeof(k->root), "%s", fake_tree_root(k->tree));
    snprintf(k->socket, sizeof(k->socket), "%s/run/dpuhost.sock", k->work);
    snprintf(k->state, sizeof(k->state), "%s/state", k->work);
    snprintf(k->config, sizeof(k->config), "%s/dpuhost.json", k->work);
    snprintf(k->log, sizeof(k->log), "%s/dpuhostd.log", k->work);

    struct fake_tree *t = k->tree;
    k->kernel = fake_kernel_new(t);
    fake_kernel_add_default_drivers(k->kernel);
    fake_write_str(t, "proc/1/mountinfo", "");
    fake_write_str(t, "proc/swaps", "Filename Type Size Used Priority\n");
    add_pf(t, "0000:03:00.0", 3);
    add_pf(t, "0000:82:00.0", 82);
    struct dh_host *host = NULL;
    if (dh_host_new(k->root, &host, NULL) < 0)
        fail_msg("host %s", k->root);
    fake_kernel_attach(k->kernel, host);
    char n[16];
    snprintf(n, sizeof(n), "%d", o->vfs ? o->vfs : 8);
    if (dh_host_write_attr(host, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", n) < 0)
        fail_msg("VFs of 03:00.0");
    snprintf(n, sizeof(n), "%d", o->raw_vfs ? o->raw_vfs : 2);
    if (dh_host_write_attr(host, "sys/bus/pci/devices/0000:82:00.0/sriov_numvfs", n) < 0)
        fail_msg("VFs of 82:00.0");
    dh_host_free(host);

    FILE *f = fopen(k->config, "we");
    fprintf(f,
            "{\"socket\": \"%s\", \"state_dir\": \"%s\", \"socket_mode\": \"0666\",\n"
            " \"bind_timeout_ms\": 2000, \"restore_wait_ms\": %d,\n %s%s\n"
            " \"pools\": [{\"name\": \"%s\", \"selectors\": {\"rootDevices\": [\"0000:03:00.0\"]}},\n"
            "            {\"name\": \"%s\", \"selectors\": {\"rootDevices\": [\"0000:82:00.0\"]}, \"bind\": "
            "false}%s%s]}\n",
            k->socket, k->state, o->restore_wait_ms ? o->restore_wait_ms : 300,
            o->config_extra ? o->config_extra : "", o->config_extra ? "," : "",
            o->vfs_pool ? o->vfs_pool : "vfs", o->raw_pool ? o->raw_pool : "raw",
            o->pools_extra ? ",\n  " : "", o->pools_extra ? o->pools_extra : "");
    fclose(f);
    return k;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void dkit_free(struct dkit *k)
{
    if (!k)
        return;
    if (k->pid > 0)
        dkit_stop(k);
    fake_kernel_free(k->kernel);
    fake_tree_free(k->tree);
    if (!getenv("DPUHOST_KEEP_FAKE_TREE"))
        nftw(k->work, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(k);
}

static struct sockaddr_un unix_addr(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        fail_msg("socket path %s is too long for AF_UNIX", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    return sa;
}

static int notify_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = unix_addr(path);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        fail_msg("notify socket %s: %s", path, strerror(errno));
    return fd;
}

int dkit_start(struct dkit *k, enum dkit_binary which, const char *const *extra)
{
    char notify[600];
    snprintf(notify, sizeof(notify), "%s/notify.sock", k->work);
    int nfd = notify_socket(notify);
    const char *bin = which == DKIT_SIM ? DPUHOSTD_SIM_PATH : DPUHOSTD_PATH;
    const char *argv[32] = {bin, "--root", k->root, "--config", k->config};
    size_t n = k->no_config ? 3 : 5;
    for (size_t i = 0; extra && extra[i] && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    int logfd = open(k->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        /* a test that fails midway (cmocka jumps out of it) must not leave a daemon behind */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        dup2(logfd, STDERR_FILENO);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        setenv("NOTIFY_SOCKET", notify, 1);
        unsetenv("JOURNAL_STREAM");
        execv(bin, (char **)argv);
        _exit(127);
    }
    close(logfd);
    k->pid = pid;
    k->starts++;
    double deadline = dkit_now_ms() + 20000;
    int result = -1;
    while (result < 0 && dkit_now_ms() < deadline) {
        struct pollfd p = {.fd = nfd, .events = POLLIN};
        if (poll(&p, 1, 20) > 0) {
            char buf[512];
            ssize_t r = recv(nfd, buf, sizeof(buf) - 1, 0);
            if (r > 0) {
                buf[r] = '\0';
                if (strstr(buf, "READY=1"))
                    result = 0;
            }
            continue;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            k->pid = 0;
            result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            if (result == 0)
                result = 255; /* stopped "cleanly" without ever being ready */
        }
    }
    close(nfd);
    unlink(notify);
    if (result < 0) {
        dkit_kill(k);
        fail_msg("dpuhostd did not become ready in 20 s (log %s)", k->log);
    }
    return result;
}

static int wait_status(struct dkit *k)
{
    int status = 0;
    while (waitpid(k->pid, &status, 0) < 0)
        if (errno != EINTR)
            fail_msg("waitpid: %s", strerror(errno));
    k->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int dkit_signal(struct dkit *k, int sig)
{
    if (k->pid <= 0)
        return -1;
    kill(k->pid, sig);
    return wait_status(k);
}

int dkit_stop(struct dkit *k)
{
    return dkit_signal(k, SIGTERM);
}

void dkit_kill(struct dkit *k)
{
    if (k->pid <= 0)
        return;
    kill(k->pid, SIGKILL);
    wait_status(k);
}

char *dkit_log(struct dkit *k)
{
    FILE *f = fopen(k->log, "re");
    char *buf = NULL;
    size_t len = 0;
    if (!f)
        return strdup("");
    if (getdelim(&buf, &len, '\0', f) < 0) {
        free(buf);
        buf = strdup("");
    }
    fclose(f);
    return buf;
}

void dreply_free(struct dreply *r)
{
    json_decref(r->doc);
    free(r->text);
    *r = (struct dreply){0};
}

struct buf {
    char *p;
    size_t n;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct buf *b = userdata;
    size_t n = size * nmemb;
    char *p = realloc(b->p, b->n + n + 1);
    if (!p)
        return 0;
    memcpy(p + b->n, data, n);
    b->n += n;
    p[b->n] = '\0';
    b->p = p;
    return n;
}

struct dreply dkit_request(CURL *curl, const char *socket, const char *method, const char *path,
                           const char *body)
{
    struct dreply r = {0};
    struct buf b = {0};
    char url[1024];
    snprintf(url, sizeof(url), "http://localhost%s", path);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 60000L);
    struct curl_slist *h = NULL;
    if (body) {
        h = curl_slist_append(h, "Content-Type: application/json");
        h = curl_slist_append(h, "Expect:");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    }
    double t0 = dkit_now_ms();
    r.curl = curl_easy_perform(curl);
    r.ms = dkit_now_ms() - t0;
    curl_slist_free_all(h);
    if (r.curl == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    r.text = b.p ? b.p : strdup("");
    r.doc = json_loads(r.text, 0, NULL);
    return r;
}

struct dreply dkit_call(struct dkit *k, const char *method, const char *path, const char *body)
{
    CURL *c = curl_easy_init();
    struct dreply r = dkit_request(c, k->socket, method, path, body);
    curl_easy_cleanup(c);
    if (r.curl != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(r.curl));
    return r;
}

json_t *dkit_expect(struct dkit *k, const char *method, const char *path, const char *body, long status)
{
    struct dreply r = dkit_call(k, method, path, body);
    if (r.status != status)
        fail_msg("%s %s %s: expected %ld, got %ld %s", method, path, body ? body : "", status, r.status,
                 r.text);
    json_t *doc = json_incref(r.doc);
    dreply_free(&r);
    return doc;
}

const char *dkit_driver(struct dkit *k, const char *bdf, char *buf, size_t size)
{
    char path[1024], target[1024];
    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/driver", k->root, bdf);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    buf[0] = '\0';
    if (n > 0) {
        target[n] = '\0';
        const char *s = strrchr(target, '/');
        snprintf(buf, size, "%s", s ? s + 1 : target);
    }
    return buf;
}

const char *dkit_override(struct dkit *k, const char *bdf, char *buf, size_t size)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/driver_override", k->root, bdf);
    FILE *f = fopen(path, "re");
    buf[0] = '\0';
    if (f) {
        if (fgets(buf, (int)size, f))
            buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
    }
    return buf;
}

int dkit_raw_status(const char *socket_path, const char *method, const char *path, const char *body)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(socket_path) >= sizeof(sa.sun_path))
        return -1; /* (no fail_msg: this runs in forked children) */
    memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char req[4096];
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: %zu\r\n"
                     "Content-Type: application/json\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ? body : "");
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    char resp[4096];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof(resp) - 1 && (r = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
        got += (size_t)r;
    resp[got] = '\0';
    close(fd);
    int status = -1;
    if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
        return -1;
    return status;
}

struct run_result dkit_cli(struct dkit *k, bool with_root, const char *const *args)
{
    char *argv[48] = {DPUHOST_CLI_PATH, "--socket", k->socket};
    int n = 3;
    if (with_root) {
        argv[n++] = "--root";
        argv[n++] = k->root;
    }
    for (int i = 0; args[i] && n < 47; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    struct run_result r;
    if (run_capture(argv, NULL, &r) < 0)
        fail_msg("cannot run %s", DPUHOST_CLI_PATH);
    return r;
}

void dkit_expect_run(const struct run_result *r, int status, const char *out, const char *err)
{
    if (r->status != status || (out && !strstr(r->out, out)) || (err && !strstr(r->err, err)))
        fail_msg("expected exit %d, stdout with \"%s\", stderr with \"%s\"; got %d\n--- stdout\n%s--- "
                 "stderr\n%s",
                 status, out ? out : "", err ? err : "", r->status, r->out, r->err);
}

static struct dkit **group_kit;
static const struct dkit_options *group_options;

static int group_setup(void **state)
{
    (void)state;
    *group_kit = dkit_new(group_options);
    return dkit_start(*group_kit, DKIT_SIM, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    dkit_free(*group_kit);
    *group_kit = NULL;
    return 0;
}

int dkit_run_group(const char *name, const struct CMUnitTest *tests, size_t n, const struct dkit_options *o,
                   struct dkit **k)
{
    curl_global_init(CURL_GLOBAL_ALL);
    group_kit = k;
    group_options = o;
    int r = _cmocka_run_group_tests(name, tests, n, group_setup, group_teardown);
    curl_global_cleanup();
    return r;
}
