/* Thin wrappers over the QMP commands the VM layer uses (device_add, device_del, qom-get,
 * query-status, system_powerdown, system_reset, cont, quit), each wording its failure for the
 * object it acts on, and the hot-unplug helper. A hot-unplug is requested by device_del, which
 * QEMU answers at once, and done only when DEVICE_DELETED arrives, which needs the guest's
 * cooperation (ACPI or pciehp) and may never come: libvirt waits 5 s and then reports the unplug
 * as pending, finishing it when the event comes. */
#include <dpuhost/qmp.h>

#include "qmp/qmp-internal.h"
#include "util/macro.h"

/* Copies a message collected in a local error slot into the caller's. */
static int forward(struct dh_error *err, int code, const struct dh_error *local)
{
    if (dh_error_is_set(local))
        return dh_error_set(err, code, "%s", local->message);
    return code;
}

static int simple_command(struct dh_qmp *q, const char *command, int timeout_ms, struct dh_error *err)
{
    assert_return(q, -EINVAL);
    struct qmp_deadline d = qmp_deadline_in(timeout_ms);
    return qmp_call(q, command, NULL, &d, NULL, NULL, err);
}

int dh_qmp_system_powerdown(struct dh_qmp *q, int timeout_ms, struct dh_error *err)
{
    return simple_command(q, "system_powerdown", timeout_ms, err);
}

int dh_qmp_system_reset(struct dh_qmp *q, int timeout_ms, struct dh_error *err)
{
    return simple_command(q, "system_reset", timeout_ms, err);
}

int dh_qmp_cont(struct dh_qmp *q, int timeout_ms, struct dh_error *err)
{
    return simple_command(q, "cont", timeout_ms, err);
}

int dh_qmp_quit(struct dh_qmp *q, int timeout_ms, struct dh_error *err)
{
    struct dh_error local = {0};
    int r = simple_command(q, "quit", timeout_ms, &local);
    /* QEMU may exit before its reply is flushed; gone is what quit asked for. */
    if (r == -ECONNRESET)
        return 0;
    return r < 0 ? forward(err, r, &local) : 0;
}

int dh_qmp_device_add(struct dh_qmp *q, json_t *props, int timeout_ms, struct dh_error *err)
{
    assert_return(q, -EINVAL);
    const char *driver = json_string_value(json_object_get(props, "driver"));
    if (!driver)
        return dh_error_set(err, -EINVAL, "QMP %s: device_add needs an object with a \"driver\" string",
                            dh_qmp_name(q));
    const char *id = json_string_value(json_object_get(props, "id"));

    struct qmp_deadline d = qmp_deadline_in(timeout_ms);
    json_auto_t *error = NULL;
    int r = qmp_call(q, "device_add", props, &d, NULL, &error, err);
    if (error)
        return dh_error_set(err, r, "QMP %s: device_add of %s (driver %s) failed: %s: %s", dh_qmp_name(q),
                            id ? id : "a device without id", driver, qmp_error_class(error),
                            qmp_error_desc(error));
    /* A new device under an old id: an earlier DEVICE_DELETED says nothing about it. Forgotten only
     * now, because the one of an earlier device under this id can arrive before this reply, never
     * the one of the new device. */
    if (r >= 0 && id)
        qmp_deleted_forget(q, id);
    return r;
}

/* device_del, with QEMU's answers sorted: 0 accepted, -EINPROGRESS already pending, -ENODEV no
 * such device. */
static int send_device_del(struct dh_qmp *q, const char *id, const struct qmp_deadline *d,
                           struct dh_error *err)
{
    bool was_deleted = dh_qmp_is_device_deleted(q, id);
    /* Forgotten before sending: a DEVICE_DELETED read from now on answers this request. QEMU emits
     * it before the reply when the removal needs no guest. */
    qmp_deleted_forget(q, id);
    json_auto_t *args = json_pack("{s:s}", "id", id);
    if (!args)
        return -ENOMEM;
    json_auto_t *error = NULL;
    int r = qmp_call(q, "device_del", args, d, NULL, &error, err);
    if (!error)
        return r;
    const char *cls = qmp_error_class(error), *desc = qmp_error_desc(error);
    /* QEMU (before the 2023 ACPI fix, and 7.2 still) keeps one request pending until the guest
     * answers and refuses a second one with this GenericError. */
    if (streq(cls, "GenericError") && strstr(desc, "already in the process of unplug"))
        return dh_error_set(
                err, -EINPROGRESS,
                "QMP %s: device %s is already being unplugged (%s): the guest has not acknowledged "
                "the first request yet; wait for DEVICE_DELETED",
                dh_qmp_name(q), id, desc);
    if (r == -ENODEV) {
        if (was_deleted)
            qmp_deleted_remember(q, id);
        return dh_error_set(err, r, "QMP %s: device_del %s: %s: %s: it was never added or is already gone",
                            dh_qmp_name(q), id, cls, desc);
    }
    return dh_error_set(err, r, "QMP %s: device_del %s failed: %s: %s", dh_qmp_name(q), id, cls, desc);
}

int dh_qmp_device_del(struct dh_qmp *q, const char *id, int timeout_ms, struct dh_error *err)
{
    assert_return(q && id, -EINVAL);
    struct qmp_deadline d = qmp_deadline_in(timeout_ms);
    return send_device_del(q, id, &d, err);
}

int dh_qmp_unplug(struct dh_qmp *q, const char *id, int timeout_ms, bool *ret_done, struct dh_error *err)
{
    assert_return(q && id && ret_done, -EINVAL);
    *ret_done = false;
    struct qmp_deadline d = qmp_deadline_in(timeout_ms);
    struct dh_error local = {0};
    int r = send_device_del(q, id, &d, &local);
    /* Gone, and this connection saw it go: an earlier pending unplug finished. */
    bool gone = r == -ENODEV && dh_qmp_is_device_deleted(q, id);
    if (r < 0 && r != -EINPROGRESS && !gone)
        return forward(err, r, &local);
    r = qmp_wait_device_deleted(q, id, &d, err);
    if (r < 0)
        return r;
    *ret_done = r > 0;
    return 0;
}

int dh_qmp_wait_unplug(struct dh_qmp *q, const char *id, int timeout_ms, bool *ret_done, struct dh_error *err)
{
    assert_return(q && id && ret_done, -EINVAL);
    *ret_done = false;
    struct qmp_deadline d = qmp_deadline_in(timeout_ms);
    int r = qmp_wait_device_deleted(q, id, &d, err);
    if (r < 0)
        return r;
    *ret_done = r > 0;
    return 0;
}

int dh_qmp_qom_get(struct dh_qmp *q, const char *path, const char *property, int timeout_ms, json_t **ret,
                   struct dh_error *err)
{
    assert_return(q && path && property && ret, -EINVAL);
    *ret = NULL;
    json_auto_t *args = json_pack("{s:s, s:s}", "path", path, "property", property);
    if (!args)
        return -ENOMEM;
    struct qmp_deadline d = qmp_deadline_in(timeout_ms);
    json_auto_t *error = NULL;
    int r = qmp_call(q, "qom-get", args, &d, ret, &error, err);
    if (error)
        return dh_error_set(err, r, "QMP %s: qom-get %s %s failed: %s: %s", dh_qmp_name(q), path, property,
                            qmp_error_class(error), qmp_error_desc(error));
    return r;
}

int dh_qmp_device_realized(struct dh_qmp *q, const char *id, int timeout_ms, bool *ret_realized,
                           struct dh_error *err)
{
    assert_return(q && id && ret_realized, -EINVAL);
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "/machine/peripheral/%s", id) < 0)
        return -ENOMEM;
    json_auto_t *v = NULL;
    int r = dh_qmp_qom_get(q, path, "realized", timeout_ms, &v, err);
    if (r < 0)
        return r;
    if (!json_is_boolean(v))
        return dh_error_set(err, -EPROTO, "QMP %s: qom-get %s realized returned a %s, not a boolean",
                            dh_qmp_name(q), path, v ? "non-boolean value" : "reply without value");
    *ret_realized = json_is_true(v);
    return 0;
}

int dh_qmp_query_status(struct dh_qmp *q, int timeout_ms, char **ret_status, bool *ret_running,
                        struct dh_error *err)
{
    assert_return(q, -EINVAL);
    struct qmp_deadline d = qmp_deadline_in(timeout_ms);
    json_auto_t *st = NULL;
    int r = qmp_call(q, "query-status", NULL, &d, &st, NULL, err);
    if (r < 0)
        return r;
    const char *status = json_string_value(json_object_get(st, "status"));
    json_t *running = json_object_get(st, "running");
    if (!status || !json_is_boolean(running))
        return dh_error_set(err, -EPROTO,
                            "QMP %s: query-status returned no \"status\" string or \"running\" boolean",
                            dh_qmp_name(q));
    if (ret_status) {
        *ret_status = strdup(status);
        if (!*ret_status)
            return -ENOMEM;
    }
    if (ret_running)
        *ret_running = json_is_true(running);
    return 0;
}
