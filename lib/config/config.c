/* Configuration parsing: see dpuhost/config.h and docs/config.md. */
#include <dpuhost/config.h>

#include <grp.h>
#include <pwd.h>

#include "util/macro.h"

static int bad(struct dh_error *err, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int bad(struct dh_error *err, const char *key, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return dh_error_set(err, -EINVAL, "config: %s: %s", key, what);
}

static char *value_text(json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (s && strlen(s) > 80)
        strcpy(s + 77, "...");
    return s;
}

static int get_string(json_t *obj, const char *key, const char *path, char **ret, struct dh_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0) {
        _cleanup_free_ char *t = value_text(v);
        return bad(err, path, "%s is not a non-empty string", t ? t : "?");
    }
    free(*ret);
    *ret = strdup(json_string_value(v));
    return *ret ? 0 : -ENOMEM;
}

static int get_ms(json_t *obj, const char *key, const char *path, int *ret, struct dh_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 3600000) {
        _cleanup_free_ char *t = value_text(v);
        return bad(err, path, "%s is not a number of milliseconds from 1 to 3600000", t ? t : "?");
    }
    *ret = (int)json_integer_value(v);
    return 0;
}

static int check_keys(json_t *obj, const char *path, const char *const *allowed, struct dh_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach (obj, key, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = streq(key, allowed[i]);
        if (!ok) {
            char list[512] = "";
            for (size_t i = 0; allowed[i]; i++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", allowed[i]);
            }
            return dh_error_set(err, -EINVAL, "config: %s%s%s: unknown key; the keys are: %s", path,
                                *path ? "." : "", key, list);
        }
    }
    return 0;
}

/* A list of ids given as numbers or names: [0, "libvirt-qemu"]. */
static int get_ids(json_t *obj, const char *key, bool groups, unsigned **ret, size_t *ret_n,
                   struct dh_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_array(v))
        return bad(err, key, "is not a list of %s names or numbers", groups ? "group" : "user");
    size_t i;
    json_t *e;
    unsigned *ids = calloc(json_array_size(v) + 1, sizeof(*ids));
    if (!ids)
        return -ENOMEM;
    json_array_foreach (v, i, e) {
        if (json_is_integer(e) && json_integer_value(e) >= 0 && json_integer_value(e) < 0xffffffffLL) {
            ids[i] = (unsigned)json_integer_value(e);
            continue;
        }
        if (json_is_string(e)) {
            const char *name = json_string_value(e);
            if (groups) {
                struct group *g = getgrnam(name);
                if (g) {
                    ids[i] = g->gr_gid;
                    continue;
                }
            } else {
                struct passwd *p = getpwnam(name);
                if (p) {
                    ids[i] = p->pw_uid;
                    continue;
                }
            }
            free(ids);
            return bad(err, key, "\"%s\" is not a %s on this host", name, groups ? "group" : "user");
        }
        _cleanup_free_ char *t = value_text(e);
        free(ids);
        return bad(err, key, "%s is not a %s name or number", t ? t : "?", groups ? "group" : "user");
    }
    *ret = ids;
    *ret_n = json_array_size(v);
    return 0;
}

static bool valid_pool_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-' || *p == '.'))
            return false;
    return true;
}

static int parse_pool(json_t *p, size_t index, struct dh_pool_config *pool, struct dh_config *cfg,
                      struct dh_error *err)
{
    char path[64];
    snprintf(path, sizeof(path), "pools[%zu]", index);
    static const char *const keys[] = {
            "name",           "device_spec", "selectors", "bind", "physical_network",
            "remote_managed", "description", NULL};
    if (!json_is_object(p))
        return bad(err, path, "is not an object");
    int r = check_keys(p, path, keys, err);
    if (r < 0)
        return r;
    json_t *name = json_object_get(p, "name");
    if (!json_is_string(name) || !valid_pool_name(json_string_value(name))) {
        _cleanup_free_ char *t = name ? value_text(name) : NULL;
        return bad(err, path, "name %s: give 1-64 characters from A-Z, a-z, 0-9, _, -, .",
                   t ? t : "is missing");
    }
    pool->name = strdup(json_string_value(name));
    if (!pool->name)
        return -ENOMEM;
    for (size_t i = 0; i < cfg->n_pools; i++)
        if (streq(cfg->pools[i].name, pool->name))
            return bad(err, path, "name \"%s\" is used by pools[%zu] already", pool->name, i);
    snprintf(path, sizeof(path), "pools[\"%s\"]", pool->name);
    bool has_spec = json_object_get(p, "device_spec"), has_sel = json_object_get(p, "selectors");
    if (has_spec == has_sel)
        return bad(err, path,
                   "give exactly one of device_spec (Nova style) or selectors (SR-IOV device plugin "
                   "style)");
    r = dh_select_parse(p, pool->name, &pool->selector, err);
    if (r < 0)
        return r;
    pool->bind = true;
    json_t *b = json_object_get(p, "bind");
    if (b) {
        if (!json_is_boolean(b)) {
            _cleanup_free_ char *t = value_text(b);
            return bad(err, path, "bind %s is not true or false", t ? t : "?");
        }
        pool->bind = json_is_true(b);
    }
    pool->remote_managed = -1;
    json_t *rm = json_object_get(p, "remote_managed");
    if (rm) {
        if (!json_is_boolean(rm)) {
            _cleanup_free_ char *t = value_text(rm);
            return bad(err, path, "remote_managed %s is not true or false", t ? t : "?");
        }
        pool->remote_managed = json_is_true(rm);
    }
    char sub[96];
    snprintf(sub, sizeof(sub), "%s.physical_network", path);
    if ((r = get_string(p, "physical_network", sub, &pool->physical_network, err)) < 0)
        return r;
    snprintf(sub, sizeof(sub), "%s.description", path);
    return get_string(p, "description", sub, &pool->description, err);
}

static int parse_vms(json_t *v, struct dh_vm_config *vms, struct dh_error *err)
{
    if (!v)
        return 0;
    if (!json_is_object(v))
        return bad(err, "vms", "is not an object");
    static const char *const keys[] = {"qemu", "start_timeout_ms", "stop_timeout_ms", "unplug_timeout_ms",
                                       NULL};
    int r = check_keys(v, "vms", keys, err);
    if (r == 0)
        r = get_string(v, "qemu", "vms.qemu", &vms->qemu, err);
    /* the path lands in a command line QEMU parses, and a relative one would depend on PATH's order */
    if (r == 0 && vms->qemu && (strchr(vms->qemu, ',') || (strchr(vms->qemu, '/') && vms->qemu[0] != '/')))
        r = bad(err, "vms.qemu", "\"%s\" is neither an absolute path nor a bare name found on PATH",
                vms->qemu);
    if (r == 0)
        r = get_ms(v, "start_timeout_ms", "vms.start_timeout_ms", &vms->start_timeout_ms, err);
    if (r == 0)
        r = get_ms(v, "stop_timeout_ms", "vms.stop_timeout_ms", &vms->stop_timeout_ms, err);
    if (r == 0)
        r = get_ms(v, "unplug_timeout_ms", "vms.unplug_timeout_ms", &vms->unplug_timeout_ms, err);
    return r;
}

int dh_config_parse(json_t *doc, struct dh_config **ret, struct dh_error *err)
{
    assert_return(ret, -EINVAL);
    if (!json_is_object(doc))
        return dh_error_set(err, -EINVAL, "config: the document is not a JSON object");
    static const char *const keys[] = {
            "socket",          "socket_mode",     "state_dir", "allowed_uids", "allowed_gids",
            "bind_timeout_ms", "restore_wait_ms", "pools",     "vms",          NULL};
    int r = check_keys(doc, "", keys, err);
    if (r < 0)
        return r;
    struct dh_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return -ENOMEM;
    cfg->socket = strdup(DH_CONFIG_DEFAULT_SOCKET);
    cfg->state_dir = strdup(DH_CONFIG_DEFAULT_STATE_DIR);
    cfg->socket_mode = 0660;
    cfg->bind_timeout_ms = 5000;
    cfg->restore_wait_ms = 10000;
    cfg->vms = (struct dh_vm_config){
            .start_timeout_ms = 30000, .stop_timeout_ms = 30000, .unplug_timeout_ms = 5000};
    if (!cfg->socket || !cfg->state_dir)
        r = -ENOMEM;
    if (r == 0)
        r = get_string(doc, "socket", "socket", &cfg->socket, err);
    if (r == 0 && cfg->socket[0] != '/')
        r = bad(err, "socket", "\"%s\" is not an absolute path", cfg->socket);
    if (r == 0)
        r = get_string(doc, "state_dir", "state_dir", &cfg->state_dir, err);
    if (r == 0 && cfg->state_dir[0] != '/')
        r = bad(err, "state_dir", "\"%s\" is not an absolute path", cfg->state_dir);
    json_t *mode = json_object_get(doc, "socket_mode");
    if (r == 0 && mode) {
        char *end = NULL;
        long m = json_is_string(mode) ? strtol(json_string_value(mode), &end, 8) : -1;
        if (!end || *end || m < 0 || m > 0777) {
            _cleanup_free_ char *t = value_text(mode);
            r = bad(err, "socket_mode", "%s is not an octal mode such as \"0660\"", t ? t : "?");
        } else
            cfg->socket_mode = (mode_t)m;
    }
    if (r == 0)
        r = get_ids(doc, "allowed_uids", false, (unsigned **)&cfg->allowed_uids, &cfg->n_allowed_uids, err);
    if (r == 0)
        r = get_ids(doc, "allowed_gids", true, (unsigned **)&cfg->allowed_gids, &cfg->n_allowed_gids, err);
    if (r == 0)
        r = get_ms(doc, "bind_timeout_ms", "bind_timeout_ms", &cfg->bind_timeout_ms, err);
    if (r == 0)
        r = get_ms(doc, "restore_wait_ms", "restore_wait_ms", &cfg->restore_wait_ms, err);
    if (r == 0)
        r = parse_vms(json_object_get(doc, "vms"), &cfg->vms, err);
    json_t *pools = json_object_get(doc, "pools");
    if (r == 0 && pools && !json_is_array(pools))
        r = bad(err, "pools", "is not a list of pools");
    if (r == 0 && pools) {
        cfg->pools = calloc(json_array_size(pools) + 1, sizeof(*cfg->pools));
        if (!cfg->pools)
            r = -ENOMEM;
        size_t i;
        json_t *p;
        json_array_foreach (pools, i, p) {
            if (r < 0)
                break;
            r = parse_pool(p, i, &cfg->pools[i], cfg, err);
            cfg->n_pools = i + 1; /* so that free() releases this one too */
        }
    }
    if (r < 0) {
        dh_config_free(cfg);
        return r == -ENOMEM ? dh_error_set(err, r, "config: out of memory") : r;
    }
    *ret = cfg;
    return 0;
}

int dh_config_load(const char *path, struct dh_config **ret, struct dh_error *err)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        if (jerr.line <= 0 && access(path, F_OK) < 0)
            return dh_error_set(err, -ENOENT,
                                "config: %s does not exist: write one (see docs/config.md) or pass "
                                "--config PATH",
                                path);
        return dh_error_set(err, -EINVAL, "config: %s line %d column %d: %s", path, jerr.line, jerr.column,
                            jerr.text);
    }
    int r = dh_config_parse(doc, ret, err);
    json_decref(doc);
    return r;
}

void dh_config_free(struct dh_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_pools; i++) {
        struct dh_pool_config *p = &cfg->pools[i];
        free(p->name);
        dh_select_free(p->selector);
        free(p->physical_network);
        free(p->description);
    }
    free(cfg->pools);
    free(cfg->allowed_uids);
    free(cfg->allowed_gids);
    free(cfg->socket);
    free(cfg->state_dir);
    free(cfg->vms.qemu);
    free(cfg);
}

const struct dh_pool_config *dh_config_pool(const struct dh_config *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->n_pools; i++)
        if (streq(cfg->pools[i].name, name))
            return &cfg->pools[i];
    return NULL;
}
