/* The HTTP transport: see http.h. libmicrohttpd runs one thread per connection with its own
 * polling thread accepting; our handler is called at least twice per request (headers, then body
 * parts, then "complete"), which is where authentication, the early 413 and the body buffer live. */
#include "http.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <time.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <strings.h>
#include <syslog.h>

#include "auth.h"
#include "log.h"
#include "util/macro.h"

/* A body over DH_API_MAX_BODY up to this size is read and dropped before the 413 (see admit()). */
#define DRAIN_MAX_BODY (8 * 1024 * 1024)

enum listener_kind {
    LISTENER_UNIX,
    LISTENER_TCP,
};

struct listener {
    struct dhd_http *http;
    enum listener_kind kind;
    struct MHD_Daemon *mhd;
};

struct dhd_http {
    struct dh_api *api;
    const struct dh_config *cfg;
    char *token;
    int heartbeat_ms;
    struct listener unix_l, tcp_l;
    pthread_mutex_t lock;
    pthread_cond_t streams_done;
    int streams; /* event streams whose last chunk has not been sent yet */
};

/* Per request, from the first handler call to the completion callback. */
struct request {
    bool answered;
    uid_t uid;
    gid_t gid;
    char *body;
    size_t len, cap;
    bool too_large;
    size_t declared; /* Content-Length, or 0 */
};

/* The event stream of one GET /v1/events. */
struct stream {
    struct dhd_http *http;
    struct dh_api_events *sub;
    int heartbeat_ms;
    bool started;
    char *line;
    size_t off, len;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    if (s->off == s->len) {
        free(s->line);
        s->line = NULL;
        s->off = s->len = 0;
        char *line = NULL;
        /* the first call does not wait, so that the status line and headers reach the client at
         * once instead of with the first event */
        int r = dh_api_events_next(s->sub, s->started ? s->heartbeat_ms : 0, &line);
        s->started = true;
        if (r == -EPIPE)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (r < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (!line) {
            buf[0] = '\n'; /* heartbeat: keeps proxies and idle timeouts from closing the stream */
            return 1;
        }
        s->line = line;
        s->len = strlen(line);
    }
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->line + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

/* Called when libmicrohttpd drops the response: after its last chunk went out (or the client left). */
static void stream_free(void *cls)
{
    struct stream *s = cls;
    struct dhd_http *h = s->http;
    dh_api_events_unsubscribe(s->sub);
    free(s->line);
    free(s);
    pthread_mutex_lock(&h->lock);
    h->streams--;
    pthread_cond_broadcast(&h->streams_done);
    pthread_mutex_unlock(&h->lock);
}

static enum MHD_Result queue(struct MHD_Connection *c, struct request *rq, struct dh_api_response *resp,
                             const char *extra_header, const char *extra_value)
{
    struct MHD_Response *r =
            MHD_create_response_from_buffer(resp->body_len, resp->body ? resp->body : (char *)"",
                                            resp->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        dh_api_response_clear(resp);
        return MHD_NO;
    }
    resp->body = NULL; /* the response owns it now */
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (extra_header)
        MHD_add_response_header(r, extra_header, extra_value);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    dh_api_response_clear(resp);
    rq->answered = true;
    return ret;
}

/* A refusal the transport makes itself (403, 401, 413): counted like the API's own answers. */
static enum MHD_Result refuse(struct dhd_http *h, struct MHD_Connection *c, struct request *rq, int status,
                              const char *code, const char *msg, const char *extra_header,
                              const char *extra_value)
{
    struct dh_api_response resp = {0};
    dh_api_error_response(&resp, status, code, "%s", msg);
    dh_api_count(h->api, resp.status);
    return queue(c, rq, &resp, extra_header, extra_value);
}

static enum MHD_Result stream_events(struct dhd_http *h, struct MHD_Connection *c, struct request *rq,
                                     struct dh_api_response *resp)
{
    struct stream *s = calloc(1, sizeof(*s));
    if (s)
        s->sub = dh_api_events_subscribe(h->api, resp->events_since);
    if (!s || !s->sub) {
        free(s);
        dh_api_response_clear(resp);
        return refuse(h, c, rq, 500, "internal", "out of memory", NULL, NULL);
    }
    s->heartbeat_ms = h->heartbeat_ms;
    s->http = h;
    pthread_mutex_lock(&h->lock);
    h->streams++;
    pthread_mutex_unlock(&h->lock);
    struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
    if (!r) {
        stream_free(s);
        dh_api_response_clear(resp);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    dh_api_response_clear(resp);
    rq->answered = true;
    return ret;
}

/* With MHD_OPTION_UNESCAPE_CALLBACK set to identity, the arguments come back exactly as sent, and
 * the API decodes them itself, strictly. */
struct query {
    char *buf;
    size_t len;
    FILE *f;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct query *q = cls;
    fprintf(q->f, "%s%s%s%s", ftell(q->f) > 0 ? "&" : "", key, value ? "=" : "", value ? value : "");
    return MHD_YES;
}

static char *raw_query(struct MHD_Connection *c)
{
    struct query q = {0};
    q.f = open_memstream(&q.buf, &q.len);
    if (!q.f)
        return NULL;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &q);
    fclose(q.f);
    if (q.buf && !*q.buf) {
        free(q.buf);
        return NULL;
    }
    return q.buf;
}

static size_t unescape_identity(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* The first call: who is it, and is the body going to be acceptable. Returns true when the request
 * may go on; otherwise a refusal was queued. */
static bool admit(struct listener *l, struct MHD_Connection *c, struct request *rq, enum MHD_Result *ret)
{
    struct dhd_http *h = l->http;
    if (l->kind == LISTENER_TCP) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!dhd_token_matches(auth, h->token)) {
            *ret = refuse(h, c, rq, 401, "unauthorized",
                          auth ? "the bearer token is wrong" : "send the token: Authorization: Bearer TOKEN",
                          MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"dpuhostd\"");
            return false;
        }
        rq->uid = (uid_t)-1; /* a token holder, not a local user */
        rq->gid = (gid_t)-1;
    } else {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct dhd_peer peer;
        int r = ci ? dhd_peer_get(ci->connect_fd, &peer) : -EBADF;
        if (r < 0) {
            dhd_log(LOG_WARNING, "refused a connection whose credentials cannot be read: %s", strerror(-r));
            *ret = refuse(h, c, rq, 403, "forbidden", "dpuhostd cannot tell who you are (SO_PEERCRED failed)",
                          NULL, NULL);
            return false;
        }
        if (!dhd_peer_is_allowed(h->cfg, &peer)) {
            char msg[256];
            snprintf(msg, sizeof(msg),
                     "uid %u (gid %u) may not use dpuhostd: add the user to allowed_uids or one of its "
                     "groups to "
                     "allowed_gids in the configuration",
                     (unsigned)peer.uid, (unsigned)peer.gid);
            dhd_log(LOG_NOTICE, "refused pid %d: %s", (int)peer.pid, msg);
            *ret = refuse(h, c, rq, 403, "forbidden", msg, NULL, NULL);
            return false;
        }
        rq->uid = peer.uid;
        rq->gid = peer.gid;
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        bool bad = errno || *end || end == cl;
        const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
        if (bad || (n > DH_API_MAX_BODY &&
                    ((expect && strcasecmp(expect, "100-continue") == 0) || n > DRAIN_MAX_BODY))) {
            char msg[160];
            snprintf(msg, sizeof(msg), "the body is %s bytes; at most %d are accepted", cl, DH_API_MAX_BODY);
            /* Answered before the body: a client waiting for "100 Continue" sends none; anyone else
             * may see the connection reset (libmicrohttpd closes it with the body unread) */
            *ret = refuse(h, c, rq, 413, "too_large", msg, NULL, NULL);
            return false;
        }
        if (n > DH_API_MAX_BODY) {
            /* Closing on unread data resets the connection, and the client may lose the answer with
             * it: a body of a sane size is read and dropped first, then answered (handle()) */
            rq->too_large = true;
        }
        rq->declared = (size_t)n;
    }
    return true;
}

static void append(struct request *rq, const char *data, size_t n)
{
    if (rq->too_large)
        return;
    if (rq->len + n > DH_API_MAX_BODY) {
        /* a chunked body without Content-Length: nothing can be answered before it ends, so the
         * rest is read and dropped, and the answer is 413 */
        rq->too_large = true;
        free(rq->body);
        rq->body = NULL;
        rq->len = rq->cap = 0;
        return;
    }
    if (rq->len + n + 1 > rq->cap) {
        size_t cap = rq->cap ? rq->cap : (rq->declared ? rq->declared + 1 : 1024);
        while (cap < rq->len + n + 1)
            cap *= 2;
        char *b = realloc(rq->body, cap);
        if (!b) {
            rq->too_large = true; /* answered as 413; memory is what ran out */
            return;
        }
        rq->body = b;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    rq->body[rq->len] = '\0';
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **req_cls)
{
    (void)version;
    struct listener *l = cls;
    struct dhd_http *h = l->http;
    struct request *rq = *req_cls;
    if (!rq) {
        rq = calloc(1, sizeof(*rq));
        if (!rq)
            return MHD_NO;
        *req_cls = rq;
        enum MHD_Result ret = MHD_YES;
        admit(l, c, rq, &ret);
        return ret;
    }
    if (rq->answered)
        return MHD_YES;
    if (*upload_data_size) {
        append(rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->too_large) {
        char msg[128];
        if (rq->declared > DH_API_MAX_BODY)
            snprintf(msg, sizeof(msg), "the body is %zu bytes; at most %d are accepted", rq->declared,
                     DH_API_MAX_BODY);
        else
            snprintf(msg, sizeof(msg), "the body is more than %d bytes", DH_API_MAX_BODY);
        return refuse(h, c, rq, 413, "too_large", msg, NULL, NULL);
    }
    _cleanup_free_ char *query = raw_query(c);
    struct dh_api_request req = {.method = method,
                                 .path = url,
                                 .query = query,
                                 .body = rq->body,
                                 .body_len = rq->len,
                                 .uid = rq->uid,
                                 .gid = rq->gid};
    struct dh_api_response resp;
    dh_api_handle(h->api, &req, &resp);
    if (resp.status >= 500)
        dhd_log(LOG_WARNING, "%s %s: %d %.*s", method, url, resp.status,
                (int)(resp.body_len < 300 ? resp.body_len : 300), resp.body ? resp.body : "");
    if (resp.events && resp.status == 200)
        return stream_events(h, c, rq, &resp);
    return queue(c, rq, &resp, NULL, NULL);
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct request *rq = *req_cls;
    if (rq) {
        free(rq->body);
        free(rq);
    }
    *req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    dhd_log(LOG_DEBUG, "http: %s", msg);
}

static int start(struct dhd_http *h, struct listener *l, enum listener_kind kind, int fd,
                 struct dh_error *err)
{
    l->http = h;
    l->kind = kind;
    /* libmicrohttpd closes its listening socket when it stops; it gets a duplicate, so that the
     * socket (and, for the Unix one, the removal of its file) stays the caller's */
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (dup < 0)
        return dh_error_set(err, negative_errno(), "http: cannot duplicate the listening socket: %s",
                            strerror(errno));
    l->mhd = MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                      MHD_USE_ERROR_LOG,
                              0, NULL, NULL, handle, l, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                              MHD_OPTION_LISTEN_SOCKET, dup, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                              MHD_OPTION_UNESCAPE_CALLBACK, unescape_identity, NULL,
                              MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_CONNECTION_TIMEOUT, 300u,
                              MHD_OPTION_END);
    if (!l->mhd) {
        close(dup);
        return dh_error_set(err, -EIO, "http: libmicrohttpd did not start on the %s socket (see the log)",
                            kind == LISTENER_UNIX ? "Unix" : "TCP");
    }
    return 0;
}

int dhd_http_start(const struct dhd_http_options *opts, struct dhd_http **ret, struct dh_error *err)
{
    assert_return(opts && opts->api && opts->config && ret, -EINVAL);
    if (opts->tcp_fd >= 0 && (!opts->token || !*opts->token))
        return dh_error_set(err, -EINVAL, "http: a TCP listener needs a bearer token");
    struct dhd_http *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->api = opts->api;
    h->cfg = opts->config;
    h->heartbeat_ms = opts->heartbeat_ms > 0 ? opts->heartbeat_ms : 15000;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->streams_done, NULL);
    if (opts->token && !(h->token = strdup(opts->token))) {
        free(h);
        return -ENOMEM;
    }
    int r = 0;
    if (opts->unix_fd >= 0)
        r = start(h, &h->unix_l, LISTENER_UNIX, opts->unix_fd, err);
    if (r == 0 && opts->tcp_fd >= 0)
        r = start(h, &h->tcp_l, LISTENER_TCP, opts->tcp_fd, err);
    if (r < 0) {
        dhd_http_stop(h);
        return r;
    }
    *ret = h;
    return 0;
}

void dhd_http_stop(struct dhd_http *h)
{
    if (!h)
        return;
    /* The event bus is closed: each stream sends its last chunk and ends. Stopping libmicrohttpd
     * before that would cut them off mid-body; a client that does not read is given 3 s. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 3;
    pthread_mutex_lock(&h->lock);
    while (h->streams > 0)
        if (pthread_cond_timedwait(&h->streams_done, &h->lock, &deadline) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&h->lock);
    if (h->tcp_l.mhd)
        MHD_stop_daemon(h->tcp_l.mhd);
    if (h->unix_l.mhd)
        MHD_stop_daemon(h->unix_l.mhd);
    if (h->token)
        explicit_bzero(h->token, strlen(h->token));
    free(h->token);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->streams_done);
    free(h);
}
