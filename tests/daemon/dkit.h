/* The daemon tests' kit: a fake host tree, a configuration, dpuhostd started on them (the test-only
 * simulator build, which binds for real against the tree, or the production binary) with readiness
 * taken from its sd_notify, and HTTP over its Unix socket with libcurl. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <jansson.h>

#include "fake_kernel.h"
#include "fake_sysfs.h"

/* Pools of the default configuration:
 *  "vfs"  selectors rootDevices 0000:03:00.0: its VFs (mlx5_core, 03:00.2 onwards), bound to vfio-pci
 *  "raw"  selectors rootDevices 0000:82:00.0: its VFs (82:00.2 onwards), "bind": false */
struct dkit_options {
    int vfs;                  /* VFs of 03:00.0 (default 8) */
    int raw_vfs;              /* VFs of 82:00.0 (default 2) */
    int restore_wait_ms;      /* default 300 */
    const char *config_extra; /* more top-level configuration members, e.g. "\"allowed_uids\": [7]" */
    const char *vfs_pool;     /* the name of 03:00.0's VFs' pool (default "vfs") */
    const char *raw_pool;     /* the name of 82:00.0's VFs' pool, "bind": false (default "raw") */
    const char *pools_extra;  /* more pool objects after those two, e.g. "{\"name\": \"x\", ...}" */
};

enum dkit_binary {
    DKIT_SIM,  /* tests/daemon/dpuhostd-sim: the daemon with the kernel simulator */
    DKIT_REAL, /* daemon/dpuhostd: the production binary (nothing is bound on a fake root) */
};

struct dkit {
    char work[256];   /* temp dir (mode 0711, so that other users can reach the socket) */
    char root[512];   /* the fake host root */
    char socket[512]; /* <work>/run/dpuhost.sock */
    char state[512];  /* <work>/state */
    char config[512]; /* <work>/dpuhost.json */
    char log[512];    /* <work>/dpuhostd.log: the daemon's stderr, appended */
    struct fake_tree *tree;
    struct fake_kernel *kernel; /* the test's own view: for holders of /dev/vfio/N */
    pid_t pid;
    int starts;
    bool no_config; /* start without --config (the default path) */
};

struct dkit *dkit_new(const struct dkit_options *o);
/* Stops a running daemon (SIGTERM) and removes everything. */
void dkit_free(struct dkit *k);

/* Starts dpuhostd and waits (20 s at most) for READY=1. extra: more arguments (NULL-terminated) or
 * NULL. Returns 0, or the exit status when it stopped before it was ready (the log says why). */
int dkit_start(struct dkit *k, enum dkit_binary which, const char *const *extra);
/* SIGTERM and wait: its exit status (128+signal when killed). */
int dkit_stop(struct dkit *k);
/* Another signal, and wait. */
int dkit_signal(struct dkit *k, int sig);
/* SIGKILL and wait. */
void dkit_kill(struct dkit *k);
/* The daemon's log so far (caller frees). */
char *dkit_log(struct dkit *k);

struct dreply {
    long status;   /* 0 when the request failed at the transport */
    CURLcode curl; /* CURLE_OK, or why the transport failed */
    json_t *doc;   /* the parsed body when it is JSON */
    char *text;    /* the body */
    double ms;     /* round trip */
};
void dreply_free(struct dreply *r);

/* One request over socket with a reusable handle (one per thread). body may be NULL. */
struct dreply dkit_request(CURL *curl, const char *socket, const char *method, const char *path,
                           const char *body);
/* The same with a handle of its own; fails the test when the transport fails. */
struct dreply dkit_call(struct dkit *k, const char *method, const char *path, const char *body);
/* dkit_call, asserting the status; returns the document (caller decrefs). */
json_t *dkit_expect(struct dkit *k, const char *method, const char *path, const char *body, long status);

/* The driver of bdf in the tree ("" when none), and its driver_override ("(null)" when none). */
const char *dkit_driver(struct dkit *k, const char *bdf, char *buf, size_t size);
const char *dkit_override(struct dkit *k, const char *bdf, char *buf, size_t size);
/* The address of VF n of pf (03:00.0 or 82:00.0) as the simulator numbers them. */
const char *dkit_vf(const char *pf, int n, char *buf, size_t size);

/* A raw HTTP/1.1 exchange on a fresh connection (safe after fork(), unlike libcurl): returns the
 * status code, or -1. */
int dkit_raw_status(const char *socket, const char *method, const char *path, const char *body);

double dkit_now_ms(void);

struct run_result;
/* Runs `dpuhost --socket <k's socket> [--root <k's root>] ARGS...` (args NULL-terminated) and
 * captures it; fails the test when it cannot run. */
struct run_result dkit_cli(struct dkit *k, bool with_root, const char *const *args);
/* Fails the test unless r exited with status and its stdout and stderr contain out and err (each
 * may be NULL), printing both streams. */
void dkit_expect_run(const struct run_result *r, int status, const char *out, const char *err);

struct CMUnitTest;
/* Runs tests that share one daemon: dkit_new(o) and dkit_start (DKIT_SIM) before them, dkit_free
 * after; *k is that daemon meanwhile. libcurl is initialized around them. */
int dkit_run_group(const char *name, const struct CMUnitTest *tests, size_t n, const struct dkit_options *o,
                   struct dkit **k);
#define DKIT_RUN_GROUP(tests, o, k) dkit_run_group(#tests, tests, sizeof(tests) / sizeof((tests)[0]), o, k)
