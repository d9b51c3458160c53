/* Shared by the pool module's files; not exported. */
#pragma once

#include <pthread.h>

#include <dpuhost/pool.h>

struct live_claim {
    struct dh_claim_record rec;
    bool busy;        /* a claim or release is in progress: others wait on p->cond */
    char *last_error; /* why the last release stopped (e.g. a holder of /dev/vfio/N) */
    bool released;    /* deleted from the store: its last JSON (answer, event) says "released" */
};

struct dh_pools {
    struct dh_host *host;
    struct dh_store *store;
    const struct dh_config *cfg;
    const struct dh_vfio_net *net;
    dh_pools_event_fn on_event;
    void *event_userdata;

    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cond;  /* a busy flag was cleared or a claim went away */
    struct dh_inventory *inv;
    size_t *pool_of;              /* per inventory function: pool index, or cfg->n_pools */
    struct live_claim **claim_of; /* per inventory function: its claim, or NULL */
    int *claimed_vfs;             /* per inventory function (a PF): how many of its VFs are claimed */
    struct live_claim **claims;
    size_t n_claims;
    unsigned long long claims_total, releases_total, claim_failures_total;
};

/* pools.c: with p->lock held */
ssize_t pools_index(struct dh_pools *p, const char *address);
void pools_index_claim(struct dh_pools *p, struct live_claim *lc, bool add);
void pools_rebuild_index(struct dh_pools *p);
const struct dh_pool_config *pools_pool_of(struct dh_pools *p, size_t i);
/* NULL when function i may be claimed now; otherwise why not (into buf). Ignores its own claim. */
const char *pools_unavailable_reason(struct dh_pools *p, size_t i, char *buf, size_t size);
bool pools_remote_managed(struct dh_pools *p, size_t i);
const char *pools_physical_network(struct dh_pools *p, size_t i);
struct live_claim *pools_find_claim(struct dh_pools *p, const char *id);
void pools_remove_claim(struct dh_pools *p, struct live_claim *lc);
void live_claim_free(struct live_claim *lc);
void pools_emit(struct dh_pools *p, const char *type, char *data_owned);

/* json.c: with p->lock held; returns new JSON text */
char *pools_claim_json(struct dh_pools *p, const struct live_claim *lc);
void pools_write_claim(struct dh_pools *p, struct dh_jsonw *w, const struct live_claim *lc);
