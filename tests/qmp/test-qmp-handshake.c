/* Connecting: the greeting, capabilities negotiation, peers that are not QMP or go away, and
 * dh_qmp_connect() retrying until QEMU has created its socket. */
#include "qmp-test.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

static void greeting_gives_version_and_capabilities_are_negotiated(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("handshake.txt", &f);

    const struct dh_qmp_version *v = dh_qmp_version(q);
    assert_int_equal(v->major, 7);
    assert_int_equal(v->minor, 2);
    assert_int_equal(v->micro, 0);
    assert_string_equal(v->package, "Debian 1:7.2+dfsg-7+deb12u18");
    const json_t *caps = json_object_get(dh_qmp_greeting(q), "capabilities");
    assert_int_equal(json_array_size(caps), 1);
    assert_string_equal(json_string_value(json_array_get(caps, 0)), "oob");
    assert_string_equal(dh_qmp_name(q), "test-vm");
    assert_true(dh_qmp_fd(q) >= 0);
    assert_int_equal(dh_qmp_events_queued(q), 0);

    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void unnamed_client_is_named_after_its_fd(void **state)
{
    (void)state;
    int fd;
    struct fake_qmp *f = fake_qmp_start("handshake.txt", &fd);
    struct dh_qmp *q = NULL;
    char want[32];
    snprintf(want, sizeof(want), "fd %d", fd);
    assert_int_equal(dh_qmp_new_fd(fd, NULL, QMP_TEST_TIMEOUT_MS, &q, NULL), 0);
    assert_string_equal(dh_qmp_name(q), want);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

/* Connects to a transcript that must fail the handshake; returns the error. */
static int handshake_fails(const char *transcript, int timeout_ms, struct dh_error *err)
{
    int fd;
    struct fake_qmp *f = fake_qmp_start(transcript, &fd);
    struct dh_qmp *q = NULL;
    int r = dh_qmp_new_fd(fd, "test-vm", timeout_ms, &q, err);
    assert_null(q);
    fake_qmp_assert_done(f);
    return r;
}

static void refused_capabilities_fail_with_class_and_desc(void **state)
{
    (void)state;
    struct dh_error err = {0};
    assert_int_equal(handshake_fails("handshake-capabilities-refused.txt", QMP_TEST_TIMEOUT_MS, &err),
                     -ENOSYS);
    assert_int_equal(err.code, -ENOSYS);
    assert_contains(err.message, "test-vm");
    assert_contains(err.message, "qmp_capabilities");
    assert_contains(err.message, "CommandNotFound");
    assert_contains(err.message, "Capabilities negotiation is already complete");
}

static void event_before_greeting_is_a_protocol_error(void **state)
{
    (void)state;
    struct dh_error err = {0};
    assert_int_equal(handshake_fails("handshake-not-a-greeting.txt", QMP_TEST_TIMEOUT_MS, &err), -EPROTO);
    assert_contains(err.message, "not a QMP greeting");
    assert_contains(err.message, "\"event\":\"STOP\"");
}

static void human_monitor_is_a_protocol_error(void **state)
{
    (void)state;
    struct dh_error err = {0};
    assert_int_equal(handshake_fails("handshake-hmp-banner.txt", QMP_TEST_TIMEOUT_MS, &err), -EPROTO);
    assert_contains(err.message, "malformed line");
    assert_contains(err.message, "QEMU 7.2.22 monitor");
    assert_contains(err.message, "-qmp");
}

static void silent_peer_times_out_waiting_for_the_greeting(void **state)
{
    (void)state;
    struct dh_error err = {0};
    long long t0 = qmp_test_now_ms();
    assert_int_equal(handshake_fails("handshake-silent.txt", 100, &err), -ETIMEDOUT);
    long long took = qmp_test_now_ms() - t0;
    assert_true(took >= 100);
    assert_true(took < 3000);
    assert_contains(err.message, "no greeting within 100 ms");
}

static void peer_closing_before_the_greeting_is_a_reset(void **state)
{
    (void)state;
    struct dh_error err = {0};
    assert_int_equal(handshake_fails("handshake-closed.txt", QMP_TEST_TIMEOUT_MS, &err), -ECONNRESET);
    assert_contains(err.message, "QEMU closed the QMP socket while waiting for the greeting: did it exit?");
}

static void make_sock_path(char *dir, size_t dir_size, char *path, size_t path_size)
{
    snprintf(dir, dir_size, "/tmp/dh-qmp-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, path_size, "%s/qmp.sock", dir);
}

static void connect_retries_until_the_socket_appears(void **state)
{
    (void)state;
    char dir[64], path[96];
    make_sock_path(dir, sizeof(dir), path, sizeof(path));
    struct fake_qmp *f = fake_qmp_listen("handshake.txt", path, 300);

    struct dh_qmp *q = NULL;
    struct dh_error err = {0};
    long long t0 = qmp_test_now_ms();
    int r = dh_qmp_connect(path, QMP_TEST_TIMEOUT_MS, &q, &err);
    long long took = qmp_test_now_ms() - t0;
    if (r < 0)
        fail_msg("connect failed: %s", err.message);
    assert_true(took >= 250);
    assert_string_equal(dh_qmp_name(q), path);
    assert_int_equal(dh_qmp_version(q)->major, 7);
    /* the socket is CLOEXEC, so that QEMUs started later do not inherit it */
    assert_true(fcntl(dh_qmp_fd(q), F_GETFD) & FD_CLOEXEC);

    dh_qmp_close(q);
    fake_qmp_assert_done(f);
    rmdir(dir);
}

static void connect_gives_up_when_no_socket_appears(void **state)
{
    (void)state;
    char dir[64], path[96];
    make_sock_path(dir, sizeof(dir), path, sizeof(path));
    struct dh_qmp *q = NULL;
    struct dh_error err = {0};
    long long t0 = qmp_test_now_ms();
    assert_int_equal(dh_qmp_connect(path, 100, &q, &err), -ENOENT);
    assert_true(qmp_test_now_ms() - t0 >= 100);
    assert_null(q);
    assert_contains(err.message, path);
    assert_contains(err.message, "did not appear after 100 ms");
    assert_contains(err.message, "-qmp unix:");
    rmdir(dir);
}

static void connect_gives_up_on_a_socket_nobody_listens_on(void **state)
{
    (void)state;
    char dir[64], path[96];
    make_sock_path(dir, sizeof(dir), path, sizeof(path));
    /* what a QEMU that was killed leaves behind: a socket file without a listener */
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(s);

    struct dh_qmp *q = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_qmp_connect(path, 100, &q, &err), -ECONNREFUSED);
    assert_contains(err.message, "still refuses connections after 100 ms");
    unlink(path);
    rmdir(dir);
}

static void connect_rejects_a_path_too_long_for_a_socket(void **state)
{
    (void)state;
    char path[200];
    memset(path, 'a', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    struct dh_qmp *q = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_qmp_connect(path, 100, &q, &err), -ENAMETOOLONG);
    assert_contains(err.message, "longer than 107 bytes");
}

static void new_fd_rejects_what_is_not_a_stream_socket(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    struct dh_qmp *q = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_qmp_new_fd(p[0], "pipe", 100, &q, &err), -ENOTSOCK);
    assert_contains(err.message, "not a stream socket");
    /* the fd was taken over and closed */
    assert_int_equal(fcntl(p[0], F_GETFD), -1);
    assert_int_equal(errno, EBADF);
    close(p[1]);
}

QMP_TEST_MAIN(DH_TEST(greeting_gives_version_and_capabilities_are_negotiated),
              DH_TEST(unnamed_client_is_named_after_its_fd),
              DH_TEST(refused_capabilities_fail_with_class_and_desc),
              DH_TEST(event_before_greeting_is_a_protocol_error), DH_TEST(human_monitor_is_a_protocol_error),
              DH_TEST(silent_peer_times_out_waiting_for_the_greeting),
              DH_TEST(peer_closing_before_the_greeting_is_a_reset),
              DH_TEST(connect_retries_until_the_socket_appears),
              DH_TEST(connect_gives_up_when_no_socket_appears),
              DH_TEST(connect_gives_up_on_a_socket_nobody_listens_on),
              DH_TEST(connect_rejects_a_path_too_long_for_a_socket),
              DH_TEST(new_fd_rejects_what_is_not_a_stream_socket))
