/* The /v1/vms routes: create, list, show, start, stop, reset, delete; hot-plug and hot-unplug.
 *   POST   /v1/vms                      {spec..., "start": true}        201 the VM
 *   GET    /v1/vms                      {"vms":[...]}
 *   GET    /v1/vms/{id}                 the VM (id or name)
 *   DELETE /v1/vms/{id}                 stops it (forced) and forgets it
 *   POST   /v1/vms/{id}/start|stop|reset   stop takes {"force": bool}
 *   POST   /v1/vms/{id}/devices         {"address"} or {"pool"}        201 the device
 *   DELETE /v1/vms/{id}/devices/{dev}   200 detached, or 202 unplug_pending */
#include "api-internal.h"

#include <dpuhost/vm.h>

#include "util/macro.h"

static struct dh_vms *api_vms_of(struct dh_api *api, struct dh_api_response *resp)
{
    pthread_mutex_lock(&api->lock);
    struct dh_vms *vms = api->ready ? api->vms : NULL;
    pthread_mutex_unlock(&api->lock);
    if (!vms)
        dh_api_error_response(resp, 503, "not_ready",
                              "dpuhostd is starting or stopping, or runs without VMs; retry");
    return vms;
}

static void text_response(struct dh_api_response *resp, int status, char *text)
{
    free(resp->body);
    *resp = (struct dh_api_response){.status = status,
                                     .body = text,
                                     .body_len = text ? strlen(text) : 0,
                                     .content_type = "application/json"};
    if (!text)
        dh_api_error_response(resp, 500, "internal", "out of memory");
}

static void create(struct dh_vms *vms, const struct dh_api_request *req, struct dh_api_response *resp)
{
    struct dh_error err = {0};
    if (!req->body || !req->body_len) {
        dh_api_error_response(resp, 400, "malformed", "POST /v1/vms needs the VM spec as a JSON object body");
        return;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        dh_api_error_response(resp, 400, "malformed", "the body is not valid JSON: %s (line %d, column %d)",
                              jerr.text, jerr.line, jerr.column);
        return;
    }
    bool start = true;
    json_t *s = json_object_get(doc, "start");
    if (s && !json_is_boolean(s)) {
        json_decref(doc);
        dh_api_error_response(resp, 422, "invalid", "field 'start' must be true or false");
        return;
    }
    if (s) {
        start = json_is_true(s);
        json_object_del(doc, "start");
    }
    char *text = NULL;
    int r = dh_vms_create(vms, doc, start, &text, &err);
    json_decref(doc);
    if (r < 0)
        api_errno(resp, r, &err, "VM creation failed");
    else
        text_response(resp, 201, text);
}

static void action(struct dh_vms *vms, const struct dh_api_request *req, const char *id, const char *verb,
                   struct dh_api_response *resp)
{
    struct dh_error err = {0};
    char *text = NULL;
    int r;
    if (streq(verb, "start"))
        r = dh_vms_start(vms, id, &text, &err);
    else if (streq(verb, "reset"))
        r = dh_vms_reset(vms, id, &text, &err);
    else {
        static const char *const fields[] = {"force", NULL};
        bool force = false;
        json_t *body = NULL;
        r = req->body_len ? api_body_object(req->body, req->body_len, fields, &body, &err) : 0;
        if (r == 0)
            r = api_get_bool(body, "force", &force, &err);
        json_decref(body);
        if (r == 0)
            r = dh_vms_stop(vms, id, force, &text, &err);
    }
    if (r < 0)
        api_errno(resp, r, &err, "VM operation failed");
    else
        text_response(resp, 200, text);
}

static void devices(struct dh_vms *vms, const struct dh_api_request *req, const char *id, const char *dev,
                    struct dh_api_response *resp)
{
    struct dh_error err = {0};
    char *text = NULL;
    int r;
    if (!dev && streq(req->method, "POST")) {
        json_error_t jerr;
        json_t *body =
                req->body_len ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
        if (!body) {
            dh_api_error_response(resp, 400, "malformed",
                                  "the body must be {\"address\": ...} or {\"pool\": ...}");
            return;
        }
        r = dh_vms_attach(vms, id, body, &text, &err);
        json_decref(body);
        if (r < 0)
            api_errno(resp, r, &err, "hot-plug failed");
        else
            text_response(resp, 201, text);
        return;
    }
    if (dev && streq(req->method, "DELETE")) {
        bool pending = false;
        r = dh_vms_detach(vms, id, dev, &pending, &text, &err);
        if (r < 0)
            api_errno(resp, r, &err, "hot-unplug failed");
        else
            text_response(resp, pending ? 202 : 200, text);
        return;
    }
    dh_api_error_response(resp, 405, "method_not_allowed", "%s is not allowed on %s; use %s", req->method,
                          req->path, dev ? "DELETE" : "POST");
}

void api_vms(struct dh_api *api, const struct dh_api_request *req, const char *rest,
             struct dh_api_response *resp)
{
    struct dh_vms *vms = api_vms_of(api, resp);
    if (!vms)
        return;
    const char *m = req->method;
    /* rest: "", "/{id}", "/{id}/{verb}", "/{id}/devices/{dev}" */
    char parts[4][128] = {{0}};
    int n = 0;
    for (const char *p = rest; *p && n < 4;) {
        if (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0 || len >= sizeof(parts[0])) {
            dh_api_error_response(resp, 404, "not_found", "no route %s %s", m, req->path);
            return;
        }
        memcpy(parts[n++], p, len);
        p += len;
        if (*p && !p[1]) {
            n = 5; /* a trailing slash */
            break;
        }
    }
    if (n > 3 || (n == 3 && !streq(parts[1], "devices")) ||
        (n == 2 && !streq(parts[1], "start") && !streq(parts[1], "stop") && !streq(parts[1], "reset") &&
         !streq(parts[1], "devices"))) {
        dh_api_error_response(resp, 404, "not_found", "no route %s %s (see docs/api.md)", m, req->path);
        return;
    }
    struct dh_error err = {0};
    if (n == 0) {
        if (streq(m, "POST"))
            create(vms, req, resp);
        else if (streq(m, "GET")) {
            struct dh_jsonw *w = dh_jsonw_new(false);
            dh_vms_write_list(vms, w);
            api_json(resp, 200, w);
        } else
            dh_api_error_response(resp, 405, "method_not_allowed", "use GET or POST on /v1/vms");
    } else if (n == 1) {
        if (streq(m, "GET")) {
            struct dh_jsonw *w = dh_jsonw_new(false);
            if (dh_vms_write(vms, w, parts[0]) < 0) {
                dh_jsonw_free(w);
                dh_api_error_response(resp, 404, "not_found", "VM %s does not exist", parts[0]);
            } else
                api_json(resp, 200, w);
        } else if (streq(m, "DELETE")) {
            int r = dh_vms_delete(vms, parts[0], &err);
            if (r < 0)
                api_errno(resp, r, &err, "delete failed");
            else {
                struct dh_jsonw *w = dh_jsonw_new(false);
                dh_jsonw_begin_object(w);
                dh_jsonw_kv_string(w, "deleted", parts[0]);
                dh_jsonw_end_object(w);
                api_json(resp, 200, w);
            }
        } else
            dh_api_error_response(resp, 405, "method_not_allowed", "use GET or DELETE on /v1/vms/{id}");
    } else if (streq(parts[1], "devices"))
        devices(vms, req, parts[0], n == 3 ? parts[2] : NULL, resp);
    else if (streq(m, "POST"))
        action(vms, req, parts[0], parts[1], resp);
    else
        dh_api_error_response(resp, 405, "method_not_allowed", "use POST on %s", req->path);
}
