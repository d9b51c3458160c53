/* Shared by the API's files; not exported. */
#pragma once

#include <pthread.h>
#include <time.h>

#include <jansson.h>

#include <dpuhost/api.h>

#define EVENTS_RING 1024

struct api_event {
    uint64_t seq;
    char *line;
};

struct dh_api {
    struct dh_host *host;
    struct dh_store *store;
    const struct dh_config *cfg;
    const struct dh_vfio_net *net;
    char *version;
    char *qemu_binary;
    struct timespec started;

    pthread_mutex_t lock; /* pools, ready, counters */
    struct dh_pools *pools;
    struct dh_vms *vms;
    bool ready;
    unsigned long long responses[6]; /* by status class: 1xx..5xx */
    unsigned long long requests;

    pthread_mutex_t ev_lock;
    pthread_cond_t ev_cond;
    struct api_event ring[EVENTS_RING];
    uint64_t next_seq; /* the next event's sequence number; starts at 1 */
    bool closed;
};

/* api.c */
void api_json(struct dh_api_response *resp, int status, struct dh_jsonw *w);
void api_errno(struct dh_api_response *resp, int r, const struct dh_error *err, const char *fallback);
/* With the pools when ready; NULL (and a 503 in resp) otherwise. */
struct dh_pools *api_pools(struct dh_api *api, struct dh_api_response *resp);

/* request.c: query strings and strict bodies */
struct api_query {
    char *keys[16];
    char *values[16];
    size_t n;
};
int api_query_parse(const char *query, struct api_query *ret, const char *const *allowed,
                    struct dh_error *err);
const char *api_query_get(const struct api_query *q, const char *key);
void api_query_clear(struct api_query *q);
/* Parses a JSON object body; -EBADMSG (malformed) or -EINVAL (not an object, unknown field). */
int api_body_object(const char *body, size_t len, const char *const *allowed, json_t **ret,
                    struct dh_error *err);
/* Typed field getters: absent -> 0 and *ret untouched; wrong type -> -EINVAL with a message. */
int api_get_string(json_t *o, const char *key, const char **ret, struct dh_error *err);
int api_get_int(json_t *o, const char *key, long long min, long long max, long long *ret,
                struct dh_error *err);
int api_get_bool(json_t *o, const char *key, bool *ret, struct dh_error *err);
int api_get_strings(json_t *o, const char *key, size_t max, const char ***ret, size_t *ret_n,
                    struct dh_error *err);
int api_url_decode(const char *in, size_t len, char **ret);

/* routes.c */
void api_route(struct dh_api *api, const struct dh_api_request *req, struct dh_api_response *resp);

/* vms.c: /v1/vms... (path after "/v1/vms") */
void api_vms(struct dh_api *api, const struct dh_api_request *req, const char *rest,
             struct dh_api_response *resp);

/* metrics.c */
void api_metrics(struct dh_api *api, struct dh_api_response *resp);
