/* The API object: error mapping, readiness, response helpers and counters. */
#include "api-internal.h"

#include <stdarg.h>

#include "util/macro.h"

int dh_api_new(const struct dh_api_options *opts, struct dh_api **ret, struct dh_error *err)
{
    assert_return(opts && opts->host && opts->config && ret, -EINVAL);
    struct dh_api *api = calloc(1, sizeof(*api));
    if (!api)
        return -ENOMEM;
    api->host = opts->host;
    api->store = opts->store;
    api->cfg = opts->config;
    api->net = opts->net;
    api->version = strdup(opts->version ? opts->version : "unknown");
    api->qemu_binary = opts->qemu_binary ? strdup(opts->qemu_binary) : NULL;
    api->next_seq = 1;
    clock_gettime(CLOCK_MONOTONIC, &api->started);
    pthread_mutex_init(&api->lock, NULL);
    pthread_mutex_init(&api->ev_lock, NULL);
    pthread_cond_init(&api->ev_cond, NULL);
    if (!api->version) {
        dh_api_free(api);
        return dh_error_set(err, -ENOMEM, "out of memory");
    }
    *ret = api;
    return 0;
}

void dh_api_free(struct dh_api *api)
{
    if (!api)
        return;
    for (size_t i = 0; i < EVENTS_RING; i++)
        free(api->ring[i].line);
    free(api->version);
    free(api->qemu_binary);
    pthread_mutex_destroy(&api->lock);
    pthread_mutex_destroy(&api->ev_lock);
    pthread_cond_destroy(&api->ev_cond);
    free(api);
}

void dh_api_set_pools(struct dh_api *api, struct dh_pools *pools)
{
    pthread_mutex_lock(&api->lock);
    api->pools = pools;
    pthread_mutex_unlock(&api->lock);
}

void dh_api_set_vms(struct dh_api *api, struct dh_vms *vms)
{
    pthread_mutex_lock(&api->lock);
    api->vms = vms;
    pthread_mutex_unlock(&api->lock);
}

void dh_api_set_ready(struct dh_api *api, bool ready)
{
    pthread_mutex_lock(&api->lock);
    api->ready = ready;
    pthread_mutex_unlock(&api->lock);
}

struct dh_pools *api_pools(struct dh_api *api, struct dh_api_response *resp)
{
    pthread_mutex_lock(&api->lock);
    struct dh_pools *p = api->ready ? api->pools : NULL;
    pthread_mutex_unlock(&api->lock);
    if (!p)
        dh_api_error_response(resp, 503, "not_ready", "dpuhostd is starting or stopping; retry in a moment");
    return p;
}

void dh_api_response_clear(struct dh_api_response *resp)
{
    if (!resp)
        return;
    free(resp->body);
    *resp = (struct dh_api_response){0};
}

void dh_api_error_response(struct dh_api_response *resp, int status, const char *code, const char *fmt, ...)
{
    char msg[DH_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    free(resp->body);
    *resp = (struct dh_api_response){.status = status, .content_type = "application/json"};
    struct dh_jsonw *w = dh_jsonw_new(false);
    if (w) {
        dh_jsonw_begin_object(w);
        dh_jsonw_key(w, "error");
        dh_jsonw_begin_object(w);
        dh_jsonw_kv_string(w, "code", code);
        dh_jsonw_kv_string(w, "message", msg);
        dh_jsonw_end_object(w);
        dh_jsonw_end_object(w);
        if (dh_jsonw_finish(w, &resp->body, &resp->body_len) < 0)
            resp->body = NULL;
        dh_jsonw_free(w);
    }
    if (!resp->body) {
        resp->body = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
        resp->body_len = resp->body ? strlen(resp->body) : 0;
        resp->status = 500;
    }
}

void api_json(struct dh_api_response *resp, int status, struct dh_jsonw *w)
{
    char *text = NULL;
    size_t len = 0;
    int r = w ? dh_jsonw_finish(w, &text, &len) : -ENOMEM;
    dh_jsonw_free(w);
    if (r < 0) {
        dh_api_error_response(resp, 500, "internal", "cannot build the response: %s", strerror(-r));
        return;
    }
    free(resp->body);
    *resp = (struct dh_api_response){
            .status = status, .body = text, .body_len = len, .content_type = "application/json"};
}

/* The stable mapping from the core's negative errno to HTTP status and error code. */
void api_errno(struct dh_api_response *resp, int r, const struct dh_error *err, const char *fallback)
{
    const char *msg = err && err->code ? err->message : fallback;
    switch (r) {
    case -EINVAL:
        dh_api_error_response(resp, 422, "invalid", "%s", msg);
        break;
    case -EBADMSG:
        dh_api_error_response(resp, 400, "malformed", "%s", msg);
        break;
    case -ENOENT:
    case -ENODEV:
        dh_api_error_response(resp, 404, "not_found", "%s", msg);
        break;
    case -ENOSPC:
        dh_api_error_response(resp, 409, "exhausted", "%s", msg);
        break;
    case -EBUSY:
    case -EEXIST:
    case -EOPNOTSUPP:
        dh_api_error_response(resp, 409, "conflict", "%s", msg);
        break;
    case -EACCES:
    case -EPERM:
        dh_api_error_response(resp, 403, "forbidden", "%s", msg);
        break;
    case -EAGAIN:
        dh_api_error_response(resp, 503, "not_ready", "%s", msg);
        break;
    case -ETIMEDOUT:
        dh_api_error_response(resp, 504, "timeout", "%s", msg);
        break;
    default:
        dh_api_error_response(resp, 500, "internal", "%s (%s)", msg, strerror(r < 0 ? -r : r));
    }
}

void dh_api_count(struct dh_api *api, int status)
{
    pthread_mutex_lock(&api->lock);
    api->requests++;
    if (status >= 100 && status < 600)
        api->responses[status / 100]++;
    pthread_mutex_unlock(&api->lock);
}

void dh_api_handle(struct dh_api *api, const struct dh_api_request *req, struct dh_api_response *resp)
{
    *resp = (struct dh_api_response){0};
    if (!api || !req || !req->method || !req->path)
        dh_api_error_response(resp, 500, "internal", "bad request object");
    else if (req->body_len > DH_API_MAX_BODY)
        dh_api_error_response(resp, 413, "too_large", "the body is %zu bytes; at most %d are accepted",
                              req->body_len, DH_API_MAX_BODY);
    else
        api_route(api, req, resp);
    if (api)
        dh_api_count(api, resp->status);
}
