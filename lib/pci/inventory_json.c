/* The inventory's JSON form: the names here are the contract of docs/inventory.md, shared by the
 * CLI (--json and, through it, the text tables) and the HTTP API. Every key is always present;
 * absent facts are null, so consumers never have to guess between "missing" and "not applicable".
 * Written with the streaming writer (dpuhost/jsonw.h): see bench/README.md for why. */
#include "inventory-internal.h"

#include "util/macro.h"

static void strv_write(struct dh_jsonw *w, const char *key, char *const *v, size_t n)
{
    dh_jsonw_key(w, key);
    dh_jsonw_begin_array(w);
    for (size_t i = 0; i < n; i++)
        dh_jsonw_string(w, v[i]);
    dh_jsonw_end_array(w);
}

static void sriov_write(struct dh_jsonw *w, const struct dh_func *f)
{
    dh_jsonw_key(w, "sriov");
    if (f->kind != DH_FUNC_PF) {
        dh_jsonw_null(w);
        return;
    }
    const struct dh_sriov *s = &f->sriov;
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_int_or_null(w, "total_vfs", s->total_vfs);
    dh_jsonw_kv_int_or_null(w, "num_vfs", s->num_vfs);
    dh_jsonw_kv_hex(w, "vf_device_id", s->vf_device_id, 4);
    dh_jsonw_kv_int_or_null(w, "offset", s->offset);
    dh_jsonw_kv_int_or_null(w, "stride", s->stride);
    if (s->drivers_autoprobe < 0)
        dh_jsonw_kv_null(w, "drivers_autoprobe");
    else
        dh_jsonw_kv_bool(w, "drivers_autoprobe", s->drivers_autoprobe);
    dh_jsonw_end_object(w);
}

static void representor_write(struct dh_jsonw *w, const struct dh_port_name *p)
{
    dh_jsonw_key(w, "representor");
    if (p->flavour == DH_PORT_NONE) {
        dh_jsonw_null(w);
        return;
    }
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "flavour", dh_port_flavour_to_string(p->flavour));
    dh_jsonw_kv_int_or_null(w, "controller", p->controller);
    dh_jsonw_kv_int_or_null(w, "pf", p->pf);
    dh_jsonw_kv_int_or_null(w, "vf", p->vf);
    dh_jsonw_kv_int_or_null(w, "sf", p->sf);
    dh_jsonw_kv_int_or_null(w, "port", p->port);
    dh_jsonw_kv_int_or_null(w, "split", p->split);
    dh_jsonw_end_object(w);
}

static void netdevs_write(struct dh_jsonw *w, const struct dh_func *f)
{
    dh_jsonw_key(w, "netdevs");
    dh_jsonw_begin_array(w);
    for (size_t i = 0; i < f->n_netdevs; i++) {
        const struct dh_netdev *n = &f->netdevs[i];
        dh_jsonw_begin_object(w);
        dh_jsonw_kv_string(w, "name", n->name);
        dh_jsonw_kv_string(w, "mac", n->mac);
        dh_jsonw_kv_string(w, "operstate", n->operstate);
        dh_jsonw_kv_string(w, "phys_port_name", n->phys_port_name);
        dh_jsonw_kv_string(w, "phys_switch_id", n->phys_switch_id);
        representor_write(w, &n->port);
        dh_jsonw_end_object(w);
    }
    dh_jsonw_end_array(w);
}

static void nvme_write(struct dh_jsonw *w, const struct dh_func *f)
{
    dh_jsonw_key(w, "nvme");
    if (!f->nvme_controller) {
        dh_jsonw_null(w);
        return;
    }
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "controller", f->nvme_controller);
    strv_write(w, "namespaces", f->nvme_namespaces, f->n_nvme_namespaces);
    dh_jsonw_end_object(w);
}

static void card_write(struct dh_jsonw *w, const struct dh_func *f)
{
    const struct dh_vpd *v = f->card;
    dh_jsonw_key(w, "card");
    if (!v) {
        dh_jsonw_null(w);
        return;
    }
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "serial_number", dh_vpd_get(v, "SN"));
    dh_jsonw_kv_string(w, "part_number", dh_vpd_get(v, "PN"));
    dh_jsonw_kv_string(w, "name", v->name);
    dh_jsonw_kv_string(w, "source", f->card_source == DH_CARD_SELF ? "self" : "pf");
    dh_jsonw_key(w, "fields");
    dh_jsonw_begin_object(w);
    for (size_t i = 0; i < v->n_fields; i++)
        dh_jsonw_kv_string(w, v->fields[i].keyword, v->fields[i].value);
    dh_jsonw_end_object(w);
    dh_jsonw_end_object(w);
}

void dh_func_write_json(struct dh_jsonw *w, const struct dh_func *f)
{
    dh_func_write_json_with(w, f, NULL, NULL);
}

void dh_func_write_json_with(struct dh_jsonw *w, const struct dh_func *f,
                             void (*extra)(struct dh_jsonw *w, const struct dh_func *f, void *userdata),
                             void *userdata)
{
    const bool is_sf = f->kind == DH_FUNC_SF;
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "address", f->address);
    dh_jsonw_kv_string(w, "kind", dh_func_kind_to_string(f->kind));
    dh_jsonw_kv_hex(w, "vendor_id", f->vendor_id, 4);
    dh_jsonw_kv_hex(w, "device_id", f->device_id, 4);
    dh_jsonw_kv_hex(w, "subsystem_vendor_id", f->subsystem_vendor_id, 4);
    dh_jsonw_kv_hex(w, "subsystem_device_id", f->subsystem_device_id, 4);
    dh_jsonw_kv_hex(w, "class", f->class_code, 6);
    dh_jsonw_kv_string(w, "class_name",
                       f->class_code < 0 ? NULL : dh_pci_class_name((uint32_t)f->class_code));
    dh_jsonw_kv_string(w, "driver", f->driver);
    dh_jsonw_kv_string(w, "driver_override", f->driver_override);
    dh_jsonw_kv_int_or_null(w, "iommu_group", f->iommu_group);
    if (is_sf)
        dh_jsonw_kv_null(w, "iommu_group_peers");
    else
        strv_write(w, "iommu_group_peers", f->iommu_group_peers, f->n_iommu_group_peers);
    dh_jsonw_kv_int_or_null(w, "numa_node", f->numa_node);
    dh_jsonw_kv_string(w, "pf", f->pf);
    dh_jsonw_kv_int_or_null(w, "vf_index", f->kind == DH_FUNC_VF ? f->vf_index : -1);
    dh_jsonw_kv_int_or_null(w, "sf_num", is_sf ? f->sf_num : -1);
    sriov_write(w, f);
    netdevs_write(w, f);
    nvme_write(w, f);
    card_write(w, f);
    dh_jsonw_kv_string(w, "vpd_error", f->vpd_error);
    if (extra)
        extra(w, f, userdata);
    dh_jsonw_end_object(w);
}

void dh_inventory_write_json(struct dh_jsonw *w, const struct dh_inventory *inv,
                             const struct dh_func_filter *filter)
{
    dh_jsonw_begin_object(w);
    dh_jsonw_key(w, "functions");
    dh_jsonw_begin_array(w);
    for (size_t i = 0; i < inv->n_funcs; i++)
        if (dh_func_filter_match(filter, &inv->funcs[i]))
            dh_func_write_json(w, &inv->funcs[i]);
    dh_jsonw_end_array(w);
    dh_jsonw_end_object(w);
}

struct card_row {
    const char *serial;
    const struct dh_func *first; /* whose card this is, preferring a function with its own VPD */
    size_t *members;             /* indexes into inv->funcs */
    size_t n_members;
};

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const struct card_row *)a)->serial, ((const struct card_row *)b)->serial);
}

static int cmp_serial_index(const void *a, const void *b, void *inv)
{
    const struct dh_inventory *i = inv;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(dh_func_card_serial(&i->funcs[x]), dh_func_card_serial(&i->funcs[y]));
    return c ? c : (x < y ? -1 : x > y);
}

void dh_inventory_write_cards_json(struct dh_jsonw *w, const struct dh_inventory *inv)
{
    /* Functions that share a serial number form one card: sort function indexes by serial (stable
     * by position), then emit one row per run. */
    _cleanup_free_ size_t *idx = calloc(inv->n_funcs ? inv->n_funcs : 1, sizeof(*idx));
    _cleanup_free_ struct card_row *rows = calloc(inv->n_funcs ? inv->n_funcs : 1, sizeof(*rows));
    size_t n = 0, n_rows = 0;
    if (!idx || !rows) {
        dh_jsonw_fail(w, -ENOMEM);
        return;
    }
    for (size_t i = 0; i < inv->n_funcs; i++)
        if (dh_func_card_serial(&inv->funcs[i]))
            idx[n++] = i;
    qsort_r(idx, n, sizeof(*idx), cmp_serial_index, (void *)inv);
    for (size_t s = 0, e; s < n; s = e) {
        const char *sn = dh_func_card_serial(&inv->funcs[idx[s]]);
        for (e = s + 1; e < n && streq(dh_func_card_serial(&inv->funcs[idx[e]]), sn); e++)
            ;
        struct card_row *row = &rows[n_rows++];
        row->serial = sn;
        row->members = idx + s;
        row->n_members = e - s;
        for (size_t k = s; k < e; k++) {
            const struct dh_func *f = &inv->funcs[idx[k]];
            if (!row->first || (f->card_source == DH_CARD_SELF && row->first->card_source != DH_CARD_SELF))
                row->first = f;
        }
    }
    qsort(rows, n_rows, sizeof(*rows), cmp_row);

    dh_jsonw_begin_object(w);
    dh_jsonw_key(w, "cards");
    dh_jsonw_begin_array(w);
    for (size_t r = 0; r < n_rows; r++) {
        const struct card_row *row = &rows[r];
        int vfs = 0, sfs = 0;
        dh_jsonw_begin_object(w);
        dh_jsonw_kv_string(w, "serial_number", row->serial);
        dh_jsonw_kv_string(w, "part_number", dh_vpd_get(row->first->card, "PN"));
        dh_jsonw_kv_string(w, "name", row->first->card->name);
        dh_jsonw_key(w, "functions");
        dh_jsonw_begin_array(w);
        for (size_t k = 0; k < row->n_members; k++) {
            const struct dh_func *f = &inv->funcs[row->members[k]];
            dh_jsonw_string(w, f->address);
            vfs += f->kind == DH_FUNC_VF;
            sfs += f->kind == DH_FUNC_SF;
        }
        dh_jsonw_end_array(w);
        dh_jsonw_key(w, "pfs");
        dh_jsonw_begin_array(w);
        for (size_t k = 0; k < row->n_members; k++)
            if (inv->funcs[row->members[k]].kind == DH_FUNC_PF)
                dh_jsonw_string(w, inv->funcs[row->members[k]].address);
        dh_jsonw_end_array(w);
        dh_jsonw_kv_int(w, "vf_count", vfs);
        dh_jsonw_kv_int(w, "sf_count", sfs);
        dh_jsonw_end_object(w);
    }
    dh_jsonw_end_array(w);
    dh_jsonw_end_object(w);
}

/* Serializes with write() and parses the result: the json_t forms cannot drift from the text. */
static json_t *via_writer(void (*write)(struct dh_jsonw *, const void *, const void *), const void *a,
                          const void *b)
{
    struct dh_jsonw *w = dh_jsonw_new(false);
    if (!w)
        return NULL;
    write(w, a, b);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = dh_jsonw_finish(w, &text, &len);
    dh_jsonw_free(w);
    return r < 0 ? NULL : json_loadb(text, len, 0, NULL);
}

static void write_func(struct dh_jsonw *w, const void *f, const void *unused)
{
    (void)unused;
    dh_func_write_json(w, f);
}

static void write_inventory(struct dh_jsonw *w, const void *inv, const void *filter)
{
    dh_inventory_write_json(w, inv, filter);
}

static void write_cards(struct dh_jsonw *w, const void *inv, const void *unused)
{
    (void)unused;
    dh_inventory_write_cards_json(w, inv);
}

json_t *dh_func_to_json(const struct dh_func *f)
{
    return via_writer(write_func, f, NULL);
}

json_t *dh_inventory_to_json(const struct dh_inventory *inv, const struct dh_func_filter *filter)
{
    return via_writer(write_inventory, inv, filter);
}

json_t *dh_inventory_cards_to_json(const struct dh_inventory *inv)
{
    return via_writer(write_cards, inv, NULL);
}
