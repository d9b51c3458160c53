/* Line framing: messages split across reads, several messages in one read, odd line ends, and a
 * partial line that must survive a timeout (the client's own buffer outlives every call). */
#include "qmp-test.h"

static void lines_split_across_reads_are_joined(void **state)
{
    (void)state;
    struct fake_qmp *f;
    /* the greeting itself arrives in four pieces */
    struct dh_qmp *q = qmp_test_client("framing-split.txt", &f);
    assert_int_equal(dh_qmp_version(q)->major, 7);
    assert_string_equal(dh_qmp_version(q)->package, "Debian 1:7.2+dfsg-7+deb12u18");

    char *status = NULL;
    bool running = false;
    struct dh_error err = {0};
    assert_int_equal(dh_qmp_query_status(q, QMP_TEST_TIMEOUT_MS, &status, &running, &err), 0);
    assert_string_equal(status, "running");
    assert_true(running);
    free(status);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void several_messages_in_one_read_are_all_kept(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("framing-batched.txt", &f);
    struct dh_error err = {0};
    assert_int_equal(dh_qmp_cont(q, QMP_TEST_TIMEOUT_MS, &err), 0);
    assert_int_equal(dh_qmp_events_queued(q), 2);

    /* bare \n, blank lines and whitespace-only lines before the reply */
    bool running = false;
    assert_int_equal(dh_qmp_query_status(q, QMP_TEST_TIMEOUT_MS, NULL, &running, &err), 0);
    assert_true(running);

    json_t *ev = dh_qmp_next_event(q);
    assert_int_equal(dh_qmp_event_kind(ev), DH_QMP_EVENT_STOP);
    json_decref(ev);
    ev = dh_qmp_next_event(q);
    assert_int_equal(dh_qmp_event_kind(ev), DH_QMP_EVENT_RESUME);
    json_decref(ev);
    assert_null(dh_qmp_next_event(q));
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void partial_event_survives_a_wait_timeout(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("framing-partial-event.txt", &f);
    struct dh_error err = {0};
    json_t *ev = NULL;
    assert_int_equal(dh_qmp_wait_event(q, "STOP", NULL, 100, &ev, &err), -ETIMEDOUT);
    assert_null(ev);
    assert_contains(err.message, "no STOP event within 100 ms");

    /* the first half was read before the timeout and is still buffered */
    dh_error_clear(&err);
    assert_int_equal(dh_qmp_wait_event(q, "STOP", NULL, QMP_TEST_TIMEOUT_MS, &ev, &err), 0);
    assert_string_equal(dh_qmp_event_name(ev), "STOP");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ev, "timestamp"), "seconds")),
                     1700000000);
    json_decref(ev);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void partial_reply_survives_a_command_timeout(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("framing-partial-reply.txt", &f);
    struct dh_error err = {0};
    assert_int_equal(dh_qmp_query_status(q, 100, NULL, NULL, &err), -ETIMEDOUT);

    /* had the first half been dropped, the second would be a malformed line (-EPROTO) here */
    dh_error_clear(&err);
    int r = dh_qmp_cont(q, QMP_TEST_TIMEOUT_MS, &err);
    if (r < 0)
        fail_msg("cont after a timeout: %d %s", r, err.message);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void close_in_the_middle_of_a_line_is_a_reset(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("qemu-dies-mid-line.txt", &f);
    struct dh_error err = {0};
    assert_int_equal(dh_qmp_query_status(q, QMP_TEST_TIMEOUT_MS, NULL, NULL, &err), -ECONNRESET);
    assert_contains(err.message,
                    "QEMU closed the QMP socket in the middle of a message while waiting for the "
                    "reply to query-status: did it exit?");
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

QMP_TEST_MAIN(DH_TEST(lines_split_across_reads_are_joined),
              DH_TEST(several_messages_in_one_read_are_all_kept),
              DH_TEST(partial_event_survives_a_wait_timeout),
              DH_TEST(partial_reply_survives_a_command_timeout),
              DH_TEST(close_in_the_middle_of_a_line_is_a_reset))
