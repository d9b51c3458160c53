/* The fake QMP peer's own checks: a transcript played to the end passes, and everything that must
 * fail a test does: a leftover expectation, an unexpected command, a command after the end, a
 * command without id or with a reused id. Some of these talk raw JSON lines to the fake, to send
 * what the client never would. */
#include "qmp-test.h"

#include <poll.h>
#include <sys/socket.h>

#define GREETING                                                                                     \
    "< {\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": " \
    "\"Debian "                                                                                      \
    "1:7.2+dfsg-7+deb12u18\"}, \"capabilities\": [\"oob\"]}}\n"                                      \
    "> {\"execute\": \"qmp_capabilities\"}\n"                                                        \
    "< {\"return\": {}}\n"

static const char two_commands[] = GREETING "> {\"execute\": \"query-status\"}\n"
                                            "< {\"return\": {\"status\": \"running\", \"singlestep\": false, "
                                            "\"running\": true}}\n"
                                            "# the step a client that stops early leaves over:\n"
                                            "> {\"execute\": \"cont\"}\n"
                                            "< {\"return\": {}}\n";

static struct dh_qmp *connect_text(const char *name, const char *text, struct fake_qmp **ret_fake)
{
    int fd;
    *ret_fake = fake_qmp_start_text(name, text, &fd);
    struct dh_qmp *q = NULL;
    struct dh_error err = {0};
    if (dh_qmp_new_fd(fd, name, QMP_TEST_TIMEOUT_MS, &q, &err) < 0)
        fail_msg("%s", err.message);
    return q;
}

static void transcript_played_to_the_end_passes(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = connect_text("two-commands", two_commands, &f);
    assert_int_equal(dh_qmp_query_status(q, QMP_TEST_TIMEOUT_MS, NULL, NULL, NULL), 0);
    assert_int_equal(dh_qmp_cont(q, QMP_TEST_TIMEOUT_MS, NULL), 0);
    dh_qmp_close(q);
    char *report = (char *)"unset";
    assert_int_equal(fake_qmp_finish(f, &report), 0);
    assert_null(report);
}

static void leftover_expectation_fails_the_test(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = connect_text("two-commands", two_commands, &f);
    assert_int_equal(dh_qmp_query_status(q, QMP_TEST_TIMEOUT_MS, NULL, NULL, NULL), 0);
    /* the client stops here: cont and its reply are never played */
    dh_qmp_close(q);
    char *report = NULL;
    assert_int_equal(fake_qmp_finish(f, &report), -1);
    assert_contains(report, "two-commands:7: the client closed the connection, but the transcript expects "
                            "{\"execute\": \"cont\"}");
    assert_contains(report, "two-commands: 2 step(s) left over:");
    assert_contains(report, "two-commands:7: left over: > {\"execute\": \"cont\"}");
    assert_contains(report, "two-commands:8: left over: < {\"return\": {}}");
    free(report);
}

static void leftover_found_while_the_client_is_still_connected(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = connect_text("two-commands", two_commands, &f);
    assert_int_equal(dh_qmp_query_status(q, QMP_TEST_TIMEOUT_MS, NULL, NULL, NULL), 0);
    /* finish before close: the peer is stopped while it waits for cont */
    char *report = NULL;
    assert_int_equal(fake_qmp_finish(f, &report), -1);
    assert_contains(report, "two-commands: 2 step(s) left over:");
    free(report);
    dh_qmp_close(q);
}

static void unexpected_command_fails_the_test(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = connect_text("two-commands", two_commands, &f);
    assert_int_equal(dh_qmp_query_status(q, QMP_TEST_TIMEOUT_MS, NULL, NULL, NULL), 0);
    /* the fake hangs up on a command it did not expect */
    assert_int_equal(dh_qmp_system_reset(q, QMP_TEST_TIMEOUT_MS, NULL), -ECONNRESET);
    dh_qmp_close(q);
    char *report = NULL;
    assert_int_equal(fake_qmp_finish(f, &report), -1);
    assert_contains(report, "two-commands:7: expected {\"execute\": \"cont\"}, got "
                            "{\"execute\":\"system_reset\",\"id\":3}");
    free(report);
}

static void wrong_arguments_fail_the_test(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = connect_text("device-del",
                                    GREETING "> {\"execute\": \"device_del\", \"arguments\": "
                                             "{\"id\": \"vf0\"}}\n< {\"return\": {}}\n",
                                    &f);
    assert_int_equal(dh_qmp_device_del(q, "vf1", QMP_TEST_TIMEOUT_MS, NULL), -ECONNRESET);
    dh_qmp_close(q);
    char *report = NULL;
    assert_int_equal(fake_qmp_finish(f, &report), -1);
    assert_contains(report, "got {\"execute\":\"device_del\",\"arguments\":{\"id\":\"vf1\"},\"id\":2}");
    free(report);
}

static void command_after_the_end_fails_the_test(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = connect_text("greeting-only", GREETING, &f);
    assert_int_equal(dh_qmp_query_status(q, 100, NULL, NULL, NULL), -ETIMEDOUT);
    dh_qmp_close(q);
    char *report = NULL;
    assert_int_equal(fake_qmp_finish(f, &report), -1);
    assert_contains(report,
                    "greeting-only: the client sent '{\"execute\":\"query-status\",\"id\":2}' after the "
                    "end of the transcript");
    free(report);
}

/* A raw client: the fake's socket without the QMP client in between. */
static char *raw_read_line(int fd)
{
    char buf[4096];
    size_t n = 0;
    while (n < sizeof(buf) - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, QMP_TEST_TIMEOUT_MS) != 1)
            return NULL;
        ssize_t k = recv(fd, buf + n, 1, 0);
        if (k <= 0)
            return NULL;
        if (buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
    return strdup(buf);
}

static void raw_send(int fd, const char *line)
{
    assert_int_equal(send(fd, line, strlen(line), MSG_NOSIGNAL), (ssize_t)strlen(line));
}

static void replies_echo_the_commands_id_whatever_its_type(void **state)
{
    (void)state;
    int fd;
    struct fake_qmp *f = fake_qmp_start_text("raw",
                                             GREETING "> {\"execute\": \"query-name\"}\n"
                                                      "<< {\"return\": {}, \"id\": $ID}\\r\\n\n",
                                             &fd);
    char *line = raw_read_line(fd);
    assert_contains(line, "\"QMP\"");
    free(line);
    raw_send(fd, "{\"execute\": \"qmp_capabilities\", \"id\": \"abc\"}\n");
    line = raw_read_line(fd);
    /* the < step got the id appended, QEMU's \r\n kept */
    assert_string_equal(line, "{\"return\": {}, \"id\": \"abc\"}\r");
    free(line);
    raw_send(fd, "{\"execute\": \"query-name\", \"id\": {\"n\": [1, 2]}}\n");
    line = raw_read_line(fd);
    assert_string_equal(line, "{\"return\": {}, \"id\": {\"n\":[1,2]}}\r");
    free(line);
    close(fd);
    fake_qmp_assert_done(f);
}

static void command_without_id_fails_the_test(void **state)
{
    (void)state;
    int fd;
    struct fake_qmp *f = fake_qmp_start_text("no-id", GREETING, &fd);
    free(raw_read_line(fd));
    raw_send(fd, "{\"execute\": \"qmp_capabilities\"}\n");
    close(fd);
    char *report = NULL;
    assert_int_equal(fake_qmp_finish(f, &report), -1);
    assert_contains(report,
                    "no-id:2: the client sent a command without id: {\"execute\": \"qmp_capabilities\"}");
    free(report);
}

static void reused_id_fails_the_test(void **state)
{
    (void)state;
    int fd;
    struct fake_qmp *f = fake_qmp_start_text("reused-id", two_commands, &fd);
    free(raw_read_line(fd));
    raw_send(fd, "{\"execute\": \"qmp_capabilities\", \"id\": 7}\n");
    free(raw_read_line(fd));
    raw_send(fd, "{\"execute\": \"query-status\", \"id\": 7}\n");
    close(fd);
    char *report = NULL;
    assert_int_equal(fake_qmp_finish(f, &report), -1);
    assert_contains(report,
                    "reused-id:4: the client reused an id: {\"execute\": \"query-status\", \"id\": 7}");
    free(report);
}

static void malformed_command_fails_the_test(void **state)
{
    (void)state;
    int fd;
    struct fake_qmp *f = fake_qmp_start_text("malformed", GREETING, &fd);
    free(raw_read_line(fd));
    raw_send(fd, "{\"execute\": \n");
    close(fd);
    char *report = NULL;
    assert_int_equal(fake_qmp_finish(f, &report), -1);
    assert_contains(report, "malformed:2: the client sent a malformed line '{\"execute\": '");
    free(report);
}

QMP_TEST_MAIN(DH_TEST(transcript_played_to_the_end_passes), DH_TEST(leftover_expectation_fails_the_test),
              DH_TEST(leftover_found_while_the_client_is_still_connected),
              DH_TEST(unexpected_command_fails_the_test), DH_TEST(wrong_arguments_fail_the_test),
              DH_TEST(command_after_the_end_fails_the_test),
              DH_TEST(replies_echo_the_commands_id_whatever_its_type),
              DH_TEST(command_without_id_fails_the_test), DH_TEST(reused_id_fails_the_test),
              DH_TEST(malformed_command_fails_the_test))
