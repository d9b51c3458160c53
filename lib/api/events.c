/* The event bus behind GET /v1/events: a ring of the last EVENTS_RING events with sequence numbers,
 * and subscribers that wait on a condition variable. A subscriber never blocks the publisher; one
 * that falls behind the ring is told how many events it lost. */
#include "api-internal.h"

#include <time.h>

#include "util/clock.h"
#include "util/macro.h"

struct dh_api_events {
    struct dh_api *api;
    uint64_t next; /* the sequence number this subscriber wants next */
};

void dh_api_publish(void *userdata, const char *type, const char *data)
{
    struct dh_api *api = userdata;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char when[40];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    pthread_mutex_lock(&api->ev_lock);
    uint64_t seq = api->next_seq++;
    char *line = NULL;
    if (asprintf(&line, "{\"seq\":%llu,\"time\":\"%s.%03ldZ\",\"type\":\"%s\",\"data\":%s}\n",
                 (unsigned long long)seq, when, now.tv_nsec / 1000000, type,
                 data && *data ? data : "null") < 0)
        line = NULL;
    struct api_event *e = &api->ring[seq % EVENTS_RING];
    free(e->line);
    e->seq = seq;
    e->line = line;
    pthread_cond_broadcast(&api->ev_cond);
    pthread_mutex_unlock(&api->ev_lock);
}

struct dh_api_events *dh_api_events_subscribe(struct dh_api *api, uint64_t since)
{
    struct dh_api_events *sub = calloc(1, sizeof(*sub));
    if (!sub)
        return NULL;
    sub->api = api;
    pthread_mutex_lock(&api->ev_lock);
    sub->next = since && since < api->next_seq ? since : api->next_seq;
    pthread_mutex_unlock(&api->ev_lock);
    return sub;
}

int dh_api_events_next(struct dh_api_events *sub, int timeout_ms, char **ret)
{
    struct dh_api *api = sub->api;
    *ret = NULL;
    struct timespec deadline = dh_realtime_deadline(timeout_ms);
    pthread_mutex_lock(&api->ev_lock);
    while (!api->closed && sub->next >= api->next_seq)
        if (pthread_cond_timedwait(&api->ev_cond, &api->ev_lock, &deadline) == ETIMEDOUT)
            break;
    int r = 0;
    if (api->closed)
        r = -EPIPE;
    else if (sub->next < api->next_seq) {
        uint64_t oldest = api->next_seq > EVENTS_RING ? api->next_seq - EVENTS_RING : 1;
        if (sub->next < oldest) {
            if (asprintf(ret, "{\"seq\":null,\"type\":\"lost\",\"data\":{\"missed\":%llu,\"next\":%llu}}\n",
                         (unsigned long long)(oldest - sub->next), (unsigned long long)oldest) < 0)
                *ret = NULL;
            sub->next = oldest;
        } else {
            struct api_event *e = &api->ring[sub->next % EVENTS_RING];
            *ret = e->line ? strdup(e->line) : NULL;
            sub->next++;
        }
        if (!*ret)
            r = -ENOMEM;
    }
    pthread_mutex_unlock(&api->ev_lock);
    return r;
}

void dh_api_events_unsubscribe(struct dh_api_events *sub)
{
    free(sub);
}

void dh_api_events_close(struct dh_api *api)
{
    pthread_mutex_lock(&api->ev_lock);
    api->closed = true;
    pthread_cond_broadcast(&api->ev_cond);
    pthread_mutex_unlock(&api->ev_lock);
}
