/* Shared by the QMP client tests: a client on a fake peer that replays a transcript, and the
 * monotonic clock for timing assertions. */
#pragma once

#include "test.h"

#include <time.h>

#include <dpuhost/qmp.h>

#include "fake_qmp.h"
#include "util/macro.h"

/* Timeouts for steps that must succeed: generous, so that a slow sanitizer build never flakes. */
#define QMP_TEST_TIMEOUT_MS 5000

static inline long long qmp_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts a fake peer on transcript and connects a client named "test-vm" to it (greeting and
 * capabilities included); fails the test when that does not work. */
static inline struct dh_qmp *qmp_test_client(const char *transcript, struct fake_qmp **ret_fake)
{
    int fd = -1;
    *ret_fake = fake_qmp_start(transcript, &fd);
    struct dh_qmp *q = NULL;
    struct dh_error err = {0};
    int r = dh_qmp_new_fd(fd, "test-vm", QMP_TEST_TIMEOUT_MS, &q, &err);
    if (r < 0)
        fail_msg("connecting to the fake peer on %s failed: %d %s", transcript, r, err.message);
    return q;
}

/* Asserts that a string contains a substring, printing both when it does not. */
#define assert_contains(haystack, needle)                                   \
    do {                                                                    \
        const char *_h = (haystack), *_n = (needle);                        \
        if (!_h || !strstr(_h, _n))                                         \
            fail_msg("'%s' does not contain '%s'", _h ? _h : "(null)", _n); \
    } while (0)

/* main() of every transcript test: argv[1] is the transcript directory. */
#define QMP_TEST_MAIN(...)                                \
    int main(int argc, char **argv)                       \
    {                                                     \
        if (argc > 1)                                     \
            fake_qmp_set_dir(argv[1]);                    \
        const struct CMUnitTest tests[] = {__VA_ARGS__};  \
        return cmocka_run_group_tests(tests, NULL, NULL); \
    }
