/* Claiming and releasing. The order makes crashes recoverable and double allocation impossible:
 *   claim:   choose under the lock (the new claim is in memory at once, so nobody else can choose
 *            the same functions) -> record it durably (state claiming; the store's primary key on
 *            the function refuses a second claim even if memory were wrong) -> bind -> claimed;
 *   release: state releasing -> restore (waiting for users of /dev/vfio/N) -> delete.
 * A crash in between leaves a state that dh_pools_recover() rolls back (claiming) or finishes
 * (releasing). The lock is never held across a store commit, a bind or a restore. */
#include "pools-internal.h"

#include <sys/random.h>

#include "util/clock.h"
#include "util/macro.h"

static bool printable(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c > 0x7e)
            return false;
    return true;
}

static int validate(const struct dh_claim_request *req, struct dh_error *err)
{
    if (!req->owner || !printable(req->owner, 128))
        return dh_error_set(err, -EINVAL,
                            "owner: give 1-128 printable ASCII characters (a VM or sandbox name)");
    if (!req->pool == !req->address)
        return dh_error_set(err, -EINVAL, "give exactly one of pool or address");
    if (req->address && !dh_func_address_is_valid(req->address))
        return dh_error_set(err, -EINVAL, "address '%s' is malformed: expected DDDD:BB:DD.F", req->address);
    if (req->count < 0 || req->count > 64)
        return dh_error_set(err, -EINVAL, "count %d: give 1 to 64", req->count);
    if (req->address && req->count > 1)
        return dh_error_set(err, -EINVAL, "count %d with an address: an address names one function",
                            req->count);
    if (req->numa_node < -1 || req->numa_node > 1023)
        return dh_error_set(err, -EINVAL, "numa_node %d: give a node number, or leave it out",
                            req->numa_node);
    if (req->request_id && !printable(req->request_id, 128))
        return dh_error_set(err, -EINVAL, "request_id: give 1-128 printable ASCII characters");
    if (req->labels) {
        if (!json_is_object(req->labels) || json_object_size(req->labels) > 32)
            return dh_error_set(err, -EINVAL, "labels: give an object of at most 32 string values");
        const char *k;
        json_t *v;
        json_object_foreach (req->labels, k, v) {
            if (!printable(k, 64))
                return dh_error_set(err, -EINVAL, "labels: key '%s': give 1-64 printable characters", k);
            if (!json_is_string(v) || json_string_length(v) > 256)
                return dh_error_set(err, -EINVAL, "labels.%s: give a string of at most 256 bytes", k);
        }
    }
    return 0;
}

/* The request in a canonical form (sorted keys, defaults filled in): the idempotency key when the
 * client gives no request_id, and the check that a reused request_id means the same request. */
static char *canonical(const struct dh_claim_request *req)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (req->pool)
        json_object_set_new(o, "pool", json_string(req->pool));
    if (req->address)
        json_object_set_new(o, "address", json_string(req->address));
    json_object_set_new(o, "count", json_integer(req->count > 0 ? req->count : 1));
    if (req->numa_node >= 0)
        json_object_set_new(o, "numa_node", json_integer(req->numa_node));
    char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(o);
    return s;
}

static int new_id(char id[40])
{
    uint8_t b[16];
    if (getrandom(b, sizeof(b), 0) != sizeof(b))
        return -EIO;
    int n = snprintf(id, 40, "c-");
    for (int i = 0; i < 16; i++)
        n += snprintf(id + n, 40 - (size_t)n, "%02x", b[i]);
    return 0;
}

static struct live_claim *find_by_key(struct dh_pools *p, const char *owner, const char *key)
{
    for (size_t i = 0; i < p->n_claims; i++)
        if (streq(p->claims[i]->rec.owner, owner) && streq(p->claims[i]->rec.key, key))
            return p->claims[i];
    return NULL;
}

static bool numa_ok(const struct dh_func *f, int numa_node)
{
    return numa_node < 0 || f->numa_node == numa_node;
}

/* Chooses the functions (p->lock held). Fills idx; returns the count or a negative errno. */
static int choose(struct dh_pools *p, const struct dh_claim_request *req, size_t *idx, int count,
                  bool *ret_bind, const char **ret_pool, struct dh_error *err)
{
    char why[256];
    if (req->address) {
        ssize_t i = pools_index(p, req->address);
        if (i < 0)
            return dh_error_set(err, -ENOENT, "%s: no such function on this host (see GET /v1/functions)",
                                req->address);
        const struct dh_pool_config *pool = pools_pool_of(p, (size_t)i);
        if (!pool)
            return dh_error_set(err, -EINVAL,
                                "%s is in no pool: only pooled functions can be claimed (see the pools "
                                "in the configuration)",
                                req->address);
        if (p->claim_of[i])
            return dh_error_set(err, -EBUSY, "%s is claimed already (%s, owner %s)", req->address,
                                p->claim_of[i]->rec.id, p->claim_of[i]->rec.owner);
        if (pools_unavailable_reason(p, (size_t)i, why, sizeof(why)))
            return dh_error_set(err, -EBUSY, "%s cannot be claimed: %s", req->address, why);
        if (!numa_ok(&p->inv->funcs[i], req->numa_node))
            return dh_error_set(err, -ENOSPC, "%s is on NUMA node %d, not %d", req->address,
                                p->inv->funcs[i].numa_node, req->numa_node);
        idx[0] = (size_t)i;
        *ret_bind = pool->bind;
        *ret_pool = pool->name;
        return 1;
    }
    const struct dh_pool_config *pool = dh_config_pool(p->cfg, req->pool);
    if (!pool)
        return dh_error_set(err, -ENOENT, "pool '%s' does not exist (see GET /v1/pools)", req->pool);
    size_t k = (size_t)(pool - p->cfg->pools);
    int found = 0, members = 0, blocked = 0, wrong_node = 0;
    /* up to three distinct reasons, each with one example, for the error message */
    char reasons[3][200];
    int n_reasons = 0;
    for (size_t i = 0; i < p->inv->n_funcs && found < count; i++) {
        if (p->pool_of[i] != k)
            continue;
        members++;
        if (p->claim_of[i])
            continue;
        const char *reason = pools_unavailable_reason(p, i, why, sizeof(why));
        if (reason) {
            blocked++;
            bool seen = false;
            for (int r = 0; r < n_reasons && !seen; r++)
                seen = strstr(reasons[r], reason) != NULL;
            if (!seen && n_reasons < 3)
                snprintf(reasons[n_reasons++], sizeof(reasons[0]), "%s: %s", p->inv->funcs[i].address,
                         reason);
            continue;
        }
        if (!numa_ok(&p->inv->funcs[i], req->numa_node)) {
            wrong_node++;
            continue;
        }
        idx[found++] = i;
    }
    if (found < count) {
        char node[48] = "", why_not[640] = "";
        if (req->numa_node >= 0)
            snprintf(node, sizeof(node), " on NUMA node %d", req->numa_node);
        for (int r = 0; r < n_reasons; r++) {
            size_t l = strlen(why_not);
            snprintf(why_not + l, sizeof(why_not) - l, "; %s", reasons[r]);
        }
        return dh_error_set(err, -ENOSPC,
                            "pool '%s' has %d free function(s)%s, %d asked for (%d members, %d claimed or "
                            "unavailable%s)%s",
                            pool->name, found, node, count, members, members - found - wrong_node,
                            wrong_node ? ", others on other NUMA nodes" : "", why_not);
    }
    *ret_bind = pool->bind;
    *ret_pool = pool->name;
    return found;
}

static void finish(struct dh_pools *p, struct live_claim *lc, bool remove)
{
    pthread_mutex_lock(&p->lock);
    if (remove)
        pools_remove_claim(p, lc);
    else
        lc->busy = false;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* The drivers of addrs as the kernel has them now: after a bind or restore the claim's answer and
 * GET /v1/functions show vfio-pci (or the driver given back) at once, not after the next uevent. */
static void reread_drivers(struct dh_pools *p, const char *const *addrs, size_t n)
{
    pthread_mutex_lock(&p->lock);
    for (size_t k = 0; k < n; k++) {
        ssize_t i = pools_index(p, addrs[k]);
        if (i >= 0)
            dh_func_reread_driver(p->host, &p->inv->funcs[i]);
    }
    pthread_mutex_unlock(&p->lock);
}

/* Restores the functions of lc that a failed claim had bound (the bind rolled back its own
 * failures; the successes must go back too). */
static void undo_binds(struct dh_pools *p, const char *const *addrs, const struct dh_vfio_result *res,
                       size_t n)
{
    const char **undo = calloc(n ? n : 1, sizeof(*undo));
    size_t m = 0;
    for (size_t i = 0; undo && i < n; i++)
        if (res[i].error == 0 && res[i].changed)
            undo[m++] = addrs[i];
    if (m) {
        struct dh_vfio_ctx ctx = {.host = p->host,
                                  .store = p->store,
                                  .net = p->net,
                                  .timeout_ms = p->cfg->bind_timeout_ms,
                                  .holder_timeout_ms = p->cfg->restore_wait_ms};
        struct dh_vfio_result *r2 = calloc(m, sizeof(*r2));
        if (r2)
            dh_vfio_restore(&ctx, undo, m, r2, NULL);
        free(r2);
        reread_drivers(p, undo, m);
    }
    free(undo);
}

int dh_pools_claim(struct dh_pools *p, const struct dh_claim_request *req, char **ret_json, bool *ret_created,
                   struct dh_error *err)
{
    assert_return(p && req, -EINVAL);
    int r = validate(req, err);
    if (r < 0)
        return r;
    int count = req->count > 0 ? req->count : 1;
    _cleanup_free_ char *request = canonical(req);
    _cleanup_free_ char *labels = req->labels ? json_dumps(req->labels, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    if (!request)
        return -ENOMEM;
    const char *key = req->request_id ? req->request_id : request;

    pthread_mutex_lock(&p->lock);
    struct live_claim *lc;
    /* the same request again (or while the first is still binding): the same claim */
    while ((lc = find_by_key(p, req->owner, key))) {
        if (!streq(lc->rec.request, request)) {
            pthread_mutex_unlock(&p->lock);
            return dh_error_set(err, -EEXIST,
                                "request_id '%s' of owner '%s' was used for another request (%s)", key,
                                req->owner, lc->rec.id);
        }
        if (!lc->busy) {
            if (ret_json)
                *ret_json = pools_claim_json(p, lc);
            if (ret_created)
                *ret_created = false;
            pthread_mutex_unlock(&p->lock);
            return 0;
        }
        pthread_cond_wait(&p->cond, &p->lock);
    }
    size_t idx[64];
    bool bind = false;
    const char *pool = NULL;
    r = choose(p, req, idx, count, &bind, &pool, err);
    if (r < 0) {
        p->claim_failures_total++;
        pthread_mutex_unlock(&p->lock);
        return r;
    }
    lc = calloc(1, sizeof(*lc));
    struct live_claim **v = realloc(p->claims, (p->n_claims + 1) * sizeof(*v));
    if (v)
        p->claims = v;
    if (!lc || !v || new_id(lc->rec.id) < 0 || !(lc->rec.owner = strdup(req->owner)) ||
        !(lc->rec.pool = strdup(pool)) || !(lc->rec.key = strdup(key)) ||
        !(lc->rec.request = strdup(request)) || !(lc->rec.labels = strdup(labels ? labels : "{}")) ||
        !(lc->rec.functions = calloc((size_t)count, sizeof(*lc->rec.functions)))) {
        live_claim_free(lc);
        pthread_mutex_unlock(&p->lock);
        return -ENOMEM;
    }
    lc->rec.n_functions = (size_t)count;
    for (int i = 0; i < count; i++) {
        snprintf(lc->rec.functions[i].address, sizeof(lc->rec.functions[i].address), "%s",
                 p->inv->funcs[idx[i]].address);
        lc->rec.functions[i].bind = bind;
    }
    lc->rec.state = bind ? DH_CLAIM_CLAIMING : DH_CLAIM_CLAIMED;
    lc->rec.created_usec = dh_realtime_usec();
    lc->busy = true;
    p->claims[p->n_claims++] = lc;
    pools_index_claim(p, lc, true);
    pthread_mutex_unlock(&p->lock);

    /* durable before anything happens to the host or the client hears of it */
    r = dh_store_claim_insert(p->store, &lc->rec, err);
    if (r < 0) {
        finish(p, lc, true);
        return r == -EEXIST ? dh_error_set(err, -EBUSY, "a chosen function was claimed meanwhile; retry") : r;
    }
    if (bind) {
        const char *addrs[64];
        struct dh_vfio_result res[64];
        for (int i = 0; i < count; i++)
            addrs[i] = lc->rec.functions[i].address;
        struct dh_vfio_ctx ctx = {.host = p->host,
                                  .store = p->store,
                                  .net = p->net,
                                  .timeout_ms = p->cfg->bind_timeout_ms,
                                  .holder_timeout_ms = p->cfg->restore_wait_ms};
        r = dh_vfio_bind(&ctx, addrs, (size_t)count, 0, res, NULL);
        if (r < 0) {
            for (int i = 0; i < count; i++)
                if (res[i].error) {
                    dh_error_set(err, res[i].error, "claim not made: %s", res[i].message);
                    break;
                }
            undo_binds(p, addrs, res, (size_t)count);
            dh_store_claim_delete(p->store, lc->rec.id, NULL);
            pthread_mutex_lock(&p->lock);
            p->claim_failures_total++;
            pthread_mutex_unlock(&p->lock);
            finish(p, lc, true);
            return r;
        }
        reread_drivers(p, addrs, (size_t)count);
        r = dh_store_claim_set_state(p->store, lc->rec.id, DH_CLAIM_CLAIMED, err);
        if (r < 0) {
            /* the functions are bound and recorded as claiming: recovery rolls this back if we die,
             * and the client is told it failed; undo now */
            undo_binds(p, addrs, res, (size_t)count);
            dh_store_claim_delete(p->store, lc->rec.id, NULL);
            finish(p, lc, true);
            return r;
        }
    }
    pthread_mutex_lock(&p->lock);
    lc->rec.state = DH_CLAIM_CLAIMED;
    lc->busy = false;
    p->claims_total++;
    char *json = pools_claim_json(p, lc);
    char *event = json ? strdup(json) : NULL;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pools_emit(p, "claimed", event);
    if (ret_json)
        *ret_json = json;
    else
        free(json);
    if (ret_created)
        *ret_created = true;
    return 0;
}

int dh_pools_release(struct dh_pools *p, const char *claim_id, char **ret_json, struct dh_error *err)
{
    assert_return(p && claim_id, -EINVAL);
    pthread_mutex_lock(&p->lock);
    struct live_claim *lc;
    while ((lc = pools_find_claim(p, claim_id)) && lc->busy)
        pthread_cond_wait(&p->cond, &p->lock);
    if (!lc) {
        pthread_mutex_unlock(&p->lock);
        return dh_error_set(err, -ENOENT, "claim %s does not exist (released already?)", claim_id);
    }
    lc->busy = true;
    const char *addrs[64];
    size_t n = 0;
    for (size_t i = 0; i < lc->rec.n_functions && n < 64; i++)
        if (lc->rec.functions[i].bind && !lc->rec.functions[i].vanished)
            addrs[n++] = lc->rec.functions[i].address;
    /* A claim that bound nothing has nothing on the host to give back: the delete alone is the
     * release, one durable write. One that did is marked releasing first, so that a crash during the
     * restore leaves a claim that recovery finishes, never functions handed out half-restored. */
    if (n)
        lc->rec.state = DH_CLAIM_RELEASING;
    pthread_mutex_unlock(&p->lock);

    int r = n ? dh_store_claim_set_state(p->store, claim_id, DH_CLAIM_RELEASING, err) : 0;
    if (r < 0) {
        finish(p, lc, false);
        return r;
    }
    if (n) {
        struct dh_vfio_ctx ctx = {.host = p->host,
                                  .store = p->store,
                                  .net = p->net,
                                  .timeout_ms = p->cfg->bind_timeout_ms,
                                  .holder_timeout_ms = p->cfg->restore_wait_ms};
        struct dh_vfio_result res[64];
        dh_vfio_restore(&ctx, addrs, n, res, NULL);
        reread_drivers(p, addrs, n);
        for (size_t i = 0; i < n; i++) {
            /* no record: nothing of ours to give back (restored already, or never bound) */
            if (res[i].error == 0 || res[i].error == -ENOENT)
                continue;
            pthread_mutex_lock(&p->lock);
            free(lc->last_error);
            lc->last_error = strdup(res[i].message);
            pthread_mutex_unlock(&p->lock);
            finish(p, lc, false);
            return dh_error_set(
                    err, res[i].error,
                    "claim %s is not released: %s; it stays in state releasing, its functions are not "
                    "handed out again: retry the release",
                    claim_id, res[i].message);
        }
    }
    r = dh_store_claim_delete(p->store, claim_id, err);
    if (r < 0 && r != -ENOENT) {
        finish(p, lc, false);
        return r;
    }
    pthread_mutex_lock(&p->lock);
    lc->released = true;
    char *json = pools_claim_json(p, lc);
    char *event = json ? strdup(json) : NULL;
    p->releases_total++;
    pools_remove_claim(p, lc);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pools_emit(p, "released", event);
    if (ret_json)
        *ret_json = json;
    else
        free(json);
    return 0;
}

int dh_pools_release_owner(struct dh_pools *p, const char *owner, struct dh_error *err)
{
    assert_return(p && owner, -EINVAL);
    /* a snapshot of the owner's claims, each tried once: one stuck release (a device still held)
     * does not stop the others, and is reported */
    pthread_mutex_lock(&p->lock);
    size_t n = 0;
    char(*ids)[40] = calloc(p->n_claims ? p->n_claims : 1, sizeof(*ids));
    for (size_t i = 0; ids && i < p->n_claims; i++)
        if (streq(p->claims[i]->rec.owner, owner))
            snprintf(ids[n++], sizeof(ids[0]), "%s", p->claims[i]->rec.id);
    pthread_mutex_unlock(&p->lock);
    if (!ids)
        return -ENOMEM;
    int released = 0, first_error = 0;
    for (size_t i = 0; i < n; i++) {
        int r = dh_pools_release(p, ids[i], NULL, first_error ? NULL : err);
        if (r == 0)
            released++;
        else if (r != -ENOENT && !first_error)
            first_error = r;
    }
    free(ids);
    return first_error ? first_error : released;
}
