/* Pool membership, availability and the in-memory view of the claims (a mirror of the store, kept
 * under one mutex and indexed per inventory function so that every lookup is O(1) or a binary
 * search). */
#include "pools-internal.h"

#include "util/macro.h"
#include "util/strv.h"

void live_claim_free(struct live_claim *lc)
{
    if (!lc)
        return;
    dh_claim_record_clear(&lc->rec);
    free(lc->last_error);
    free(lc);
}

ssize_t pools_index(struct dh_pools *p, const char *address)
{
    const struct dh_func *f = dh_inventory_find(p->inv, address);
    return f ? f - p->inv->funcs : -1;
}

void pools_index_claim(struct dh_pools *p, struct live_claim *lc, bool add)
{
    for (size_t k = 0; k < lc->rec.n_functions; k++) {
        ssize_t i = pools_index(p, lc->rec.functions[k].address);
        if (i < 0)
            continue;
        p->claim_of[i] = add ? lc : NULL;
        const struct dh_func *f = &p->inv->funcs[i];
        ssize_t pf = f->kind == DH_FUNC_VF && f->pf ? pools_index(p, f->pf) : -1;
        if (pf >= 0)
            p->claimed_vfs[pf] += add ? 1 : -1;
    }
}

static int assign(struct dh_pools *p, struct dh_inventory *inv, size_t **ret_pool_of)
{
    size_t *pool_of = calloc(inv->n_funcs ? inv->n_funcs : 1, sizeof(*pool_of));
    struct dh_selector **sel = calloc(p->cfg->n_pools ? p->cfg->n_pools : 1, sizeof(*sel));
    if (!pool_of || !sel) {
        free(pool_of);
        free(sel);
        return -ENOMEM;
    }
    for (size_t i = 0; i < p->cfg->n_pools; i++)
        sel[i] = p->cfg->pools[i].selector;
    int r = dh_select_assign(sel, p->cfg->n_pools, inv, pool_of);
    free(sel);
    if (r < 0) {
        free(pool_of);
        return r;
    }
    *ret_pool_of = pool_of;
    return 0;
}

/* Installs inv (taking it) with fresh indexes. */
static int install_inventory(struct dh_pools *p, struct dh_inventory *inv)
{
    size_t *pool_of = NULL;
    int r = assign(p, inv, &pool_of);
    size_t n = inv->n_funcs ? inv->n_funcs : 1;
    struct live_claim **claim_of = calloc(n, sizeof(*claim_of));
    int *claimed_vfs = calloc(n, sizeof(*claimed_vfs));
    if (r < 0 || !claim_of || !claimed_vfs) {
        free(pool_of);
        free(claim_of);
        free(claimed_vfs);
        dh_inventory_free(inv);
        return r < 0 ? r : -ENOMEM;
    }
    dh_inventory_free(p->inv);
    free(p->pool_of);
    free(p->claim_of);
    free(p->claimed_vfs);
    p->inv = inv;
    p->pool_of = pool_of;
    p->claim_of = claim_of;
    p->claimed_vfs = claimed_vfs;
    pools_rebuild_index(p);
    return 0;
}

void pools_rebuild_index(struct dh_pools *p)
{
    memset(p->claim_of, 0, p->inv->n_funcs * sizeof(*p->claim_of));
    memset(p->claimed_vfs, 0, p->inv->n_funcs * sizeof(*p->claimed_vfs));
    for (size_t i = 0; i < p->n_claims; i++)
        pools_index_claim(p, p->claims[i], true);
}

const struct dh_pool_config *pools_pool_of(struct dh_pools *p, size_t i)
{
    return p->pool_of[i] < p->cfg->n_pools ? &p->cfg->pools[p->pool_of[i]] : NULL;
}

bool pools_remote_managed(struct dh_pools *p, size_t i)
{
    const struct dh_pool_config *pool = pools_pool_of(p, i);
    if (!pool)
        return false;
    if (pool->remote_managed >= 0)
        return pool->remote_managed == 1;
    const char *tag = dh_select_tag(pool->selector, &p->inv->funcs[i], p->inv, "remote_managed");
    return tag && streq(tag, "true");
}

const char *pools_physical_network(struct dh_pools *p, size_t i)
{
    const struct dh_pool_config *pool = pools_pool_of(p, i);
    if (!pool)
        return NULL;
    const char *tag = dh_select_tag(pool->selector, &p->inv->funcs[i], p->inv, "physical_network");
    return tag ? tag : pool->physical_network;
}

const char *pools_unavailable_reason(struct dh_pools *p, size_t i, char *buf, size_t size)
{
    const struct dh_func *f = &p->inv->funcs[i];
    const struct dh_pool_config *pool = pools_pool_of(p, i);
    if (pools_remote_managed(p, i)) {
        /* Nova: remote-managed devices must be VFs with a card serial number */
        if (f->kind != DH_FUNC_VF) {
            snprintf(buf, size, "only VFs can be remote-managed");
            return buf;
        }
        if (!dh_func_card_serial(f)) {
            snprintf(buf, size, "remote-managed, but it has no card serial number (its PF's VPD is %s)",
                     f->vpd_error ? f->vpd_error : "missing or unreadable: run dpuhostd as root");
            return buf;
        }
    }
    if (f->kind == DH_FUNC_VF && f->pf) {
        ssize_t pf = pools_index(p, f->pf);
        if (pf >= 0 && p->claim_of[pf]) {
            snprintf(buf, size, "its PF %s is claimed (%s)", f->pf, p->claim_of[pf]->rec.id);
            return buf;
        }
    }
    if (f->kind == DH_FUNC_PF && p->claimed_vfs[i] > 0) {
        snprintf(buf, size, "%d of its VFs are claimed", p->claimed_vfs[i]);
        return buf;
    }
    if (pool && pool->bind && f->kind == DH_FUNC_PF && f->sriov.num_vfs > 0) {
        snprintf(buf, size, "it is an SR-IOV PF with %d VFs enabled, which vfio-pci refuses",
                 f->sriov.num_vfs);
        return buf;
    }
    if (pool && pool->bind && f->kind == DH_FUNC_SF) {
        snprintf(buf, size, "a sub-function cannot be bound to vfio-pci; use a pool with \"bind\": false");
        return buf;
    }
    return NULL;
}

struct live_claim *pools_find_claim(struct dh_pools *p, const char *id)
{
    for (size_t i = 0; i < p->n_claims; i++)
        if (streq(p->claims[i]->rec.id, id))
            return p->claims[i];
    return NULL;
}

void pools_remove_claim(struct dh_pools *p, struct live_claim *lc)
{
    for (size_t i = 0; i < p->n_claims; i++)
        if (p->claims[i] == lc) {
            pools_index_claim(p, lc, false);
            memmove(&p->claims[i], &p->claims[i + 1], (p->n_claims - i - 1) * sizeof(*p->claims));
            p->n_claims--;
            live_claim_free(lc);
            return;
        }
}

void pools_emit(struct dh_pools *p, const char *type, char *data_owned)
{
    if (p->on_event && data_owned)
        p->on_event(p->event_userdata, type, data_owned);
    free(data_owned);
}

int dh_pools_new(const struct dh_pools_options *opts, struct dh_pools **ret, struct dh_error *err)
{
    assert_return(opts && opts->host && opts->store && opts->config && ret, -EINVAL);
    struct dh_pools *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->host = opts->host;
    p->store = opts->store;
    p->cfg = opts->config;
    p->net = opts->net;
    p->on_event = opts->on_event;
    p->event_userdata = opts->event_userdata;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    struct dh_inventory *inv = NULL;
    int r = dh_inventory_scan(p->host, NULL, &inv, err);
    if (r == 0) {
        struct dh_claim_record *recs = NULL;
        size_t n = 0;
        r = dh_store_claim_list(p->store, NULL, &recs, &n, err);
        if (r == 0) {
            p->claims = calloc(n ? n : 1, sizeof(*p->claims));
            for (size_t i = 0; p->claims && i < n; i++) {
                struct live_claim *lc = calloc(1, sizeof(*lc));
                if (!lc) {
                    dh_claim_record_clear(&recs[i]);
                    continue;
                }
                lc->rec = recs[i];
                p->claims[p->n_claims++] = lc;
            }
            if (!p->claims)
                r = -ENOMEM;
            free(recs);
        }
    }
    if (r == 0)
        r = install_inventory(p, TAKE_PTR(inv));
    if (r < 0) {
        dh_inventory_free(inv);
        dh_pools_free(p);
        return r;
    }
    *ret = p;
    return 0;
}

void dh_pools_free(struct dh_pools *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_claims; i++)
        live_claim_free(p->claims[i]);
    free(p->claims);
    dh_inventory_free(p->inv);
    free(p->pool_of);
    free(p->claim_of);
    free(p->claimed_vfs);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p);
}

static char *function_event(const struct dh_func *f)
{
    struct dh_jsonw *w = dh_jsonw_new(false);
    if (!w)
        return NULL;
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "address", f->address);
    dh_jsonw_kv_string(w, "kind", dh_func_kind_to_string(f->kind));
    dh_jsonw_kv_string(w, "pf", f->pf);
    dh_jsonw_end_object(w);
    char *text = NULL;
    dh_jsonw_finish(w, &text, NULL);
    dh_jsonw_free(w);
    return text;
}

struct change {
    const char *type;
    char *data;
};

int dh_pools_refresh(struct dh_pools *p, struct dh_error *err)
{
    pthread_mutex_lock(&p->lock);
    struct dh_inventory_options opts = {.reuse_vpd = p->inv};
    struct dh_inventory *inv = NULL;
    int r = dh_inventory_scan(p->host, &opts, &inv, err);
    if (r < 0) {
        pthread_mutex_unlock(&p->lock);
        return r;
    }
    struct dh_inventory *old = p->inv;
    struct change *changes = calloc(old->n_funcs + inv->n_funcs + 1, sizeof(*changes));
    size_t n_changes = 0;
    for (size_t i = 0; changes && i < inv->n_funcs; i++)
        if (!dh_inventory_find(old, inv->funcs[i].address))
            changes[n_changes++] = (struct change){"function_added", function_event(&inv->funcs[i])};
    for (size_t i = 0; changes && i < old->n_funcs; i++)
        if (!dh_inventory_find(inv, old->funcs[i].address))
            changes[n_changes++] = (struct change){"function_removed", function_event(&old->funcs[i])};
    /* claimed functions that vanished or came back */
    struct {
        char address[64];
        bool vanished;
    } *marks = calloc(64, sizeof(*marks));
    size_t n_marks = 0, cap_marks = 64;
    for (size_t c = 0; marks && c < p->n_claims; c++) {
        struct live_claim *lc = p->claims[c];
        for (size_t k = 0; k < lc->rec.n_functions; k++) {
            struct dh_claim_function *cf = &lc->rec.functions[k];
            bool gone = !dh_inventory_find(inv, cf->address);
            if (gone == cf->vanished)
                continue;
            cf->vanished = gone;
            if (n_marks == cap_marks) {
                void *v = realloc(marks, (cap_marks *= 2) * sizeof(*marks));
                if (!v)
                    break;
                marks = v;
            }
            snprintf(marks[n_marks].address, sizeof(marks[n_marks].address), "%s", cf->address);
            marks[n_marks++].vanished = gone;
        }
    }
    r = install_inventory(p, inv);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; marks && i < n_marks; i++)
        dh_store_claim_function_set_vanished(p->store, marks[i].address, marks[i].vanished, NULL);
    free(marks);
    for (size_t i = 0; changes && i < n_changes; i++)
        pools_emit(p, changes[i].type, changes[i].data);
    free(changes);
    return r;
}

void dh_pools_stats(struct dh_pools *p, struct dh_pools_stats *ret)
{
    *ret = (struct dh_pools_stats){0};
    pthread_mutex_lock(&p->lock);
    ret->functions = p->inv->n_funcs;
    char buf[256];
    for (size_t i = 0; i < p->inv->n_funcs; i++) {
        if (!pools_pool_of(p, i))
            continue;
        ret->pooled++;
        if (!p->claim_of[i] && !pools_unavailable_reason(p, i, buf, sizeof(buf)))
            ret->free_functions++;
    }
    ret->claims = p->n_claims;
    for (size_t i = 0; i < p->n_claims; i++)
        ret->claimed_functions += p->claims[i]->rec.n_functions;
    ret->claims_total = p->claims_total;
    ret->releases_total = p->releases_total;
    ret->claim_failures_total = p->claim_failures_total;
    pthread_mutex_unlock(&p->lock);
    dh_store_stats(p->store, &ret->store_commits, &ret->store_writes);
}

void dh_pools_foreach_pool(struct dh_pools *p,
                           void (*fn)(void *userdata, const char *pool, size_t total, size_t free,
                                      size_t claimed),
                           void *userdata)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->cfg->n_pools;
    size_t *counts = calloc(3 * (n ? n : 1), sizeof(*counts));
    char buf[256];
    for (size_t i = 0; counts && i < p->inv->n_funcs; i++) {
        size_t k = p->pool_of[i];
        if (k >= n)
            continue;
        counts[3 * k]++;
        if (p->claim_of[i])
            counts[3 * k + 2]++;
        else if (!pools_unavailable_reason(p, i, buf, sizeof(buf)))
            counts[3 * k + 1]++;
    }
    pthread_mutex_unlock(&p->lock);
    for (size_t k = 0; counts && k < n; k++)
        fn(userdata, p->cfg->pools[k].name, counts[3 * k], counts[3 * k + 1], counts[3 * k + 2]);
    free(counts);
}

int dh_pools_function_claim(struct dh_pools *p, const char *address, char ret_id[40])
{
    int r = -ENOENT;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->n_claims && r < 0; i++)
        for (size_t k = 0; k < p->claims[i]->rec.n_functions; k++)
            if (streq(p->claims[i]->rec.functions[k].address, address)) {
                snprintf(ret_id, 40, "%s", p->claims[i]->rec.id);
                r = 0;
                break;
            }
    pthread_mutex_unlock(&p->lock);
    return r;
}

int dh_pools_owners(struct dh_pools *p, char ***ret, size_t *ret_n)
{
    char **v = NULL;
    size_t n = 0;
    int r = 0;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->n_claims && r == 0; i++)
        if (dh_strv_find(v, n, p->claims[i]->rec.owner) < 0)
            r = dh_strv_push_dup(&v, &n, p->claims[i]->rec.owner);
    pthread_mutex_unlock(&p->lock);
    if (r < 0) {
        dh_strv_free(v, n);
        return r;
    }
    dh_strv_sort(v, n);
    *ret = v;
    *ret_n = n;
    return 0;
}

int dh_pools_check_available(struct dh_pools *p, const char *address, struct dh_error *err)
{
    char why[256];
    int r = 0;
    pthread_mutex_lock(&p->lock);
    ssize_t i = pools_index(p, address);
    if (i < 0)
        r = dh_error_set(err, -ENOENT, "%s: no such function on this host", address);
    else if (!pools_pool_of(p, (size_t)i))
        r = dh_error_set(err, -EINVAL, "%s is in no pool: only pooled functions can be passed through",
                         address);
    else if (p->claim_of[i])
        r = dh_error_set(err, -EBUSY, "%s is claimed (%s, owner %s)", address, p->claim_of[i]->rec.id,
                         p->claim_of[i]->rec.owner);
    else if (pools_unavailable_reason(p, (size_t)i, why, sizeof(why)))
        r = dh_error_set(err, -EBUSY, "%s cannot be claimed: %s", address, why);
    pthread_mutex_unlock(&p->lock);
    return r;
}
