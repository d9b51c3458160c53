/* SO_PEERCRED over the real socket: clients forked as other users. One whose uid and groups are not
 * allowed gets 403 for everything and changes nothing; an allowed uid, primary group or
 * supplementary group gets through; root always does. */
#include "test.h"

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dkit.h"

#define NOBODY 65534

struct fixture {
    struct dkit *k;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct dkit_options o = {.vfs = 4,
                             .config_extra = "\"allowed_uids\": [4242], \"allowed_gids\": [4343, 4444]"};
    fx->k = dkit_new(&o);
    assert_int_equal(dkit_start(fx->k, DKIT_SIM, NULL), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    dkit_free(fx->k);
    free(fx);
    return 0;
}

/* The status a client running as uid/gid (with the supplementary groups given) gets. */
static int status_as(struct dkit *k, uid_t uid, gid_t gid, const gid_t *groups, size_t n, const char *method,
                     const char *path, const char *body)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        int status = -2;
        if (setgroups(n, groups) == 0 && setgid(gid) == 0 && setuid(uid) == 0 && getuid() == uid)
            status = dkit_raw_status(k->socket, method, path, body);
        if (write(p[1], &status, sizeof(status)) != sizeof(status))
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    int status = -3;
    assert_int_equal(read(p[0], &status, sizeof(status)), sizeof(status));
    close(p[0]);
    waitpid(pid, NULL, 0);
    return status;
}

static void a_disallowed_uid_gets_403_and_changes_nothing(void **state)
{
    struct fixture *fx = *state;
    struct dkit *k = fx->k;
    if (geteuid() != 0)
        skip();
    char vf[32], drv[64];
    dkit_vf("0000:03:00.0", 0, vf, sizeof(vf));
    char claim[128];
    snprintf(claim, sizeof(claim), "{\"owner\": \"intruder\", \"address\": \"%s\"}", vf);
    assert_int_equal(status_as(k, NOBODY, NOBODY, NULL, 0, "GET", "/v1/pools", NULL), 403);
    assert_int_equal(status_as(k, NOBODY, NOBODY, NULL, 0, "POST", "/v1/claims", claim), 403);
    assert_int_equal(status_as(k, NOBODY, NOBODY, NULL, 0, "POST", "/v1/claims",
                               "{\"owner\": \"intruder\", \"pool\": \"vfs\", \"count\": 4}"),
                     403);
    assert_int_equal(status_as(k, NOBODY, NOBODY, NULL, 0, "DELETE", "/v1/claims?owner=vm-a", NULL), 403);
    assert_int_equal(status_as(k, NOBODY, NOBODY, NULL, 0, "GET", "/metrics", NULL), 403);
    gid_t other[] = {5, 6};
    assert_int_equal(status_as(k, NOBODY, NOBODY, other, 2, "GET", "/v1/claims", NULL), 403);

    /* nothing changed: no claim, every function where it was, and the refusals were counted */
    json_t *doc = dkit_expect(k, "GET", "/v1/claims", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(doc, "claims")), 0);
    json_decref(doc);
    assert_string_equal(dkit_driver(k, vf, drv, sizeof(drv)), "mlx5_core");
    doc = dkit_expect(k, "GET", "/v1/pools", NULL, 200);
    assert_int_equal(
            json_integer_value(json_object_get(json_array_get(json_object_get(doc, "pools"), 0), "free")), 4);
    json_decref(doc);
    struct dreply r = dkit_call(k, "GET", "/metrics", NULL);
    assert_non_null(strstr(r.text, "dpuhost_http_responses_total{class=\"4xx\"} 6\n"));
    dreply_free(&r);
    char *log = dkit_log(k);
    assert_non_null(strstr(log, "uid 65534 (gid 65534) may not use dpuhostd"));
    free(log);
}

static void allowed_uid_primary_and_supplementary_groups_get_through(void **state)
{
    struct fixture *fx = *state;
    struct dkit *k = fx->k;
    if (geteuid() != 0)
        skip();
    assert_int_equal(status_as(k, 4242, NOBODY, NULL, 0, "GET", "/v1/pools", NULL), 200);
    assert_int_equal(status_as(k, NOBODY, 4343, NULL, 0, "GET", "/v1/pools", NULL), 200);
    gid_t groups[] = {7, 4444};
    assert_int_equal(status_as(k, NOBODY, NOBODY, groups, 2, "POST", "/v1/claims",
                               "{\"owner\": \"vm-sup\", \"pool\": \"vfs\"}"),
                     201);
    json_t *doc = dkit_expect(k, "GET", "/v1/claims?owner=vm-sup", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(doc, "claims")), 1);
    json_decref(doc);
    json_decref(dkit_expect(k, "DELETE", "/v1/claims?owner=vm-sup", NULL, 200));
}

static void the_socket_belongs_to_the_first_allowed_group(void **state)
{
    struct fixture *fx = *state;
    struct stat st;
    assert_int_equal(stat(fx->k->socket, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0666); /* socket_mode of the test configuration */
    assert_int_equal(st.st_gid, 4343);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(a_disallowed_uid_gets_403_and_changes_nothing, setup, teardown),
            DH_TEST_SETUP(allowed_uid_primary_and_supplementary_groups_get_through, setup, teardown),
            DH_TEST_SETUP(the_socket_belongs_to_the_first_allowed_group, setup, teardown),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return r;
}
