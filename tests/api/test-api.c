/* The API without HTTP: routes, strict request parsing, error codes and statuses, readiness, the
 * event bus and metrics. Bad input never changes state. */
#include "test.h"

#include <dpuhost/api.h>

#include "claimhost.h"

struct fixture {
    struct claimhost *c;
    struct dh_api *api;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->c = claimhost_new();
    struct dh_api_options o = {.host = fx->c->host,
                               .store = fx->c->store,
                               .config = fx->c->config,
                               .version = "test",
                               .qemu_binary = "/bin/true"};
    assert_int_equal(dh_api_new(&o, &fx->api, NULL), 0);
    dh_api_set_pools(fx->api, fx->c->pools);
    dh_api_set_ready(fx->api, true);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    dh_api_free(fx->api);
    claimhost_free(fx->c);
    free(fx);
    return 0;
}

struct reply {
    int status;
    json_t *doc;
    char *text;
};

static struct reply call(struct fixture *fx, const char *method, const char *path, const char *query,
                         const char *body)
{
    struct dh_api_request req = {.method = method,
                                 .path = path,
                                 .query = query,
                                 .body = body,
                                 .body_len = body ? strlen(body) : 0};
    struct dh_api_response resp;
    dh_api_handle(fx->api, &req, &resp);
    struct reply r = {.status = resp.status};
    if (resp.body && resp.content_type && strstr(resp.content_type, "json"))
        r.doc = json_loadb(resp.body, resp.body_len, 0, NULL);
    r.text = resp.body ? strndup(resp.body, resp.body_len) : NULL;
    dh_api_response_clear(&resp);
    return r;
}

static void reply_free(struct reply *r)
{
    json_decref(r->doc);
    free(r->text);
}

static void expect_error(struct fixture *fx, const char *method, const char *path, const char *query,
                         const char *body, int status, const char *code, const char *needle)
{
    struct reply r = call(fx, method, path, query, body);
    json_t *e = json_object_get(r.doc, "error");
    const char *got_code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (r.status != status || !got_code || strcmp(got_code, code) || !msg || (needle && !strstr(msg, needle)))
        fail_msg("%s %s %s: got %d %s", method, path, body ? body : "", r.status, r.text);
    reply_free(&r);
}

static size_t claims_in_store(struct fixture *fx)
{
    struct dh_claim_record *v = NULL;
    size_t n = 0;
    assert_int_equal(dh_store_claim_list(fx->c->store, NULL, &v, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        dh_claim_record_clear(&v[i]);
    free(v);
    return n;
}

static void claim_get_release_over_the_api(void **state)
{
    struct fixture *fx = *state;
    struct reply r =
            call(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm-a\", \"pool\": \"vfs\", \"count\": 2}");
    assert_int_equal(r.status, 201);
    char id[40];
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r.doc, "id")));
    assert_int_equal(json_array_size(json_object_get(r.doc, "functions")), 2);
    reply_free(&r);
    r = call(fx, "POST", "/v1/claims", NULL, "{\"pool\": \"vfs\", \"count\": 2, \"owner\": \"vm-a\"}");
    assert_int_equal(r.status, 200); /* the same request: the same claim */
    assert_string_equal(json_string_value(json_object_get(r.doc, "id")), id);
    reply_free(&r);
    char path[80];
    snprintf(path, sizeof(path), "/v1/claims/%s", id);
    r = call(fx, "GET", path, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.doc, "state")), "claimed");
    reply_free(&r);
    r = call(fx, "GET", "/v1/claims", "owner=vm-a", NULL);
    assert_int_equal(json_array_size(json_object_get(r.doc, "claims")), 1);
    reply_free(&r);
    r = call(fx, "GET", "/v1/claims", "owner=vm-b", NULL);
    assert_int_equal(json_array_size(json_object_get(r.doc, "claims")), 0);
    reply_free(&r);
    r = call(fx, "GET", "/v1/functions", "state=claimed", NULL);
    assert_int_equal(json_array_size(json_object_get(r.doc, "functions")), 2);
    assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(r.doc, "functions"), 0), "claim")),
                        id);
    reply_free(&r);
    r = call(fx, "DELETE", path, NULL, NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    expect_error(fx, "DELETE", path, NULL, NULL, 404, "not_found", id);
    assert_int_equal(claims_in_store(fx), 0);
}

static void release_by_owner(void **state)
{
    struct fixture *fx = *state;
    struct reply r = call(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm-a\", \"pool\": \"vfs\"}");
    reply_free(&r);
    r = call(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm-a\", \"address\": \"0000:82:00.1\"}");
    assert_int_equal(r.status, 201);
    reply_free(&r);
    r = call(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm-b\", \"pool\": \"vfs\"}");
    reply_free(&r);
    r = call(fx, "DELETE", "/v1/claims", "owner=vm-a", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.doc, "released")), 2);
    reply_free(&r);
    assert_int_equal(claims_in_store(fx), 1);
    expect_error(fx, "DELETE", "/v1/claims", NULL, NULL, 422, "invalid", "owner");
}

static void bad_input_is_a_clear_4xx_and_changes_nothing(void **state)
{
    struct fixture *fx = *state;
    expect_error(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm\", \"pool\":", 400, "malformed",
                 "not valid JSON");
    expect_error(fx, "POST", "/v1/claims", NULL, NULL, 400, "malformed", "JSON object body");
    expect_error(fx, "POST", "/v1/claims", NULL, "[]", 422, "invalid", "must be a JSON object");
    expect_error(fx, "POST", "/v1/claims", NULL, "{\"owner\": 5, \"pool\": \"vfs\"}", 422, "invalid",
                 "'owner' must be a string, not an integer");
    expect_error(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm\", \"pool\": \"vfs\", \"count\": \"2\"}",
                 422, "invalid", "'count' must be an integer");
    expect_error(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm\", \"pool\": \"vfs\", \"count\": 0}", 422,
                 "invalid", "give 1 to 64");
    expect_error(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm\", \"pool\": \"vfs\", \"colour\": 1}", 422,
                 "invalid", "unknown field 'colour'");
    expect_error(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm\", \"owner\": \"x\", \"pool\": \"vfs\"}",
                 400, "malformed", "duplicate");
    expect_error(fx, "POST", "/v1/claims", NULL, "{\"pool\": \"vfs\"}", 422, "invalid",
                 "'owner' is required");
    expect_error(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm\", \"address\": \"3:0.2\"}", 422,
                 "invalid", "malformed");
    expect_error(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm\", \"pool\": \"vfs\", \"labels\": [1]}",
                 422, "invalid", "labels");
    expect_error(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm\", \"pool\": \"gold\"}", 404, "not_found",
                 "gold");
    expect_error(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm\", \"pool\": \"vfs\", \"count\": 9}", 409,
                 "exhausted", "4 free");
    expect_error(fx, "GET", "/v1/claims", "colour=red", NULL, 422, "invalid", "'colour' is not known");
    expect_error(fx, "GET", "/v1/claims", "owner=a&owner=b", NULL, 422, "invalid", "given twice");
    expect_error(fx, "GET", "/v1/functions", "state=lost", NULL, 422, "invalid", "state 'lost'");
    expect_error(fx, "GET", "/v1/functions", "pool=gold", NULL, 422, "invalid", "gold");
    expect_error(fx, "GET", "/v1/functions/03:00.2", NULL, NULL, 422, "invalid", "malformed address");
    expect_error(fx, "GET", "/v1/functions/0000:99:00.0", NULL, NULL, 404, "not_found", NULL);
    expect_error(fx, "GET", "/v1/claims/c-nope", NULL, NULL, 404, "not_found", NULL);
    expect_error(fx, "PUT", "/v1/claims", NULL, "{}", 405, "method_not_allowed", "GET, POST, DELETE");
    expect_error(fx, "GET", "/v2/claims", NULL, NULL, 404, "not_found", "no route");
    expect_error(fx, "POST", "/v1/bind", NULL, "{\"addresses\": \"0000:03:00.2\"}", 422, "invalid", "list");
    char *big = malloc(DH_API_MAX_BODY + 2);
    memset(big, ' ', DH_API_MAX_BODY + 1);
    big[DH_API_MAX_BODY + 1] = '\0';
    expect_error(fx, "POST", "/v1/claims", NULL, big, 413, "too_large", NULL);
    free(big);
    assert_int_equal(claims_in_store(fx), 0);
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.2"), "mlx5_core");
}

static void not_ready_is_503(void **state)
{
    struct fixture *fx = *state;
    dh_api_set_ready(fx->api, false);
    expect_error(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm\", \"pool\": \"vfs\"}", 503, "not_ready",
                 NULL);
    expect_error(fx, "GET", "/v1/functions", NULL, NULL, 503, "not_ready", NULL);
    struct reply r = call(fx, "GET", "/metrics", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.text, "dpuhost_up 0\n"));
    reply_free(&r);
}

static void host_pools_cards_metrics(void **state)
{
    struct fixture *fx = *state;
    struct reply r = call(fx, "GET", "/v1/host", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.doc, "version")), "test");
    assert_true(json_is_true(json_object_get(r.doc, "ready")));
    assert_non_null(json_object_get(json_object_get(r.doc, "preflight"), "checks"));
    reply_free(&r);
    r = call(fx, "GET", "/v1/pools", NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(r.doc, "pools")), 4);
    reply_free(&r);
    r = call(fx, "GET", "/v1/cards", NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r.doc, "cards"), 0),
                                                          "serial_number")),
                        "OFFPATH0001");
    reply_free(&r);
    r = call(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm-a\", \"pool\": \"vfs\"}");
    reply_free(&r);
    r = call(fx, "GET", "/metrics", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.text, "# TYPE dpuhost_claims gauge\ndpuhost_claims 1\n"));
    assert_non_null(strstr(r.text, "dpuhost_pool_functions{pool=\"vfs\",state=\"claimed\"} 1\n"));
    assert_non_null(strstr(r.text, "dpuhost_pool_functions{pool=\"vfs\",state=\"free\"} 3\n"));
    assert_non_null(strstr(r.text, "dpuhost_claims_total 1\n"));
    assert_non_null(strstr(r.text, "dpuhost_http_responses_total{class=\"2xx\"} 4\n"));
    reply_free(&r);
}

static void claimed_functions_cannot_be_bound_or_restored_directly(void **state)
{
    struct fixture *fx = *state;
    struct reply r =
            call(fx, "POST", "/v1/claims", NULL, "{\"owner\": \"vm-a\", \"address\": \"0000:03:00.2\"}");
    reply_free(&r);
    expect_error(fx, "POST", "/v1/restore", NULL, "{\"addresses\": [\"0000:03:00.2\"]}", 409, "conflict",
                 "release the claim instead");
    r = call(fx, "POST", "/v1/bind", NULL, "{\"addresses\": [\"0000:03:00.3\"]}");
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(json_array_get(json_object_get(r.doc, "results"), 0), "ok")));
    reply_free(&r);
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.3"), "vfio-pci");
    /* the pool view follows: 03:00.3 is still free to claim (it is the host admin's business) */
    r = call(fx, "POST", "/v1/restore", NULL, "{\"addresses\": [\"0000:03:00.3\"]}");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_string_equal(claimhost_driver(fx->c, "0000:03:00.3"), "mlx5_core");
}

static void events_stream_with_sequence_numbers(void **state)
{
    struct fixture *fx = *state;
    struct dh_api_events *sub = dh_api_events_subscribe(fx->api, 0);
    char *line = NULL;
    assert_int_equal(dh_api_events_next(sub, 10, &line), 0);
    assert_null(line); /* nothing yet: a timeout */
    dh_api_publish(fx->api, "claimed", "{\"id\":\"c-1\"}");
    dh_api_publish(fx->api, "released", "{\"id\":\"c-1\"}");
    assert_int_equal(dh_api_events_next(sub, 100, &line), 0);
    json_t *e = json_loads(line, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(e, "seq")), 1);
    assert_string_equal(json_string_value(json_object_get(e, "type")), "claimed");
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "data"), "id")), "c-1");
    assert_true(line[strlen(line) - 1] == '\n');
    json_decref(e);
    free(line);
    assert_int_equal(dh_api_events_next(sub, 100, &line), 0);
    assert_non_null(strstr(line, "\"released\""));
    free(line);
    /* a late subscriber can replay from a sequence number */
    struct dh_api_events *late = dh_api_events_subscribe(fx->api, 2);
    assert_int_equal(dh_api_events_next(late, 100, &line), 0);
    assert_non_null(strstr(line, "\"seq\":2"));
    free(line);
    dh_api_events_unsubscribe(late);
    /* one that falls behind the ring learns how much it lost */
    for (int i = 0; i < 1100; i++)
        dh_api_publish(fx->api, "function_added", "{}");
    assert_int_equal(dh_api_events_next(sub, 100, &line), 0);
    assert_non_null(strstr(line, "\"lost\""));
    assert_non_null(strstr(line, "\"missed\":76"));
    free(line);
    dh_api_events_close(fx->api);
    assert_int_equal(dh_api_events_next(sub, 100, &line), -EPIPE);
    dh_api_events_unsubscribe(sub);
    /* the route itself only says "stream" */
    struct reply r = call(fx, "GET", "/v1/events", "since=5", NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    expect_error(fx, "GET", "/v1/events", "since=x", NULL, 422, "invalid", "sequence number");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(claim_get_release_over_the_api, setup, teardown),
            DH_TEST_SETUP(release_by_owner, setup, teardown),
            DH_TEST_SETUP(bad_input_is_a_clear_4xx_and_changes_nothing, setup, teardown),
            DH_TEST_SETUP(not_ready_is_503, setup, teardown),
            DH_TEST_SETUP(host_pools_cards_metrics, setup, teardown),
            DH_TEST_SETUP(claimed_functions_cannot_be_bound_or_restored_directly, setup, teardown),
            DH_TEST_SETUP(events_stream_with_sequence_numbers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
