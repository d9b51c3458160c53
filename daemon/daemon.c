/* dpuhostd's life: options, startup in dependency order, serving until SIGTERM/SIGINT, and a clean
 * stop that leaves every claim in the store. Startup order matters: the store is reconciled with
 * the host (dh_pools_recover) before the socket exists, so that no client ever sees a claim that
 * recovery is about to roll back; readiness (sd_notify READY=1) comes after the socket listens. */
#include "daemon.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <dpuhost/api.h>
#include <dpuhost/config.h>
#include <dpuhost/netlink.h>
#include <dpuhost/pool.h>
#include <dpuhost/store.h>
#include <dpuhost/vfio.h>
#include <dpuhost/vm.h>

#include "auth.h"
#include "http.h"
#include "listen.h"
#include "log.h"
#include "notify.h"
#include "uevent.h"
#include "util/macro.h"

#ifndef DPUHOST_VERSION
#define DPUHOST_VERSION "unknown"
#endif

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define UEVENT_DEBOUNCE_MS 150

struct options {
    const char *config;
    bool config_given;
    const char *root;
    const char *socket;
    const char *state_dir;
    const char *tcp;
    const char *token_file;
    const char *qemu;
};

struct daemon {
    struct dh_config *cfg;
    struct dh_host *host;
    int lock_fd;
    struct dh_store *store;
    struct dh_nl *nl;
    struct dh_vfio_net net;
    struct dh_api *api;
    struct dh_pools *pools;
    struct dh_vms *vms;
    struct dhd_uevents *uevents;
    struct dhd_unix_socket sock;
    int tcp_fd;
    char *token;
    struct dhd_http *http;
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: dpuhostd [OPTIONS]\n\n"
               "The dpuhost daemon: pools and durable claims of PCI functions over HTTP/JSON on a Unix "
               "socket.\n\n"
               "  --config PATH      configuration (default " DH_CONFIG_DEFAULT_PATH "; when that file is\n"
               "                     missing, an empty configuration: no pools)\n"
               "  --root DIR         host root holding sys/, dev/, proc/, run/ (default /)\n"
               "  --socket PATH      Unix socket (overrides the configuration's \"socket\")\n"
               "  --state-dir DIR    state directory (overrides the configuration's \"state_dir\")\n"
               "  --tcp ADDR:PORT    also listen on TCP (numeric address); needs --token-file\n"
               "  --token-file PATH  bearer token clients must send on TCP (mode 0600)\n"
               "  --qemu BINARY      the QEMU that GET /v1/host checks (default qemu-system-x86_64)\n"
               "  --help, --version\n\n"
               "Stops cleanly on SIGTERM or SIGINT; claims stay in the store. See docs/api.md.\n");
}

/* 0, EXIT_USAGE on a usage error (reported), or -1 for --help/--version (done). */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
            {"config", required_argument, NULL, 'c'}, {"root", required_argument, NULL, 'r'},
            {"socket", required_argument, NULL, 's'}, {"state-dir", required_argument, NULL, 'd'},
            {"tcp", required_argument, NULL, 't'},    {"token-file", required_argument, NULL, 'k'},
            {"qemu", required_argument, NULL, 'q'},   {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},      {},
    };
    *o = (struct options){.config = DH_CONFIG_DEFAULT_PATH};
    int c;
    optind = 0;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
        switch (c) {
        case 'c':
            o->config = optarg;
            o->config_given = true;
            break;
        case 'r':
            o->root = optarg;
            break;
        case 's':
            o->socket = optarg;
            break;
        case 'd':
            o->state_dir = optarg;
            break;
        case 't':
            o->tcp = optarg;
            break;
        case 'k':
            o->token_file = optarg;
            break;
        case 'q':
            o->qemu = optarg;
            break;
        case 'h':
            usage(stdout);
            return -1;
        case 'V':
            printf("dpuhostd %s\n", DPUHOST_VERSION);
            return -1;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        dhd_log(LOG_ERR, "unexpected argument '%s' (see dpuhostd --help)", argv[optind]);
        return EXIT_USAGE;
    }
    if (o->tcp && !o->token_file) {
        dhd_log(LOG_ERR, "--tcp needs --token-file PATH: a TCP listener without a bearer token would let "
                         "anybody who can reach the port claim and bind devices");
        return EXIT_USAGE;
    }
    if (o->token_file && !o->tcp) {
        dhd_log(LOG_ERR, "--token-file is only used with --tcp ADDR:PORT");
        return EXIT_USAGE;
    }
    const char *paths[][2] = {{"--socket", o->socket}, {"--state-dir", o->state_dir}};
    for (size_t i = 0; i < ELEMENTSOF(paths); i++)
        if (paths[i][1] && paths[i][1][0] != '/') {
            dhd_log(LOG_ERR, "%s %s: give an absolute path", paths[i][0], paths[i][1]);
            return EXIT_USAGE;
        }
    if (o->root && !*o->root) {
        dhd_log(LOG_ERR, "--root is empty: pass a directory");
        return EXIT_USAGE;
    }
    return 0;
}

static int replace(char **field, const char *value)
{
    if (!value)
        return 0;
    char *s = strdup(value);
    if (!s)
        return -ENOMEM;
    free(*field);
    *field = s;
    return 0;
}

/* The configuration, with the command line's overrides. A missing default file is an empty
 * configuration (the daemon serves the inventory and claims nothing); a missing --config file is
 * an error, since the administrator named it. */
static int load_config(const struct options *o, struct dh_config **ret)
{
    struct dh_error err = {0};
    int r;
    if (!o->config_given && access(o->config, F_OK) < 0 && errno == ENOENT) {
        json_t *empty = json_object();
        r = empty ? dh_config_parse(empty, ret, &err) : -ENOMEM;
        json_decref(empty);
        if (r == 0)
            dhd_log(LOG_NOTICE, "no %s: running with an empty configuration (no pools); see docs/config.md",
                    o->config);
    } else
        r = dh_config_load(o->config, ret, &err);
    if (r < 0) {
        dhd_log(LOG_ERR, "%s", err.code ? err.message : strerror(-r));
        return r == -ENOMEM ? EXIT_FAIL : EXIT_USAGE;
    }
    if (replace(&(*ret)->socket, o->socket) < 0 || replace(&(*ret)->state_dir, o->state_dir) < 0) {
        dhd_log(LOG_ERR, "out of memory");
        return EXIT_FAIL;
    }
    return 0;
}

/* The state directory: parents 0755 as usual, the directory itself 0700 (the store holds what was
 * changed on the host; nobody else needs to read it). */
static int make_state_dir(const char *dir)
{
    _cleanup_free_ char *p = strdup(dir);
    if (!p)
        return -ENOMEM;
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0755) < 0 && errno != EEXIST)
                goto fail;
            *s = '/';
        }
    if (mkdir(p, 0700) < 0 && errno != EEXIST)
        goto fail;
    struct stat st;
    if (stat(dir, &st) < 0)
        goto fail;
    if (!S_ISDIR(st.st_mode)) {
        dhd_log(LOG_ERR, "state directory %s is not a directory", dir);
        return -ENOTDIR;
    }
    if (st.st_mode & 0022)
        dhd_log(LOG_WARNING, "state directory %s is writable by others (mode %04o): chmod 700 it", dir,
                (unsigned)(st.st_mode & 07777));
    return 0;
fail:
    dhd_log(LOG_ERR, "cannot create the state directory %s: %s (pass --state-dir DIR)", p, strerror(errno));
    return negative_errno();
}

/* One daemon per state directory: two would both believe they own the claims. The kernel drops the
 * lock when we die, so a crash never blocks the restart. */
static int lock_state_dir(struct daemon *d)
{
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/dpuhostd.lock", d->cfg->state_dir) < 0)
        return -ENOMEM;
    d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (d->lock_fd < 0) {
        dhd_log(LOG_ERR, "cannot open %s: %s", path, strerror(errno));
        return negative_errno();
    }
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        int r = negative_errno();
        char pid[32] = "?";
        ssize_t n = pread(d->lock_fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 1] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        if (r == -EWOULDBLOCK)
            dhd_log(LOG_ERR, "another dpuhostd (pid %s) uses the state directory %s: stop it first", pid,
                    d->cfg->state_dir);
        else
            dhd_log(LOG_ERR, "cannot lock %s: %s", path, strerror(-r));
        return r;
    }
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
    if (ftruncate(d->lock_fd, 0) < 0 || pwrite(d->lock_fd, pid, (size_t)n, 0) != n)
        dhd_log(LOG_WARNING, "cannot write the pid into %s: %s", path, strerror(errno));
    return 0;
}

static void refresh(void *userdata)
{
    struct daemon *d = userdata;
    struct dh_error err = {0};
    int r = dh_pools_refresh(d->pools, &err);
    if (r < 0)
        dhd_log(LOG_WARNING, "uevents: the inventory could not be read again: %s",
                err.code ? err.message : strerror(-r));
}

static void log_recovery(const struct dh_recovery_report *rep)
{
    dhd_log(rep->problems ? LOG_WARNING : LOG_INFO,
            "recovery: %d claims loaded, %d rolled back, %d released, %d rebound, %d vanished, %d restored, "
            "%d problems",
            rep->claims_loaded, rep->rolled_back, rep->released, rep->rebound, rep->vanished, rep->restored,
            rep->problems);
    dhd_log_lines(rep->problems ? LOG_WARNING : LOG_INFO, "recovery: ", rep->log);
}

static int start(struct daemon *d, const struct options *o, const struct dh_daemon_hooks *hooks)
{
    struct dh_error err = {0};
    int r;
#define FAIL(code, ...)                    \
    do {                                   \
        dhd_log(LOG_ERR, __VA_ARGS__);     \
        return (code) < 0 ? (code) : -EIO; \
    } while (0)

    r = dh_host_new(o->root, &d->host, &err);
    if (r < 0)
        FAIL(r, "%s", err.message);
    if (hooks && hooks->host_opened && (r = hooks->host_opened(hooks->userdata, d->host, &err)) < 0)
        FAIL(r, "%s", err.code ? err.message : strerror(-r));
    if ((r = make_state_dir(d->cfg->state_dir)) < 0 || (r = lock_state_dir(d)) < 0)
        return r;
    _cleanup_free_ char *db = NULL;
    if (asprintf(&db, "%s/dpuhost.db", d->cfg->state_dir) < 0)
        return -ENOMEM;
    if ((r = dh_store_open(db, &d->store, &err)) < 0)
        FAIL(r, "%s", err.message);
    bool real = dh_host_is_real_root(d->host);
    /* --qemu wins over the configuration's vms.qemu, for the preflight and for the VMs alike */
    const char *qemu = o->qemu ? o->qemu : d->cfg->vms.qemu;
    if (real) {
        if ((r = dh_nl_open(&d->nl, &err)) < 0)
            FAIL(r, "%s", err.code ? err.message : "cannot open rtnetlink");
        d->net = dh_vfio_net_netlink(d->nl);
    }
    struct dh_api_options ao = {.host = d->host,
                                .store = d->store,
                                .config = d->cfg,
                                .net = d->nl ? &d->net : NULL,
                                .version = DPUHOST_VERSION,
                                .qemu_binary = qemu};
    if ((r = dh_api_new(&ao, &d->api, &err)) < 0)
        FAIL(r, "%s", err.code ? err.message : strerror(-r));
    struct dh_pools_options po = {.host = d->host,
                                  .store = d->store,
                                  .config = d->cfg,
                                  .net = d->nl ? &d->net : NULL,
                                  .on_event = dh_api_publish,
                                  .event_userdata = d->api};
    if ((r = dh_pools_new(&po, &d->pools, &err)) < 0)
        FAIL(r, "%s", err.code ? err.message : strerror(-r));
    struct dh_recovery_report rep;
    r = dh_pools_recover(d->pools, &rep, &err);
    log_recovery(&rep);
    if (r < 0)
        FAIL(r, "recovery failed: %s", err.code ? err.message : strerror(-r));
    /* the VMs after the claims: a VM's functions are claims, reconciled first (docs/vms.md) */
    struct dh_vms_options vo = {.host = d->host,
                                .store = d->store,
                                .config = d->cfg,
                                .pools = d->pools,
                                .qemu_binary = qemu,
                                .start_timeout_ms = d->cfg->vms.start_timeout_ms,
                                .stop_timeout_ms = d->cfg->vms.stop_timeout_ms,
                                .unplug_timeout_ms = d->cfg->vms.unplug_timeout_ms,
                                .on_event = dh_api_publish,
                                .event_userdata = d->api};
    if ((r = dh_vms_new(&vo, &d->vms, &err)) < 0)
        FAIL(r, "%s", err.code ? err.message : strerror(-r));
    char vlog[4096] = "";
    r = dh_vms_recover(d->vms, vlog, sizeof(vlog), &err);
    dhd_log_lines(LOG_INFO, "vms: ", vlog);
    if (r < 0)
        FAIL(r, "VM recovery failed: %s", err.code ? err.message : strerror(-r));
    dh_api_set_pools(d->api, d->pools);
    dh_api_set_vms(d->api, d->vms);
    dh_api_set_ready(d->api, true);

    if (real) {
        /* without uevents the daemon still works, only its inventory ages between requests: a
         * warning, not a reason to refuse service (a container may not get the kernel's group) */
        int fd;
        if ((r = dhd_uevent_open(&fd, &err)) < 0 ||
            (r = dhd_uevents_start(fd, UEVENT_DEBOUNCE_MS, refresh, d, &d->uevents, &err)) < 0) {
            dhd_log(LOG_WARNING,
                    "%s; the inventory is read again only after bind, restore and sriov requests",
                    err.message);
            dh_error_clear(&err);
        } else
            dhd_log(LOG_INFO,
                    "uevents: on, the inventory follows the kernel's NETLINK_KOBJECT_UEVENT messages");
    } else
        dhd_log(LOG_INFO,
                "uevents: off, the host root %s is not the real / (the inventory is read again after bind, "
                "restore and sriov requests only)",
                dh_host_root(d->host));

    gid_t group = d->cfg->n_allowed_gids ? d->cfg->allowed_gids[0] : (gid_t)-1;
    if ((r = dhd_unix_listen(d->cfg->socket, d->cfg->socket_mode, group, &d->sock, &err)) < 0)
        FAIL(r, "%s", err.message);
    char tcp_name[128] = "";
    if (o->tcp) {
        if ((r = dhd_token_load(o->token_file, &d->token, &err)) < 0 ||
            (r = dhd_tcp_listen(o->tcp, &d->tcp_fd, tcp_name, sizeof(tcp_name), &err)) < 0)
            FAIL(r, "%s", err.message);
    }
    struct dhd_http_options ho = {
            .api = d->api, .config = d->cfg, .unix_fd = d->sock.fd, .tcp_fd = d->tcp_fd, .token = d->token};
    if ((r = dhd_http_start(&ho, &d->http, &err)) < 0)
        FAIL(r, "%s", err.message);

    struct dh_pools_stats s;
    dh_pools_stats(d->pools, &s);
    dhd_log(LOG_INFO,
            "ready: %s (mode %04o)%s%s; %zu pools, %zu functions (%zu pooled, %zu free), %zu claims",
            d->cfg->socket, (unsigned)d->cfg->socket_mode, o->tcp ? ", tcp " : "", tcp_name, d->cfg->n_pools,
            s.functions, s.pooled, s.free_functions, s.claims);
    char status[256];
    snprintf(status, sizeof(status), "READY=1\nSTATUS=serving %zu pools, %zu claims on %s\nMAINPID=%d",
             d->cfg->n_pools, s.claims, d->cfg->socket, (int)getpid());
    if ((r = dhd_notify(status)) < 0)
        dhd_log(LOG_WARNING, "sd_notify READY=1 failed: %s", strerror(-r));
    return 0;
#undef FAIL
}

/* In the reverse order of start(); every step accepts what start() did not get to. */
static void stop(struct daemon *d)
{
    if (d->api) {
        /* new requests answer 503 and event streams end, so that the HTTP threads can finish */
        dh_api_set_ready(d->api, false);
        dh_api_events_close(d->api);
    }
    dhd_http_stop(d->http);
    if (d->tcp_fd >= 0)
        close(d->tcp_fd);
    dhd_unix_close(&d->sock);
    dhd_uevents_stop(d->uevents);
    if (d->token)
        explicit_bzero(d->token, strlen(d->token));
    free(d->token);
    if (d->api) {
        dh_api_set_vms(d->api, NULL);
        dh_api_set_pools(d->api, NULL);
    }
    /* QEMUs keep running: the next dpuhostd re-attaches them */
    dh_vms_free(d->vms);
    dh_pools_free(d->pools);
    dh_api_free(d->api);
    dh_nl_free(d->nl);
    dh_store_close(d->store);
    dh_host_free(d->host);
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    dh_config_free(d->cfg);
}

static int wait_for_stop(const sigset_t *set)
{
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(set, &si);
        if (sig < 0) {
            if (errno == EINTR)
                continue;
            dhd_log(LOG_ERR, "sigwaitinfo: %s", strerror(errno));
            return EXIT_FAIL;
        }
        if (sig == SIGHUP) {
            dhd_log(LOG_NOTICE, "SIGHUP: the configuration is read at start only; restart dpuhostd to apply "
                                "a new one (claims survive a restart)");
            continue;
        }
        dhd_log(LOG_INFO, "%s from pid %d: stopping (claims stay in the store)",
                sig == SIGTERM ? "SIGTERM" : "SIGINT", (int)si.si_pid);
        return 0;
    }
}

int dh_daemon_run(int argc, char **argv, const struct dh_daemon_hooks *hooks)
{
    dhd_log_init();
    /* Blocked before any thread exists, so that every thread inherits the mask and the signals
     * are taken by sigwaitinfo() in this thread only. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct options o;
    int r = parse_options(argc, argv, &o);
    if (r)
        return r < 0 ? 0 : r;
    struct daemon d = {.lock_fd = -1, .tcp_fd = -1, .sock = {.fd = -1}};
    r = load_config(&o, &d.cfg);
    if (r)
        return r;
    dhd_log(LOG_INFO, "dpuhostd %s starting: config %s%s, host root %s, state %s", DPUHOST_VERSION, o.config,
            o.config_given || access(o.config, F_OK) == 0 ? "" : " (missing: empty)", o.root ? o.root : "/",
            d.cfg->state_dir);
    r = start(&d, &o, hooks);
    int status = r < 0 ? EXIT_FAIL : wait_for_stop(&set);
    dhd_notify("STOPPING=1");
    stop(&d);
    if (r == 0)
        dhd_log(LOG_INFO, "stopped");
    return status;
}
