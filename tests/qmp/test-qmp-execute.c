/* Commands: unique ids matched to replies, QMP error classes mapped to errnos with QEMU's words
 * kept, replies nobody waits for, malformed lines of every shape, timeouts and late replies. */
#include "qmp-test.h"

static void commands_get_unique_ids_and_their_own_replies(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("execute-ids.txt", &f);
    struct dh_error err = {0};

    json_t *ret = NULL;
    assert_int_equal(dh_qmp_execute(q, "query-status", NULL, QMP_TEST_TIMEOUT_MS, &ret, &err), 0);
    assert_string_equal(json_string_value(json_object_get(ret, "status")), "running");
    assert_true(json_is_true(json_object_get(ret, "running")));
    json_decref(ret);

    json_t *args = json_pack("{s:s, s:s}", "path", "/machine/peripheral/rp1", "property", "realized");
    assert_int_equal(dh_qmp_execute(q, "qom-get", args, QMP_TEST_TIMEOUT_MS, &ret, &err), 0);
    assert_true(json_is_true(ret));
    json_decref(ret);
    /* arguments are borrowed: the caller's reference is the only one left */
    assert_int_equal(args->refcount, 1);
    json_decref(args);

    /* the return value may be ignored */
    assert_int_equal(dh_qmp_execute(q, "query-name", NULL, QMP_TEST_TIMEOUT_MS, NULL, &err), 0);
    assert_false(dh_error_is_set(&err));

    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

struct trace_log {
    int lines;
    char out[4][256];
    char in[4][256];
    int n_out, n_in;
};

static void record(void *userdata, bool outgoing, const char *line, size_t size)
{
    struct trace_log *t = userdata;
    t->lines++;
    if (outgoing && t->n_out < 4)
        snprintf(t->out[t->n_out++], sizeof(t->out[0]), "%.*s", (int)size, line);
    if (!outgoing && t->n_in < 4)
        snprintf(t->in[t->n_in++], sizeof(t->in[0]), "%.*s", (int)size, line);
}

static void trace_sees_each_line_both_ways(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("execute-ids.txt", &f);
    struct trace_log t = {0};
    dh_qmp_set_trace(q, record, &t);

    assert_int_equal(dh_qmp_execute(q, "query-status", NULL, QMP_TEST_TIMEOUT_MS, NULL, NULL), 0);
    json_t *args = json_pack("{s:s, s:s}", "path", "/machine/peripheral/rp1", "property", "realized");
    assert_int_equal(dh_qmp_execute(q, "qom-get", args, QMP_TEST_TIMEOUT_MS, NULL, NULL), 0);
    json_decref(args);
    dh_qmp_set_trace(q, NULL, NULL);
    assert_int_equal(dh_qmp_execute(q, "query-name", NULL, QMP_TEST_TIMEOUT_MS, NULL, NULL), 0);

    assert_int_equal(t.lines, 4);
    /* id 1 went to qmp_capabilities */
    assert_string_equal(t.out[0], "{\"execute\":\"query-status\",\"id\":2}");
    assert_string_equal(t.out[1],
                        "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/rp1\","
                        "\"property\":\"realized\"},\"id\":3}");
    /* without the \r\n */
    assert_string_equal(t.in[0],
                        "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}, "
                        "\"id\": 2}");
    assert_string_equal(t.in[1], "{\"return\": true, \"id\": 3}");

    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void error_replies_map_their_class_and_keep_qemus_words(void **state)
{
    (void)state;
    static const struct {
        const char *command;
        const char *args; /* JSON or NULL */
        int code;
        const char *cls, *desc;
    } cases[] = {
            {"device_add", "{\"driver\": \"virtio-rng-pci\", \"bus\": \"rp1\", \"id\": \"rng0\"}", -EIO,
             "GenericError", "Duplicate device ID 'rng0'"},
            {"nosuch", NULL, -ENOSYS, "CommandNotFound", "The command nosuch has not been found"},
            {"device_del", "{\"id\": \"nope\"}", -ENODEV, "DeviceNotFound", "Device 'nope' not found"},
            {"block-job-cancel", "{\"device\": \"drive0\"}", -ENXIO, "DeviceNotActive",
             "No active block job on device 'drive0'"},
            {"query-kvm-cap", NULL, -EOPNOTSUPP, "KVMMissingCap", "Using KVM without a required capability"},
            {"future-command", NULL, -EIO, "SomeFutureClass", "Something new"},
    };
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("execute-errors.txt", &f);
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        json_t *args = cases[i].args ? json_loads(cases[i].args, 0, NULL) : NULL;
        json_t *ret = (json_t *)&ret; /* must come back NULL */
        struct dh_error err = {0};
        int r = dh_qmp_execute(q, cases[i].command, args, QMP_TEST_TIMEOUT_MS, &ret, &err);
        json_decref(args);
        assert_int_equal(r, cases[i].code);
        assert_int_equal(err.code, cases[i].code);
        assert_null(ret);
        assert_contains(err.message, "test-vm");
        assert_contains(err.message, cases[i].command);
        assert_contains(err.message, cases[i].cls);
        assert_contains(err.message, cases[i].desc);
    }
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void error_classes_map_to_errnos(void **state)
{
    (void)state;
    assert_int_equal(dh_qmp_errno_from_class("GenericError"), -EIO);
    assert_int_equal(dh_qmp_errno_from_class("CommandNotFound"), -ENOSYS);
    assert_int_equal(dh_qmp_errno_from_class("DeviceNotFound"), -ENODEV);
    assert_int_equal(dh_qmp_errno_from_class("DeviceNotActive"), -ENXIO);
    assert_int_equal(dh_qmp_errno_from_class("KVMMissingCap"), -EOPNOTSUPP);
    assert_int_equal(dh_qmp_errno_from_class("genericerror"), -EIO);
    assert_int_equal(dh_qmp_errno_from_class(""), -EIO);
    assert_int_equal(dh_qmp_errno_from_class(NULL), -EIO);
}

static void reply_with_an_unknown_id_is_a_protocol_error(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("execute-unexpected-id.txt", &f);
    struct dh_error err = {0};
    assert_int_equal(dh_qmp_execute(q, "query-status", NULL, QMP_TEST_TIMEOUT_MS, NULL, &err), -EPROTO);
    assert_contains(err.message, "reply with an id this client is not waiting for");
    assert_contains(err.message, "the reply to query-status");
    assert_contains(err.message, "\"id\":4242");
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void reply_without_id_is_a_protocol_error(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("execute-reply-without-id.txt", &f);
    struct dh_error err = {0};
    assert_int_equal(dh_qmp_execute(q, "query-status", NULL, QMP_TEST_TIMEOUT_MS, NULL, &err), -EPROTO);
    assert_contains(err.message, "QMP input must be a JSON object");
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void malformed_line_is_a_protocol_error_and_the_connection_survives(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("execute-malformed.txt", &f);
    struct dh_error err = {0};
    assert_int_equal(dh_qmp_execute(q, "query-status", NULL, QMP_TEST_TIMEOUT_MS, NULL, &err), -EPROTO);
    assert_contains(err.message, "malformed line from QEMU while waiting for the reply to query-status");
    assert_contains(err.message, "'{\"return\": {\"status\": '");
    /* the late, well-formed reply to query-status is dropped; cont gets its own */
    dh_error_clear(&err);
    assert_int_equal(dh_qmp_cont(q, QMP_TEST_TIMEOUT_MS, &err), 0);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

/* Every shape of line that is not a QMP message, while a command waits for its reply. */
static void every_malformed_shape_is_a_protocol_error(void **state)
{
    (void)state;
    static const struct {
        const char *line; /* transcript << escapes */
        const char *says;
    } shapes[] = {
            {"{\"return\": {}", "malformed line"},                        /* truncated */
            {"{\"return\": {}, \"id\": $ID} trailing", "malformed line"}, /* garbage after the object */
            {"[{\"return\": {}, \"id\": $ID}]", "not a JSON object"},
            {"\"return\"", "malformed line"}, /* jansson wants an object or array at the top */
            {"42", "malformed line"},
            {"null", "malformed line"},
            {"\\x01\\x02", "malformed line"},
            {"{\"return\": {}, \"return\": {}, \"id\": $ID}", "duplicate object key"},
            {"{'return': {}}", "malformed line"}, /* not JSON quotes */
            {"{}", "neither a reply nor an event"},
            {"{\"error\": \"GenericError\", \"id\": $ID}", "neither a reply nor an event"},
            {"{\"event\": 5}", "neither a reply nor an event"},
            {"{\"QMP\": {\"version\": {}, \"capabilities\": []}}", "neither a reply nor an event"},
            {"{\"return\": {}, \"id\": \"$ID\"}", "not waiting for"}, /* the id as a string */
            {"{\"return\": {}, \"id\": null}", "not waiting for"},
            {"{\"return\": {}, \"id\": 2.0}", "not waiting for"},
    };
    for (size_t i = 0; i < ELEMENTSOF(shapes); i++) {
        char text[1024], name[32];
        snprintf(text, sizeof(text),
                 "< {\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
                 "\"package\": "
                 "\"\"}, \"capabilities\": [\"oob\"]}}\n"
                 "> {\"execute\": \"qmp_capabilities\"}\n"
                 "< {\"return\": {}}\n"
                 "> {\"execute\": \"query-status\"}\n"
                 "<< %s\\r\\n\n",
                 shapes[i].line);
        snprintf(name, sizeof(name), "shape-%zu", i);
        int fd;
        struct fake_qmp *f = fake_qmp_start_text(name, text, &fd);
        struct dh_qmp *q = NULL;
        assert_int_equal(dh_qmp_new_fd(fd, name, QMP_TEST_TIMEOUT_MS, &q, NULL), 0);
        struct dh_error err = {0};
        int r = dh_qmp_execute(q, "query-status", NULL, QMP_TEST_TIMEOUT_MS, NULL, &err);
        if (r != -EPROTO)
            fail_msg("%s: %s: got %d (%s), expected -EPROTO", name, shapes[i].line, r, err.message);
        assert_contains(err.message, shapes[i].says);
        dh_qmp_close(q);
        fake_qmp_assert_done(f);
    }
}

static void timeout_gives_up_and_the_late_reply_is_dropped(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("execute-timeout.txt", &f);
    struct dh_error err = {0};
    json_t *ret = NULL;
    long long t0 = qmp_test_now_ms();
    assert_int_equal(dh_qmp_execute(q, "query-status", NULL, 100, &ret, &err), -ETIMEDOUT);
    long long took = qmp_test_now_ms() - t0;
    assert_true(took >= 100);
    assert_true(took < 400);
    assert_null(ret);
    assert_contains(err.message, "no reply to query-status within 100 ms");

    /* cont's reply comes after query-status's late one, which must not be taken for it */
    dh_error_clear(&err);
    assert_int_equal(dh_qmp_execute(q, "cont", NULL, QMP_TEST_TIMEOUT_MS, &ret, &err), 0);
    assert_true(json_is_object(ret));
    assert_int_equal(json_object_size(ret), 0);
    json_decref(ret);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void bad_arguments_are_rejected_before_sending(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("handshake.txt", &f);
    json_t *array = json_array();
    assert_int_equal(dh_qmp_execute(q, "query-status", array, 100, NULL, NULL), -EINVAL);
    assert_int_equal(dh_qmp_execute(q, NULL, NULL, 100, NULL, NULL), -EINVAL);
    assert_int_equal(dh_qmp_execute(NULL, "query-status", NULL, 100, NULL, NULL), -EINVAL);
    json_decref(array);
    dh_qmp_close(q);
    /* nothing was sent: the transcript has no command after the handshake */
    fake_qmp_assert_done(f);
}

QMP_TEST_MAIN(DH_TEST(commands_get_unique_ids_and_their_own_replies), DH_TEST(trace_sees_each_line_both_ways),
              DH_TEST(error_replies_map_their_class_and_keep_qemus_words),
              DH_TEST(error_classes_map_to_errnos), DH_TEST(reply_with_an_unknown_id_is_a_protocol_error),
              DH_TEST(reply_without_id_is_a_protocol_error),
              DH_TEST(malformed_line_is_a_protocol_error_and_the_connection_survives),
              DH_TEST(every_malformed_shape_is_a_protocol_error),
              DH_TEST(timeout_gives_up_and_the_late_reply_is_dropped),
              DH_TEST(bad_arguments_are_rejected_before_sending))
