/* dpuhostd's life: SIGTERM stops it cleanly and leaves the claims (a restart lists them and they are
 * still bound); its socket file is replaced when stale and refused when another daemon answers on
 * it; one daemon per state directory; options and configuration errors exit 2 with a message;
 * readiness is signalled with sd_notify (every start in these tests waits for READY=1). */
#include "test.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dkit.h"

static bool log_has(struct dkit *k, const char *needle)
{
    char *log = dkit_log(k);
    bool r = strstr(log, needle) != NULL;
    if (!r)
        fprintf(stderr, "# the log lacks \"%s\":\n%s", needle, log);
    free(log);
    return r;
}

static void sigterm_keeps_claims(void **state)
{
    (void)state;
    struct dkit *k = dkit_new(NULL);
    assert_int_equal(dkit_start(k, DKIT_SIM, NULL), 0);
    json_t *a = dkit_expect(k, "POST", "/v1/claims", "{\"owner\": \"vm-a\", \"pool\": \"vfs\", \"count\": 2}",
                            201);
    json_t *b = dkit_expect(k, "POST", "/v1/claims", "{\"owner\": \"vm-b\", \"pool\": \"raw\"}", 201);
    char ida[40], idb[40], vf0[32], vf1[32], drv[64];
    snprintf(ida, sizeof(ida), "%s", json_string_value(json_object_get(a, "id")));
    snprintf(idb, sizeof(idb), "%s", json_string_value(json_object_get(b, "id")));
    json_t *fs = json_object_get(a, "functions");
    snprintf(vf0, sizeof(vf0), "%s", json_string_value(json_object_get(json_array_get(fs, 0), "address")));
    snprintf(vf1, sizeof(vf1), "%s", json_string_value(json_object_get(json_array_get(fs, 1), "address")));
    json_decref(a);
    json_decref(b);

    assert_int_equal(dkit_stop(k), 0);
    assert_true(log_has(k, "SIGTERM from pid"));
    assert_true(log_has(k, "stopped"));
    assert_int_equal(access(k->socket, F_OK), -1);                          /* it removed its socket */
    assert_string_equal(dkit_driver(k, vf0, drv, sizeof(drv)), "vfio-pci"); /* the claim holds */
    assert_string_equal(dkit_driver(k, vf1, drv, sizeof(drv)), "vfio-pci");

    assert_int_equal(dkit_start(k, DKIT_SIM, NULL), 0);
    assert_true(log_has(k, "recovery: 2 claims loaded, 0 rolled back, 0 released, 0 rebound"));
    json_t *doc = dkit_expect(k, "GET", "/v1/claims", NULL, 200);
    json_t *claims = json_object_get(doc, "claims");
    assert_int_equal(json_array_size(claims), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(claims, 0), "id")), ida);
    assert_string_equal(json_string_value(json_object_get(json_array_get(claims, 0), "state")), "claimed");
    assert_string_equal(json_string_value(json_object_get(json_array_get(claims, 1), "id")), idb);
    json_decref(doc);
    char path[80];
    snprintf(path, sizeof(path), "/v1/claims/%s", ida);
    json_decref(dkit_expect(k, "DELETE", path, NULL, 200));
    assert_string_equal(dkit_driver(k, vf0, drv, sizeof(drv)), "mlx5_core");
    /* SIGINT is a clean stop too */
    assert_int_equal(dkit_signal(k, SIGINT), 0);
    assert_true(log_has(k, "SIGINT from pid"));
    dkit_free(k);
}

static void sighup_is_ignored_with_a_note(void **state)
{
    (void)state;
    struct dkit *k = dkit_new(NULL);
    assert_int_equal(dkit_start(k, DKIT_REAL, NULL), 0);
    kill(k->pid, SIGHUP);
    usleep(100 * 1000);
    json_decref(dkit_expect(k, "GET", "/v1/pools", NULL, 200));
    assert_true(log_has(k, "SIGHUP: the configuration is read at start only"));
    /* the VM manager is wired in (docs/vms.md): an empty list, not 503 */
    json_t *vms = dkit_expect(k, "GET", "/v1/vms", NULL, 200);
    assert_true(json_is_array(json_object_get(vms, "vms")));
    json_decref(vms);
    assert_int_equal(dkit_stop(k), 0);
    dkit_free(k);
}

static void stale_socket_is_replaced(void **state)
{
    (void)state;
    struct dkit *k = dkit_new(NULL);
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/run", k->work);
    mkdir(dir, 0755);
    /* a socket file nobody listens on, as a SIGKILLed daemon leaves it */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, k->socket, strlen(k->socket) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    assert_int_equal(dkit_start(k, DKIT_REAL, NULL), 0);
    json_decref(dkit_expect(k, "GET", "/v1/pools", NULL, 200));
    dkit_free(k);
}

static void a_live_socket_or_state_dir_is_refused(void **state)
{
    (void)state;
    struct dkit *k = dkit_new(NULL);
    assert_int_equal(dkit_start(k, DKIT_REAL, NULL), 0);
    pid_t first = k->pid;

    /* the same socket, another state directory: the socket answers */
    char other_state[600], other_socket[600];
    snprintf(other_state, sizeof(other_state), "%s/state2", k->work);
    const char *same_socket[] = {"--state-dir", other_state, NULL};
    k->pid = 0;
    assert_int_equal(dkit_start(k, DKIT_REAL, same_socket), 1);
    char needle[800];
    snprintf(needle, sizeof(needle), "another process (pid %d) is listening on %s", (int)first, k->socket);
    assert_true(log_has(k, needle));

    /* the same state directory, another socket: the lock */
    snprintf(other_socket, sizeof(other_socket), "%s/run/other.sock", k->work);
    const char *same_state[] = {"--socket", other_socket, NULL};
    assert_int_equal(dkit_start(k, DKIT_REAL, same_state), 1);
    snprintf(needle, sizeof(needle), "another dpuhostd (pid %d) uses the state directory", (int)first);
    assert_true(log_has(k, needle));
    assert_int_equal(access(other_socket, F_OK), -1);

    /* the first one is untouched */
    k->pid = first;
    json_decref(dkit_expect(k, "GET", "/v1/pools", NULL, 200));
    assert_int_equal(dkit_stop(k), 0);
    dkit_free(k);
}

static void something_else_at_the_socket_path_is_left_alone(void **state)
{
    (void)state;
    struct dkit *k = dkit_new(NULL);
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/run", k->work);
    mkdir(dir, 0755);
    FILE *f = fopen(k->socket, "we");
    fputs("precious\n", f);
    fclose(f);
    assert_int_equal(dkit_start(k, DKIT_REAL, NULL), 1);
    assert_true(log_has(k, "exists and is not a socket"));
    f = fopen(k->socket, "re");
    char buf[32] = "";
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_string_equal(buf, "precious\n");
    dkit_free(k);
}

static void flags_override_the_configuration(void **state)
{
    (void)state;
    struct dkit *k = dkit_new(NULL);
    char sock[600], st[600];
    snprintf(sock, sizeof(sock), "%s/elsewhere/d.sock", k->work);
    snprintf(st, sizeof(st), "%s/elsewhere/state", k->work);
    const char *args[] = {"--socket", sock, "--state-dir", st, NULL};
    assert_int_equal(dkit_start(k, DKIT_REAL, args), 0);
    struct stat s;
    assert_int_equal(stat(sock, &s), 0);
    assert_true(S_ISSOCK(s.st_mode));
    assert_int_equal(stat(st, &s), 0);
    assert_int_equal(s.st_mode & 0777, 0700); /* the state directory is private */
    char db[700];
    snprintf(db, sizeof(db), "%s/dpuhost.db", st);
    assert_int_equal(access(db, F_OK), 0);
    assert_int_equal(access(k->socket, F_OK), -1);
    assert_int_equal(dkit_stop(k), 0);
    dkit_free(k);
}

static void bad_options_and_configurations_exit_2(void **state)
{
    (void)state;
    struct dkit *k = dkit_new(NULL);
    const char *tcp[] = {"--tcp", "127.0.0.1:7411", NULL};
    assert_int_equal(dkit_start(k, DKIT_REAL, tcp), 2);
    assert_true(log_has(k, "--tcp needs --token-file PATH"));
    const char *rel[] = {"--socket", "relative.sock", NULL};
    assert_int_equal(dkit_start(k, DKIT_REAL, rel), 2);
    assert_true(log_has(k, "--socket relative.sock: give an absolute path"));
    const char *unknown[] = {"--colour", NULL};
    assert_int_equal(dkit_start(k, DKIT_REAL, unknown), 2);
    char missing[600];
    snprintf(missing, sizeof(missing), "%s/nope.json", k->work);
    const char *nocfg[] = {"--config", missing, NULL};
    assert_int_equal(dkit_start(k, DKIT_REAL, nocfg), 2);
    assert_true(log_has(k, "nope.json does not exist"));
    FILE *f = fopen(k->config, "we");
    fputs("{\"pools\": [{\"name\": \"x\", \"selectors\": {\"vendors\": [\"15b3\"]}, \"bind\": \"yes\"}]}", f);
    fclose(f);
    assert_int_equal(dkit_start(k, DKIT_REAL, NULL), 2);
    assert_true(log_has(k, "bind \"yes\" is not true or false"));
    dkit_free(k);
}

static void without_a_default_configuration_it_serves_no_pools(void **state)
{
    (void)state;
    if (access("/etc/dpuhost/dpuhost.json", F_OK) == 0)
        skip(); /* this machine has one: the case cannot be shown here */
    struct dkit *k = dkit_new(NULL);
    char sock[600], st[600];
    snprintf(sock, sizeof(sock), "%s/d.sock", k->work);
    snprintf(st, sizeof(st), "%s/st", k->work);
    const char *args[] = {"--socket", sock, "--state-dir", st, NULL};
    k->no_config = true;
    assert_int_equal(dkit_start(k, DKIT_REAL, args), 0);
    assert_true(log_has(k, "no /etc/dpuhost/dpuhost.json: running with an empty configuration"));
    CURL *c = curl_easy_init();
    struct dreply r = dkit_request(c, sock, "GET", "/v1/pools", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.doc, "pools")), 0);
    dreply_free(&r);
    r = dkit_request(c, sock, "GET", "/v1/functions", NULL);
    assert_true(json_array_size(json_object_get(r.doc, "functions")) > 10); /* the inventory is there */
    dreply_free(&r);
    curl_easy_cleanup(c);
    assert_int_equal(dkit_stop(k), 0);
    dkit_free(k);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
            DH_TEST(sigterm_keeps_claims),
            DH_TEST(sighup_is_ignored_with_a_note),
            DH_TEST(stale_socket_is_replaced),
            DH_TEST(a_live_socket_or_state_dir_is_refused),
            DH_TEST(something_else_at_the_socket_path_is_left_alone),
            DH_TEST(flags_override_the_configuration),
            DH_TEST(bad_options_and_configurations_exit_2),
            DH_TEST(without_a_default_configuration_it_serves_no_pools),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return r;
}
