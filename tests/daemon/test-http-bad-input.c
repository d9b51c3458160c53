/* Bad input over HTTP: malformed JSON, wrong types, unknown fields, bad addresses and queries,
 * oversized bodies (declared and chunked), unknown routes and methods, and bytes that are not HTTP.
 * Each gets a clear 4xx with {"error":{"code","message"}}, and nothing changes. */
#include "test.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <dpuhost/api.h>

#include "dkit.h"

static struct dkit *k;

static void expect_error(const char *method, const char *path, const char *body, long status,
                         const char *code, const char *needle)
{
    struct dreply r = dkit_call(k, method, path, body);
    json_t *e = json_object_get(r.doc, "error");
    const char *got = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (r.status != status || !got || strcmp(got, code) || !msg || (needle && !strstr(msg, needle)))
        fail_msg("%s %s %.80s: expected %ld %s (%s), got %ld %s", method, path, body ? body : "", status,
                 code, needle ? needle : "", r.status, r.text);
    dreply_free(&r);
}

static void assert_nothing_changed(void)
{
    json_t *doc = dkit_expect(k, "GET", "/v1/claims", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(doc, "claims")), 0);
    json_decref(doc);
    doc = dkit_expect(k, "GET", "/v1/pools", NULL, 200);
    json_t *vfs = json_array_get(json_object_get(doc, "pools"), 0);
    assert_int_equal(json_integer_value(json_object_get(vfs, "free")), 4);
    assert_int_equal(json_integer_value(json_object_get(vfs, "claimed")), 0);
    json_decref(doc);
    for (int i = 0; i < 4; i++) {
        char vf[32], drv[64];
        dkit_vf("0000:03:00.0", i, vf, sizeof(vf));
        assert_string_equal(dkit_driver(k, vf, drv, sizeof(drv)), "mlx5_core");
    }
}

static void bodies(void **state)
{
    (void)state;
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"pool\":", 400, "malformed", "not valid JSON");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\"} trailing", 400, "malformed", "not valid JSON");
    expect_error("POST", "/v1/claims", "", 400, "malformed", "JSON object body");
    expect_error("POST", "/v1/claims", NULL, 400, "malformed", "JSON object body");
    expect_error("POST", "/v1/claims", "\"vm\"", 400, "malformed", NULL);
    expect_error("POST", "/v1/claims", "[]", 422, "invalid", "must be a JSON object");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"owner\": \"x\", \"pool\": \"vfs\"}", 400,
                 "malformed", "duplicate");
    expect_error("POST", "/v1/claims", "{\"owner\": 5, \"pool\": \"vfs\"}", 422, "invalid",
                 "'owner' must be a string, not an integer");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"pool\": [\"vfs\"]}", 422, "invalid",
                 "'pool' must be a string, not a list");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"pool\": \"vfs\", \"count\": \"2\"}", 422,
                 "invalid", "'count' must be an integer");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"pool\": \"vfs\", \"count\": 2.5}", 422,
                 "invalid", "'count' must be an integer, not a real number");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"pool\": \"vfs\", \"count\": 65}", 422,
                 "invalid", "give 1 to 64");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"pool\": \"vfs\", \"numa_node\": true}", 422,
                 "invalid", "'numa_node' must be an integer");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"pool\": \"vfs\", \"labels\": {\"a\": 1}}", 422,
                 "invalid", "labels");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"pool\": \"vfs\", \"colour\": \"red\"}", 422,
                 "invalid", "unknown field 'colour'");
    expect_error("POST", "/v1/claims", "{\"pool\": \"vfs\"}", 422, "invalid", "'owner' is required");
    expect_error("POST", "/v1/claims", "{\"owner\": \"\", \"pool\": \"vfs\"}", 422, "invalid", "owner");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\\u0000x\", \"pool\": \"vfs\"}", 400, "malformed",
                 "is not allowed");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\"}", 422, "invalid",
                 "exactly one of pool or address");
    expect_error("POST", "/v1/claims",
                 "{\"owner\": \"vm\", \"pool\": \"vfs\", \"address\": \"0000:03:00.2\"}", 422, "invalid",
                 "exactly one of pool or address");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"pool\": \"gold\"}", 404, "not_found", "gold");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"pool\": \"vfs\", \"count\": 5}", 409,
                 "exhausted", "4 free");
    assert_nothing_changed();
}

static void addresses(void **state)
{
    (void)state;
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"address\": \"3:0.2\"}", 422, "invalid",
                 "malformed");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"address\": \"0000:03:00.8\"}", 422, "invalid",
                 "malformed");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"address\": \"0000:99:00.0\"}", 404, "not_found",
                 "0000:99:00.0");
    expect_error("POST", "/v1/claims", "{\"owner\": \"vm\", \"address\": \"0000:03:00.0\"}", 422, "invalid",
                 "in no pool");
    expect_error("GET", "/v1/functions/03:00.2", NULL, 422, "invalid", "malformed address");
    expect_error("GET", "/v1/functions/0000:99:00.0", NULL, 404, "not_found", NULL);
    expect_error("GET", "/v1/functions/0000%3A99%3A00.0", NULL, 404, "not_found", NULL);
    expect_error("GET", "/v1/functions/0000%zz", NULL, 400, "malformed", "%-encoded");
    expect_error("GET", "/v1/functions/0000%00:03:00.2", NULL, 400, "malformed", NULL);
    expect_error("POST", "/v1/bind", "{\"addresses\": [\"0000:03:00\"]}", 422, "invalid",
                 "malformed address");
    expect_error("POST", "/v1/bind", "{\"addresses\": \"0000:03:00.2\"}", 422, "invalid", "list");
    expect_error("POST", "/v1/sriov", "{\"address\": \"0000:03:00.0\", \"num_vfs\": -1}", 422, "invalid",
                 NULL);
    expect_error("GET", "/v1/claims/c-nope", NULL, 404, "not_found", NULL);
    expect_error("DELETE", "/v1/claims/c-nope", NULL, 404, "not_found", NULL);
    assert_nothing_changed();
}

static void queries_routes_and_methods(void **state)
{
    (void)state;
    expect_error("GET", "/v1/claims?colour=red", NULL, 422, "invalid", "'colour' is not known");
    expect_error("GET", "/v1/claims?owner=a&owner=b", NULL, 422, "invalid", "given twice");
    expect_error("GET", "/v1/claims?owner", NULL, 422, "invalid", "no value");
    expect_error("GET", "/v1/claims?owner=", NULL, 422, "invalid", "empty");
    expect_error("GET", "/v1/claims?owner=%zz", NULL, 422, "invalid", "%-encoded");
    expect_error("GET", "/v1/functions?state=lost", NULL, 422, "invalid", "state 'lost'");
    expect_error("GET", "/v1/functions?kind=gpu", NULL, 422, "invalid", "gpu");
    expect_error("GET", "/v1/functions?pool=gold", NULL, 422, "invalid", "gold");
    expect_error("GET", "/v1/events?since=x", NULL, 422, "invalid", "sequence number");
    expect_error("DELETE", "/v1/claims", NULL, 422, "invalid", "owner");
    expect_error("PUT", "/v1/claims", "{}", 405, "method_not_allowed", "GET, POST, DELETE");
    expect_error("PATCH", "/v1/pools", NULL, 405, "method_not_allowed", "GET");
    expect_error("POST", "/metrics", "{}", 405, "method_not_allowed", "GET");
    expect_error("GET", "/v2/claims", NULL, 404, "not_found", "no route");
    expect_error("GET", "/v1/claims/a/b", NULL, 404, "not_found", "no route");
    expect_error("GET", "/", NULL, 404, "not_found", "no route");
    assert_nothing_changed();
}

static void oversized_bodies_are_413(void **state)
{
    (void)state;
    size_t n = DH_API_MAX_BODY + 1;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "{\"owner\": \"vm\", \"pool\": \"vfs\"}", 30); /* valid JSON, then too much whitespace */
    big[n] = '\0';
    /* sent whole (no Expect): read and dropped, then answered, so the answer is never lost to a reset */
    for (int i = 0; i < 20; i++)
        expect_error("POST", "/v1/claims", big, 413, "too_large", "1048576");

    /* a client that asks "Expect: 100-continue" is answered from Content-Length, before any body:
     * a declared 100 MiB is refused without a byte of it */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    assert_true(strlen(k->socket) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, k->socket, strlen(k->socket) + 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    const char head[] = "POST /v1/claims HTTP/1.1\r\nHost: localhost\r\nContent-Length: 104857600\r\n"
                        "Expect: 100-continue\r\nContent-Type: application/json\r\n\r\n";
    assert_int_equal(write(fd, head, sizeof(head) - 1), (ssize_t)(sizeof(head) - 1));
    char resp[2048] = "";
    size_t got = 0;
    ssize_t rn;
    while (got < sizeof(resp) - 1 && (rn = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
        got += (size_t)rn;
    close(fd);
    if (strncmp(resp, "HTTP/1.1 413", 12) || !strstr(resp, "104857600 bytes"))
        fail_msg("expected 413 naming the declared size, got: %s", resp);

    /* the same, chunked (no Content-Length): read, dropped, refused */
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, k->socket);
    curl_easy_setopt(c, CURLOPT_URL, "http://localhost/v1/claims");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, big);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    FILE *sink = fopen("/dev/null", "we");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 413);
    fclose(sink);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(big);

    /* exactly the limit is a body like any other: here, malformed JSON */
    char *edge = malloc(DH_API_MAX_BODY + 1);
    memset(edge, '[', DH_API_MAX_BODY);
    edge[DH_API_MAX_BODY] = '\0';
    expect_error("POST", "/v1/claims", edge, 400, "malformed", NULL);
    free(edge);
    assert_nothing_changed();
}

static int raw_exchange(const char *bytes, char *resp, size_t size)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, k->socket, strlen(k->socket) + 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
    shutdown(fd, SHUT_WR);
    size_t got = 0;
    ssize_t r;
    while (got < size - 1 && (r = read(fd, resp + got, size - 1 - got)) > 0)
        got += (size_t)r;
    resp[got] = '\0';
    close(fd);
    return (int)got;
}

static void bytes_that_are_not_http(void **state)
{
    (void)state;
    char resp[4096];
    raw_exchange("hello there\r\n\r\n", resp, sizeof(resp));
    assert_true(resp[0] == '\0' || strncmp(resp, "HTTP/1.1 400", 12) == 0);
    raw_exchange("GET /v1/pools HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n", resp, sizeof(resp));
    assert_true(resp[0] == '\0' || strncmp(resp, "HTTP/1.1 4", 10) == 0);
    raw_exchange("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", resp, sizeof(resp)); /* a TLS hello */
    assert_true(resp[0] == '\0' || strncmp(resp, "HTTP/1.1 4", 10) == 0);
    /* and the daemon serves on */
    assert_nothing_changed();
}

int main(void)
{
    struct dkit_options o = {.vfs = 4};
    const struct CMUnitTest tests[] = {
            DH_TEST(bodies),
            DH_TEST(addresses),
            DH_TEST(queries_routes_and_methods),
            DH_TEST(oversized_bodies_are_413),
            DH_TEST(bytes_that_are_not_http),
    };
    return DKIT_RUN_GROUP(tests, &o, &k);
}
