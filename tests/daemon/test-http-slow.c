/* A slow operation on one claim does not stall requests about others: a release that waits for a
 * process holding /dev/vfio/N (here for up to 3 s) runs while another client's GET /v1/pools, a claim
 * of another function, its release and GET of the waiting claim itself all answer promptly. */
#include "test.h"

#include <pthread.h>
#include <unistd.h>

#include "dkit.h"

struct slow {
    struct dkit *k;
    char path[80];
    struct dreply r;
    double done_ms;
};

static void *release(void *userdata)
{
    struct slow *s = userdata;
    CURL *c = curl_easy_init();
    s->r = dkit_request(c, s->k->socket, "DELETE", s->path, NULL);
    s->done_ms = dkit_now_ms();
    curl_easy_cleanup(c);
    return NULL;
}

static void a_release_waiting_for_qemu_does_not_stall_others(void **state)
{
    (void)state;
    struct dkit_options o = {.vfs = 4, .restore_wait_ms = 3000};
    struct dkit *k = dkit_new(&o);
    assert_int_equal(dkit_start(k, DKIT_SIM, NULL), 0);
    json_t *c = dkit_expect(k, "POST", "/v1/claims", "{\"owner\": \"vm-slow\", \"pool\": \"vfs\"}", 201);
    json_t *f = json_array_get(json_object_get(c, "functions"), 0);
    int group = (int)json_integer_value(json_object_get(f, "iommu_group"));
    struct slow s = {.k = k};
    snprintf(s.path, sizeof(s.path), "/v1/claims/%s", json_string_value(json_object_get(c, "id")));
    json_decref(c);
    /* "QEMU" (pid 4242) holds the group: the release must wait for it */
    fake_kernel_hold_group(k->kernel, 4242, "qemu-system-x86", group);

    double t0 = dkit_now_ms();
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, release, &s), 0);
    usleep(200 * 1000);
    struct dreply r = dkit_call(k, "GET", "/v1/pools", NULL);
    assert_int_equal(r.status, 200);
    assert_true(r.ms < 1000);
    dreply_free(&r);
    r = dkit_call(k, "POST", "/v1/claims", "{\"owner\": \"vm-fast\", \"pool\": \"vfs\"}");
    assert_int_equal(r.status, 201);
    assert_true(r.ms < 1000);
    char other[80];
    snprintf(other, sizeof(other), "/v1/claims/%s", json_string_value(json_object_get(r.doc, "id")));
    dreply_free(&r);
    r = dkit_call(k, "DELETE", other, NULL);
    assert_int_equal(r.status, 200);
    assert_true(r.ms < 1000);
    dreply_free(&r);
    r = dkit_call(k, "GET", s.path, NULL); /* the waiting claim itself can be looked at */
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.doc, "state")), "releasing");
    dreply_free(&r);
    double others_done = dkit_now_ms();

    pthread_join(th, NULL);
    /* all of that happened while the release was still waiting */
    assert_true(s.done_ms > others_done);
    assert_true(s.done_ms - t0 >= 2900);
    assert_int_equal(s.r.status, 409);
    assert_non_null(strstr(s.r.text, "pid 4242 (qemu-system-x86)"));
    dreply_free(&s.r);

    /* QEMU is gone: the release goes through */
    fake_kernel_release_holder(k->kernel, 4242);
    json_decref(dkit_expect(k, "DELETE", s.path, NULL, 200));
    json_t *doc = dkit_expect(k, "GET", "/v1/claims", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(doc, "claims")), 0);
    json_decref(doc);
    dkit_free(k);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
            DH_TEST(a_release_waiting_for_qemu_does_not_stall_others),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return r;
}
