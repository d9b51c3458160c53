/* 64 clients claim one function each from a pool of 32 at the same moment, over HTTP, with real
 * binds against the simulated kernel: exactly 32 succeed, each with a different function, all 32
 * end up on vfio-pci, the other 32 hear "exhausted"; then all release at once and every function
 * is back on its driver. */
#include "test.h"

#include <pthread.h>

#include "dkit.h"

#define CLIENTS 64
#define POOL 32

struct client {
    struct dkit *k;
    pthread_barrier_t *go;
    int index;
    long status;
    char address[32];
    char id[40];
    char code[32];
};

static void *claim(void *userdata)
{
    struct client *c = userdata;
    CURL *curl = curl_easy_init();
    char body[128];
    snprintf(body, sizeof(body), "{\"owner\": \"vm-%d\", \"pool\": \"vfs\"}", c->index);
    pthread_barrier_wait(c->go);
    struct dreply r = dkit_request(curl, c->k->socket, "POST", "/v1/claims", body);
    c->status = r.status;
    if (r.status == 201) {
        snprintf(c->id, sizeof(c->id), "%s", json_string_value(json_object_get(r.doc, "id")));
        json_t *f = json_array_get(json_object_get(r.doc, "functions"), 0);
        snprintf(c->address, sizeof(c->address), "%s", json_string_value(json_object_get(f, "address")));
    } else
        snprintf(c->code, sizeof(c->code), "%s",
                 json_string_value(json_object_get(json_object_get(r.doc, "error"), "code")));
    dreply_free(&r);
    curl_easy_cleanup(curl);
    return NULL;
}

static void *release(void *userdata)
{
    struct client *c = userdata;
    CURL *curl = curl_easy_init();
    char path[96];
    snprintf(path, sizeof(path), "/v1/claims/%s", c->id);
    pthread_barrier_wait(c->go);
    struct dreply r = dkit_request(curl, c->k->socket, "DELETE", path, NULL);
    c->status = r.status;
    dreply_free(&r);
    curl_easy_cleanup(curl);
    return NULL;
}

static void run_all(struct client *cs, int n, void *(*fn)(void *))
{
    pthread_t th[CLIENTS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        cs[i].go = &go;
        assert_int_equal(pthread_create(&th[i], NULL, fn, &cs[i]), 0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
}

static void sixty_four_clients_thirty_two_functions(void **state)
{
    (void)state;
    struct dkit_options o = {.vfs = POOL};
    struct dkit *k = dkit_new(&o);
    assert_int_equal(dkit_start(k, DKIT_SIM, NULL), 0);
    struct client cs[CLIENTS] = {0};
    for (int i = 0; i < CLIENTS; i++)
        cs[i] = (struct client){.k = k, .index = i};
    run_all(cs, CLIENTS, claim);

    int won = 0, exhausted = 0;
    for (int i = 0; i < CLIENTS; i++) {
        if (cs[i].status == 201) {
            won++;
            for (int j = 0; j < i; j++)
                if (cs[j].status == 201 && strcmp(cs[j].address, cs[i].address) == 0)
                    fail_msg("%s was given to vm-%d and vm-%d", cs[i].address, j, i);
            char drv[64];
            assert_string_equal(dkit_driver(k, cs[i].address, drv, sizeof(drv)), "vfio-pci");
        } else if (cs[i].status == 409 && strcmp(cs[i].code, "exhausted") == 0)
            exhausted++;
        else
            fail_msg("vm-%d: unexpected %ld %s", i, cs[i].status, cs[i].code);
    }
    assert_int_equal(won, POOL);
    assert_int_equal(exhausted, CLIENTS - POOL);
    json_t *doc = dkit_expect(k, "GET", "/v1/pools", NULL, 200);
    json_t *vfs = json_array_get(json_object_get(doc, "pools"), 0);
    assert_int_equal(json_integer_value(json_object_get(vfs, "claimed")), POOL);
    assert_int_equal(json_integer_value(json_object_get(vfs, "free")), 0);
    json_decref(doc);
    doc = dkit_expect(k, "GET", "/v1/claims", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(doc, "claims")), POOL);
    json_decref(doc);

    /* all winners release at once */
    struct client winners[POOL];
    int n = 0;
    for (int i = 0; i < CLIENTS; i++)
        if (cs[i].status == 201)
            winners[n++] = cs[i];
    run_all(winners, n, release);
    for (int i = 0; i < n; i++) {
        char drv[64], ovr[64];
        assert_int_equal(winners[i].status, 200);
        assert_string_equal(dkit_driver(k, winners[i].address, drv, sizeof(drv)), "mlx5_core");
        assert_string_equal(dkit_override(k, winners[i].address, ovr, sizeof(ovr)), "(null)");
    }
    doc = dkit_expect(k, "GET", "/v1/pools", NULL, 200);
    assert_int_equal(
            json_integer_value(json_object_get(json_array_get(json_object_get(doc, "pools"), 0), "free")),
            POOL);
    json_decref(doc);
    dkit_free(k);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
            DH_TEST(sixty_four_clients_thirty_two_functions),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return r;
}
