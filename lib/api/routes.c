/* The routes of the API: each parses and validates its input, calls the core, and writes the
 * answer. See docs/api.md. */
#include "api-internal.h"

#include "util/macro.h"

static bool path_is(const char *path, const char *prefix, const char **ret_rest)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0)
        return false;
    if (path[n] == '\0') {
        *ret_rest = NULL;
        return true;
    }
    if (path[n] != '/' || path[n + 1] == '\0' || strchr(path + n + 1, '/'))
        return false;
    *ret_rest = path + n + 1;
    return true;
}

static void method_not_allowed(struct dh_api_response *resp, const char *method, const char *path,
                               const char *allowed)
{
    dh_api_error_response(resp, 405, "method_not_allowed", "%s is not allowed on %s; use %s", method, path,
                          allowed);
}

static struct dh_jsonw *writer(void)
{
    return dh_jsonw_new(false);
}

static void get_host(struct dh_api *api, struct dh_api_response *resp)
{
    struct dh_preflight pf;
    struct dh_preflight_options o = {.qemu_binary = api->qemu_binary};
    if (dh_preflight_run(api->host, &o, &pf) < 0) {
        dh_api_error_response(resp, 500, "internal", "preflight failed");
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&api->lock);
    bool ready = api->ready;
    pthread_mutex_unlock(&api->lock);
    struct dh_jsonw *w = writer();
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "version", api->version);
    dh_jsonw_kv_string(w, "root", dh_host_root(api->host));
    dh_jsonw_kv_int(w, "uptime_seconds", (long long)(now.tv_sec - api->started.tv_sec));
    dh_jsonw_kv_bool(w, "ready", ready);
    dh_jsonw_key(w, "preflight");
    dh_preflight_write_json(w, &pf);
    dh_jsonw_end_object(w);
    api_json(resp, 200, w);
}

static void get_functions(struct dh_api *api, const struct dh_api_request *req, const char *address,
                          struct dh_api_response *resp)
{
    struct dh_pools *p = api_pools(api, resp);
    if (!p)
        return;
    struct dh_error err = {0};
    if (address) {
        if (!dh_func_address_is_valid(address)) {
            dh_api_error_response(resp, 422, "invalid", "malformed address '%s': expected DDDD:BB:DD.F",
                                  address);
            return;
        }
        struct dh_jsonw *w = writer();
        if (dh_pools_write_function(p, w, address) < 0) {
            dh_jsonw_free(w);
            dh_api_error_response(resp, 404, "not_found", "no function %s on this host", address);
            return;
        }
        api_json(resp, 200, w);
        return;
    }
    static const char *const allowed[] = {"pool", "kind", "state", NULL};
    struct api_query q;
    int r = api_query_parse(req->query, &q, allowed, &err);
    if (r < 0) {
        api_errno(resp, r, &err, "bad query");
        return;
    }
    struct dh_pools_filter f = {.pool = api_query_get(&q, "pool"),
                                .kind = api_query_get(&q, "kind"),
                                .state = api_query_get(&q, "state")};
    r = dh_pools_filter_validate(p, &f, &err);
    if (r < 0)
        api_errno(resp, r == -ENOENT ? -EINVAL : r, &err, "bad filter");
    else {
        struct dh_jsonw *w = writer();
        dh_pools_write_functions(p, w, &f);
        api_json(resp, 200, w);
    }
    api_query_clear(&q);
}

static void get_simple(struct dh_api *api, struct dh_api_response *resp,
                       void (*write)(struct dh_pools *p, struct dh_jsonw *w))
{
    struct dh_pools *p = api_pools(api, resp);
    if (!p)
        return;
    struct dh_jsonw *w = writer();
    write(p, w);
    api_json(resp, 200, w);
}

static void post_claim(struct dh_api *api, const struct dh_api_request *req, struct dh_api_response *resp)
{
    static const char *const fields[] = {"owner",     "pool",   "address",    "count",
                                         "numa_node", "labels", "request_id", NULL};
    struct dh_pools *p = api_pools(api, resp);
    if (!p)
        return;
    struct dh_error err = {0};
    json_t *body = NULL;
    int r = api_body_object(req->body, req->body_len, fields, &body, &err);
    struct dh_claim_request cr = {.numa_node = -1};
    long long count = 0, node = -1;
    if (r == 0)
        r = api_get_string(body, "owner", &cr.owner, &err);
    if (r == 0)
        r = api_get_string(body, "pool", &cr.pool, &err);
    if (r == 0)
        r = api_get_string(body, "address", &cr.address, &err);
    if (r == 0)
        r = api_get_string(body, "request_id", &cr.request_id, &err);
    if (r == 0)
        r = api_get_int(body, "count", 1, 64, &count, &err);
    if (r == 0)
        r = api_get_int(body, "numa_node", 0, 1023, &node, &err);
    if (r == 0 && json_object_get(body, "labels") && !json_is_object(json_object_get(body, "labels")))
        r = dh_error_set(&err, -EINVAL, "field 'labels' must be an object of strings");
    if (r == 0 && !cr.owner)
        r = dh_error_set(&err, -EINVAL,
                         "field 'owner' is required (the VM or sandbox the functions are for)");
    if (r < 0) {
        json_decref(body);
        api_errno(resp, r, &err, "bad request");
        return;
    }
    cr.count = (int)count;
    cr.numa_node = (int)node;
    cr.labels = json_object_get(body, "labels");
    char *text = NULL;
    bool created = false;
    r = dh_pools_claim(p, &cr, &text, &created, &err);
    json_decref(body);
    if (r < 0) {
        api_errno(resp, r, &err, "claim failed");
        return;
    }
    free(resp->body);
    *resp = (struct dh_api_response){.status = created ? 201 : 200,
                                     .body = text,
                                     .body_len = strlen(text),
                                     .content_type = "application/json"};
}

static void claims(struct dh_api *api, const struct dh_api_request *req, const char *id,
                   struct dh_api_response *resp)
{
    struct dh_pools *p = api_pools(api, resp);
    if (!p)
        return;
    struct dh_error err = {0};
    if (id) {
        if (streq(req->method, "GET")) {
            struct dh_jsonw *w = writer();
            if (dh_pools_write_claim(p, w, id) < 0) {
                dh_jsonw_free(w);
                dh_api_error_response(resp, 404, "not_found", "claim %s does not exist", id);
                return;
            }
            api_json(resp, 200, w);
            return;
        }
        char *text = NULL;
        int r = dh_pools_release(p, id, &text, &err);
        if (r < 0) {
            api_errno(resp, r, &err, "release failed");
            return;
        }
        free(resp->body);
        *resp = (struct dh_api_response){
                .status = 200, .body = text, .body_len = strlen(text), .content_type = "application/json"};
        return;
    }
    static const char *const allowed[] = {"owner", NULL};
    struct api_query q;
    int r = api_query_parse(req->query, &q, allowed, &err);
    if (r < 0) {
        api_errno(resp, r, &err, "bad query");
        return;
    }
    const char *owner = api_query_get(&q, "owner");
    if (streq(req->method, "DELETE")) {
        if (!owner) {
            dh_api_error_response(resp, 422, "invalid",
                                  "DELETE /v1/claims needs ?owner=NAME (or DELETE "
                                  "/v1/claims/ID for one claim)");
        } else {
            r = dh_pools_release_owner(p, owner, &err);
            if (r < 0)
                api_errno(resp, r, &err, "release failed");
            else {
                struct dh_jsonw *w = writer();
                dh_jsonw_begin_object(w);
                dh_jsonw_kv_string(w, "owner", owner);
                dh_jsonw_kv_int(w, "released", r);
                dh_jsonw_end_object(w);
                api_json(resp, 200, w);
            }
        }
    } else {
        struct dh_jsonw *w = writer();
        dh_pools_write_claims(p, w, owner);
        api_json(resp, 200, w);
    }
    api_query_clear(&q);
}

/* POST /v1/bind and /v1/restore: the CLI's bind and restore while dpuhostd runs (the daemon is the
 * only writer of the state store). Claimed functions are refused: their claim owns them. */
static void bind_restore(struct dh_api *api, const struct dh_api_request *req, bool bind,
                         struct dh_api_response *resp)
{
    static const char *const bind_fields[] = {"addresses", "force", NULL};
    static const char *const restore_fields[] = {"addresses", NULL};
    struct dh_pools *p = api_pools(api, resp);
    if (!p)
        return;
    struct dh_error err = {0};
    json_t *body = NULL;
    const char **addrs = NULL;
    size_t n = 0;
    bool force = false;
    int r = api_body_object(req->body, req->body_len, bind ? bind_fields : restore_fields, &body, &err);
    if (r == 0)
        r = api_get_strings(body, "addresses", 64, &addrs, &n, &err);
    if (r == 0 && !addrs)
        r = dh_error_set(&err, -EINVAL, "field 'addresses' is required: a list of DDDD:BB:DD.F");
    if (r == 0)
        r = api_get_bool(body, "force", &force, &err);
    for (size_t i = 0; r == 0 && i < n; i++) {
        char id[40];
        if (!dh_func_address_is_valid(addrs[i]))
            r = dh_error_set(&err, -EINVAL, "malformed address '%s': expected DDDD:BB:DD.F", addrs[i]);
        else if (dh_pools_function_claim(p, addrs[i], id) == 0)
            r = dh_error_set(&err, -EBUSY, "%s belongs to claim %s: release the claim instead", addrs[i], id);
    }
    if (r < 0) {
        free(addrs);
        json_decref(body);
        api_errno(resp, r, &err, "bad request");
        return;
    }
    struct dh_vfio_ctx ctx = {.host = api->host,
                              .store = api->store,
                              .net = api->net,
                              .timeout_ms = api->cfg->bind_timeout_ms,
                              .holder_timeout_ms = api->cfg->restore_wait_ms};
    struct dh_vfio_result *res = calloc(n, sizeof(*res));
    if (!res) {
        free(addrs);
        json_decref(body);
        dh_api_error_response(resp, 500, "internal", "out of memory");
        return;
    }
    r = bind ? dh_vfio_bind(&ctx, addrs, n, force ? DH_BIND_FORCE : 0, res, &err)
             : dh_vfio_restore(&ctx, addrs, n, res, &err);
    dh_pools_refresh(p, NULL);
    if (r < 0 && err.code)
        api_errno(resp, r, &err, "failed");
    else {
        struct dh_jsonw *w = writer();
        dh_vfio_results_write_json(w, res, n);
        api_json(resp, r < 0 ? 409 : 200, w);
    }
    free(res);
    free(addrs);
    json_decref(body);
}

static void post_sriov(struct dh_api *api, const struct dh_api_request *req, struct dh_api_response *resp)
{
    static const char *const fields[] = {"address", "num_vfs", "autoprobe", NULL};
    struct dh_pools *p = api_pools(api, resp);
    if (!p)
        return;
    struct dh_error err = {0};
    json_t *body = NULL;
    const char *address = NULL;
    long long num = -1;
    bool autoprobe = false;
    int r = api_body_object(req->body, req->body_len, fields, &body, &err);
    if (r == 0)
        r = api_get_string(body, "address", &address, &err);
    if (r == 0)
        r = api_get_int(body, "num_vfs", 0, 65535, &num, &err);
    if (r == 0)
        r = api_get_bool(body, "autoprobe", &autoprobe, &err);
    if (r == 0 && (!address || num < 0))
        r = dh_error_set(&err, -EINVAL, "fields 'address' and 'num_vfs' are required");
    if (r == 0)
        r = dh_sriov_configure(api->host, api->store, address, (int)num,
                               json_object_get(body, "autoprobe") ? autoprobe : -1, 0, &err);
    if (r == -ERANGE)
        r = -EINVAL;
    if (r < 0) {
        api_errno(resp, r, &err, "sriov failed");
        json_decref(body);
        return;
    }
    dh_pools_refresh(p, NULL);
    struct dh_jsonw *w = writer();
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "address", address);
    dh_jsonw_kv_int(w, "num_vfs", num);
    dh_jsonw_end_object(w);
    api_json(resp, 200, w);
    json_decref(body); /* address points into it */
}

static void get_events(const struct dh_api_request *req, struct dh_api_response *resp)
{
    static const char *const allowed[] = {"since", NULL};
    struct dh_error err = {0};
    struct api_query q;
    int r = api_query_parse(req->query, &q, allowed, &err);
    if (r < 0) {
        api_errno(resp, r, &err, "bad query");
        return;
    }
    uint64_t since = 0;
    const char *s = api_query_get(&q, "since");
    if (s) {
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (*end || !*s) {
            dh_api_error_response(resp, 422, "invalid", "since '%s' is not a sequence number", s);
            api_query_clear(&q); /* s points into q */
            return;
        }
        since = v;
    }
    api_query_clear(&q);
    free(resp->body);
    *resp = (struct dh_api_response){
            .status = 200, .content_type = "application/x-ndjson", .events = true, .events_since = since};
}

void api_route(struct dh_api *api, const struct dh_api_request *req, struct dh_api_response *resp)
{
    const char *m = req->method, *path = req->path, *rest;
    bool get = streq(m, "GET"), post = streq(m, "POST"), del = streq(m, "DELETE");
    if (streq(path, "/metrics")) {
        if (get)
            api_metrics(api, resp);
        else
            method_not_allowed(resp, m, path, "GET");
    } else if (streq(path, "/v1/host")) {
        if (get)
            get_host(api, resp);
        else
            method_not_allowed(resp, m, path, "GET");
    } else if (path_is(path, "/v1/functions", &rest)) {
        if (!get) {
            method_not_allowed(resp, m, path, "GET");
            return;
        }
        char *addr = NULL;
        if (rest && api_url_decode(rest, strlen(rest), &addr) < 0) {
            dh_api_error_response(resp, 400, "malformed",
                                  "the address in the path is not properly %%-encoded");
            return;
        }
        get_functions(api, req, addr, resp);
        free(addr);
    } else if (streq(path, "/v1/cards")) {
        if (get)
            get_simple(api, resp, dh_pools_write_cards);
        else
            method_not_allowed(resp, m, path, "GET");
    } else if (streq(path, "/v1/pools")) {
        if (get)
            get_simple(api, resp, dh_pools_write_pools);
        else
            method_not_allowed(resp, m, path, "GET");
    } else if (path_is(path, "/v1/claims", &rest)) {
        if (!rest && post)
            post_claim(api, req, resp);
        else if (get || del)
            claims(api, req, rest, resp);
        else
            method_not_allowed(resp, m, path, rest ? "GET, DELETE" : "GET, POST, DELETE");
    } else if (streq(path, "/v1/events")) {
        if (get)
            get_events(req, resp);
        else
            method_not_allowed(resp, m, path, "GET");
    } else if (streq(path, "/v1/bind") || streq(path, "/v1/restore")) {
        if (post)
            bind_restore(api, req, streq(path, "/v1/bind"), resp);
        else
            method_not_allowed(resp, m, path, "POST");
    } else if (streq(path, "/v1/vms") || startswith(path, "/v1/vms/")) {
        api_vms(api, req, path + strlen("/v1/vms"), resp);
    } else if (streq(path, "/v1/sriov")) {
        if (post)
            post_sriov(api, req, resp);
        else
            method_not_allowed(resp, m, path, "POST");
    } else
        dh_api_error_response(resp, 404, "not_found", "no route %s %s (see docs/api.md)", m, path);
}
