/* The JSON documents of `dpuhost representors` and `dpuhost representor` (docs/offpath.md): the
 * only place that names their keys. Ports keep devlink's vocabulary (flavour names, "function"
 * with hw_addr/state/opstate, as `devlink -j port show` prints them), so that the two can be read
 * side by side; a value the source does not report is null. */
#include "devlink/devlink-internal.h"

#include <stdio.h>

#include "util/macro.h"
#include "util/parse.h"

static void kv_i64_or_null(struct dh_jsonw *w, const char *key, int64_t v)
{
    dh_jsonw_kv_int_or_null(w, key, v);
}

static void kv_tristate(struct dh_jsonw *w, const char *key, int v)
{
    if (v < 0)
        dh_jsonw_kv_null(w, key);
    else
        dh_jsonw_kv_bool(w, key, v != 0);
}

static void kv_nonempty(struct dh_jsonw *w, const char *key, const char *s)
{
    dh_jsonw_kv_string(w, key, s && *s ? s : NULL);
}

/* "aa:bb:cc:dd:ee:ff" for any length (devlink prints InfiniBand's 20 bytes the same way). */
static void kv_hw_addr(struct dh_jsonw *w, const char *key, const uint8_t *addr, size_t len)
{
    char buf[3 * DH_DEVLINK_HW_ADDR_MAX + 1];
    size_t off = 0;
    for (size_t i = 0; i < len && i < DH_DEVLINK_HW_ADDR_MAX; i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%02x", i ? ":" : "", addr[i]);
    buf[off] = '\0';
    dh_jsonw_kv_string(w, key, len ? buf : NULL);
}

static const char *fn_state_name(int v)
{
    return v == DEVLINK_PORT_FN_STATE_ACTIVE     ? "active"
           : v == DEVLINK_PORT_FN_STATE_INACTIVE ? "inactive"
                                                 : NULL;
}

static const char *fn_opstate_name(int v)
{
    return v == DEVLINK_PORT_FN_OPSTATE_ATTACHED   ? "attached"
           : v == DEVLINK_PORT_FN_OPSTATE_DETACHED ? "detached"
                                                   : NULL;
}

static void write_port(struct dh_jsonw *w, const struct dh_devlink_port *p)
{
    char h[192], name[256];
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "port", p->index >= 0 ? dl_port_name(p, name, sizeof(name)) : NULL);
    dh_jsonw_kv_string(w, "device", dl_handle(p->bus, p->dev, h, sizeof(h)));
    kv_i64_or_null(w, "index", p->index);
    dh_jsonw_kv_string(w, "flavour", p->has_flavour ? dh_devlink_flavour_to_string(p->flavour) : NULL);
    kv_i64_or_null(w, "controller", p->controller);
    kv_tristate(w, "external", p->external);
    kv_i64_or_null(w, "pfnum", p->pfnum);
    kv_i64_or_null(w, "vfnum", p->vfnum);
    kv_i64_or_null(w, "sfnum", p->sfnum);
    kv_i64_or_null(w, "port_number", p->port_number);
    kv_i64_or_null(w, "split_subport", p->split_subport);
    dh_jsonw_kv_string(w, "type", dh_devlink_port_type_to_string(p->type));
    kv_nonempty(w, "netdev", p->netdev);
    dh_jsonw_kv_int_or_null(w, "ifindex", p->ifindex ? (long long)p->ifindex : -1);
    kv_nonempty(w, "switch_id", p->switch_id);
    dh_jsonw_key(w, "function");
    if (p->has_function) {
        dh_jsonw_begin_object(w);
        kv_hw_addr(w, "hw_addr", p->hw_addr, p->hw_addr_len);
        dh_jsonw_kv_string(w, "state", fn_state_name(p->fn_state));
        dh_jsonw_kv_string(w, "opstate", fn_opstate_name(p->fn_opstate));
        dh_jsonw_end_object(w);
    } else
        dh_jsonw_null(w);
    dh_jsonw_end_object(w);
}

static void write_numbers(struct dh_jsonw *w, const char *key, const struct dh_devlink_ports *t,
                          const struct dh_devlink_pf *f, enum devlink_port_flavour flavour)
{
    dh_jsonw_key(w, key);
    dh_jsonw_begin_array(w);
    /* ports are sorted by index, which drivers allocate in creation order, not by number: a list
     * for people is sorted by number */
    int64_t last = -1;
    for (;;) {
        int64_t next = -1;
        for (size_t i = 0; i < t->n_ports; i++) {
            const struct dh_devlink_port *p = &t->ports[i];
            int64_t v = dl_port_number(p);
            if (dl_port_of_pf(p, f, flavour) && v > last && (next < 0 || v < next))
                next = v;
        }
        if (next < 0)
            break;
        dh_jsonw_int(w, next);
        last = next;
    }
    dh_jsonw_end_array(w);
}

static void write_pf_members(struct dh_jsonw *w, const struct dh_devlink_ports *t,
                             const struct dh_devlink_pf *f)
{
    char h[192], name[256], mac[18];
    const struct dh_devlink_port *p = f->port >= 0 ? &t->ports[f->port] : NULL;
    dh_jsonw_kv_string(w, "device", dl_handle(f->bus, f->dev, h, sizeof(h)));
    dh_jsonw_kv_int(w, "controller", f->controller);
    dh_jsonw_kv_bool(w, "external", f->external);
    dh_jsonw_kv_int(w, "pfnum", f->pfnum);
    dh_jsonw_kv_string(w, "port", p && p->index >= 0 ? dl_port_name(p, name, sizeof(name)) : NULL);
    kv_nonempty(w, "netdev", p ? p->netdev : NULL);
    if (f->mac_source != DH_DEVLINK_MAC_NONE)
        dh_format_mac(f->mac, mac);
    dh_jsonw_kv_string(w, "mac", f->mac_source != DH_DEVLINK_MAC_NONE ? mac : NULL);
    dh_jsonw_kv_string(w, "mac_source",
                       f->mac_source != DH_DEVLINK_MAC_NONE ? dh_devlink_mac_source_to_string(f->mac_source)
                                                            : NULL);
    kv_nonempty(w, "why_no_mac", f->why_no_mac);
}

void dh_devlink_ports_write_json(struct dh_jsonw *w, const struct dh_devlink_ports *t)
{
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "source", dh_devlink_source_to_string(t->source));
    kv_nonempty(w, "fallback_reason", t->fallback_reason);
    dh_jsonw_key(w, "ports");
    dh_jsonw_begin_array(w);
    for (size_t i = 0; i < t->n_ports; i++)
        write_port(w, &t->ports[i]);
    dh_jsonw_end_array(w);
    dh_jsonw_key(w, "pfs");
    dh_jsonw_begin_array(w);
    for (size_t i = 0; i < t->n_pfs; i++) {
        dh_jsonw_begin_object(w);
        write_pf_members(w, t, &t->pfs[i]);
        write_numbers(w, "vfs", t, &t->pfs[i], DEVLINK_PORT_FLAVOUR_PCI_VF);
        write_numbers(w, "sfs", t, &t->pfs[i], DEVLINK_PORT_FLAVOUR_PCI_SF);
        dh_jsonw_end_object(w);
    }
    dh_jsonw_end_array(w);
    dh_jsonw_end_object(w);
}

void dh_devlink_match_write_members(struct dh_jsonw *w, const struct dh_devlink_ports *t,
                                    const struct dh_devlink_match *m)
{
    const struct dh_devlink_port *p = m->port;
    char h[192], name[256];
    dh_jsonw_kv_string(w, "netdev", p->netdev);
    dh_jsonw_kv_int_or_null(w, "ifindex", p->ifindex ? (long long)p->ifindex : -1);
    dh_jsonw_kv_string(w, "port", p->index >= 0 ? dl_port_name(p, name, sizeof(name)) : NULL);
    dh_jsonw_kv_string(w, "device", dl_handle(p->bus, p->dev, h, sizeof(h)));
    kv_i64_or_null(w, "index", p->index);
    dh_jsonw_kv_string(w, "flavour", dh_devlink_flavour_to_string(p->flavour));
    kv_i64_or_null(w, "controller", p->controller);
    kv_tristate(w, "external", p->external);
    kv_i64_or_null(w, "pfnum", p->pfnum);
    kv_i64_or_null(w, "vfnum", p->vfnum);
    kv_i64_or_null(w, "sfnum", p->sfnum);
    dh_jsonw_key(w, "pf");
    dh_jsonw_begin_object(w);
    write_pf_members(w, t, m->pf);
    dh_jsonw_end_object(w);
    dh_jsonw_kv_string(w, "source", dh_devlink_source_to_string(t->source));
}
