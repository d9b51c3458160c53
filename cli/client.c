/* The CLI's client of dpuhostd: see client.h. */
#include "client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "util/macro.h"

void cli_reply_clear(struct cli_reply *r)
{
    free(r->body);
    *r = (struct cli_reply){0};
}

struct sink {
    char *p;
    size_t n;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct sink *b = userdata;
    size_t n = size * nmemb;
    char *p = realloc(b->p, b->n + n + 1);
    if (!p)
        return 0;
    memcpy(p + b->n, data, n);
    b->n += n;
    p[b->n] = '\0';
    b->p = p;
    return n;
}

static CURL *handle(struct cli_context *ctx, const char *method, const char *path)
{
    static bool initialized;
    if (!initialized) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        initialized = true;
    }
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    char *url = NULL;
    if (asprintf(&url, "http://localhost%s", path) < 0) {
        curl_easy_cleanup(c);
        return NULL;
    }
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ctx->socket);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "dpuhost/" DPUHOST_VERSION);
    free(url); /* libcurl copies string options */
    return c;
}

/* Why the transport failed, the way a user can act on it. */
static int transport_error(struct cli_context *ctx, CURL *c, CURLcode code, bool quiet)
{
    long os = 0;
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os);
    if (code == CURLE_COULDNT_CONNECT && (os == EACCES || os == EPERM)) {
        if (!quiet)
            cli_error("cannot reach dpuhostd at %s: permission denied (your user may not use it: see "
                      "allowed_uids and allowed_gids in its configuration)",
                      ctx->socket);
        return -EACCES;
    }
    if (code == CURLE_COULDNT_CONNECT) {
        if (!quiet)
            cli_error("cannot reach dpuhostd at %s: is it running? (--socket PATH or DPUHOST_SOCKET for "
                      "another "
                      "one)",
                      ctx->socket);
        return -EHOSTDOWN;
    }
    if (!quiet)
        cli_error("dpuhostd at %s: %s", ctx->socket, curl_easy_strerror(code));
    return -EIO;
}

int cli_api(struct cli_context *ctx, const char *method, const char *path, const char *body,
            struct cli_reply *ret)
{
    *ret = (struct cli_reply){0};
    CURL *c = handle(ctx, method, path);
    if (!c)
        return cli_error("out of memory"), -ENOMEM;
    struct sink b = {0};
    struct curl_slist *h = NULL;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    /* a claim may bind 64 functions, each bounded by the daemon's bind timeout */
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
    if (body) {
        h = curl_slist_append(h, "Content-Type: application/json");
        h = curl_slist_append(h, "Expect:");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    }
    CURLcode code = curl_easy_perform(c);
    int r = 0;
    if (code != CURLE_OK) {
        r = transport_error(ctx, c, code, false);
        free(b.p);
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ret->status);
        ret->body = b.p ? b.p : strdup("");
        ret->len = b.n;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

bool cli_daemon_answers(struct cli_context *ctx)
{
    CURL *c = handle(ctx, "GET", "/metrics");
    if (!c)
        return false;
    /* connect only: whether anybody listens, not what it says */
    curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    CURLcode code = curl_easy_perform(c);
    curl_easy_cleanup(c);
    return code == CURLE_OK;
}

int cli_api_fail(const char *what, const struct cli_reply *r)
{
    json_t *doc = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
    const char *msg = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
    if (msg)
        cli_error("%s: %s", what, msg);
    else
        cli_error("%s: dpuhostd answered %ld", what, r->status);
    json_decref(doc);
    return r->status == 400 || r->status == 422 ? EXIT_USAGE : EXIT_FAIL;
}

int cli_emit_reply(struct cli_context *ctx, const struct cli_reply *r, const char *wrap_key,
                   const char *rows_key, const struct out_column *cols, size_t n_cols)
{
    json_t *doc = json_loadb(r->body, r->len, 0, NULL);
    if (!doc)
        return cli_error("dpuhostd answered something that is not JSON"), EXIT_FAIL;
    struct dh_jsonw *w = cli_writer(ctx);
    if (!w) {
        json_decref(doc);
        return EXIT_FAIL;
    }
    /* the API's document as it is; re-dumped only to indent it for --pretty */
    char *text = ctx->pretty ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!ctx->json && wrap_key) {
        dh_jsonw_begin_object(w);
        dh_jsonw_key(w, wrap_key);
        dh_jsonw_begin_array(w);
        dh_jsonw_raw(w, r->body, r->len);
        dh_jsonw_end_array(w);
        dh_jsonw_end_object(w);
        rows_key = wrap_key;
    } else
        dh_jsonw_raw(w, text ? text : r->body, text ? strlen(text) : r->len);
    free(text);
    return cli_emit(ctx, w, rows_key, cols, n_cols);
}

struct stream {
    struct sink line;
    int (*on_line)(void *userdata, const char *line);
    void *userdata;
    int stopped;
};

static size_t stream_data(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct stream *s = userdata;
    size_t n = size * nmemb;
    for (size_t i = 0; i < n; i++) {
        if (data[i] != '\n') {
            char c[1] = {data[i]};
            if (collect(c, 1, 1, &s->line) != 1)
                return 0;
            continue;
        }
        int r = s->on_line(s->userdata, s->line.p ? s->line.p : "");
        if (s->line.p)
            s->line.p[0] = '\0';
        s->line.n = 0;
        if (r) {
            s->stopped = r;
            return 0;
        }
    }
    return n;
}

int cli_api_stream(struct cli_context *ctx, const char *path,
                   int (*on_line)(void *userdata, const char *line), void *userdata)
{
    CURL *c = handle(ctx, "GET", path);
    if (!c)
        return cli_error("out of memory"), EXIT_FAIL;
    struct stream s = {.on_line = on_line, .userdata = userdata};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    CURLcode code = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    int r = 0;
    if (s.stopped)
        r = s.stopped;
    else if (status != 0 && status != 200) {
        /* an error document has no newline: it is all in the line buffer */
        struct cli_reply reply = {.status = status, .body = s.line.p, .len = s.line.n};
        r = cli_api_fail("events", &reply);
    } else if (code == CURLE_PARTIAL_FILE) {
        cli_error("dpuhostd at %s went away in the middle of the stream", ctx->socket);
        r = EXIT_FAIL;
    } else if (code != CURLE_OK) {
        transport_error(ctx, c, code, false);
        r = EXIT_FAIL;
    }
    free(s.line.p);
    curl_easy_cleanup(c);
    return r;
}

char *cli_url_escape(const char *s)
{
    char *e = curl_escape(s, 0);
    char *r = e ? strdup(e) : NULL;
    curl_free(e);
    return r;
}
