/* Events: queued when they arrive during a command, found later by name and data, drained by an
 * event loop without blocking, classified, and bounded in number. */
#include "qmp-test.h"

#include <poll.h>

static void events_during_a_command_are_queued_and_found_later(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("events-interleaved.txt", &f);
    struct dh_error err = {0};
    json_t *props = json_pack("{s:s, s:s, s:s}", "driver", "virtio-net-pci", "bus", "rp1", "id", "nic0");
    assert_int_equal(dh_qmp_execute(q, "device_add", props, QMP_TEST_TIMEOUT_MS, NULL, &err), 0);
    json_decref(props);
    assert_int_equal(dh_qmp_events_queued(q), 4);

    /* the child's DEVICE_DELETED (path only) does not match {"device": "nic0"} */
    json_t *match = json_pack("{s:s}", "device", "nic0");
    json_t *ev = NULL;
    assert_int_equal(dh_qmp_wait_event(q, "DEVICE_DELETED", match, 0, &ev, &err), 0);
    json_decref(match);
    assert_string_equal(dh_qmp_event_device(ev), "nic0");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "data"), "path")),
                        "/machine/peripheral/nic0");
    json_decref(ev);
    assert_true(dh_qmp_is_device_deleted(q, "nic0"));

    assert_int_equal(dh_qmp_wait_event(q, "RESUME", NULL, 0, &ev, &err), 0);
    assert_int_equal(dh_qmp_event_kind(ev), DH_QMP_EVENT_RESUME);
    json_decref(ev);

    /* what nobody took is still there, oldest first */
    assert_int_equal(dh_qmp_events_queued(q), 2);
    ev = dh_qmp_next_event(q);
    assert_int_equal(dh_qmp_event_kind(ev), DH_QMP_EVENT_STOP);
    json_decref(ev);
    ev = dh_qmp_next_event(q);
    assert_int_equal(dh_qmp_event_kind(ev), DH_QMP_EVENT_DEVICE_DELETED);
    assert_null(dh_qmp_event_device(ev));
    json_decref(ev);
    assert_null(dh_qmp_next_event(q));
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void events_that_came_with_a_reply_are_taken_in_when_the_command_returns(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("events-after-reply.txt", &f);
    struct dh_error err = {0};
    assert_int_equal(dh_qmp_system_reset(q, QMP_TEST_TIMEOUT_MS, &err), 0);
    /* without reading again: the two complete events are known, the partial third is not */
    assert_true(dh_qmp_is_device_deleted(q, "hp0"));
    assert_int_equal(dh_qmp_events_queued(q), 2);
    struct pollfd p = {dh_qmp_fd(q), POLLIN, 0};
    assert_int_equal(poll(&p, 1, 2000), 1); /* the rest of RESUME */
    assert_int_equal(dh_qmp_read_events(q, &err), 1);
    assert_int_equal(dh_qmp_events_queued(q), 3);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void wait_event_reads_until_a_match_and_queues_the_rest(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("events-wait.txt", &f);
    struct dh_error err = {0};
    json_t *ev = NULL;

    /* data must contain every member of match_data, with equal values */
    json_t *wrong = json_pack("{s:b}", "guest", true);
    json_t *right = json_pack("{s:b, s:s}", "guest", false, "reason", "host-qmp-quit");
    assert_int_equal(dh_qmp_wait_event(q, "SHUTDOWN", right, QMP_TEST_TIMEOUT_MS, &ev, &err), 0);
    assert_int_equal(dh_qmp_event_kind(ev), DH_QMP_EVENT_SHUTDOWN);
    json_decref(ev);
    json_decref(right);
    assert_true(dh_qmp_events_queued(q) >= 1);

    /* the RESET read on the way is found without reading */
    assert_int_equal(dh_qmp_wait_event(q, "RESET", NULL, 0, &ev, &err), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "data"), "reason")),
                        "guest-reset");
    json_decref(ev);
    assert_int_equal(dh_qmp_wait_event(q, "STOP", NULL, QMP_TEST_TIMEOUT_MS, NULL, &err), 0);
    assert_int_equal(dh_qmp_events_queued(q), 0);

    /* nothing else comes: a timeout naming the event and the data it wanted */
    long long t0 = qmp_test_now_ms();
    assert_int_equal(dh_qmp_wait_event(q, "SHUTDOWN", wrong, 100, &ev, &err), -ETIMEDOUT);
    assert_true(qmp_test_now_ms() - t0 >= 100);
    assert_null(ev);
    assert_contains(err.message, "no SHUTDOWN event with data {\"guest\":true} within 100 ms");
    json_decref(wrong);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void event_loop_reads_without_blocking_until_qemu_exits(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("events-loop.txt", &f);
    struct dh_error err = {0};

    /* nothing yet: returns at once */
    long long t0 = qmp_test_now_ms();
    assert_int_equal(dh_qmp_read_events(q, &err), 0);
    assert_true(qmp_test_now_ms() - t0 < 200);
    assert_null(dh_qmp_next_event(q));

    int total = 0, r = 0;
    while (r >= 0) {
        struct pollfd p = {.fd = dh_qmp_fd(q), .events = POLLIN};
        assert_int_equal(poll(&p, 1, QMP_TEST_TIMEOUT_MS), 1);
        r = dh_qmp_read_events(q, &err);
        if (r > 0)
            total += r;
    }
    assert_int_equal(total, 3);
    assert_int_equal(r, -ECONNRESET);
    assert_contains(err.message, "QEMU closed the QMP socket while waiting for events: did it exit?");

    static const enum dh_qmp_event_kind order[] = {DH_QMP_EVENT_STOP, DH_QMP_EVENT_RESUME,
                                                   DH_QMP_EVENT_SHUTDOWN};
    for (size_t i = 0; i < ELEMENTSOF(order); i++) {
        json_t *ev = dh_qmp_next_event(q);
        assert_non_null(ev);
        assert_int_equal(dh_qmp_event_kind(ev), order[i]);
        json_decref(ev);
    }
    assert_null(dh_qmp_next_event(q));

    /* the close stays reported */
    dh_error_clear(&err);
    assert_int_equal(dh_qmp_read_events(q, &err), -ECONNRESET);
    assert_int_equal(dh_qmp_execute(q, "query-status", NULL, 100, NULL, NULL), -ECONNRESET);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void events_are_classified_by_name(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        enum dh_qmp_event_kind kind;
        const char *name, *device;
    } cases[] = {
            {"{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"vf0\", \"path\": "
             "\"/machine/peripheral/vf0\"}}",
             DH_QMP_EVENT_DEVICE_DELETED, "DEVICE_DELETED", "vf0"},
            {"{\"event\": \"DEVICE_DELETED\", \"data\": {\"path\": "
             "\"/machine/peripheral/nic0/virtio-backend\"}}",
             DH_QMP_EVENT_DEVICE_DELETED, "DEVICE_DELETED", NULL},
            {"{\"event\": \"DEVICE_DELETED\"}", DH_QMP_EVENT_DEVICE_DELETED, "DEVICE_DELETED", NULL},
            {"{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}}",
             DH_QMP_EVENT_SHUTDOWN, "SHUTDOWN", NULL},
            {"{\"event\": \"STOP\"}", DH_QMP_EVENT_STOP, "STOP", NULL},
            {"{\"event\": \"RESUME\"}", DH_QMP_EVENT_RESUME, "RESUME", NULL},
            {"{\"event\": \"RESET\", \"data\": {\"guest\": false}}", DH_QMP_EVENT_RESET, "RESET", NULL},
            {"{\"event\": \"RTC_CHANGE\", \"data\": {\"offset\": 1}}", DH_QMP_EVENT_OTHER, "RTC_CHANGE",
             NULL},
            /* device in another event is not a DEVICE_DELETED device */
            {"{\"event\": \"DEVICE_TRAY_MOVED\", \"data\": {\"device\": \"cd0\"}}", DH_QMP_EVENT_OTHER,
             "DEVICE_TRAY_MOVED", NULL},
            {"{\"event\": 5}", DH_QMP_EVENT_OTHER, NULL, NULL},
            {"{\"return\": {}}", DH_QMP_EVENT_OTHER, NULL, NULL},
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        json_t *ev = json_loads(cases[i].json, 0, NULL);
        assert_non_null(ev);
        assert_int_equal(dh_qmp_event_kind(ev), cases[i].kind);
        assert_string_or_null_equal(dh_qmp_event_name(ev), cases[i].name);
        assert_string_or_null_equal(dh_qmp_event_device(ev), cases[i].device);
        json_decref(ev);
    }
    assert_int_equal(dh_qmp_event_kind(NULL), DH_QMP_EVENT_OTHER);
    assert_null(dh_qmp_event_name(NULL));
    assert_null(dh_qmp_event_device(NULL));
}

static void queue_keeps_the_newest_1024_events_and_every_deletion(void **state)
{
    (void)state;
    enum {
        EXTRA = 10,
        N = 1024 + EXTRA
    };
    size_t size = (size_t)N * 128 + 4096, len = 0;
    char *text = malloc(size);
    assert_non_null(text);
    len += (size_t)snprintf(
            text + len, size - len,
            "< {\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
            "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\n"
            "> {\"execute\": \"qmp_capabilities\"}\n< {\"return\": {}}\n"
            "> {\"execute\": \"query-status\"}\n"
            "< {\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"early\"}}\n");
    for (int i = 1; i < N; i++)
        len += (size_t)snprintf(text + len, size - len,
                                "< {\"event\": \"RTC_CHANGE\", \"data\": {\"offset\": %d}}\n", i);
    snprintf(text + len, size - len,
             "< {\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}}\n");
    int fd;
    struct fake_qmp *f = fake_qmp_start_text("event-flood", text, &fd);
    free(text);
    struct dh_qmp *q = NULL;
    assert_int_equal(dh_qmp_new_fd(fd, "flood", QMP_TEST_TIMEOUT_MS, &q, NULL), 0);

    assert_int_equal(dh_qmp_query_status(q, QMP_TEST_TIMEOUT_MS, NULL, NULL, NULL), 0);
    assert_int_equal(dh_qmp_events_queued(q), 1024);
    /* the oldest ones were dropped, the DEVICE_DELETED among them, but not its record */
    json_t *ev = dh_qmp_next_event(q);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ev, "data"), "offset")), EXTRA);
    json_decref(ev);
    assert_true(dh_qmp_is_device_deleted(q, "early"));
    assert_false(dh_qmp_is_device_deleted(q, "late"));
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

QMP_TEST_MAIN(DH_TEST(events_that_came_with_a_reply_are_taken_in_when_the_command_returns),
              DH_TEST(events_during_a_command_are_queued_and_found_later),
              DH_TEST(wait_event_reads_until_a_match_and_queues_the_rest),
              DH_TEST(event_loop_reads_without_blocking_until_qemu_exits),
              DH_TEST(events_are_classified_by_name),
              DH_TEST(queue_keeps_the_newest_1024_events_and_every_deletion))
