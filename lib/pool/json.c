/* The control plane's JSON documents: claims (with the binding profile an off-path DPU agent
 * needs), pools with their counts, and functions with their pool and claim state. Built with the
 * streaming writer under the pools lock, from the live inventory. */
#include "pools-internal.h"

#include <time.h>

#include "util/macro.h"

static void write_time(struct dh_jsonw *w, const char *key, int64_t usec)
{
    char buf[40];
    time_t t = (time_t)(usec / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    dh_jsonw_kv_string(w, key, buf);
}

/* Nova's binding:profile for a remote-managed VF (REFERENCE §5): what the DPU-side agent needs to
 * find the VF's representor. vf_num is the N of the PF's virtfnN link; 0 is a value. */
static void write_binding_profile(struct dh_pools *p, struct dh_jsonw *w, ssize_t i)
{
    dh_jsonw_key(w, "binding_profile");
    if (i < 0 || !pools_remote_managed(p, (size_t)i)) {
        dh_jsonw_null(w);
        return;
    }
    const struct dh_func *f = &p->inv->funcs[i];
    const struct dh_func *pf = f->pf ? dh_inventory_find(p->inv, f->pf) : NULL;
    const struct dh_netdev *pf_net = dh_func_primary_netdev(pf);
    char vendor_info[16];
    snprintf(vendor_info, sizeof(vendor_info), "%04x:%04x", (unsigned)f->vendor_id & 0xffff,
             (unsigned)f->device_id & 0xffff);
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "pci_vendor_info", vendor_info);
    dh_jsonw_kv_string(w, "pci_slot", f->address);
    dh_jsonw_kv_string(w, "physical_network", pools_physical_network(p, (size_t)i));
    dh_jsonw_kv_string(w, "card_serial_number", dh_func_card_serial(f));
    dh_jsonw_kv_string(w, "pf_mac_address", pf_net ? pf_net->mac : NULL);
    dh_jsonw_kv_int_or_null(w, "vf_num", f->vf_index);
    dh_jsonw_end_object(w);
}

void pools_write_claim(struct dh_pools *p, struct dh_jsonw *w, const struct live_claim *lc)
{
    const struct dh_claim_record *c = &lc->rec;
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "id", c->id);
    dh_jsonw_kv_string(w, "owner", c->owner);
    dh_jsonw_kv_string(w, "pool", c->pool);
    dh_jsonw_kv_string(w, "state", lc->released ? "released" : dh_claim_state_to_string(c->state));
    write_time(w, "created", c->created_usec);
    dh_jsonw_key(w, "labels");
    dh_jsonw_raw(w, c->labels ? c->labels : "{}", strlen(c->labels ? c->labels : "{}"));
    /* the client's request_id when it gave one; the canonical request otherwise */
    dh_jsonw_kv_string(w, "request_id", streq(c->key, c->request) ? NULL : c->key);
    dh_jsonw_kv_string(w, "error", lc->last_error);
    dh_jsonw_key(w, "functions");
    dh_jsonw_begin_array(w);
    for (size_t k = 0; k < c->n_functions; k++) {
        const struct dh_claim_function *cf = &c->functions[k];
        ssize_t i = pools_index(p, cf->address);
        const struct dh_func *f = i >= 0 ? &p->inv->funcs[i] : NULL;
        dh_jsonw_begin_object(w);
        dh_jsonw_kv_string(w, "address", cf->address);
        dh_jsonw_kv_string(w, "kind", f ? dh_func_kind_to_string(f->kind) : NULL);
        dh_jsonw_kv_bool(w, "bind", cf->bind);
        dh_jsonw_kv_bool(w, "vanished", cf->vanished);
        dh_jsonw_kv_string(w, "driver", f ? f->driver : NULL);
        dh_jsonw_kv_int_or_null(w, "iommu_group", f ? f->iommu_group : -1);
        char node[32];
        snprintf(node, sizeof(node), "/dev/vfio/%d", f ? f->iommu_group : -1);
        dh_jsonw_kv_string(w, "vfio_device", f && cf->bind && f->iommu_group >= 0 ? node : NULL);
        dh_jsonw_kv_int_or_null(w, "numa_node", f ? f->numa_node : -1);
        write_binding_profile(p, w, i);
        dh_jsonw_end_object(w);
    }
    dh_jsonw_end_array(w);
    dh_jsonw_end_object(w);
}

char *pools_claim_json(struct dh_pools *p, const struct live_claim *lc)
{
    struct dh_jsonw *w = dh_jsonw_new(false);
    if (!w)
        return NULL;
    pools_write_claim(p, w, lc);
    char *text = NULL;
    dh_jsonw_finish(w, &text, NULL);
    dh_jsonw_free(w);
    return text;
}

void dh_pools_write_claims(struct dh_pools *p, struct dh_jsonw *w, const char *owner)
{
    pthread_mutex_lock(&p->lock);
    dh_jsonw_begin_object(w);
    dh_jsonw_key(w, "claims");
    dh_jsonw_begin_array(w);
    for (size_t i = 0; i < p->n_claims; i++)
        if (!owner || streq(p->claims[i]->rec.owner, owner))
            pools_write_claim(p, w, p->claims[i]);
    dh_jsonw_end_array(w);
    dh_jsonw_end_object(w);
    pthread_mutex_unlock(&p->lock);
}

int dh_pools_write_claim(struct dh_pools *p, struct dh_jsonw *w, const char *claim_id)
{
    pthread_mutex_lock(&p->lock);
    struct live_claim *lc = pools_find_claim(p, claim_id);
    if (lc)
        pools_write_claim(p, w, lc);
    pthread_mutex_unlock(&p->lock);
    return lc ? 0 : -ENOENT;
}

void dh_pools_write_pools(struct dh_pools *p, struct dh_jsonw *w)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->cfg->n_pools;
    size_t *c = calloc(4 * (n ? n : 1), sizeof(*c)); /* total, free, claimed, unavailable */
    char buf[256];
    for (size_t i = 0; c && i < p->inv->n_funcs; i++) {
        size_t k = p->pool_of[i];
        if (k >= n)
            continue;
        c[4 * k]++;
        if (p->claim_of[i])
            c[4 * k + 2]++;
        else if (pools_unavailable_reason(p, i, buf, sizeof(buf)))
            c[4 * k + 3]++;
        else
            c[4 * k + 1]++;
    }
    dh_jsonw_begin_object(w);
    dh_jsonw_key(w, "pools");
    dh_jsonw_begin_array(w);
    for (size_t k = 0; c && k < n; k++) {
        const struct dh_pool_config *pool = &p->cfg->pools[k];
        dh_jsonw_begin_object(w);
        dh_jsonw_kv_string(w, "name", pool->name);
        dh_jsonw_kv_string(w, "form",
                           dh_select_get_form(pool->selector) == DH_SELECT_DEVICE_SPEC ? "device_spec"
                                                                                       : "selectors");
        dh_jsonw_kv_bool(w, "bind", pool->bind);
        if (pool->remote_managed < 0)
            dh_jsonw_kv_null(w, "remote_managed");
        else
            dh_jsonw_kv_bool(w, "remote_managed", pool->remote_managed);
        dh_jsonw_kv_string(w, "physical_network", pool->physical_network);
        dh_jsonw_kv_string(w, "description", pool->description);
        dh_jsonw_kv_int(w, "total", (long long)c[4 * k]);
        dh_jsonw_kv_int(w, "free", (long long)c[4 * k + 1]);
        dh_jsonw_kv_int(w, "claimed", (long long)c[4 * k + 2]);
        dh_jsonw_kv_int(w, "unavailable", (long long)c[4 * k + 3]);
        dh_jsonw_end_object(w);
    }
    dh_jsonw_end_array(w);
    dh_jsonw_end_object(w);
    if (!c)
        dh_jsonw_fail(w, -ENOMEM);
    free(c);
    pthread_mutex_unlock(&p->lock);
}

static const char *state_of(struct dh_pools *p, size_t i, const char **ret_reason, char *buf, size_t size)
{
    *ret_reason = NULL;
    if (p->claim_of[i])
        return "claimed";
    if (!pools_pool_of(p, i))
        return "unpooled";
    *ret_reason = pools_unavailable_reason(p, i, buf, size);
    return *ret_reason ? "unavailable" : "free";
}

static void extra_keys(struct dh_jsonw *w, const struct dh_func *f, void *userdata)
{
    struct dh_pools *p = userdata;
    size_t i = (size_t)(f - p->inv->funcs);
    const struct dh_pool_config *pool = pools_pool_of(p, i);
    char buf[256];
    const char *reason;
    dh_jsonw_kv_string(w, "pool", pool ? pool->name : NULL);
    dh_jsonw_kv_string(w, "state", state_of(p, i, &reason, buf, sizeof(buf)));
    dh_jsonw_kv_string(w, "claim", p->claim_of[i] ? p->claim_of[i]->rec.id : NULL);
    dh_jsonw_kv_string(w, "unavailable_reason", reason);
}

static const char *const states[] = {"free", "claimed", "unavailable", "unpooled", NULL};

int dh_pools_filter_validate(struct dh_pools *p, const struct dh_pools_filter *f, struct dh_error *err)
{
    if (!f)
        return 0;
    if (f->pool && !dh_config_pool(p->cfg, f->pool))
        return dh_error_set(err, -ENOENT, "pool '%s' does not exist (see GET /v1/pools)", f->pool);
    if (f->kind && dh_func_kind_from_string(f->kind, NULL) < 0)
        return dh_error_set(err, -EINVAL, "kind '%s': use pf, vf, sf or pci", f->kind);
    if (f->state) {
        bool ok = false;
        for (size_t i = 0; states[i] && !ok; i++)
            ok = streq(states[i], f->state);
        if (!ok)
            return dh_error_set(err, -EINVAL, "state '%s': use free, claimed, unavailable or unpooled",
                                f->state);
    }
    return 0;
}

void dh_pools_write_functions(struct dh_pools *p, struct dh_jsonw *w, const struct dh_pools_filter *filter)
{
    pthread_mutex_lock(&p->lock);
    dh_jsonw_begin_object(w);
    dh_jsonw_key(w, "functions");
    dh_jsonw_begin_array(w);
    char buf[256];
    for (size_t i = 0; i < p->inv->n_funcs; i++) {
        const struct dh_func *f = &p->inv->funcs[i];
        if (filter) {
            const struct dh_pool_config *pool = pools_pool_of(p, i);
            const char *reason;
            if (filter->pool && (!pool || !streq(pool->name, filter->pool)))
                continue;
            if (filter->kind && !streq(filter->kind, dh_func_kind_to_string(f->kind)))
                continue;
            if (filter->state && !streq(filter->state, state_of(p, i, &reason, buf, sizeof(buf))))
                continue;
        }
        dh_func_write_json_with(w, f, extra_keys, p);
    }
    dh_jsonw_end_array(w);
    dh_jsonw_end_object(w);
    pthread_mutex_unlock(&p->lock);
}

int dh_pools_write_function(struct dh_pools *p, struct dh_jsonw *w, const char *address)
{
    pthread_mutex_lock(&p->lock);
    const struct dh_func *f = dh_inventory_find(p->inv, address);
    if (f)
        dh_func_write_json_with(w, f, extra_keys, p);
    pthread_mutex_unlock(&p->lock);
    return f ? 0 : -ENOENT;
}

void dh_pools_write_cards(struct dh_pools *p, struct dh_jsonw *w)
{
    pthread_mutex_lock(&p->lock);
    dh_inventory_write_cards_json(w, p->inv);
    pthread_mutex_unlock(&p->lock);
}
