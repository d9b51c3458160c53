/* GET /v1/events over HTTP: a chunked stream of JSON lines. A live subscriber sees claimed and
 * released as they happen; ?since=N replays; a SIGTERM ends every stream cleanly (the last chunk is
 * sent) and the daemon stops promptly. */
#include "test.h"

#include <pthread.h>
#include <unistd.h>

#include "dkit.h"

struct stream {
    struct dkit *k;
    const char *path;
    pthread_mutex_t lock;
    char *data;
    size_t len;
    bool started; /* the first byte arrived: the subscription exists */
    CURLcode result;
    long status;
    int stop_after_lines; /* 0: until the server ends it */
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata)
{
    struct stream *s = userdata;
    size_t n = size * nmemb;
    pthread_mutex_lock(&s->lock);
    s->data = realloc(s->data, s->len + n + 1);
    memcpy(s->data + s->len, p, n);
    s->len += n;
    s->data[s->len] = '\0';
    s->started = true;
    /* count only event lines: heartbeats are bare newlines */
    size_t events = 0;
    for (char *l = s->data; l && *l;) {
        char *nl = strchr(l, '\n');
        if (!nl)
            break;
        if (nl > l)
            events++;
        l = nl + 1;
    }
    bool done = s->stop_after_lines && events >= (size_t)s->stop_after_lines;
    pthread_mutex_unlock(&s->lock);
    return done ? 0 : n; /* 0 ends the transfer from our side */
}

static void *run_stream(void *userdata)
{
    struct stream *s = userdata;
    CURL *c = curl_easy_init();
    char url[256];
    snprintf(url, sizeof(url), "http://localhost%s", s->path);
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, s->k->socket);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    s->result = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s->status);
    curl_easy_cleanup(c);
    return NULL;
}

static bool started(struct stream *s)
{
    pthread_mutex_lock(&s->lock);
    bool r = s->started;
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* The event lines (not heartbeats), parsed. */
static json_t *events_of(struct stream *s)
{
    json_t *v = json_array();
    for (char *l = s->data; l && *l;) {
        char *nl = strchr(l, '\n');
        if (!nl)
            break;
        if (nl > l) {
            json_error_t e;
            json_t *o = json_loadb(l, (size_t)(nl - l), 0, &e);
            if (!o)
                fail_msg("an event line is not JSON: %.*s (%s)", (int)(nl - l), l, e.text);
            json_array_append_new(v, o);
        }
        l = nl + 1;
    }
    return v;
}

static void live_subscriber_sees_claimed_and_released(void **state)
{
    (void)state;
    struct dkit *k = dkit_new(NULL);
    assert_int_equal(dkit_start(k, DKIT_SIM, NULL), 0);
    struct stream s = {
            .k = k, .path = "/v1/events", .lock = PTHREAD_MUTEX_INITIALIZER, .stop_after_lines = 2};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_stream, &s), 0);
    /* the stream answers at once (a heartbeat), before any event */
    for (int i = 0; i < 500 && !started(&s); i++)
        usleep(10 * 1000);
    assert_true(started(&s));
    json_t *c = dkit_expect(k, "POST", "/v1/claims", "{\"owner\": \"vm-a\", \"pool\": \"vfs\"}", 201);
    char id[40], path[80];
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(c, "id")));
    json_decref(c);
    snprintf(path, sizeof(path), "/v1/claims/%s", id);
    json_decref(dkit_expect(k, "DELETE", path, NULL, 200));
    pthread_join(th, NULL);
    assert_int_equal(s.status, 200);
    json_t *ev = events_of(&s);
    assert_int_equal(json_array_size(ev), 2);
    json_t *e0 = json_array_get(ev, 0), *e1 = json_array_get(ev, 1);
    assert_string_equal(json_string_value(json_object_get(e0, "type")), "claimed");
    assert_string_equal(json_string_value(json_object_get(json_object_get(e0, "data"), "id")), id);
    assert_string_equal(json_string_value(json_object_get(e1, "type")), "released");
    assert_string_equal(json_string_value(json_object_get(json_object_get(e1, "data"), "id")), id);
    assert_int_equal(json_integer_value(json_object_get(e1, "seq")),
                     json_integer_value(json_object_get(e0, "seq")) + 1);
    assert_true(json_is_string(json_object_get(e0, "time")));
    json_decref(ev);
    free(s.data);

    /* replay from the first sequence number */
    struct stream r = {
            .k = k, .path = "/v1/events?since=1", .lock = PTHREAD_MUTEX_INITIALIZER, .stop_after_lines = 2};
    run_stream(&r);
    ev = events_of(&r);
    assert_int_equal(json_array_size(ev), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "seq")), 1);
    json_decref(ev);
    free(r.data);
    dkit_free(k);
}

static void sigterm_ends_the_streams(void **state)
{
    (void)state;
    struct dkit *k = dkit_new(NULL);
    assert_int_equal(dkit_start(k, DKIT_SIM, NULL), 0);
    json_decref(dkit_expect(k, "POST", "/v1/claims", "{\"owner\": \"vm-a\", \"pool\": \"raw\"}", 201));
    struct stream s[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        s[i] = (struct stream){.k = k, .path = "/v1/events?since=1", .lock = PTHREAD_MUTEX_INITIALIZER};
        assert_int_equal(pthread_create(&th[i], NULL, run_stream, &s[i]), 0);
    }
    for (int i = 0; i < 3; i++)
        for (int t = 0; t < 500 && !started(&s[i]); t++)
            usleep(10 * 1000);
    double t0 = dkit_now_ms();
    assert_int_equal(dkit_stop(k), 0);
    assert_true(dkit_now_ms() - t0 < 5000); /* not the 15 s heartbeat, not the connection timeout */
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(s[i].result, CURLE_OK); /* a proper end of the chunked body, not a reset */
        assert_int_equal(s[i].status, 200);
        json_t *ev = events_of(&s[i]);
        assert_int_equal(json_array_size(ev), 1);
        json_decref(ev);
        free(s[i].data);
    }
    dkit_free(k);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
            DH_TEST(live_subscriber_sees_claimed_and_released),
            DH_TEST(sigterm_ends_the_streams),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return r;
}
