/* The select module's entry points: reads a pool's "device_spec" or "selectors" member into a list
 * of compiled entries, matches functions against it, and assigns every function of an inventory
 * to the first pool that selects it. The two forms live in device_spec.c and selectors.c; this file
 * holds what they share (messages, netdev lookup) and the list semantics: a device_spec list is
 * "any entry", with tags read from the first entry that matches (Nova's Whitelist.get_devspec()
 * returns the first matching spec); a selectors list is tried in order (the plugin's
 * selectorIndex), which for a yes/no answer is also "any entry". */
#include "select-internal.h"

#include <stdarg.h>
#include <stdio.h>

struct dh_selector {
    enum dh_select_form form;
    char *pool_name; /* for dh_select_check_host() messages; may be NULL */
    bool is_list;    /* the entries came as a list: messages say "device_spec[1]" */
    size_t n_entries;
    struct sel_spec *specs; /* DH_SELECT_DEVICE_SPEC */
    struct sel_dp *dps;     /* DH_SELECT_SELECTORS */
};

int sel_fail(const struct sel_ctx *c, const char *fmt, ...)
{
    char msg[DH_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->pool_name)
        return dh_error_set(c->err, -EINVAL, "select: pool \"%s\": %s", c->pool_name, msg);
    return dh_error_set(c->err, -EINVAL, "select: %s", msg);
}

int sel_oom(const struct sel_ctx *c)
{
    return dh_error_set(c->err, -ENOMEM, "select: out of memory while compiling selectors");
}

const char *sel_repr(const json_t *v, char *buf, size_t size)
{
    _cleanup_free_ char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!s) {
        snprintf(buf, size, "(value)");
        return buf;
    }
    /* keep messages one short line: a pasted 10 kB list helps nobody */
    if (strlen(s) > 80)
        snprintf(buf, size, "%.77s...", s);
    else
        snprintf(buf, size, "%s", s);
    return buf;
}

bool sel_ifname_is_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15 || streq(s, ".") || streq(s, ".."))
        return false;
    for (const char *p = s; *p; p++)
        if (*p == '/' || *p == ':' || *p == ' ' || (unsigned char)*p < 0x21 || (unsigned char)*p == 0x7f)
            return false;
    return true;
}

const struct dh_func *sel_netdev_owner(const struct dh_inventory *inv, const char *name)
{
    for (size_t i = 0; i < inv->n_funcs; i++) {
        const struct dh_func *f = &inv->funcs[i];
        for (size_t j = 0; j < f->n_netdevs; j++)
            if (streq(f->netdevs[j].name, name))
                return f;
    }
    return NULL;
}

bool sel_is_sriov_pf(const struct dh_func *f)
{
    return f && f->kind == DH_FUNC_PF && f->sriov.total_vfs > 0;
}

void dh_select_free(struct dh_selector *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_entries; i++) {
        if (s->specs)
            sel_spec_clear(&s->specs[i]);
        if (s->dps)
            sel_dp_clear(&s->dps[i]);
    }
    free(s->specs);
    free(s->dps);
    free(s->pool_name);
    free(s);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dh_selector *, dh_select_free)

/* jansson keeps "\u0000" inside strings; C sees only the part before it, which would make the
 * value checked differ from the value written. */
static bool has_embedded_nul(json_t *v)
{
    const char *key;
    json_t *e;
    size_t i;
    if (json_is_string(v))
        return strlen(json_string_value(v)) != json_string_length(v);
    if (json_is_array(v)) {
        json_array_foreach (v, i, e)
            if (has_embedded_nul(e))
                return true;
    } else if (json_is_object(v)) {
        json_object_foreach (v, key, e)
            if (has_embedded_nul(e))
                return true;
    }
    return false;
}

/* Parses one entry of either form at index i ("device_spec[1]") or alone ("device_spec"). */
static int parse_entry(struct dh_selector *s, json_t *obj, const char *key, long index,
                       const struct sel_ctx *c)
{
    char path[64], repr[SEL_REPR_MAX];
    if (index < 0)
        snprintf(path, sizeof(path), "%s", key);
    else
        snprintf(path, sizeof(path), "%s[%ld]", key, index);
    if (!json_is_object(obj)) {
        if (s->form == DH_SELECT_DEVICE_SPEC)
            return sel_fail(c,
                            "%s %s: not an object; write {\"vendor_id\": \"15b3\", \"product_id\": \"101e\"}",
                            path, sel_repr(obj, repr, sizeof(repr)));
        return sel_fail(c, "%s %s: not an object; write {\"vendors\": [\"15b3\"], \"devices\": [\"101e\"]}",
                        path, sel_repr(obj, repr, sizeof(repr)));
    }
    size_t at = s->n_entries;
    int r = s->form == DH_SELECT_DEVICE_SPEC ? sel_spec_parse(obj, path, c, &s->specs[at])
                                             : sel_dp_parse(obj, path, c, &s->dps[at]);
    if (r < 0)
        return r;
    s->n_entries++;
    return 0;
}

int dh_select_parse(json_t *pool, const char *pool_name, struct dh_selector **ret, struct dh_error *err)
{
    assert_return(ret, -EINVAL);
    struct sel_ctx c = {.pool_name = pool_name, .err = err};
    char repr[SEL_REPR_MAX];
    if (!json_is_object(pool))
        return sel_fail(&c,
                        "the pool configuration %s is not an object; write {\"device_spec\": ...} or "
                        "{\"selectors\": ...}",
                        pool ? sel_repr(pool, repr, sizeof(repr)) : "(none)");

    json_t *spec = json_object_get(pool, "device_spec");
    json_t *sels = json_object_get(pool, "selectors");
    if (spec && sels)
        return sel_fail(&c, "both \"device_spec\" and \"selectors\" are set; a pool uses one of them (Nova "
                            "device_spec or SR-IOV device plugin selectors), not both");
    if (!spec && !sels)
        return sel_fail(&c,
                        "neither \"device_spec\" nor \"selectors\" is set; add one to say which functions "
                        "the pool hands out");

    const char *key = spec ? "device_spec" : "selectors";
    json_t *v = spec ? spec : sels;
    if (has_embedded_nul(v))
        return sel_fail(&c, "%s: a string contains a NUL character (\\u0000); remove it", key);
    size_t n = 1;
    if (json_is_array(v)) {
        n = json_array_size(v);
        if (n == 0)
            return sel_fail(&c, "%s []: an empty list selects nothing; give at least one object", key);
    } else if (!json_is_object(v))
        return sel_fail(&c, "%s %s: not an object or a list of objects", key,
                        sel_repr(v, repr, sizeof(repr)));

    _cleanup_(dh_select_freep) struct dh_selector *s = calloc(1, sizeof(*s));
    if (!s)
        return sel_oom(&c);
    s->form = spec ? DH_SELECT_DEVICE_SPEC : DH_SELECT_SELECTORS;
    s->is_list = json_is_array(v);
    if (pool_name && !(s->pool_name = strdup(pool_name)))
        return sel_oom(&c);
    if (s->form == DH_SELECT_DEVICE_SPEC)
        s->specs = calloc(n, sizeof(*s->specs));
    else
        s->dps = calloc(n, sizeof(*s->dps));
    if (!s->specs && !s->dps)
        return sel_oom(&c);

    if (json_is_array(v)) {
        for (size_t i = 0; i < n; i++) {
            int r = parse_entry(s, json_array_get(v, i), key, (long)i, &c);
            if (r < 0)
                return r;
        }
    } else {
        int r = parse_entry(s, v, key, -1, &c);
        if (r < 0)
            return r;
    }
    *ret = TAKE_PTR(s);
    return 0;
}

enum dh_select_form dh_select_get_form(const struct dh_selector *s)
{
    return s ? s->form : DH_SELECT_DEVICE_SPEC;
}

int dh_select_match_index(const struct dh_selector *s, const struct dh_func *f,
                          const struct dh_inventory *inv)
{
    if (!s || !f || !inv)
        return -1;
    for (size_t i = 0; i < s->n_entries; i++) {
        bool m = s->form == DH_SELECT_DEVICE_SPEC ? sel_spec_match(&s->specs[i], f, inv)
                                                  : sel_dp_match(&s->dps[i], f, inv);
        if (m)
            return (int)i;
    }
    return -1;
}

bool dh_select_match(const struct dh_selector *s, const struct dh_func *f, const struct dh_inventory *inv)
{
    return dh_select_match_index(s, f, inv) >= 0;
}

const char *dh_select_tag(const struct dh_selector *s, const struct dh_func *f,
                          const struct dh_inventory *inv, const char *tag)
{
    if (!s || !tag || s->form != DH_SELECT_DEVICE_SPEC)
        return NULL;
    int i = dh_select_match_index(s, f, inv);
    return i < 0 ? NULL : sel_spec_tag(&s->specs[i], tag);
}

int dh_select_check_host(const struct dh_selector *s, const struct dh_inventory *inv, struct dh_error *err)
{
    assert_return(s && inv, -EINVAL);
    struct sel_ctx c = {.pool_name = s->pool_name, .err = err};
    if (s->form != DH_SELECT_DEVICE_SPEC)
        return 0;
    for (size_t i = 0; i < s->n_entries; i++) {
        char path[64];
        if (!s->is_list)
            snprintf(path, sizeof(path), "device_spec");
        else
            snprintf(path, sizeof(path), "device_spec[%zu]", i);
        int r = sel_spec_check_host(&s->specs[i], path, inv, &c);
        if (r < 0)
            return r;
    }
    return 0;
}

int dh_select_assign(struct dh_selector *const *pools, size_t n_pools, const struct dh_inventory *inv,
                     size_t *ret_pool_of_func)
{
    assert_return(inv && ret_pool_of_func && (pools || n_pools == 0), -EINVAL);
    for (size_t p = 0; p < n_pools; p++)
        assert_return(pools[p], -EINVAL);
    int assigned = 0;
    for (size_t i = 0; i < inv->n_funcs; i++) {
        ret_pool_of_func[i] = n_pools;
        for (size_t p = 0; p < n_pools; p++) {
            if (dh_select_match(pools[p], &inv->funcs[i], inv)) {
                ret_pool_of_func[i] = p;
                assigned++;
                break;
            }
        }
    }
    return assigned;
}
