/* QMP client: talks to one QEMU over its QMP monitor socket. It reads the greeting, negotiates
 * capabilities, sends commands with unique ids and timeouts, matches replies by id, and queues the
 * asynchronous events (DEVICE_DELETED, SHUTDOWN, STOP, RESUME, RESET, any other) that arrive in
 * between, so that a later wait or a daemon's event loop finds them. On top of that sit thin
 * wrappers for what the VM layer needs (device_add, device_del, qom-get, query-status, ...) and an
 * unplug helper that models a hot-unplug as requested -> pending -> done.
 *
 * Thread-safety: a struct dh_qmp is used by one thread at a time. It holds no lock; callers that
 * share one between threads serialize every call (including the event functions) themselves.
 *
 * Timeouts: every timeout_ms below counts on the monotonic clock from the call; a negative value
 * waits forever and 0 only looks at what is already buffered or readable without blocking.
 *
 * Errors: functions return 0 (or a count) or a negative errno and fill the optional err once. A
 * QMP error reply {"error": {"class", "desc"}} becomes the errno of dh_qmp_errno_from_class() and a
 * message carrying QEMU's class and desc. -ETIMEDOUT: no answer in time (buffered partial input is
 * kept; a late reply to the abandoned command is dropped when it arrives). -ECONNRESET: QEMU closed
 * the socket (it exited). -EPROTO: QEMU sent something that is not QMP (a malformed line, a reply
 * with an id nobody waits for); the offending line is dropped. See docs/qmp.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include <dpuhost/error.h>

struct dh_qmp;

/* QEMU's version from the greeting. package is "" when QEMU sent none; owned by the struct dh_qmp. */
struct dh_qmp_version {
    int major, minor, micro;
    const char *package;
};

/* The events the VM layer acts on; every other event name is DH_QMP_EVENT_OTHER and still queued. */
enum dh_qmp_event_kind {
    DH_QMP_EVENT_OTHER,
    DH_QMP_EVENT_DEVICE_DELETED,
    DH_QMP_EVENT_SHUTDOWN,
    DH_QMP_EVENT_STOP,
    DH_QMP_EVENT_RESUME,
    DH_QMP_EVENT_RESET,
};

/* Connects to the QMP Unix socket at path, retrying while the socket is missing or refuses
 * connections (QEMU creates it a little after exec), then reads the greeting and sends
 * qmp_capabilities. timeout_ms covers all of it. On success *ret is a new client the caller frees
 * with dh_qmp_close(). A socket that never appeared fails with the last connect errno (-ENOENT,
 * -ECONNREFUSED) and a message saying how long it waited. */
int dh_qmp_connect(const char *path, int timeout_ms, struct dh_qmp **ret, struct dh_error *err);

/* The same over an already-connected stream socket (tests, or a daemon that manages sockets
 * itself). Takes ownership of fd in every case: it is closed on failure and by dh_qmp_close().
 * name (e.g. the VM's name or the socket path) is used in messages; NULL means "fd N". The fd's
 * flags are left alone: reads and writes are non-blocking per call. */
int dh_qmp_new_fd(int fd, const char *name, int timeout_ms, struct dh_qmp **ret, struct dh_error *err);

/* Closes the socket and frees everything, queued events included. Accepts NULL. */
void dh_qmp_close(struct dh_qmp *q);

/* QEMU's version from the greeting (owned by q). */
const struct dh_qmp_version *dh_qmp_version(const struct dh_qmp *q);
/* The greeting's "QMP" member as QEMU sent it ({"version", "capabilities"}); borrowed from q. */
const json_t *dh_qmp_greeting(const struct dh_qmp *q);
/* The name used in messages (the socket path for dh_qmp_connect()). */
const char *dh_qmp_name(const struct dh_qmp *q);
/* The socket, for poll() in an event loop; owned by q. */
int dh_qmp_fd(const struct dh_qmp *q);

/* Observes every line sent (outgoing true) and every line received (without its line end), for
 * debug logs and for recording transcripts. fn NULL turns it off. The greeting and the
 * capabilities negotiation happen before anyone can install it: see dh_qmp_greeting(). */
typedef void (*dh_qmp_trace_fn)(void *userdata, bool outgoing, const char *line, size_t size);
void dh_qmp_set_trace(struct dh_qmp *q, dh_qmp_trace_fn fn, void *userdata);

/* The errno a QMP error class maps to: GenericError -EIO, CommandNotFound -ENOSYS, DeviceNotFound
 * -ENODEV, DeviceNotActive -ENXIO, KVMMissingCap -EOPNOTSUPP, anything else (or NULL) -EIO. */
int dh_qmp_errno_from_class(const char *error_class);

/* Sends {"execute": command, "arguments": arguments, "id": N} with an id unique on this
 * connection and reads until the reply with that id arrives; events that arrive in between are
 * queued. arguments is borrowed (the caller keeps its reference; NULL or an object). On success
 * *ret_return (when non-NULL) holds a new reference to the "return" value, which the caller
 * releases with json_decref(). An error reply returns dh_qmp_errno_from_class() of its class with
 * "class: desc" in err. */
int dh_qmp_execute(struct dh_qmp *q, const char *command, json_t *arguments, int timeout_ms,
                   json_t **ret_return, struct dh_error *err);

/* Returns the first queued or arriving event called name whose "data" contains every member of
 * match_data with an equal value (match_data borrowed; NULL matches any), and removes it from the
 * queue; the other events stay queued in order. *ret_event (when non-NULL) is a new reference.
 * DEVICE_DELETED is also sent for children without an id (data has only "path"), so match on
 * {"device": id}. -ETIMEDOUT when none arrived in time. */
int dh_qmp_wait_event(struct dh_qmp *q, const char *name, json_t *match_data, int timeout_ms,
                      json_t **ret_event, struct dh_error *err);

/* For an event loop (poll dh_qmp_fd() for POLLIN): reads what is available without blocking and
 * queues the events. Returns the number of events queued by this call; once QEMU has closed the
 * socket and every message before the close is queued, -ECONNRESET. */
int dh_qmp_read_events(struct dh_qmp *q, struct dh_error *err);
/* Pops the oldest queued event (a new reference the caller releases), or NULL when none is
 * queued. Never reads the socket. At most 1024 events are kept; beyond that the oldest is dropped
 * (the DEVICE_DELETED record of dh_qmp_is_device_deleted() is kept apart and never dropped). */
json_t *dh_qmp_next_event(struct dh_qmp *q);
/* Number of queued events. */
size_t dh_qmp_events_queued(const struct dh_qmp *q);

/* Accessors for an event object: its kind, its name, and for DEVICE_DELETED the id of the device
 * (NULL for a child without an id, or for another event). Borrowed from event. */
enum dh_qmp_event_kind dh_qmp_event_kind(const json_t *event);
const char *dh_qmp_event_name(const json_t *event);
const char *dh_qmp_event_device(const json_t *event);

/* device_add with props ({"driver", "id", "bus", ...}; borrowed; "driver" required). QEMU answers
 * {} once the device is realized. */
int dh_qmp_device_add(struct dh_qmp *q, json_t *props, int timeout_ms, struct dh_error *err);
/* device_del: 0 when QEMU accepted the request (removal still needs the guest: see
 * dh_qmp_unplug()), -EINPROGRESS when an unplug of id is already pending ("Device X is already in
 * the process of unplug"), -ENODEV when there is no such device. */
int dh_qmp_device_del(struct dh_qmp *q, const char *id, int timeout_ms, struct dh_error *err);
/* qom-get path property; *ret is a new reference. -ENODEV when path does not exist. */
int dh_qmp_qom_get(struct dh_qmp *q, const char *path, const char *property, int timeout_ms, json_t **ret,
                   struct dh_error *err);
/* qom-get /machine/peripheral/<id> realized. Unlike query-pci it also sees devices behind root
 * ports under -S, before firmware has numbered their buses. */
int dh_qmp_device_realized(struct dh_qmp *q, const char *id, int timeout_ms, bool *ret_realized,
                           struct dh_error *err);
/* query-status: *ret_status ("prelaunch", "running", "paused", ...) is a string the caller frees;
 * either output may be NULL. */
int dh_qmp_query_status(struct dh_qmp *q, int timeout_ms, char **ret_status, bool *ret_running,
                        struct dh_error *err);
/* system_powerdown (ACPI power button: the guest decides), system_reset, cont. */
int dh_qmp_system_powerdown(struct dh_qmp *q, int timeout_ms, struct dh_error *err);
int dh_qmp_system_reset(struct dh_qmp *q, int timeout_ms, struct dh_error *err);
int dh_qmp_cont(struct dh_qmp *q, int timeout_ms, struct dh_error *err);
/* quit: QEMU exits. Also 0 when QEMU closed the socket before its reply arrived, which is what
 * was asked for. */
int dh_qmp_quit(struct dh_qmp *q, int timeout_ms, struct dh_error *err);

/* Hot-unplug as requested -> pending -> done: sends device_del id, then waits up to timeout_ms
 * for DEVICE_DELETED{device: id}. *ret_done is true when it arrived and false when the guest has
 * not acknowledged yet (not an error: report the unplug as pending and check later with
 * dh_qmp_wait_unplug()). "already in the process of unplug" counts as pending, and a device that
 * is gone because its DEVICE_DELETED already arrived on this connection counts as done. The
 * matching event is removed from the queue. */
int dh_qmp_unplug(struct dh_qmp *q, const char *id, int timeout_ms, bool *ret_done, struct dh_error *err);
/* Checks later on a pending unplug: waits up to timeout_ms (0: only what is readable now) for
 * DEVICE_DELETED{device: id}, also when an earlier call already took the event off the queue. */
int dh_qmp_wait_unplug(struct dh_qmp *q, const char *id, int timeout_ms, bool *ret_done,
                       struct dh_error *err);
/* True when DEVICE_DELETED{device: id} was received on this connection since the last
 * device_add, device_del or unplug of id through this API. Never reads the socket. */
bool dh_qmp_is_device_deleted(const struct dh_qmp *q, const char *id);
