/* GET /metrics in the Prometheus text exposition format (version 0.0.4). */
#include "api-internal.h"

#include <stdio.h>

#include "util/macro.h"

struct text {
    char *buf;
    size_t len;
    FILE *f;
};

static void pool_line(void *userdata, const char *pool, size_t total, size_t free_n, size_t claimed)
{
    FILE *f = userdata;
    /* pool names are [A-Za-z0-9_.-]: nothing to escape in a label value */
    fprintf(f, "dpuhost_pool_functions{pool=\"%s\",state=\"total\"} %zu\n", pool, total);
    fprintf(f, "dpuhost_pool_functions{pool=\"%s\",state=\"free\"} %zu\n", pool, free_n);
    fprintf(f, "dpuhost_pool_functions{pool=\"%s\",state=\"claimed\"} %zu\n", pool, claimed);
}

static void metric(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void api_metrics(struct dh_api *api, struct dh_api_response *resp)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        dh_api_error_response(resp, 500, "internal", "out of memory");
        return;
    }
    pthread_mutex_lock(&api->lock);
    struct dh_pools *p = api->ready ? api->pools : NULL;
    unsigned long long responses[6], requests = api->requests;
    memcpy(responses, api->responses, sizeof(responses));
    pthread_mutex_unlock(&api->lock);

    metric(f, "dpuhost_up", "gauge", "1 when dpuhostd serves claims (recovered and not stopping).");
    fprintf(f, "dpuhost_up %d\n", p ? 1 : 0);
    if (p) {
        struct dh_pools_stats s;
        dh_pools_stats(p, &s);
        metric(f, "dpuhost_functions", "gauge", "PCI functions and sub-functions on the host.");
        fprintf(f, "dpuhost_functions %zu\n", s.functions);
        metric(f, "dpuhost_functions_pooled", "gauge", "Functions that belong to a pool.");
        fprintf(f, "dpuhost_functions_pooled %zu\n", s.pooled);
        metric(f, "dpuhost_claims", "gauge", "Claims held now.");
        fprintf(f, "dpuhost_claims %zu\n", s.claims);
        metric(f, "dpuhost_claimed_functions", "gauge", "Functions held by claims now.");
        fprintf(f, "dpuhost_claimed_functions %zu\n", s.claimed_functions);
        metric(f, "dpuhost_pool_functions", "gauge", "Functions per pool: total, free and claimed.");
        dh_pools_foreach_pool(p, pool_line, f);
        metric(f, "dpuhost_claims_total", "counter", "Claims made since dpuhostd started.");
        fprintf(f, "dpuhost_claims_total %llu\n", s.claims_total);
        metric(f, "dpuhost_releases_total", "counter", "Claims released since dpuhostd started.");
        fprintf(f, "dpuhost_releases_total %llu\n", s.releases_total);
        metric(f, "dpuhost_claim_failures_total", "counter",
               "Claims refused or failed since dpuhostd started.");
        fprintf(f, "dpuhost_claim_failures_total %llu\n", s.claim_failures_total);
        metric(f, "dpuhost_store_commits_total", "counter", "Durable transactions of the state store.");
        fprintf(f, "dpuhost_store_commits_total %llu\n", s.store_commits);
        metric(f, "dpuhost_store_writes_total", "counter",
               "Write operations in those transactions (writes/commits is the group commit factor).");
        fprintf(f, "dpuhost_store_writes_total %llu\n", s.store_writes);
    }
    metric(f, "dpuhost_http_requests_total", "counter", "API requests answered, by status class.");
    fprintf(f, "dpuhost_http_requests_total %llu\n", requests);
    for (int c = 1; c < 6; c++)
        fprintf(f, "dpuhost_http_responses_total{class=\"%dxx\"} %llu\n", c, responses[c]);
    fclose(f);
    free(resp->body);
    *resp = (struct dh_api_response){.status = 200,
                                     .body = buf,
                                     .body_len = len,
                                     .content_type = "text/plain; version=0.0.4; charset=utf-8"};
}
