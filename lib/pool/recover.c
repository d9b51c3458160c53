/* Reconciliation on start, before serving (dpuhostd was killed, or the host rebooted):
 *  - a claim still "claiming" never reached its client: roll it back (restore what was bound);
 *  - a claim "releasing": finish the release;
 *  - a "claimed" claim: functions gone from the host are marked vanished; functions no longer on
 *    vfio-pci (a reboot resets drivers) are bound again;
 *  - binding records left half-way ("binding", "restoring") by no live claim: finished by a restore.
 * Records "bound" without a claim are binds made with the CLI: they are left alone. */
#include "pools-internal.h"

#include <stdarg.h>

#include "util/macro.h"

static void note(struct dh_recovery_report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct dh_recovery_report *rep, const char *fmt, ...)
{
    size_t used = strlen(rep->log);
    if (used + 2 >= sizeof(rep->log))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->log + used, sizeof(rep->log) - used - 1, fmt, ap);
    va_end(ap);
    strcat(rep->log, "\n");
}

static struct dh_vfio_ctx ctx_of(struct dh_pools *p)
{
    return (struct dh_vfio_ctx){.host = p->host,
                                .store = p->store,
                                .net = p->net,
                                .timeout_ms = p->cfg->bind_timeout_ms,
                                .holder_timeout_ms = p->cfg->restore_wait_ms};
}

/* Restores the bound functions of a claim; true when all are back (or had nothing to restore). */
static bool restore_claim(struct dh_pools *p, struct live_claim *lc, struct dh_recovery_report *rep)
{
    const char *addrs[64];
    size_t n = 0;
    for (size_t k = 0; k < lc->rec.n_functions && n < 64; k++)
        if (lc->rec.functions[k].bind)
            addrs[n++] = lc->rec.functions[k].address;
    if (!n)
        return true;
    struct dh_vfio_ctx ctx = ctx_of(p);
    struct dh_vfio_result res[64];
    dh_vfio_restore(&ctx, addrs, n, res, NULL);
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        if (res[i].error && res[i].error != -ENOENT) {
            ok = false;
            note(rep, "claim %s: %s", lc->rec.id, res[i].message);
        }
    return ok;
}

static void rebind_claimed(struct dh_pools *p, struct live_claim *lc, struct dh_recovery_report *rep)
{
    for (size_t k = 0; k < lc->rec.n_functions; k++) {
        struct dh_claim_function *cf = &lc->rec.functions[k];
        const struct dh_func *f = dh_inventory_find(p->inv, cf->address);
        bool gone = !f;
        if (gone != cf->vanished) {
            cf->vanished = gone;
            dh_store_claim_function_set_vanished(p->store, cf->address, gone, NULL);
            if (gone) {
                rep->vanished++;
                note(rep, "claim %s: %s is gone from the host: marked vanished", lc->rec.id, cf->address);
            }
        }
        if (gone || !cf->bind || (f->driver && streq(f->driver, "vfio-pci")))
            continue;
        const char *addrs[1] = {cf->address};
        struct dh_vfio_result res;
        struct dh_vfio_ctx ctx = ctx_of(p);
        if (dh_vfio_bind(&ctx, addrs, 1, 0, &res, NULL) == 0) {
            rep->rebound++;
            note(rep, "claim %s: %s was on %s, bound to vfio-pci again", lc->rec.id, cf->address,
                 f->driver ? f->driver : "no driver");
        } else {
            rep->problems++;
            note(rep, "claim %s: %s could not be bound again: %s", lc->rec.id, cf->address, res.message);
        }
    }
}

static bool claimed_by_live_claim(struct dh_pools *p, const char *address)
{
    for (size_t i = 0; i < p->n_claims; i++)
        for (size_t k = 0; k < p->claims[i]->rec.n_functions; k++)
            if (streq(p->claims[i]->rec.functions[k].address, address))
                return true;
    return false;
}

int dh_pools_recover(struct dh_pools *p, struct dh_recovery_report *rep, struct dh_error *err)
{
    assert_return(p && rep, -EINVAL);
    *rep = (struct dh_recovery_report){0};
    /* before serving: nobody else touches p, but take the lock for the indexes' sake */
    pthread_mutex_lock(&p->lock);
    rep->claims_loaded = (int)p->n_claims;
    for (size_t i = 0; i < p->n_claims;) {
        struct live_claim *lc = p->claims[i];
        if (lc->rec.state == DH_CLAIM_CLAIMED) {
            rebind_claimed(p, lc, rep);
            i++;
            continue;
        }
        bool claiming = lc->rec.state == DH_CLAIM_CLAIMING;
        if (!restore_claim(p, lc, rep)) {
            rep->problems++;
            if (claiming) {
                /* keep its functions out of reach; finishing it is a release */
                lc->rec.state = DH_CLAIM_RELEASING;
                dh_store_claim_set_state(p->store, lc->rec.id, DH_CLAIM_RELEASING, NULL);
            }
            i++;
            continue;
        }
        int r = dh_store_claim_delete(p->store, lc->rec.id, err);
        if (r < 0 && r != -ENOENT) {
            pthread_mutex_unlock(&p->lock);
            return r;
        }
        note(rep, "claim %s (%s): %s", lc->rec.id, lc->rec.owner,
             claiming ? "interrupted while claiming: rolled back" : "interrupted while releasing: released");
        if (claiming)
            rep->rolled_back++;
        else
            rep->released++;
        pools_remove_claim(p, lc);
    }
    struct dh_binding_record *recs = NULL;
    size_t n = 0;
    int r = dh_store_binding_list(p->store, &recs, &n, err);
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (recs[i].state != DH_BINDING_BOUND && !claimed_by_live_claim(p, recs[i].address)) {
            const char *addrs[1] = {recs[i].address};
            struct dh_vfio_result res;
            struct dh_vfio_ctx ctx = ctx_of(p);
            if (dh_vfio_restore(&ctx, addrs, 1, &res, NULL) == 0) {
                rep->restored++;
                note(rep, "%s: a %s left half-done: %s", recs[i].address,
                     recs[i].state == DH_BINDING_BINDING ? "bind" : "restore", res.message);
            } else {
                rep->problems++;
                note(rep, "%s: %s", recs[i].address, res.message);
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        dh_binding_record_clear(&recs[i]);
    free(recs);
    pools_rebuild_index(p);
    pthread_mutex_unlock(&p->lock);
    /* the bound functions changed drivers: read the host again */
    return r < 0 ? r : dh_pools_refresh(p, err);
}
