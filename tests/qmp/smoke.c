/* The smoke scenario against a QEMU paused with -S: see smoke.h. */
#include "smoke.h"

#include "qmp-test.h"

void smoke_scenario(struct dh_qmp *q)
{
    struct dh_error err = {0};
    char *status = NULL;
    bool running = true;
    if (dh_qmp_query_status(q, QMP_TEST_TIMEOUT_MS, &status, &running, &err) < 0)
        fail_msg("%s", err.message);
    assert_string_equal(status, "prelaunch");
    assert_false(running);
    free(status);

    bool realized = false;
    assert_int_equal(dh_qmp_device_realized(q, "rp1", QMP_TEST_TIMEOUT_MS, &realized, &err), 0);
    assert_true(realized);

    json_t *props = json_pack("{s:s, s:s, s:s}", "driver", SMOKE_DRIVER, "bus", "rp1", "id", SMOKE_ID);
    int r = dh_qmp_device_add(q, props, QMP_TEST_TIMEOUT_MS, &err);
    json_decref(props);
    if (r < 0)
        fail_msg("%s", err.message);
    realized = false;
    assert_int_equal(dh_qmp_device_realized(q, SMOKE_ID, QMP_TEST_TIMEOUT_MS, &realized, &err), 0);
    assert_true(realized);

    /* no guest runs under -S, so nobody acknowledges the ACPI unplug request: pending */
    bool done = true;
    assert_int_equal(dh_qmp_unplug(q, SMOKE_ID, 300, &done, &err), 0);
    assert_false(done);
    /* QEMU 7.2 refuses a second request while the first is pending; still pending */
    done = true;
    assert_int_equal(dh_qmp_unplug(q, SMOKE_ID, 300, &done, &err), 0);
    assert_false(done);
    assert_false(dh_error_is_set(&err));

    /* a reset ejects what the guest was asked to eject (0.3 s in the lab) */
    assert_int_equal(dh_qmp_system_reset(q, QMP_TEST_TIMEOUT_MS, &err), 0);
    assert_int_equal(dh_qmp_wait_unplug(q, SMOKE_ID, QMP_TEST_TIMEOUT_MS, &done, &err), 0);
    assert_true(done);
    assert_int_equal(dh_qmp_device_realized(q, SMOKE_ID, QMP_TEST_TIMEOUT_MS, &realized, &err), -ENODEV);
    dh_error_clear(&err);

    assert_int_equal(dh_qmp_quit(q, QMP_TEST_TIMEOUT_MS, &err), 0);
    assert_false(dh_error_is_set(&err));
}
