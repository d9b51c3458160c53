/* The HTTP/JSON API, without HTTP: a transport (dpuhostd's, or a test) hands over method, path,
 * query, body and the authenticated peer, and gets a status and a body back. Requests are parsed
 * and validated here (strictly: unknown fields and wrong types are errors) into the typed requests
 * of the core (dpuhost/pool.h, dpuhost/vfio.h), which never sees HTTP. Errors are
 * {"error":{"code","message"}} with fitting statuses. Also the event bus behind GET /v1/events and
 * the Prometheus text of GET /metrics. See docs/api.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <dpuhost/config.h>
#include <dpuhost/host.h>
#include <dpuhost/pool.h>
#include <dpuhost/store.h>
#include <dpuhost/vfio.h>

#define DH_API_MAX_BODY (1024 * 1024)

struct dh_api;

struct dh_api_options {
    struct dh_host *host;
    struct dh_store *store;
    const struct dh_config *config;
    const struct dh_vfio_net *net;
    const char *version;
    const char *qemu_binary; /* for GET /v1/host's preflight; NULL: qemu-system-x86_64 */
};

int dh_api_new(const struct dh_api_options *opts, struct dh_api **ret, struct dh_error *err);
void dh_api_free(struct dh_api *api);
/* The pools serve the claim routes; set once they are recovered. Until then, and after
 * dh_api_set_ready(false) (shutdown), those routes answer 503 not_ready. */
void dh_api_set_pools(struct dh_api *api, struct dh_pools *pools);
void dh_api_set_ready(struct dh_api *api, bool ready);
/* The VM manager serves the /v1/vms routes (set after dh_vms_recover). */
struct dh_vms;
void dh_api_set_vms(struct dh_api *api, struct dh_vms *vms);

struct dh_api_request {
    const char *method; /* "GET", "POST", "DELETE", ... */
    const char *path;   /* without the query: "/v1/claims/c-1" */
    const char *query;  /* "owner=vm-a&pool=x" (not yet decoded), or NULL */
    const char *body;
    size_t body_len;
    uid_t uid; /* the peer, as the transport authenticated it */
    gid_t gid;
};

struct dh_api_response {
    int status;
    char *body; /* owned */
    size_t body_len;
    const char *content_type; /* "application/json" or the metrics' text type */
    bool events;              /* GET /v1/events: the transport streams dh_api_events_next() lines */
    uint64_t events_since;    /* with events: the first sequence number to send */
};

/* Handles one request. Never fails: every problem becomes an error response. */
void dh_api_handle(struct dh_api *api, const struct dh_api_request *req, struct dh_api_response *resp);
void dh_api_response_clear(struct dh_api_response *resp);
/* A ready-made error response (for the transport's own refusals: 403, 413, ...). */
void dh_api_error_response(struct dh_api_response *resp, int status, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Counts a response the transport produced itself (for the metrics). */
void dh_api_count(struct dh_api *api, int status);

/* Events: "claimed", "released", "function_added", "function_removed", ... Each becomes one JSON
 * line {"seq","time","type","data"}. dh_api_publish has the signature of dh_pools_event_fn, with
 * the api as userdata. */
void dh_api_publish(void *api, const char *type, const char *data);

struct dh_api_events;
/* A subscription from sequence number since (0: only new events). */
struct dh_api_events *dh_api_events_subscribe(struct dh_api *api, uint64_t since);
/* The next line (caller frees), waiting at most timeout_ms: 0 with *ret NULL on timeout (send a
 * heartbeat), -EPIPE when the bus is closed (shutdown). A subscriber that fell behind the buffer
 * gets a {"type":"lost"} line saying how many it missed. */
int dh_api_events_next(struct dh_api_events *sub, int timeout_ms, char **ret);
void dh_api_events_unsubscribe(struct dh_api_events *sub);
/* Wakes every subscriber with -EPIPE (shutdown). */
void dh_api_events_close(struct dh_api *api);
