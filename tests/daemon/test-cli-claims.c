/* The CLI against a running dpuhostd: pools, claim, claims, release, events, status, their text and
 * JSON output and exit statuses (0 ok, 2 bad input, 1 otherwise); an unreachable daemon; and bind,
 * restore and sriov going through the daemon while it runs on the same host root. */
#include "test.h"

#include <pthread.h>
#include <unistd.h>

#include "dkit.h"
#include "run.h"

static struct dkit *k;

#define CLI(...) dkit_cli(k, false, (const char *const[]){__VA_ARGS__, NULL})
#define CLI_ROOT(...) dkit_cli(k, true, (const char *const[]){__VA_ARGS__, NULL})
#define expect dkit_expect_run

static void pools_claim_claims_release(void **state)
{
    (void)state;
    struct run_result r = CLI("pools");
    expect(&r, 0, "NAME", NULL);
    assert_non_null(strstr(r.out, "FREE"));
    assert_non_null(strstr(r.out, "vfs "));
    run_result_free(&r);

    r = CLI("--json", "claim", "--owner", "vm-a", "--pool", "vfs", "--count", "2", "--label", "tenant=blue");
    expect(&r, 0, NULL, NULL);
    json_t *c = json_loads(r.out, 0, NULL);
    assert_non_null(c);
    char id[40];
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(c, "id")));
    assert_int_equal(json_array_size(json_object_get(c, "functions")), 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "labels"), "tenant")), "blue");
    char vf[32], drv[64];
    snprintf(vf, sizeof(vf), "%s",
             json_string_value(
                     json_object_get(json_array_get(json_object_get(c, "functions"), 0), "address")));
    assert_string_equal(dkit_driver(k, vf, drv, sizeof(drv)), "vfio-pci");
    json_decref(c);
    run_result_free(&r);

    /* the same request again: the same claim, and the text view */
    r = CLI("claim", "--owner", "vm-a", "--pool", "vfs", "--count", "2");
    expect(&r, 0, id, NULL);
    assert_non_null(strstr(r.out, "FUNCTIONS"));
    assert_non_null(strstr(r.out, "/dev/vfio/"));
    run_result_free(&r);

    r = CLI("claim", "--owner", "vm-b", "--address", "0000:82:00.2");
    expect(&r, 0, "vm-b", NULL);
    run_result_free(&r);

    r = CLI("claims", "--owner", "vm-a");
    expect(&r, 0, id, NULL);
    assert_null(strstr(r.out, "vm-b"));
    run_result_free(&r);
    r = CLI("--json", "claims");
    expect(&r, 0, NULL, NULL);
    c = json_loads(r.out, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(c, "claims")), 2);
    json_decref(c);
    run_result_free(&r);

    r = CLI("release", id);
    expect(&r, 0, id, NULL);
    assert_non_null(strstr(r.out, "RELEASED"));
    run_result_free(&r);
    assert_string_equal(dkit_driver(k, vf, drv, sizeof(drv)), "mlx5_core");
    r = CLI("release", id);
    expect(&r, 1, NULL, "does not exist");
    run_result_free(&r);
    r = CLI("release", "--owner", "vm-b");
    expect(&r, 0, "released: 1", NULL);
    run_result_free(&r);
}

static void bad_input_exits_2_and_changes_nothing(void **state)
{
    (void)state;
    static const char *const cases[][12] = {
            {"claim", "--pool", "vfs", NULL},
            {"claim", "--owner", "vm", NULL},
            {"claim", "--owner", "vm", "--pool", "vfs", "--address", "0000:03:00.2", NULL},
            {"claim", "--owner", "vm", "--pool", "vfs", "--count", "0", NULL},
            {"claim", "--owner", "vm", "--pool", "vfs", "--count", "two", NULL},
            {"claim", "--owner", "vm", "--address", "3:00.2", NULL},
            {"claim", "--owner", "vm", "--address", "0000:03:00.2", "--count", "2", NULL},
            {"claim", "--owner", "vm", "--pool", "vfs", "--label", "novalue", NULL},
            {"claim", "--owner", "vm", "--pool", "vfs", "--label", "a=1", "--label", "a=2", NULL},
            {"claim", "--owner", "vm", "--pool", "vfs", "--numa-node", "-1", NULL},
            {"claim", "--owner", "vm", "--pool", "vfs", "--colour", "red", NULL},
            {"release", NULL},
            {"release", "c-1", "--owner", "vm", NULL},
            {"events", "--since", "x", NULL},
            {"claims", "extra", NULL},
            {"pools", "extra", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run_result r = dkit_cli(k, false, cases[i]);
        if (r.status != 2 || !*r.err)
            fail_msg("dpuhost %s %s ...: expected exit 2 with a message, got %d: %s", cases[i][0],
                     cases[i][1] ? cases[i][1] : "", r.status, r.err);
        run_result_free(&r);
    }
    /* the daemon's own validation: 422 is bad input too; 404 and 409 are failures */
    struct run_result r = CLI("claim", "--owner", "vm\x01", "--pool", "vfs");
    expect(&r, 2, NULL, "owner");
    run_result_free(&r);
    r = CLI("claim", "--owner", "vm", "--pool", "gold");
    expect(&r, 1, NULL, "pool 'gold' does not exist");
    run_result_free(&r);
    r = CLI("claim", "--owner", "vm", "--pool", "vfs", "--count", "9");
    expect(&r, 1, NULL, "free function");
    run_result_free(&r);
    json_t *doc = dkit_expect(k, "GET", "/v1/claims", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(doc, "claims")), 0);
    json_decref(doc);
}

static void status_and_an_unreachable_daemon(void **state)
{
    (void)state;
    struct run_result r = CLI("status");
    expect(&r, 0, "ready: yes", NULL);
    assert_non_null(strstr(r.out, "CHECK"));
    run_result_free(&r);
    char *argv[] = {DPUHOST_CLI_PATH, "--socket", "/nonexistent/dpuhost.sock", "pools", NULL};
    assert_int_equal(run_capture(argv, NULL, &r), 0);
    expect(&r, 1, NULL, "cannot reach dpuhostd at /nonexistent/dpuhost.sock: is it running?");
    run_result_free(&r);
    /* DPUHOST_SOCKET is the default for --socket */
    char env[700];
    snprintf(env, sizeof(env), "DPUHOST_SOCKET=%s", k->socket);
    char *argv2[] = {DPUHOST_CLI_PATH, "--json", "pools", NULL};
    char *envp[] = {env, NULL};
    assert_int_equal(run_capture(argv2, envp, &r), 0);
    expect(&r, 0, "\"pools\"", NULL);
    run_result_free(&r);
}

static void bind_restore_and_sriov_go_through_the_daemon(void **state)
{
    (void)state;
    char vf[32], drv[64];
    dkit_vf("0000:82:00.0", 1, vf, sizeof(vf));
    /* without the daemon these would fail here: the CLI has no kernel simulator and cannot load
     * vfio-pci under a fake root; through the daemon they work, and land in the daemon's store */
    struct run_result r = CLI_ROOT("bind", vf);
    expect(&r, 0, vf, NULL);
    run_result_free(&r);
    assert_string_equal(dkit_driver(k, vf, drv, sizeof(drv)), "vfio-pci");
    r = CLI_ROOT("--json", "restore", vf);
    expect(&r, 0, "\"results\"", NULL);
    run_result_free(&r);
    assert_string_equal(dkit_driver(k, vf, drv, sizeof(drv)), "mlx5_core");

    /* a claimed function belongs to its claim */
    json_t *c = dkit_expect(k, "POST", "/v1/claims", "{\"owner\": \"vm-c\", \"pool\": \"raw\"}", 201);
    const char *claimed =
            json_string_value(json_object_get(json_array_get(json_object_get(c, "functions"), 0), "address"));
    r = CLI_ROOT("restore", claimed);
    expect(&r, 1, NULL, "release the claim instead");
    run_result_free(&r);
    json_decref(c);
    json_decref(dkit_expect(k, "DELETE", "/v1/claims?owner=vm-c", NULL, 200));

    r = CLI_ROOT("sriov", "0000:82:00.0", "--num-vfs", "3");
    expect(&r, 0, "0000:82:00.0: 3 VFs", NULL);
    run_result_free(&r);
    json_t *doc = dkit_expect(k, "GET", "/v1/pools", NULL, 200);
    assert_int_equal(
            json_integer_value(json_object_get(json_array_get(json_object_get(doc, "pools"), 1), "total")),
            3);
    json_decref(doc);
    r = CLI_ROOT("sriov", "0000:82:00.0", "--num-vfs", "99");
    expect(&r, 2, NULL, "more than");
    run_result_free(&r);

    /* another root: the daemon is not the one for it, the CLI works locally (and fails here) */
    char other[600];
    snprintf(other, sizeof(other), "%s/", k->root); /* the same directory spelled differently */
    char *argv[] = {DPUHOST_CLI_PATH, "--socket", k->socket, "--root", other, "bind", vf, NULL};
    assert_int_equal(run_capture(argv, NULL, &r), 0);
    expect(&r, 0, vf, NULL); /* still the daemon: the same root after realpath */
    run_result_free(&r);
    char *argv2[] = {DPUHOST_CLI_PATH, "--socket", k->socket, "--root", k->root, "restore", vf, NULL};
    assert_int_equal(run_capture(argv2, NULL, &r), 0);
    expect(&r, 0, NULL, NULL);
    run_result_free(&r);
}

struct events {
    struct run_result r;
    bool json;
};

static void *follow(void *userdata)
{
    struct events *e = userdata;
    char *argv[] = {DPUHOST_CLI_PATH,
                    "--socket",
                    k->socket,
                    e->json ? "--json" : "events",
                    e->json ? "events" : "--since",
                    e->json ? "--since" : "1",
                    e->json ? "1" : NULL,
                    NULL};
    run_capture(argv, NULL, &e->r);
    return NULL;
}

static void events_follow_until_the_daemon_stops(void **state)
{
    (void)state;
    json_t *c = dkit_expect(k, "POST", "/v1/claims", "{\"owner\": \"vm-e\", \"pool\": \"raw\"}", 201);
    json_decref(c);
    struct events text = {0}, json = {.json = true};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, follow, &text);
    pthread_create(&t2, NULL, follow, &json);
    usleep(500 * 1000);
    assert_int_equal(dkit_stop(k), 0); /* the streams end, the CLIs exit 0 */
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    expect(&text.r, 0, "SEQ", NULL);
    assert_non_null(strstr(text.r.out, "claimed"));
    assert_non_null(strstr(text.r.out, "owner=vm-e pool=raw"));
    expect(&json.r, 0, "\"type\":\"claimed\"", NULL);
    run_result_free(&text.r);
    run_result_free(&json.r);
    assert_int_equal(dkit_start(k, DKIT_SIM, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(pools_claim_claims_release),
            DH_TEST(bad_input_exits_2_and_changes_nothing),
            DH_TEST(status_and_an_unreachable_daemon),
            DH_TEST(bind_restore_and_sriov_go_through_the_daemon),
            DH_TEST(events_follow_until_the_daemon_stops),
    };
    return DKIT_RUN_GROUP(tests, NULL, &k);
}
