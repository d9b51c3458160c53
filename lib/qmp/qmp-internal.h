/* Shared between the QMP client's files (the connection in qmp.c, the command wrappers in
 * commands.c); not exported. */
#pragma once

#include <stdint.h>

#include <dpuhost/qmp.h>

/* An absolute point on the monotonic clock plus the timeout it came from, for messages. */
struct qmp_deadline {
    uint64_t at_usec; /* UINT64_MAX: never */
    int timeout_ms;
};

struct qmp_deadline qmp_deadline_in(int timeout_ms);

/* Sends command and reads until its reply arrives or d passes. On an error reply it returns the
 * mapped errno and, when ret_error is non-NULL, stores the "error" object there (new reference)
 * without touching err, so that the wrapper can word the message; with ret_error NULL it fills err
 * with QEMU's class and desc. */
int qmp_call(struct dh_qmp *q, const char *command, json_t *arguments, const struct qmp_deadline *d,
             json_t **ret_return, json_t **ret_error, struct dh_error *err);

/* Waits until DEVICE_DELETED{device: id} has been received (now or earlier on this connection) and
 * removes it from the queue if it is still there. 1 when it arrived, 0 when d passed first. */
int qmp_wait_device_deleted(struct dh_qmp *q, const char *id, const struct qmp_deadline *d,
                            struct dh_error *err);

/* The record of devices whose DEVICE_DELETED arrived, kept apart from the event queue. */
void qmp_deleted_forget(struct dh_qmp *q, const char *id);
void qmp_deleted_remember(struct dh_qmp *q, const char *id);

/* "class" and "desc" of an error object, never NULL. */
const char *qmp_error_class(const json_t *error);
const char *qmp_error_desc(const json_t *error);
