/* What the VM layer does over QMP, replayed from transcripts: attach (device_add + qom-get
 * realized), acknowledged detach, a pending detach completed later, "already in the process of
 * unplug", QEMU dying in the middle, and the VM-level commands. */
#include "qmp-test.h"

static json_t *vf0_props(void)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "driver", "vfio-pci", "host", "0000:03:00.2", "bus", "rp1", "id",
                     "vf0");
}

static void attach_adds_the_device_and_qom_sees_it_realized(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("attach.txt", &f);
    struct dh_error err = {0};
    json_t *props = vf0_props();
    assert_int_equal(dh_qmp_device_add(q, props, QMP_TEST_TIMEOUT_MS, &err), 0);
    assert_int_equal(props->refcount, 1);
    json_decref(props);

    bool realized = false;
    assert_int_equal(dh_qmp_device_realized(q, "vf0", QMP_TEST_TIMEOUT_MS, &realized, &err), 0);
    assert_true(realized);
    json_t *host = NULL;
    assert_int_equal(dh_qmp_qom_get(q, "/machine/peripheral/vf0", "host", QMP_TEST_TIMEOUT_MS, &host, &err),
                     0);
    assert_string_equal(json_string_value(host), "0000:03:00.2");
    json_decref(host);

    assert_int_equal(dh_qmp_device_realized(q, "vf9", QMP_TEST_TIMEOUT_MS, &realized, &err), -ENODEV);
    assert_contains(err.message, "qom-get /machine/peripheral/vf9 realized failed: DeviceNotFound: Device "
                                 "'/machine/peripheral/vf9' not found");
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void attach_failure_names_the_device_and_keeps_qemus_reason(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("attach-failure.txt", &f);
    struct dh_error err = {0};
    json_t *props = vf0_props();
    assert_int_equal(dh_qmp_device_add(q, props, QMP_TEST_TIMEOUT_MS, &err), -EIO);
    json_decref(props);
    assert_contains(err.message,
                    "QMP test-vm: device_add of vf0 (driver vfio-pci) failed: GenericError: vfio "
                    "0000:03:00.2: failed to setup container for group 42: No available IOMMU models");

    /* no driver: refused before anything is sent */
    dh_error_clear(&err);
    json_t *nodriver = json_pack("{s:s}", "id", "x");
    assert_int_equal(dh_qmp_device_add(q, nodriver, 100, &err), -EINVAL);
    assert_contains(err.message, "\"driver\"");
    json_decref(nodriver);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void acknowledged_detach_is_done(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("detach-acknowledged.txt", &f);
    struct dh_error err = {0};
    bool done = false;
    assert_int_equal(dh_qmp_unplug(q, "vf0", QMP_TEST_TIMEOUT_MS, &done, &err), 0);
    assert_true(done);
    assert_true(dh_qmp_is_device_deleted(q, "vf0"));
    /* the event was taken off the queue */
    assert_int_equal(dh_qmp_events_queued(q), 0);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void device_del_then_a_wait_sees_the_guest_acknowledge(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("detach-acknowledged.txt", &f);
    struct dh_error err = {0};
    assert_int_equal(dh_qmp_device_del(q, "vf0", QMP_TEST_TIMEOUT_MS, &err), 0);
    assert_false(dh_qmp_is_device_deleted(q, "vf0"));
    bool done = false;
    assert_int_equal(dh_qmp_wait_unplug(q, "vf0", QMP_TEST_TIMEOUT_MS, &done, &err), 0);
    assert_true(done);
    assert_false(dh_error_is_set(&err));
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void pending_detach_is_found_done_later(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("detach-pending.txt", &f);
    struct dh_error err = {0};

    /* requested, and the guest does not answer in time: pending, not an error */
    bool done = true;
    long long t0 = qmp_test_now_ms();
    assert_int_equal(dh_qmp_unplug(q, "vf0", 200, &done, &err), 0);
    assert_true(qmp_test_now_ms() - t0 >= 200);
    assert_false(done);
    assert_false(dh_error_is_set(&err));
    assert_false(dh_qmp_is_device_deleted(q, "vf0"));

    /* a second request while one is pending */
    assert_int_equal(dh_qmp_device_del(q, "vf0", QMP_TEST_TIMEOUT_MS, &err), -EINPROGRESS);
    assert_contains(err.message,
                    "device vf0 is already being unplugged (Device vf0 is already in the process of "
                    "unplug)");

    /* the event arrives during another command and a daemon's loop takes it off the queue */
    assert_int_equal(dh_qmp_query_status(q, QMP_TEST_TIMEOUT_MS, NULL, NULL, NULL), 0);
    json_t *ev = dh_qmp_next_event(q);
    assert_string_equal(dh_qmp_event_device(ev), "vf0");
    json_decref(ev);
    assert_int_equal(dh_qmp_events_queued(q), 0);

    /* checking later still sees it, without reading */
    done = false;
    assert_int_equal(dh_qmp_wait_unplug(q, "vf0", 0, &done, NULL), 0);
    assert_true(done);
    assert_true(dh_qmp_is_device_deleted(q, "vf0"));

    /* an unplug of the device that is gone, and seen gone: done, not -ENODEV */
    done = false;
    dh_error_clear(&err);
    assert_int_equal(dh_qmp_unplug(q, "vf0", QMP_TEST_TIMEOUT_MS, &done, &err), 0);
    assert_true(done);
    assert_false(dh_error_is_set(&err));
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void retried_unplug_while_pending_waits_for_the_guest(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("detach-already-in-progress.txt", &f);
    struct dh_error err = {0};
    bool done = true;
    assert_int_equal(dh_qmp_unplug(q, "vf0", 100, &done, &err), 0);
    assert_false(done);
    /* QEMU refuses the second device_del; the helper keeps waiting for the first */
    assert_int_equal(dh_qmp_unplug(q, "vf0", QMP_TEST_TIMEOUT_MS, &done, &err), 0);
    assert_true(done);
    assert_false(dh_error_is_set(&err));
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void reattach_under_the_same_id_forgets_the_old_deletion(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("reattach-same-id.txt", &f);
    struct dh_error err = {0};
    bool done = true;
    assert_int_equal(dh_qmp_unplug(q, "vf0", 100, &done, &err), 0);
    assert_false(done);
    json_t *props = vf0_props();
    assert_int_equal(dh_qmp_device_add(q, props, QMP_TEST_TIMEOUT_MS, &err), 0);
    json_decref(props);
    /* the new vf0 is not deleted; the old one's event is still queued for an event loop */
    assert_false(dh_qmp_is_device_deleted(q, "vf0"));
    assert_int_equal(dh_qmp_wait_unplug(q, "vf0", 0, &done, &err), 0);
    assert_false(done);
    json_t *ev = dh_qmp_next_event(q);
    assert_string_equal(dh_qmp_event_device(ev), "vf0");
    json_decref(ev);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void unplug_of_an_unknown_device_fails(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("detach-unknown.txt", &f);
    struct dh_error err = {0};
    bool done = true;
    assert_int_equal(dh_qmp_unplug(q, "nope", QMP_TEST_TIMEOUT_MS, &done, &err), -ENODEV);
    assert_false(done);
    assert_contains(err.message,
                    "device_del nope: DeviceNotFound: Device 'nope' not found: it was never added or "
                    "is already gone");
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void qemu_dying_during_an_unplug_is_a_reset(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("qemu-dies-during-unplug.txt", &f);
    struct dh_error err = {0};
    bool done = true;
    assert_int_equal(dh_qmp_unplug(q, "vf0", QMP_TEST_TIMEOUT_MS, &done, &err), -ECONNRESET);
    assert_false(done);
    assert_contains(err.message,
                    "QMP test-vm: QEMU closed the QMP socket while waiting for DEVICE_DELETED of vf0: "
                    "did it exit?");
    /* and every later call says so at once */
    dh_error_clear(&err);
    assert_int_equal(dh_qmp_query_status(q, QMP_TEST_TIMEOUT_MS, NULL, NULL, &err), -ECONNRESET);
    assert_contains(err.message, "cannot send query-status: QEMU closed the QMP socket");
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void qemu_dying_during_a_command_is_a_reset(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("qemu-dies-during-command.txt", &f);
    struct dh_error err = {0};
    json_t *props = vf0_props();
    assert_int_equal(dh_qmp_device_add(q, props, QMP_TEST_TIMEOUT_MS, &err), -ECONNRESET);
    json_decref(props);
    assert_contains(err.message,
                    "QEMU closed the QMP socket while waiting for the reply to device_add: did it exit?");
    /* what QEMU said before it went is kept */
    json_t *ev = dh_qmp_next_event(q);
    assert_int_equal(dh_qmp_event_kind(ev), DH_QMP_EVENT_SHUTDOWN);
    assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "data"), "reason")),
                        "host-signal");
    json_decref(ev);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void vm_commands_start_power_down_reset_and_quit(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("vm-lifecycle.txt", &f);
    struct dh_error err = {0};
    char *status = NULL;
    bool running = true;
    assert_int_equal(dh_qmp_query_status(q, QMP_TEST_TIMEOUT_MS, &status, &running, &err), 0);
    assert_string_equal(status, "prelaunch");
    assert_false(running);
    free(status);

    assert_int_equal(dh_qmp_cont(q, QMP_TEST_TIMEOUT_MS, &err), 0);
    assert_int_equal(dh_qmp_wait_event(q, "RESUME", NULL, 0, NULL, &err), 0);
    assert_int_equal(dh_qmp_query_status(q, QMP_TEST_TIMEOUT_MS, &status, &running, &err), 0);
    assert_string_equal(status, "running");
    assert_true(running);
    free(status);

    assert_int_equal(dh_qmp_system_powerdown(q, QMP_TEST_TIMEOUT_MS, &err), 0);
    assert_int_equal(dh_qmp_wait_event(q, "POWERDOWN", NULL, QMP_TEST_TIMEOUT_MS, NULL, &err), 0);
    assert_int_equal(dh_qmp_system_reset(q, QMP_TEST_TIMEOUT_MS, &err), 0);
    json_t *ev = dh_qmp_next_event(q);
    assert_int_equal(dh_qmp_event_kind(ev), DH_QMP_EVENT_RESET);
    json_decref(ev);
    assert_int_equal(dh_qmp_quit(q, QMP_TEST_TIMEOUT_MS, &err), 0);
    ev = dh_qmp_next_event(q);
    assert_int_equal(dh_qmp_event_kind(ev), DH_QMP_EVENT_SHUTDOWN);
    json_decref(ev);
    assert_false(dh_error_is_set(&err));
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

static void quit_succeeds_when_qemu_exits_before_replying(void **state)
{
    (void)state;
    struct fake_qmp *f;
    struct dh_qmp *q = qmp_test_client("quit-without-reply.txt", &f);
    struct dh_error err = {0};
    assert_int_equal(dh_qmp_quit(q, QMP_TEST_TIMEOUT_MS, &err), 0);
    assert_false(dh_error_is_set(&err));
    assert_int_equal(dh_qmp_events_queued(q), 1);
    /* and once QEMU is gone, quit has nothing left to do */
    assert_int_equal(dh_qmp_quit(q, QMP_TEST_TIMEOUT_MS, &err), 0);
    dh_qmp_close(q);
    fake_qmp_assert_done(f);
}

QMP_TEST_MAIN(DH_TEST(attach_adds_the_device_and_qom_sees_it_realized),
              DH_TEST(attach_failure_names_the_device_and_keeps_qemus_reason),
              DH_TEST(acknowledged_detach_is_done),
              DH_TEST(device_del_then_a_wait_sees_the_guest_acknowledge),
              DH_TEST(pending_detach_is_found_done_later),
              DH_TEST(retried_unplug_while_pending_waits_for_the_guest),
              DH_TEST(reattach_under_the_same_id_forgets_the_old_deletion),
              DH_TEST(unplug_of_an_unknown_device_fails), DH_TEST(qemu_dying_during_an_unplug_is_a_reset),
              DH_TEST(qemu_dying_during_a_command_is_a_reset),
              DH_TEST(vm_commands_start_power_down_reset_and_quit),
              DH_TEST(quit_succeeds_when_qemu_exits_before_replying))
