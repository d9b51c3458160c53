/* The fake QMP peer: a thread that plays QEMU from a transcript (see fake_qmp.h), so that the QMP
 * client is tested against recorded conversations the way libvirt's qemumonitorjsontest replays
 * them. The thread never calls cmocka: everything it finds wrong goes into a report that
 * fake_qmp_finish() hands to the test after joining it. */
#include "fake_qmp.h"

#include "test.h"

#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/macro.h"

/* A client that sends nothing for this long while a command is expected is stuck: fail instead of
 * hanging the test run. */
#define WATCHDOG_MS 20000
#define LEFTOVERS_SHOWN 5
#define TRANSCRIPT_MAX_BYTES (4u << 20)

enum step_kind {
    STEP_NONE, /* a blank line or a comment */
    STEP_EXPECT,
    STEP_SEND,
    STEP_RAW,
    STEP_SLEEP,
    STEP_CLOSE,
};

struct step {
    enum step_kind kind;
    int line;
    char *source; /* the transcript line, for reports */
    json_t *json; /* EXPECT, SEND */
    char *text;   /* SEND: the line as written; RAW: unescaped */
    int ms;
};

struct fake_qmp {
    char *name;
    struct step *steps;
    size_t n_steps, next;
    int fd;
    int stop[2];
    char *listen_path;
    int listen_delay_ms;
    pthread_t thread;
    bool started;
    char *in;
    size_t in_len;
    json_t *last_id, *seen_ids;
    char *report;
    size_t report_len;
    bool failed;
};

static char transcript_dir[PATH_MAX] = ".";

void fake_qmp_set_dir(const char *dir)
{
    snprintf(transcript_dir, sizeof(transcript_dir), "%s", dir);
}

static void report_add(struct fake_qmp *f, const char *fmt, ...) _printf_(2, 3);
static void report_add(struct fake_qmp *f, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    char *r = realloc(f->report, f->report_len + (size_t)n + 1);
    if (!r)
        abort();
    memcpy(r + f->report_len, s, (size_t)n + 1);
    f->report = r;
    f->report_len += (size_t)n;
    free(s);
}

/* Records a failure at a step; returns -1 so that step runners can `return peer_fail(...)`. */
static int peer_fail(struct fake_qmp *f, const struct step *s, const char *fmt, ...) _printf_(3, 4);
static int peer_fail(struct fake_qmp *f, const struct step *s, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        abort();
    va_end(ap);
    if (s)
        report_add(f, "%s:%d: %s\n", f->name, s->line, msg);
    else
        report_add(f, "%s: %s\n", f->name, msg);
    free(msg);
    f->failed = true;
    return -1;
}

static bool json_is_reply(const json_t *j)
{
    return json_object_get(j, "return") || json_object_get(j, "error");
}

static char *unescape(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    if (!out)
        abort();
    for (; *s; s++) {
        if (*s != '\\' || !s[1]) {
            *o++ = *s;
            continue;
        }
        s++;
        unsigned byte;
        if (*s == 'x' && sscanf(s + 1, "%2x", &byte) == 1 && isxdigit((unsigned char)s[1]) &&
            isxdigit((unsigned char)s[2])) {
            *o++ = (char)byte;
            s += 2;
            continue;
        }
        *o++ = *s == 'r' ? '\r' : *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
    }
    *o = '\0';
    return out;
}

/* Parses one transcript line into *s; returns an error message (caller frees) or NULL. Blank lines
 * and comments come back as STEP_NONE. */
static char *parse_line(char *l, struct step *s)
{
    const char *rest;
    json_error_t e;
    while (*l == ' ' || *l == '\t')
        l++;
    s->kind = STEP_NONE;
    if (!*l || *l == '#')
        return NULL;
    s->source = strdup(l);
    char *msg = NULL;
    if ((rest = startswith(l, "<< "))) {
        s->kind = STEP_RAW;
        s->text = unescape(rest);
    } else if ((rest = startswith(l, "< ")) || (rest = startswith(l, "> "))) {
        s->kind = l[0] == '<' ? STEP_SEND : STEP_EXPECT;
        s->json = json_loads(rest, 0, &e);
        s->text = strdup(rest);
        if (!json_is_object(s->json)) {
            if (asprintf(&msg, "not a JSON object (%s): %s", s->json ? "valid JSON" : e.text, rest) < 0)
                abort();
            return msg;
        }
        if (s->kind == STEP_EXPECT && !json_is_string(json_object_get(s->json, "execute")))
            return strdup("an expected command needs \"execute\"");
        if (s->kind == STEP_EXPECT && json_object_get(s->json, "id"))
            return strdup(
                    "an expected command must not name an id: the client picks it and the fake checks it");
    } else if ((rest = startswith(l, "sleep "))) {
        char *end;
        long ms = strtol(rest, &end, 10);
        while (*end == ' ')
            end++;
        if (end == rest || *end || ms < 0 || ms > 600000)
            return strdup("sleep takes milliseconds (0..600000)");
        s->kind = STEP_SLEEP;
        s->ms = (int)ms;
    } else if (streq(l, "close")) {
        s->kind = STEP_CLOSE;
    } else
        return strdup("unknown step: use '> json', '< json', '<< text', 'sleep N', 'close' or '# comment'");
    return NULL;
}

static void step_free(struct step *s)
{
    free(s->source);
    free(s->text);
    json_decref(s->json);
}

static void parse_transcript(struct fake_qmp *f, const char *text)
{
    int lineno = 0;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        _cleanup_free_ char *line = strndup(p, n);
        p += n + (e ? 1 : 0);
        lineno++;
        if (!line)
            abort();
        /* only \r: trailing blanks can be part of a << step */
        if (n > 0 && line[n - 1] == '\r')
            line[n - 1] = '\0';
        struct step s = {.line = lineno};
        char *error = parse_line(line, &s);
        if (error) {
            char msg[512];
            snprintf(msg, sizeof(msg), "transcript %s line %d: %s", f->name, lineno, error);
            free(error);
            step_free(&s);
            fail_msg("%s", msg);
        }
        if (s.kind == STEP_NONE) {
            step_free(&s);
            continue;
        }
        struct step *steps = realloc(f->steps, (f->n_steps + 1) * sizeof(*steps));
        if (!steps)
            abort();
        f->steps = steps;
        f->steps[f->n_steps++] = s;
    }
}

static int send_text(struct fake_qmp *f, const struct step *s, const char *text, bool crlf)
{
    if (f->fd < 0)
        return peer_fail(f, s, "the transcript closed the socket before this step");
    size_t n = strlen(text);
    _cleanup_free_ char *buf = malloc(n + 3);
    if (!buf)
        abort();
    memcpy(buf, text, n);
    if (crlf) {
        memcpy(buf + n, "\r\n", 2);
        n += 2;
    }
    for (size_t off = 0; off < n;) {
        ssize_t k = send(f->fd, buf + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k >= 0) {
            off += (size_t)k;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return peer_fail(f, s,
                             "cannot send to the client (%s): it closed the connection before this step",
                             strerror(errno));
        /* a client that stopped reading must not keep fake_qmp_finish() from joining us */
        struct pollfd p[2] = {{.fd = f->fd, .events = POLLOUT}, {.fd = f->stop[0], .events = POLLIN}};
        int r = poll(p, 2, WATCHDOG_MS);
        if (r == 0)
            return peer_fail(f, s, "the client read nothing for %d ms", WATCHDOG_MS);
        if (r > 0 && !p[0].revents && p[1].revents)
            return 0;
    }
    return 1;
}

/* A reply written without "id" answers the last command: give it that command's id. */
static char *reply_text(struct fake_qmp *f, const struct step *s)
{
    if (!json_is_reply(s->json) || json_object_get(s->json, "id") || !f->last_id)
        return strdup(s->text);
    json_auto_t *copy = json_deep_copy(s->json);
    json_object_set(copy, "id", f->last_id);
    /* jansson's default separators ", " and ": " are QEMU's */
    return json_dumps(copy, 0);
}

static char *raw_text(struct fake_qmp *f, const struct step *s)
{
    _cleanup_free_ char *id =
            f->last_id ? json_dumps(f->last_id, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("null");
    size_t cap = strlen(s->text) * (strlen(id) + 1) + 1;
    char *out = malloc(cap), *o = out;
    if (!out || !id)
        abort();
    for (const char *p = s->text; *p;) {
        if (startswith(p, "$ID")) {
            o = stpcpy(o, id);
            p += 3;
        } else
            *o++ = *p++;
    }
    *o = '\0';
    return out;
}

/* Takes one complete line out of the input buffer (without \r\n), or returns NULL. */
static char *take_line(struct fake_qmp *f)
{
    char *nl = f->in_len ? memchr(f->in, '\n', f->in_len) : NULL;
    if (!nl)
        return NULL;
    size_t used = (size_t)(nl - f->in) + 1, n = used - 1;
    if (n > 0 && f->in[n - 1] == '\r')
        n--;
    char *line = strndup(f->in, n);
    if (!line)
        abort();
    memmove(f->in, f->in + used, f->in_len - used);
    f->in_len -= used;
    return line;
}

/* Appends what one recv() returns: >0 bytes, 0 at end of stream, -1 on error or EAGAIN. */
static ssize_t receive(struct fake_qmp *f, int flags)
{
    char chunk[4096];
    ssize_t k = recv(f->fd, chunk, sizeof(chunk), flags);
    if (k <= 0)
        return k == 0 ? 0 : -1;
    char *in = realloc(f->in, f->in_len + (size_t)k + 1);
    if (!in)
        abort();
    memcpy(in + f->in_len, chunk, (size_t)k);
    f->in = in;
    f->in_len += (size_t)k;
    return k;
}

/* 1 and a line, 0 when the test asked the peer to stop, -1 on failure (recorded). */
static int read_line(struct fake_qmp *f, const struct step *s, char **ret)
{
    for (;;) {
        char *line = take_line(f);
        if (line) {
            *ret = line;
            return 1;
        }
        struct pollfd p[2] = {{.fd = f->fd, .events = POLLIN}, {.fd = f->stop[0], .events = POLLIN}};
        int n = poll(p, 2, WATCHDOG_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return peer_fail(f, s, "no command from the client within %d ms; expected %s", WATCHDOG_MS,
                             s->text);
        /* the client's data first: it may have sent the command just before the test stopped us */
        if (p[0].revents) {
            ssize_t k = receive(f, 0);
            if (k <= 0)
                return peer_fail(f, s, "the client closed the connection, but the transcript expects %s",
                                 s->text);
            continue;
        }
        return 0;
    }
}

static int check_command(struct fake_qmp *f, const struct step *s, const char *line)
{
    json_error_t e;
    json_auto_t *got = json_loads(line, 0, &e);
    if (!json_is_object(got))
        return peer_fail(f, s, "the client sent a malformed line '%s' (%s); expected %s", line,
                         got ? "not an object" : e.text, s->text);
    json_t *id = json_object_get(got, "id");
    if (!id || json_is_null(id))
        return peer_fail(f, s, "the client sent a command without id: %s", line);
    size_t i;
    json_t *seen;
    json_array_foreach (f->seen_ids, i, seen) {
        if (json_equal(seen, id))
            return peer_fail(f, s, "the client reused an id: %s", line);
    }
    json_array_append(f->seen_ids, id);
    json_auto_t *cmp = json_deep_copy(got);
    json_object_del(cmp, "id");
    if (!json_equal(cmp, s->json))
        return peer_fail(f, s, "expected %s, got %s", s->text, line);
    json_decref(f->last_id);
    f->last_id = json_incref(id);
    return 1;
}

/* 1 when the step ran, 0 when the test asked the peer to stop, -1 on failure (recorded). */
static int run_step(struct fake_qmp *f, const struct step *s)
{
    switch (s->kind) {
    case STEP_EXPECT: {
        if (f->fd < 0)
            return peer_fail(f, s, "the transcript closed the socket before this step");
        _cleanup_free_ char *line = NULL;
        int r = read_line(f, s, &line);
        return r <= 0 ? r : check_command(f, s, line);
    }
    case STEP_SEND: {
        _cleanup_free_ char *text = reply_text(f, s);
        return send_text(f, s, text, true);
    }
    case STEP_RAW: {
        _cleanup_free_ char *text = raw_text(f, s);
        return send_text(f, s, text, false);
    }
    case STEP_SLEEP: {
        struct pollfd p = {.fd = f->stop[0], .events = POLLIN};
        return poll(&p, 1, s->ms) > 0 ? 0 : 1;
    }
    case STEP_CLOSE:
        if (f->fd >= 0)
            close(f->fd);
        f->fd = -1;
        return 1;
    case STEP_NONE:
        return 1;
    }
    return peer_fail(f, s, "unknown step kind");
}

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

static void check_trailing_lines(struct fake_qmp *f)
{
    for (char *line; (line = take_line(f)); free(line))
        if (!is_blank(line, strlen(line)))
            peer_fail(f, NULL, "the client sent '%s' after the end of the transcript", line);
}

/* After the last step, anything but the client's close is unexpected. Once the test asks the peer
 * to stop, what the client already sent is still read, without waiting for more. */
static void drain_after_end(struct fake_qmp *f)
{
    bool stopping = false;
    for (;;) {
        check_trailing_lines(f);
        struct pollfd p[2] = {{.fd = f->fd, .events = POLLIN}, {.fd = f->stop[0], .events = POLLIN}};
        int n = poll(p, stopping ? 1 : 2, stopping ? 0 : -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0 && p[0].revents) {
            if (receive(f, MSG_DONTWAIT) > 0)
                continue;
        } else if (n > 0 && !stopping) {
            stopping = true;
            continue;
        }
        check_trailing_lines(f);
        if (!is_blank(f->in, f->in_len))
            peer_fail(f, NULL, "the client sent an unfinished line after the end of the transcript: '%.*s'",
                      (int)f->in_len, f->in);
        return;
    }
}

static int accept_client(struct fake_qmp *f)
{
    struct pollfd stop = {.fd = f->stop[0], .events = POLLIN};
    if (f->listen_delay_ms > 0 && poll(&stop, 1, f->listen_delay_ms) > 0)
        return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(f->listen_path) >= sizeof(sa.sun_path))
        return peer_fail(f, NULL, "socket path %s is too long", f->listen_path);
    strcpy(sa.sun_path, f->listen_path);
    _cleanup_close_ int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0)
        return peer_fail(f, NULL, "cannot listen on %s: %s", f->listen_path, strerror(errno));
    struct pollfd p[2] = {{.fd = ls, .events = POLLIN}, {.fd = f->stop[0], .events = POLLIN}};
    int n = poll(p, 2, WATCHDOG_MS);
    if (n <= 0)
        return peer_fail(f, NULL, "no client connected to %s within %d ms", f->listen_path, WATCHDOG_MS);
    if (!p[0].revents)
        return 0;
    f->fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (f->fd < 0)
        return peer_fail(f, NULL, "accept on %s failed: %s", f->listen_path, strerror(errno));
    return 1;
}

static void *peer_main(void *arg)
{
    struct fake_qmp *f = arg;
    if (f->listen_path && accept_client(f) <= 0)
        return NULL;
    while (f->next < f->n_steps) {
        if (run_step(f, &f->steps[f->next]) <= 0)
            break;
        f->next++;
    }
    if (f->next == f->n_steps && f->fd >= 0)
        drain_after_end(f);
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    return NULL;
}

static struct fake_qmp *fake_new(const char *name, const char *text)
{
    struct fake_qmp *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    f->fd = -1;
    f->stop[0] = f->stop[1] = -1;
    f->name = strdup(name);
    f->seen_ids = json_array();
    if (!f->name || !f->seen_ids)
        abort();
    parse_transcript(f, text);
    if (pipe2(f->stop, O_CLOEXEC) < 0)
        fail_msg("pipe2: %s", strerror(errno));
    return f;
}

static void fake_run(struct fake_qmp *f)
{
    if (pthread_create(&f->thread, NULL, peer_main, f) != 0)
        fail_msg("cannot start the fake QMP peer thread");
    f->started = true;
}

static char *load_transcript(const char *transcript)
{
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s%s%s", strchr(transcript, '/') ? "" : transcript_dir,
                 strchr(transcript, '/') ? "" : "/", transcript) < 0)
        abort();
    char *text = NULL;
    size_t size;
    int r = dh_read_full_at(AT_FDCWD, path, TRANSCRIPT_MAX_BYTES, &text, &size);
    if (r < 0)
        fail_msg("cannot read transcript %s: %s", path, strerror(-r));
    return text;
}

struct fake_qmp *fake_qmp_start_text(const char *name, const char *text, int *ret_client_fd)
{
    struct fake_qmp *f = fake_new(name, text);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        fail_msg("socketpair: %s", strerror(errno));
    f->fd = sv[0];
    *ret_client_fd = sv[1];
    fake_run(f);
    return f;
}

struct fake_qmp *fake_qmp_start(const char *transcript, int *ret_client_fd)
{
    _cleanup_free_ char *text = load_transcript(transcript);
    return fake_qmp_start_text(transcript, text, ret_client_fd);
}

struct fake_qmp *fake_qmp_listen(const char *transcript, const char *sock_path, int delay_ms)
{
    _cleanup_free_ char *text = load_transcript(transcript);
    struct fake_qmp *f = fake_new(transcript, text);
    f->listen_path = strdup(sock_path);
    f->listen_delay_ms = delay_ms;
    if (!f->listen_path)
        abort();
    fake_run(f);
    return f;
}

int fake_qmp_finish(struct fake_qmp *f, char **ret_report)
{
    if (ret_report)
        *ret_report = NULL;
    if (f->started) {
        if (write(f->stop[1], "x", 1) < 0)
            abort();
        pthread_join(f->thread, NULL);
    }
    if (f->next < f->n_steps) {
        size_t left = f->n_steps - f->next;
        report_add(f, "%s: %zu step(s) left over:\n", f->name, left);
        for (size_t i = f->next; i < f->n_steps && i < f->next + LEFTOVERS_SHOWN; i++)
            report_add(f, "%s:%d: left over: %s\n", f->name, f->steps[i].line, f->steps[i].source);
        if (left > LEFTOVERS_SHOWN)
            report_add(f, "%s: ... and %zu more\n", f->name, left - LEFTOVERS_SHOWN);
        f->failed = true;
    }
    int r = f->failed ? -1 : 0;
    if (ret_report && r < 0)
        *ret_report = TAKE_PTR(f->report);

    for (size_t i = 0; i < f->n_steps; i++)
        step_free(&f->steps[i]);
    free(f->steps);
    if (f->fd >= 0)
        close(f->fd);
    if (f->stop[0] >= 0)
        close(f->stop[0]);
    if (f->stop[1] >= 0)
        close(f->stop[1]);
    if (f->listen_path)
        unlink(f->listen_path);
    free(f->listen_path);
    free(f->in);
    free(f->report);
    free(f->name);
    json_decref(f->last_id);
    json_decref(f->seen_ids);
    free(f);
    return r;
}

void fake_qmp_assert_done(struct fake_qmp *f)
{
    char *report = NULL;
    if (fake_qmp_finish(f, &report) == 0)
        return;
    char msg[4096];
    snprintf(msg, sizeof(msg), "%s", report ? report : "fake QMP peer failed");
    free(report);
    fail_msg("fake QMP peer:\n%s", msg);
}
