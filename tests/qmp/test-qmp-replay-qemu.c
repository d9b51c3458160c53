/* The smoke scenario (smoke.h) against the conversation recorded from a real QEMU 7.2 by
 * test-qmp-qemu, so that it runs, and keeps the fake honest, on machines without QEMU. */
#include "qmp-test.h"
#include "smoke.h"

static void recorded_qemu_7_2_session_replays(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("qemu-7.2-smoke.txt", &f);
    assert_int_equal(dh_qmp_version(q)->major, 7);
    assert_int_equal(dh_qmp_version(q)->minor, 2);
    smoke_scenario(q);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

QMP_TEST_MAIN(DH_TEST(recorded_qemu_7_2_session_replays))
