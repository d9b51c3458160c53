/* The QMP connection: the socket, the greeting and capabilities negotiation, one input buffer that
 * outlives every call (a client reading with timeouts needs its own buffer, or a timeout in the
 * middle of a line loses the line's start), commands matched to replies by id, and the queue of
 * events that arrive at any time (QMP spec: "Events ... can be sent at any time"). The command
 * wrappers built on top are in commands.c. */
#include <dpuhost/qmp.h>

#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "qmp/qmp-internal.h"
#include "util/macro.h"

/* query-qmp-schema, the longest reply QEMU sends, is a few hundred KiB on one line; 16 MiB without
 * a line end is not QMP. */
#define LINE_MAX_BYTES (16u << 20)
#define READ_CHUNK 65536
/* A caller that never drains events must not grow without bound; the DEVICE_DELETED record is
 * kept apart, so dropping old events never loses an unplug. */
#define EVENTS_MAX 1024
/* Ids of commands that timed out; their late replies are dropped instead of being protocol errors. */
#define ABANDONED_MAX 32
#define CONNECT_RETRY_MS 20
#define SNIPPET_MAX 96

struct dh_qmp {
    int fd;
    char *name;
    char *buf; /* unread input in [start, len) */
    size_t start, len, cap;
    bool eof;    /* recv() returned 0 or ECONNRESET: what is buffered is all there will be */
    bool broken; /* half a command went out, or a line overflowed: nothing after it can be framed */
    json_t *greeting;
    struct dh_qmp_version version;
    json_int_t next_id;
    json_int_t abandoned[ABANDONED_MAX];
    unsigned abandoned_next;
    json_t *events;  /* array, oldest first */
    json_t *deleted; /* object used as a set: ids whose DEVICE_DELETED arrived */
    dh_qmp_trace_fn trace;
    void *trace_userdata;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct dh_qmp *, dh_qmp_close);

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct qmp_deadline qmp_deadline_in(int timeout_ms)
{
    struct qmp_deadline d = {.at_usec = UINT64_MAX, .timeout_ms = timeout_ms};
    if (timeout_ms >= 0)
        d.at_usec = now_usec() + (uint64_t)timeout_ms * 1000u;
    return d;
}

static bool deadline_passed(const struct qmp_deadline *d)
{
    return d->at_usec != UINT64_MAX && now_usec() >= d->at_usec;
}

/* Rounded up, so that poll() never wakes a little early and the caller spins on a 0 ms timeout. */
static int poll_timeout(const struct qmp_deadline *d)
{
    if (d->at_usec == UINT64_MAX)
        return -1;
    uint64_t now = now_usec();
    if (now >= d->at_usec)
        return 0;
    uint64_t ms = (d->at_usec - now + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* A printable excerpt of what QEMU sent, for messages. */
static void snippet(const char *s, size_t n, char *out, size_t size)
{
    size_t max = size - 4, j = 0;
    for (size_t i = 0; i < n && j < max; i++)
        out[j++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (n > max) {
        memcpy(out + j, "...", 3);
        j += 3;
    }
    out[j] = '\0';
}

static void snippet_json(const json_t *j, char *out, size_t size)
{
    _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        snprintf(out, size, "(unprintable)");
        return;
    }
    snippet(s, strlen(s), out, size);
}

static void trace(struct dh_qmp *q, bool outgoing, const char *line, size_t size)
{
    if (q->trace)
        q->trace(q->trace_userdata, outgoing, line, size);
}

int dh_qmp_errno_from_class(const char *error_class)
{
    static const struct {
        const char *name;
        int code;
    } classes[] = {
            {"GenericError", -EIO},
            /* also the answer to any command before qmp_capabilities */
            {"CommandNotFound", -ENOSYS},
            {"DeviceNotFound", -ENODEV},
            {"DeviceNotActive", -ENXIO},
            {"KVMMissingCap", -EOPNOTSUPP},
    };
    for (size_t i = 0; error_class && i < ELEMENTSOF(classes); i++)
        if (streq(classes[i].name, error_class))
            return classes[i].code;
    return -EIO;
}

const char *qmp_error_class(const json_t *error)
{
    const char *s = json_string_value(json_object_get(error, "class"));
    return s ? s : "(no class)";
}

const char *qmp_error_desc(const json_t *error)
{
    const char *s = json_string_value(json_object_get(error, "desc"));
    return s ? s : "(no description)";
}

static bool is_event(const json_t *m)
{
    return json_is_string(json_object_get(m, "event"));
}

static bool is_reply(const json_t *m)
{
    return json_object_get(m, "return") || json_is_object(json_object_get(m, "error"));
}

static bool reply_has_id(const json_t *m, json_int_t id)
{
    json_t *j = json_object_get(m, "id");
    return json_is_integer(j) && json_integer_value(j) == id;
}

static void abandon(struct dh_qmp *q, json_int_t id)
{
    q->abandoned[q->abandoned_next] = id;
    q->abandoned_next = (q->abandoned_next + 1) % ABANDONED_MAX;
}

static bool take_abandoned(struct dh_qmp *q, json_int_t id)
{
    for (size_t i = 0; id > 0 && i < ABANDONED_MAX; i++)
        if (q->abandoned[i] == id) {
            q->abandoned[i] = 0;
            return true;
        }
    return false;
}

void qmp_deleted_forget(struct dh_qmp *q, const char *id)
{
    json_object_del(q->deleted, id);
}

void qmp_deleted_remember(struct dh_qmp *q, const char *id)
{
    json_object_set_new(q->deleted, id, json_true());
}

bool dh_qmp_is_device_deleted(const struct dh_qmp *q, const char *id)
{
    return q && id && json_object_get(q->deleted, id);
}

/* Every event read goes through here, whoever reads it, so that the DEVICE_DELETED record is
 * complete even when a wait for another event or a command's reply read it. Steals ev. */
static void queue_event(struct dh_qmp *q, json_t *ev)
{
    const char *device = dh_qmp_event_device(ev);
    if (device)
        qmp_deleted_remember(q, device);
    if (json_array_size(q->events) >= EVENTS_MAX)
        json_array_remove(q->events, 0);
    json_array_append_new(q->events, ev);
}

static bool data_matches(const json_t *event, json_t *match)
{
    json_t *data = json_object_get(event, "data");
    const char *key;
    json_t *want;
    json_object_foreach (match, key, want) {
        json_t *have = json_object_get(data, key);
        if (!have || !json_equal(have, want))
            return false;
    }
    return true;
}

static bool event_matches(const json_t *event, const char *name, json_t *match)
{
    return streq_ptr(dh_qmp_event_name(event), name) && data_matches(event, match);
}

/* Removes and returns (new reference) the oldest queued event that matches, or NULL. */
static json_t *take_queued(struct dh_qmp *q, const char *name, json_t *match)
{
    for (size_t i = 0; i < json_array_size(q->events); i++) {
        json_t *ev = json_array_get(q->events, i);
        if (event_matches(ev, name, match)) {
            json_incref(ev);
            json_array_remove(q->events, i);
            return ev;
        }
    }
    return NULL;
}

/* Reads once: 1 when bytes arrived, 0 at end of stream, -ETIMEDOUT when d passed first. */
static int fill(struct dh_qmp *q, const struct qmp_deadline *d)
{
    if (q->start > 0) {
        memmove(q->buf, q->buf + q->start, q->len - q->start);
        q->len -= q->start;
        q->start = 0;
    }
    if (q->cap - q->len < READ_CHUNK) {
        size_t cap = q->cap ? q->cap : READ_CHUNK;
        while (cap - q->len < READ_CHUNK)
            cap *= 2;
        char *b = realloc(q->buf, cap);
        if (!b)
            return -ENOMEM;
        q->buf = b;
        q->cap = cap;
    }
    for (;;) {
        struct pollfd p = {.fd = q->fd, .events = POLLIN};
        int n = poll(&p, 1, poll_timeout(d));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return negative_errno();
        }
        if (n == 0) {
            if (deadline_passed(d))
                return -ETIMEDOUT;
            continue;
        }
        ssize_t k = recv(q->fd, q->buf + q->len, q->cap - q->len, MSG_DONTWAIT);
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            /* a Unix socket whose peer exits with unread input resets instead of closing */
            if (errno == ECONNRESET) {
                q->eof = true;
                return 0;
            }
            return negative_errno();
        }
        if (k == 0) {
            q->eof = true;
            return 0;
        }
        q->len += (size_t)k;
        return 1;
    }
}

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* Returns 1 and the next message (a JSON object, new reference). -ETIMEDOUT (err untouched) when
 * d passes before a whole line is buffered: the partial line stays for the next call. Messages
 * are one JSON object per line, and QEMU ends lines with \r\n. */
static int read_message(struct dh_qmp *q, const struct qmp_deadline *d, const char *doing, json_t **ret,
                        struct dh_error *err)
{
    if (q->broken)
        return dh_error_set(
                err, -EPROTO,
                "QMP %s: the connection is unusable after an earlier protocol failure: close it and "
                "connect again",
                q->name);
    for (;;) {
        char *line = q->buf + q->start;
        size_t avail = q->len - q->start;
        char *nl = avail > 0 ? memchr(line, '\n', avail) : NULL;
        if (nl) {
            size_t used = (size_t)(nl - line) + 1, n = used - 1;
            if (n > 0 && line[n - 1] == '\r')
                n--;
            if (is_blank(line, n)) {
                q->start += used;
                continue;
            }
            trace(q, false, line, n);
            json_error_t jerr;
            json_t *m = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
            if (!m || !json_is_object(m)) {
                char s[SNIPPET_MAX], why[sizeof(jerr.text)];
                snippet(line, n, s, sizeof(s));
                snprintf(why, sizeof(why), "%s", m ? "not a JSON object" : jerr.text);
                json_decref(m);
                q->start += used;
                return dh_error_set(
                        err, -EPROTO,
                        "QMP %s: malformed line from QEMU while waiting for %s (%s): '%s': is this "
                        "socket a QMP monitor (-qmp)?",
                        q->name, doing, why, s);
            }
            q->start += used;
            if (q->start == q->len)
                q->start = q->len = 0;
            *ret = m;
            return 1;
        }
        if (avail >= LINE_MAX_BYTES) {
            q->broken = true;
            return dh_error_set(
                    err, -EPROTO,
                    "QMP %s: QEMU sent more than %u bytes without a line end while waiting for %s: "
                    "this is not QMP",
                    q->name, LINE_MAX_BYTES, doing);
        }
        if (q->eof) {
            if (!is_blank(line, avail))
                return dh_error_set(
                        err, -ECONNRESET,
                        "QMP %s: QEMU closed the QMP socket in the middle of a message while waiting "
                        "for %s: did it exit? check its log and exit status",
                        q->name, doing);
            return dh_error_set(
                    err, -ECONNRESET,
                    "QMP %s: QEMU closed the QMP socket while waiting for %s: did it exit? check its "
                    "log and exit status",
                    q->name, doing);
        }
        int r = fill(q, d);
        if (r == -ETIMEDOUT)
            return r;
        if (r < 0)
            return dh_error_set(err, r, "QMP %s: cannot read the QMP socket while waiting for %s: %s",
                                q->name, doing, strerror(-r));
    }
}

/* Handles a message nobody is waiting for: queues an event, drops the late reply to a command that
 * timed out, and calls anything else a protocol error. Steals m. */
static int absorb(struct dh_qmp *q, json_t *m, const char *doing, struct dh_error *err)
{
    json_auto_t *msg = m;
    if (is_event(msg)) {
        queue_event(q, TAKE_PTR(msg));
        return 0;
    }
    char s[SNIPPET_MAX];
    snippet_json(msg, s, sizeof(s));
    if (is_reply(msg)) {
        json_t *id = json_object_get(msg, "id");
        if (json_is_integer(id) && take_abandoned(q, json_integer_value(id)))
            return 0;
        return dh_error_set(
                err, -EPROTO,
                "QMP %s: reply with an id this client is not waiting for while waiting for %s: %s: "
                "QEMU answered a command that was never sent on this connection",
                q->name, doing, s);
    }
    return dh_error_set(err, -EPROTO,
                        "QMP %s: message that is neither a reply nor an event while waiting for %s: %s",
                        q->name, doing, s);
}

static int send_line(struct dh_qmp *q, const char *data, size_t size, const struct qmp_deadline *d,
                     const char *command, struct dh_error *err)
{
    size_t done = 0;
    while (done < size) {
        ssize_t k = send(q->fd, data + done, size - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k >= 0) {
            done += (size_t)k;
            continue;
        }
        int r = negative_errno();
        if (r == -EINTR)
            continue;
        if (r == -EAGAIN) {
            struct pollfd p = {.fd = q->fd, .events = POLLOUT};
            int n = poll(&p, 1, poll_timeout(d));
            if (n < 0 && errno != EINTR)
                return dh_error_set(err, negative_errno(), "QMP %s: cannot send %s: poll failed", q->name,
                                    command);
            if (n == 0 && deadline_passed(d)) {
                if (done > 0)
                    q->broken = true;
                return dh_error_set(
                        err, -ETIMEDOUT,
                        "QMP %s: QEMU did not read %s within %d ms: is it hung? its monitor is not "
                        "reading",
                        q->name, command, d->timeout_ms);
            }
            continue;
        }
        /* Not marked eof: replies and events sent before the close may still be readable. */
        if (r == -EPIPE || r == -ECONNRESET)
            return dh_error_set(
                    err, -ECONNRESET,
                    "QMP %s: QEMU closed the QMP socket before %s could be sent: did it exit? check "
                    "its log and exit status",
                    q->name, command);
        return dh_error_set(err, r, "QMP %s: cannot send %s: %s", q->name, command, strerror(-r));
    }
    return 0;
}

/* Messages that came in the same read as a reply sit in the buffer, where poll() on the socket
 * cannot see them: an event loop would learn of them only when something else arrives. Takes in
 * every complete one now (events queued, DEVICE_DELETED recorded), without reading the socket. The
 * command succeeded: a malformed line after its reply is skipped here, unreported. */
static void absorb_buffered(struct dh_qmp *q)
{
    struct qmp_deadline now = qmp_deadline_in(0);
    while (q->len > q->start && memchr(q->buf + q->start, '\n', q->len - q->start)) {
        json_t *m = NULL;
        if (read_message(q, &now, "events", &m, NULL) <= 0 || absorb(q, m, "events", NULL) < 0)
            return;
    }
}

int qmp_call(struct dh_qmp *q, const char *command, json_t *arguments, const struct qmp_deadline *d,
             json_t **ret_return, json_t **ret_error, struct dh_error *err)
{
    if (ret_return)
        *ret_return = NULL;
    if (ret_error)
        *ret_error = NULL;
    if (q->eof)
        return dh_error_set(
                err, -ECONNRESET,
                "QMP %s: cannot send %s: QEMU closed the QMP socket: did it exit? check its log and "
                "exit status",
                q->name, command);
    if (q->broken)
        return dh_error_set(err, -EPROTO,
                            "QMP %s: cannot send %s: the connection is unusable after an earlier protocol "
                            "failure: close it and connect again",
                            q->name, command);

    json_int_t id = ++q->next_id;
    json_auto_t *cmd = json_object();
    if (!cmd || json_object_set_new(cmd, "execute", json_string(command)) < 0 ||
        (arguments && json_object_set(cmd, "arguments", arguments) < 0) ||
        json_object_set_new(cmd, "id", json_integer(id)) < 0)
        return -ENOMEM;
    _cleanup_free_ char *text = json_dumps(cmd, JSON_COMPACT);
    if (!text)
        return -ENOMEM;
    size_t n = strlen(text);
    _cleanup_free_ char *line = malloc(n + 2);
    if (!line)
        return -ENOMEM;
    memcpy(line, text, n);
    line[n] = '\n';
    line[n + 1] = '\0';
    trace(q, true, line, n);
    int r = send_line(q, line, n + 1, d, command, err);
    if (r < 0)
        return r;

    char doing[160];
    snprintf(doing, sizeof(doing), "the reply to %s", command);
    json_auto_t *reply = NULL;
    while (!reply) {
        json_t *m = NULL;
        r = read_message(q, d, doing, &m, err);
        if (r == -ETIMEDOUT) {
            abandon(q, id);
            return dh_error_set(
                    err, r,
                    "QMP %s: no reply to %s within %d ms: QEMU is busy or hung (a late reply will be "
                    "ignored)",
                    q->name, command, d->timeout_ms);
        }
        if (r < 0) {
            abandon(q, id);
            return r;
        }
        if (is_reply(m) && reply_has_id(m, id)) {
            reply = m;
            absorb_buffered(q);
            break;
        }
        r = absorb(q, m, doing, err);
        if (r < 0) {
            abandon(q, id);
            return r;
        }
    }

    json_t *error = json_object_get(reply, "error");
    if (error) {
        int code = dh_qmp_errno_from_class(qmp_error_class(error));
        if (ret_error) {
            *ret_error = json_incref(error);
            return code;
        }
        return dh_error_set(err, code, "QMP %s: QEMU refused %s: %s: %s", q->name, command,
                            qmp_error_class(error), qmp_error_desc(error));
    }
    if (ret_return)
        *ret_return = json_incref(json_object_get(reply, "return"));
    return 0;
}

int dh_qmp_execute(struct dh_qmp *q, const char *command, json_t *arguments, int timeout_ms,
                   json_t **ret_return, struct dh_error *err)
{
    assert_return(q && command, -EINVAL);
    assert_return(!arguments || json_is_object(arguments), -EINVAL);
    struct qmp_deadline d = qmp_deadline_in(timeout_ms);
    return qmp_call(q, command, arguments, &d, ret_return, NULL, err);
}

static int handshake(struct dh_qmp *q, const struct qmp_deadline *d, struct dh_error *err)
{
    json_t *m = NULL;
    int r = read_message(q, d, "the greeting", &m, err);
    if (r == -ETIMEDOUT)
        return dh_error_set(
                err, r,
                "QMP %s: no greeting within %d ms: is this socket a QMP monitor (-qmp, not -monitor "
                "or -serial)?",
                q->name, d->timeout_ms);
    if (r < 0)
        return r;
    json_auto_t *msg = m;
    json_t *qmp = json_object_get(msg, "QMP"), *caps = NULL;
    int major, minor, micro;
    const char *package = "";
    if (json_unpack(qmp, "{s:{s:{s:i, s:i, s:i}, s?s}, s:o}", "version", "qemu", "major", &major, "minor",
                    &minor, "micro", &micro, "package", &package, "capabilities", &caps) < 0 ||
        !json_is_array(caps)) {
        char s[SNIPPET_MAX];
        snippet_json(msg, s, sizeof(s));
        return dh_error_set(err, -EPROTO,
                            "QMP %s: the first message is not a QMP greeting {\"QMP\": {\"version\", "
                            "\"capabilities\"}}: %s",
                            q->name, s);
    }
    q->greeting = json_incref(qmp);
    q->version = (struct dh_qmp_version){.major = major, .minor = minor, .micro = micro, .package = package};
    /* Sent without "enable": out-of-band execution buys nothing for one synchronous client. */
    return qmp_call(q, "qmp_capabilities", NULL, d, NULL, NULL, err);
}

static int client_new(int fd_in, const char *name, const struct qmp_deadline *d, struct dh_qmp **ret,
                      struct dh_error *err)
{
    _cleanup_close_ int fd = fd_in;
    int type = 0;
    socklen_t len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
        return dh_error_set(err, -ENOTSOCK,
                            "QMP %s: fd %d is not a stream socket: pass a connected QMP socket",
                            name ? name : "client", fd);

    _cleanup_(dh_qmp_closep) struct dh_qmp *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->fd = TAKE_FD(fd);
    if (name)
        q->name = strdup(name);
    else if (asprintf(&q->name, "fd %d", q->fd) < 0)
        q->name = NULL;
    q->events = json_array();
    q->deleted = json_object();
    if (!q->name || !q->events || !q->deleted)
        return -ENOMEM;
    int r = handshake(q, d, err);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(q);
    return 0;
}

int dh_qmp_new_fd(int fd, const char *name, int timeout_ms, struct dh_qmp **ret, struct dh_error *err)
{
    _cleanup_close_ int owned = fd;
    assert_return(fd >= 0 && ret, -EINVAL);
    struct qmp_deadline d = qmp_deadline_in(timeout_ms);
    return client_new(TAKE_FD(owned), name, &d, ret, err);
}

int dh_qmp_connect(const char *path, int timeout_ms, struct dh_qmp **ret, struct dh_error *err)
{
    assert_return(path && ret, -EINVAL);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(sa.sun_path))
        return dh_error_set(
                err, -ENAMETOOLONG,
                "QMP socket path '%s' is empty or longer than %zu bytes, the limit of a Unix socket "
                "address: use a shorter directory",
                path, sizeof(sa.sun_path) - 1);
    memcpy(sa.sun_path, path, n);

    struct qmp_deadline d = qmp_deadline_in(timeout_ms);
    for (;;) {
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return dh_error_set(err, negative_errno(), "cannot create a socket for QMP %s: %s", path,
                                strerror(errno));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return client_new(TAKE_FD(fd), path, &d, ret, err);
        int r = negative_errno();
        /* QEMU creates the socket a little after exec and listens right after creating it. */
        bool not_yet = r == -ENOENT || r == -ECONNREFUSED || r == -EAGAIN || r == -EINTR;
        if (!not_yet)
            return dh_error_set(err, r, "cannot connect to QMP socket %s: %s", path, strerror(-r));
        if (deadline_passed(&d))
            return dh_error_set(err, r,
                                "QMP socket %s %s after %d ms: is QEMU running with -qmp "
                                "unix:%s,server=on,wait=off?",
                                path, r == -ENOENT ? "did not appear" : "still refuses connections",
                                timeout_ms, path);
        int left = poll_timeout(&d);
        int ms = left < 0 || left > CONNECT_RETRY_MS ? CONNECT_RETRY_MS : left;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
        nanosleep(&ts, NULL);
    }
}

void dh_qmp_close(struct dh_qmp *q)
{
    if (!q)
        return;
    if (q->fd >= 0)
        close(q->fd);
    free(q->name);
    free(q->buf);
    json_decref(q->greeting);
    json_decref(q->events);
    json_decref(q->deleted);
    free(q);
}

const struct dh_qmp_version *dh_qmp_version(const struct dh_qmp *q)
{
    return q ? &q->version : NULL;
}

const json_t *dh_qmp_greeting(const struct dh_qmp *q)
{
    return q ? q->greeting : NULL;
}

const char *dh_qmp_name(const struct dh_qmp *q)
{
    return q ? q->name : NULL;
}

int dh_qmp_fd(const struct dh_qmp *q)
{
    return q ? q->fd : -EBADF;
}

void dh_qmp_set_trace(struct dh_qmp *q, dh_qmp_trace_fn fn, void *userdata)
{
    if (!q)
        return;
    q->trace = fn;
    q->trace_userdata = userdata;
}

int dh_qmp_wait_event(struct dh_qmp *q, const char *name, json_t *match_data, int timeout_ms,
                      json_t **ret_event, struct dh_error *err)
{
    assert_return(q && name, -EINVAL);
    assert_return(!match_data || json_is_object(match_data), -EINVAL);
    if (ret_event)
        *ret_event = NULL;
    struct qmp_deadline d = qmp_deadline_in(timeout_ms);
    char doing[160];
    snprintf(doing, sizeof(doing), "the %s event", name);

    json_auto_t *ev = take_queued(q, name, match_data);
    while (!ev) {
        json_t *m = NULL;
        int r = read_message(q, &d, doing, &m, err);
        if (r == -ETIMEDOUT) {
            char s[SNIPPET_MAX] = "";
            if (match_data)
                snippet_json(match_data, s, sizeof(s));
            return dh_error_set(err, r, "QMP %s: no %s event%s%s within %d ms", q->name, name,
                                match_data ? " with data " : "", s, timeout_ms);
        }
        if (r < 0)
            return r;
        if (is_event(m)) {
            /* queued first, so that the DEVICE_DELETED record sees it whether it matches or not */
            queue_event(q, m);
            ev = take_queued(q, name, match_data);
            continue;
        }
        r = absorb(q, m, doing, err);
        if (r < 0)
            return r;
    }
    if (ret_event)
        *ret_event = TAKE_PTR(ev);
    return 0;
}

int qmp_wait_device_deleted(struct dh_qmp *q, const char *id, const struct qmp_deadline *d,
                            struct dh_error *err)
{
    char doing[160];
    snprintf(doing, sizeof(doing), "DEVICE_DELETED of %s", id);
    for (;;) {
        if (dh_qmp_is_device_deleted(q, id)) {
            json_auto_t *match = json_pack("{s:s}", "device", id);
            if (!match)
                return -ENOMEM;
            json_decref(take_queued(q, "DEVICE_DELETED", match));
            return 1;
        }
        json_t *m = NULL;
        int r = read_message(q, d, doing, &m, err);
        if (r == -ETIMEDOUT)
            return 0;
        if (r < 0)
            return r;
        r = absorb(q, m, doing, err);
        if (r < 0)
            return r;
    }
}

int dh_qmp_read_events(struct dh_qmp *q, struct dh_error *err)
{
    assert_return(q, -EINVAL);
    struct qmp_deadline now = qmp_deadline_in(0);
    struct dh_error local = {0};
    int n = 0;
    for (;;) {
        json_t *m = NULL;
        int r = read_message(q, &now, "events", &m, &local);
        if (r == -ETIMEDOUT)
            return n;
        if (r == -ECONNRESET && n > 0)
            return n; /* the next call reports the close, after the caller handled these */
        if (r >= 0) {
            bool event = is_event(m);
            r = absorb(q, m, "events", &local);
            if (r >= 0) {
                n += event;
                continue;
            }
        }
        return dh_error_set(err, r, "%s", local.message);
    }
}

json_t *dh_qmp_next_event(struct dh_qmp *q)
{
    if (!q || json_array_size(q->events) == 0)
        return NULL;
    json_t *ev = json_incref(json_array_get(q->events, 0));
    json_array_remove(q->events, 0);
    return ev;
}

size_t dh_qmp_events_queued(const struct dh_qmp *q)
{
    return q ? json_array_size(q->events) : 0;
}

const char *dh_qmp_event_name(const json_t *event)
{
    return json_string_value(json_object_get(event, "event"));
}

enum dh_qmp_event_kind dh_qmp_event_kind(const json_t *event)
{
    static const struct {
        const char *name;
        enum dh_qmp_event_kind kind;
    } kinds[] = {
            {"DEVICE_DELETED", DH_QMP_EVENT_DEVICE_DELETED},
            {"SHUTDOWN", DH_QMP_EVENT_SHUTDOWN},
            {"STOP", DH_QMP_EVENT_STOP},
            {"RESUME", DH_QMP_EVENT_RESUME},
            {"RESET", DH_QMP_EVENT_RESET},
    };
    const char *name = dh_qmp_event_name(event);
    for (size_t i = 0; name && i < ELEMENTSOF(kinds); i++)
        if (streq(kinds[i].name, name))
            return kinds[i].kind;
    return DH_QMP_EVENT_OTHER;
}

const char *dh_qmp_event_device(const json_t *event)
{
    if (dh_qmp_event_kind(event) != DH_QMP_EVENT_DEVICE_DELETED)
        return NULL;
    return json_string_value(json_object_get(json_object_get(event, "data"), "device"));
}
