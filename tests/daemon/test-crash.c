/* THE crash test: dpuhostd (the simulator build, binding for real against a fake tree) is killed
 * with SIGKILL at random moments while clients claim and release, then restarted on the same tree
 * and store, again and again (200 runs by default). After every restart, with recovery done:
 *  - no function is in two claims, and every claim is "claimed" (nothing left half-way);
 *  - every function on vfio-pci belongs to a live claim that binds it (or recovery failed);
 *  - every bound, non-vanished function of a live claim is on vfio-pci with override vfio-pci;
 *  - every other VF is back on mlx5_core with no driver_override;
 *  - the store agrees: binding records only for claimed functions, and in state "bound";
 *  - the pool counts agree with the claims.
 * The seed of run N is BASE + N (DPUHOST_CRASH_SEED sets BASE, default 1); it decides the kill
 * delay and the clients' choices, and is printed with any failure. DPUHOST_CRASH_RUNS sets the
 * number of runs (300 by default; the requirement is at least 200). A second test plants a violation behind the daemon's
 * back and shows that the checks see it. */
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <unistd.h>

#include "dkit.h"

#define CLIENTS 4
#define VFS 12
#define RAW_VFS 4
#define MAX_FUNCS 64

enum op {
    OP_NONE,
    OP_CLAIM,
    OP_CLAIM_ADDRESS,
    OP_RELEASE,
    OP_RELEASE_OWNER,
    OP_LIST,
    N_OPS,
};
static const char *const op_names[] = {"idle", "claim", "claim-by-address", "release", "release-by-owner",
                                       "list"};

struct totals {
    int runs, kills;
    int interrupted[N_OPS]; /* requests in flight when the daemon died */
    int completed_claims, completed_releases;
    int loaded, rolled_back, released, rebound, restored, problems;
    int halfway_runs, halfway_functions; /* kills that left functions between two drivers */
    double kill_ms_min, kill_ms_max;
};

struct client {
    struct dkit *k;
    int index;
    unsigned seed;
    atomic_bool *stop;
    int in_flight;
    int claims, releases;
};

static unsigned next(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

/* The request failed because the daemon died (or is dying): true. */
static bool died(const struct dreply *r)
{
    return r->curl != CURLE_OK || r->status == 0;
}

static void *client_run(void *userdata)
{
    struct client *c = userdata;
    CURL *curl = curl_easy_init();
    char owner[32], body[256], path[128];
    snprintf(owner, sizeof(owner), "crash-%d", c->index);
    int n = 0;
    while (!atomic_load(c->stop)) {
        unsigned pick = next(&c->seed) % 100;
        struct dreply r;
        if (pick < 45) {
            c->in_flight = OP_CLAIM;
            bool raw = next(&c->seed) % 5 == 0;
            snprintf(body, sizeof(body),
                     "{\"owner\": \"%s\", \"pool\": \"%s\", \"count\": %u, \"request_id\": \"r%u-%d\"}",
                     owner, raw ? "raw" : "vfs", 1 + next(&c->seed) % 3, c->seed, n++);
            r = dkit_request(curl, c->k->socket, "POST", "/v1/claims", body);
            if (r.status == 201)
                c->claims++;
        } else if (pick < 55) {
            c->in_flight = OP_CLAIM_ADDRESS;
            char vf[32];
            dkit_vf("0000:03:00.0", (int)(next(&c->seed) % VFS), vf, sizeof(vf));
            snprintf(body, sizeof(body), "{\"owner\": \"%s\", \"address\": \"%s\"}", owner, vf);
            r = dkit_request(curl, c->k->socket, "POST", "/v1/claims", body);
            if (r.status == 201)
                c->claims++;
        } else if (pick < 92) {
            c->in_flight = OP_LIST;
            snprintf(path, sizeof(path), "/v1/claims?owner=%s", owner);
            r = dkit_request(curl, c->k->socket, "GET", path, NULL);
            json_t *claims = json_object_get(r.doc, "claims");
            if (!died(&r) && json_array_size(claims)) {
                json_t *one = json_array_get(claims, next(&c->seed) % json_array_size(claims));
                snprintf(path, sizeof(path), "/v1/claims/%s", json_string_value(json_object_get(one, "id")));
                dreply_free(&r);
                c->in_flight = OP_RELEASE;
                r = dkit_request(curl, c->k->socket, "DELETE", path, NULL);
                if (r.status == 200)
                    c->releases++;
            }
        } else {
            c->in_flight = OP_RELEASE_OWNER;
            snprintf(path, sizeof(path), "/v1/claims?owner=%s", owner);
            r = dkit_request(curl, c->k->socket, "DELETE", path, NULL);
            if (r.status == 200)
                c->releases += (int)json_integer_value(json_object_get(r.doc, "released"));
        }
        bool dead = died(&r);
        dreply_free(&r);
        if (dead)
            break; /* in_flight says what the kill interrupted */
        c->in_flight = OP_NONE;
    }
    curl_easy_cleanup(curl);
    return NULL;
}

struct seen {
    char address[32];
    char claim[40];
    bool bind, vanished;
};

static int fail_count;

static void violation(int run, unsigned seed, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void violation(int run, unsigned seed, const char *fmt, ...)
{
    fail_count++;
    if (run < 0)
        return; /* the planted ones: counted, not reported */
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "crash run %d (seed %u): ", run, seed);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    printf("# crash run %d (seed %u): violation (see stderr)\n", run, seed);
    va_end(ap);
}

static struct seen *find(struct seen *v, int n, const char *address)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i].address, address) == 0)
            return &v[i];
    return NULL;
}

/* Every invariant of the header comment; returns the number of violations. */
static int check_invariants(struct dkit *k, int run, unsigned seed)
{
    int before = fail_count;
    struct seen seen[MAX_FUNCS];
    int n = 0;
    json_t *doc = dkit_expect(k, "GET", "/v1/claims", NULL, 200);
    size_t i, j;
    json_t *c, *f;
    json_array_foreach (json_object_get(doc, "claims"), i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        const char *st = json_string_value(json_object_get(c, "state"));
        if (strcmp(st, "claimed") != 0)
            violation(run, seed, "claim %s is in state %s after recovery", id, st);
        json_array_foreach (json_object_get(c, "functions"), j, f) {
            const char *a = json_string_value(json_object_get(f, "address"));
            struct seen *s = find(seen, n, a);
            if (s)
                violation(run, seed, "%s is in two claims: %s and %s", a, s->claim, id);
            else if (n < MAX_FUNCS) {
                s = &seen[n++];
                snprintf(s->address, sizeof(s->address), "%s", a);
                snprintf(s->claim, sizeof(s->claim), "%s", id);
                s->bind = json_is_true(json_object_get(f, "bind"));
                s->vanished = json_is_true(json_object_get(f, "vanished"));
            }
        }
    }
    size_t n_claims = json_array_size(json_object_get(doc, "claims"));
    json_decref(doc);

    /* the host: every function of both PFs */
    for (int p = 0; p < 2; p++) {
        const char *pf = p ? "0000:82:00.0" : "0000:03:00.0";
        for (int v = 0; v < (p ? RAW_VFS : VFS); v++) {
            char vf[32], drv[64], ovr[64];
            dkit_vf(pf, v, vf, sizeof(vf));
            dkit_driver(k, vf, drv, sizeof(drv));
            dkit_override(k, vf, ovr, sizeof(ovr));
            struct seen *s = find(seen, n, vf);
            bool bound = s && s->bind && !s->vanished;
            if (bound && (strcmp(drv, "vfio-pci") || strcmp(ovr, "vfio-pci")))
                violation(run, seed, "%s belongs to claim %s but is on '%s' (override %s)", vf, s->claim, drv,
                          ovr);
            if (!bound && !strcmp(drv, "vfio-pci"))
                violation(run, seed, "%s is on vfio-pci but no live claim binds it", vf);
            if (!bound && (strcmp(drv, "mlx5_core") || strcmp(ovr, "(null)")))
                violation(run, seed,
                          "%s is not claimed (or not bound) but on '%s' with override %s: not restored", vf,
                          drv, ovr);
        }
    }

    /* the store, read-only next to the running daemon (WAL) */
    char db[700];
    snprintf(db, sizeof(db), "%s/dpuhost.db", k->state);
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fail_msg("cannot open %s", db);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(h, "SELECT address, state FROM bindings", -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0),
                   *state = (const char *)sqlite3_column_text(st, 1);
        struct seen *s = find(seen, n, a);
        if (!s || !s->bind)
            violation(run, seed, "the store has a binding record for %s (%s) that no claim binds", a, state);
        else if (strcmp(state, "bound") != 0)
            violation(run, seed, "the binding record of %s is in state %s after recovery", a, state);
    }
    sqlite3_finalize(st);
    sqlite3_prepare_v2(h, "SELECT count(*), sum(state != 'claimed') FROM claims", -1, &st, NULL);
    if (sqlite3_step(st) == SQLITE_ROW) {
        if ((size_t)sqlite3_column_int(st, 0) != n_claims)
            violation(run, seed, "the store holds %d claims, the API lists %zu", sqlite3_column_int(st, 0),
                      n_claims);
        if (sqlite3_column_int(st, 1) != 0)
            violation(run, seed, "the store holds %d claims not in state claimed", sqlite3_column_int(st, 1));
    }
    sqlite3_finalize(st);
    sqlite3_close(h);

    /* the pools' counts */
    doc = dkit_expect(k, "GET", "/v1/pools", NULL, 200);
    json_t *pool;
    json_array_foreach (json_object_get(doc, "pools"), i, pool) {
        const char *name = json_string_value(json_object_get(pool, "name"));
        const char *prefix = strcmp(name, "vfs") == 0 ? "0000:03:" : "0000:82:";
        int claimed = 0;
        for (int s = 0; s < n; s++)
            claimed += strncmp(seen[s].address, prefix, 8) == 0;
        if (json_integer_value(json_object_get(pool, "claimed")) != claimed)
            violation(run, seed, "pool %s says %lld claimed, the claims hold %d", name,
                      (long long)json_integer_value(json_object_get(pool, "claimed")), claimed);
        if (json_integer_value(json_object_get(pool, "claimed")) +
                    json_integer_value(json_object_get(pool, "free")) +
                    json_integer_value(json_object_get(pool, "unavailable")) !=
            json_integer_value(json_object_get(pool, "total")))
            violation(run, seed, "pool %s: claimed + free + unavailable != total", name);
    }
    json_decref(doc);
    return fail_count - before;
}

/* The recovery line the daemon logged since offset: adds its numbers to t. */
static void add_recovery(struct dkit *k, size_t offset, struct totals *t)
{
    char *log = dkit_log(k);
    const char *p = strlen(log) > offset ? log + offset : "";
    const char *line = strstr(p, "recovery: ");
    int a[7];
    if (!line ||
        sscanf(line,
               "recovery: %d claims loaded, %d rolled back, %d released, %d rebound, %d vanished, %d "
               "restored, %d problems",
               &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6]) != 7)
        fail_msg("no recovery line in the log after offset %zu", offset);
    t->loaded += a[0];
    t->rolled_back += a[1];
    t->released += a[2];
    t->rebound += a[3];
    t->restored += a[5];
    t->problems += a[6];
    free(log);
}

/* After a kill, once the simulated kernel has finished the write in progress (the lock its process
 * holds; see dpuhostd-sim.c): how many functions are between two resting states, i.e. the kill
 * interrupted a bind or a restore on them. Resting: on mlx5_core without override, or on vfio-pci
 * with override vfio-pci. */
static int halfway(struct dkit *k)
{
    char lock[600];
    snprintf(lock, sizeof(lock), "%s/sim-kernel.lock", k->work);
    int fd = open(lock, O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        flock(fd, LOCK_EX);
        close(fd);
    }
    int n = 0;
    for (int v = 0; v < VFS; v++) {
        char vf[32], drv[64], ovr[64];
        dkit_vf("0000:03:00.0", v, vf, sizeof(vf));
        dkit_driver(k, vf, drv, sizeof(drv));
        dkit_override(k, vf, ovr, sizeof(ovr));
        bool rest = (!strcmp(drv, "mlx5_core") && !strcmp(ovr, "(null)")) ||
                    (!strcmp(drv, "vfio-pci") && !strcmp(ovr, "vfio-pci"));
        n += !rest;
    }
    return n;
}

static size_t log_size(struct dkit *k)
{
    char *log = dkit_log(k);
    size_t n = strlen(log);
    free(log);
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void sigkill_at_random_points_keeps_every_invariant(void **state)
{
    (void)state;
    const char *e = getenv("DPUHOST_CRASH_RUNS");
    int runs = e ? atoi(e) : 300;
    e = getenv("DPUHOST_CRASH_SEED");
    unsigned base = e ? (unsigned)strtoul(e, NULL, 10) : 1;
    struct dkit_options o = {.vfs = VFS, .raw_vfs = RAW_VFS};
    struct dkit *k = dkit_new(&o);
    /* every simulated kernel write of every life of the daemon, for the post-mortem of a failure */
    char trace[600];
    snprintf(trace, sizeof(trace), "%s/kernel-writes.log", k->work);
    setenv("DPUHOSTD_SIM_TRACE", trace, 1);
    assert_int_equal(dkit_start(k, DKIT_SIM, NULL), 0);
    struct totals t = {.kill_ms_min = 1e9};
    double t0 = dkit_now_ms();
    for (int run = 0; run < runs; run++) {
        unsigned seed = base + (unsigned)run;
        unsigned rng = seed * 2654435761u;
        atomic_bool stop = false;
        struct client cs[CLIENTS];
        pthread_t th[CLIENTS];
        for (int i = 0; i < CLIENTS; i++) {
            cs[i] = (struct client){.k = k, .index = i, .seed = seed * 7919u + (unsigned)i, .stop = &stop};
            pthread_create(&th[i], NULL, client_run, &cs[i]);
        }
        int delay = (int)(next(&rng) % 120);
        double k0 = dkit_now_ms();
        sleep_ms(delay);
        dkit_kill(k);
        double kill_ms = dkit_now_ms() - k0;
        atomic_store(&stop, true);
        for (int i = 0; i < CLIENTS; i++) {
            pthread_join(th[i], NULL);
            t.interrupted[cs[i].in_flight]++;
            t.completed_claims += cs[i].claims;
            t.completed_releases += cs[i].releases;
        }
        t.kills++;
        int h = halfway(k);
        t.halfway_functions += h;
        t.halfway_runs += h > 0;
        if (kill_ms < t.kill_ms_min)
            t.kill_ms_min = kill_ms;
        if (kill_ms > t.kill_ms_max)
            t.kill_ms_max = kill_ms;
        size_t offset = log_size(k);
        int r = dkit_start(k, DKIT_SIM, NULL);
        if (r != 0)
            fail_msg("crash run %d (seed %u): dpuhostd did not restart (exit %d); see %s", run, seed, r,
                     k->log);
        add_recovery(k, offset, &t);
        t.runs++;
        if (check_invariants(k, run, seed))
            fail_msg("crash run %d (seed %u): invariants violated after the restart (above); log %s", run,
                     seed, k->log);
        if ((run + 1) % 50 == 0)
            printf("# %d runs, %.1f s\n", run + 1, (dkit_now_ms() - t0) / 1000);
    }
    printf("# crash test: %d runs, %d SIGKILLs after 0-120 ms of load (%.0f-%.0f ms measured), %.1f s\n",
           t.runs, t.kills, t.kill_ms_min, t.kill_ms_max, (dkit_now_ms() - t0) / 1000);
    printf("# in flight at the kills:");
    for (int i = 0; i < N_OPS; i++)
        printf(" %s %d%s", op_names[i], t.interrupted[i], i + 1 < N_OPS ? "," : "\n");
    printf("# answered before the kills: %d claims, %d releases\n", t.completed_claims, t.completed_releases);
    printf("# kills that left functions half-way between drivers (mid-bind or mid-restore): %d, %d "
           "functions\n",
           t.halfway_runs, t.halfway_functions);
    printf("# recovery after the restarts: %d claims loaded, %d interrupted claims rolled back, %d "
           "interrupted "
           "releases finished, %d half-done binds/restores finished, %d rebound, %d problems\n",
           t.loaded, t.rolled_back, t.released, t.restored, t.rebound, t.problems);
    assert_int_equal(t.problems, 0);
    assert_true(t.rolled_back + t.released + t.restored > 0); /* the kills did land mid-operation */
    assert_true(t.halfway_runs > 0);                          /* and some in the middle of the kernel work */
    assert_int_equal(dkit_stop(k), 0);
    dkit_free(k);
}

/* The checks are not vacuous: a VF bound behind the daemon's back, and a binding record without a
 * claim, are both reported. */
static void the_checks_see_a_planted_violation(void **state)
{
    (void)state;
    struct dkit_options o = {.vfs = VFS, .raw_vfs = RAW_VFS};
    struct dkit *k = dkit_new(&o);
    assert_int_equal(dkit_start(k, DKIT_SIM, NULL), 0);
    json_decref(
            dkit_expect(k, "POST", "/v1/claims", "{\"owner\": \"x\", \"pool\": \"vfs\", \"count\": 2}", 201));
    assert_int_equal(check_invariants(k, -1, 0), 0);
    /* the daemon binds an unclaimed VF (as the CLI's bind would): on vfio-pci with no claim */
    char vf[32], body[128];
    dkit_vf("0000:03:00.0", 7, vf, sizeof(vf));
    snprintf(body, sizeof(body), "{\"addresses\": [\"%s\"]}", vf);
    json_decref(dkit_expect(k, "POST", "/v1/bind", body, 200));
    int before = fail_count;
    int found = check_invariants(k, -1, 0);
    fail_count = before;
    printf("# a VF bound behind the claims' back: %d violations reported\n", found);
    assert_true(found >= 3); /* on vfio-pci without a claim, not restored, a record without a claim */
    dkit_free(k);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
            DH_TEST(the_checks_see_a_planted_violation),
            DH_TEST(sigkill_at_random_points_keeps_every_invariant),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return r;
}
