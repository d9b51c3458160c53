/* Pools and claims: the control plane's core. Functions are assigned to the configured pools (the
 * first pool whose selector matches); owners (VMs, sandboxes) claim functions from a pool or by
 * address; claims are durable in the state store before they are answered, bind their functions to
 * vfio-pci unless the pool says "bind": false, and are reconciled with the host on start.
 * Allocation follows Nova's PF/VF dependency: a claimed PF makes its VFs unavailable and a claimed
 * VF makes its PF unavailable. Thread-safe: a slow bind or restore of one claim never holds the lock
 * that others need. Knows nothing of HTTP. See docs/claims.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include <dpuhost/config.h>
#include <dpuhost/error.h>
#include <dpuhost/host.h>
#include <dpuhost/inventory.h>
#include <dpuhost/jsonw.h>
#include <dpuhost/store.h>
#include <dpuhost/vfio.h>

struct dh_pools;

/* Events: "claimed", "released", "function_added", "function_removed", "claim_updated". data is the
 * event's JSON object text (valid for the call only). Called without locks held. */
typedef void (*dh_pools_event_fn)(void *userdata, const char *type, const char *data);

struct dh_pools_options {
    struct dh_host *host;
    struct dh_store *store;
    const struct dh_config *config;
    const struct dh_vfio_net *net; /* VF settings and in-use checks when binding; may be NULL */
    dh_pools_event_fn on_event;
    void *event_userdata;
};

/* Scans the inventory and loads the claims. The caller runs dh_pools_recover() before serving. */
int dh_pools_new(const struct dh_pools_options *opts, struct dh_pools **ret, struct dh_error *err);
void dh_pools_free(struct dh_pools *p);

struct dh_recovery_report {
    int claims_loaded;
    int rolled_back; /* claims interrupted while claiming: undone */
    int released;    /* claims interrupted while releasing: finished */
    int rebound;     /* claimed functions found off vfio-pci (after a reboot): bound again */
    int vanished;    /* claimed functions no longer on the host: marked */
    int restored;    /* half-done binds or restores outside claims: finished */
    int problems;    /* what could not be reconciled (see the log lines) */
    char log[4096];  /* one line per action */
};

/* Reconciles the store with the host, before serving: claims interrupted mid-claim are rolled back,
 * releases are finished, claimed functions that vanished are marked, claimed functions that are no
 * longer on vfio-pci are bound again, half-done binding records are finished. */
int dh_pools_recover(struct dh_pools *p, struct dh_recovery_report *ret, struct dh_error *err);

/* Re-reads the inventory (on uevents): emits function_added/function_removed and marks claimed
 * functions that vanished (or came back). */
int dh_pools_refresh(struct dh_pools *p, struct dh_error *err);

struct dh_claim_request {
    const char *owner;      /* required: who claims (a VM, a sandbox) */
    const char *pool;       /* a pool name, or NULL with address */
    const char *address;    /* one function, or NULL with pool */
    int count;              /* functions from the pool (1 when 0); 1 with address */
    int numa_node;          /* -1: any */
    json_t *labels;         /* an object of strings, or NULL; borrowed */
    const char *request_id; /* optional idempotency key; default: the request itself */
};

/* Claims functions. The same owner sending the same request (or the same request_id) gets the same
 * claim back (*ret_created false). Errors: -EINVAL (invalid request), -ENOENT (unknown pool or
 * address), -ENOSPC (not enough free functions), -EBUSY (taken, or in use on the host), -EEXIST
 * (request_id reused with another request). On success *ret_json is the claim's JSON text (caller
 * frees). */
int dh_pools_claim(struct dh_pools *p, const struct dh_claim_request *req, char **ret_json, bool *ret_created,
                   struct dh_error *err);

/* Releases a claim: its functions are restored (when bound) and the claim deleted. A function whose
 * /dev/vfio/N is still held keeps the claim in state releasing (-EBUSY); retrying continues.
 * *ret_json (optional) is the released claim. */
int dh_pools_release(struct dh_pools *p, const char *claim_id, char **ret_json, struct dh_error *err);
/* Releases every claim of owner; returns the number released, or the first error. */
int dh_pools_release_owner(struct dh_pools *p, const char *owner, struct dh_error *err);

/* The owners that hold claims now (sorted, unique; caller frees with dh_strv_free semantics:
 * each string and the array). */
int dh_pools_owners(struct dh_pools *p, char ***ret, size_t *ret_n);

/* Can address be claimed now? 0, or -ENOENT (no such function), -EINVAL (in no pool), -EBUSY
 * (claimed, or unavailable: the message says why). */
int dh_pools_check_available(struct dh_pools *p, const char *address, struct dh_error *err);

/* The claim holding address (in ret_id), or -ENOENT when it is in none. */
int dh_pools_function_claim(struct dh_pools *p, const char *address, char ret_id[40]);

/* JSON documents for the API. */
/* {"claims":[...]} (of owner when not NULL) */
void dh_pools_write_claims(struct dh_pools *p, struct dh_jsonw *w, const char *owner);
/* one claim; -ENOENT when unknown */
int dh_pools_write_claim(struct dh_pools *p, struct dh_jsonw *w, const char *claim_id);
/* {"pools":[{name, form, bind, remote_managed, physical_network, description, total, free, claimed,
 * unavailable}]} */
void dh_pools_write_pools(struct dh_pools *p, struct dh_jsonw *w);

struct dh_pools_filter {
    const char *pool;  /* a pool name */
    const char *kind;  /* pf, vf, sf, pci */
    const char *state; /* free, claimed, unavailable, unpooled */
};
/* Checks filter values: -EINVAL with a message naming the bad one. */
int dh_pools_filter_validate(struct dh_pools *p, const struct dh_pools_filter *f, struct dh_error *err);
/* {"functions":[...]}: the inventory's function objects plus "pool", "state", "claim" and, for an
 * unavailable function, "unavailable_reason". */
void dh_pools_write_functions(struct dh_pools *p, struct dh_jsonw *w, const struct dh_pools_filter *filter);
/* One function; -ENOENT when unknown. */
int dh_pools_write_function(struct dh_pools *p, struct dh_jsonw *w, const char *address);
void dh_pools_write_cards(struct dh_pools *p, struct dh_jsonw *w);

struct dh_pools_stats {
    size_t functions, pooled, claims, claimed_functions, free_functions;
    unsigned long long claims_total, releases_total, claim_failures_total;
    unsigned long long store_commits, store_writes;
};
void dh_pools_stats(struct dh_pools *p, struct dh_pools_stats *ret);
/* Per-pool counts for metrics: calls fn for each pool. */
void dh_pools_foreach_pool(struct dh_pools *p,
                           void (*fn)(void *userdata, const char *pool, size_t total, size_t free,
                                      size_t claimed),
                           void *userdata);
