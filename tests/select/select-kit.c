/* Helpers for the select tests: see select-kit.h. */
#include "select-kit.h"

#include <stdarg.h>

int parse_text(const char *json, const char *pool_name, struct dh_selector **ret, struct dh_error *err)
{
    json_error_t jerr;
    json_t *j = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        fail_msg("bad JSON in test: %s: %s", json, jerr.text);
    int r = dh_select_parse(j, pool_name, ret, err);
    json_decref(j);
    return r;
}

struct dh_selector *parse_ok(const char *json)
{
    struct dh_selector *s = NULL;
    struct dh_error err = {0};
    if (parse_text(json, NULL, &s, &err) < 0)
        fail_msg("%s: %s", json, err.message);
    assert_non_null(s);
    return s;
}

void parse_fails(const char *json, ...)
{
    struct dh_selector *s = NULL;
    struct dh_error err = {0};
    int r = parse_text(json, NULL, &s, &err);
    if (r != -EINVAL)
        fail_msg("%s: expected -EINVAL, got %d (%s)", json, r, err.message);
    assert_null(s);
    assert_true(strncmp(err.message, "select: ", 8) == 0);
    va_list ap;
    va_start(ap, json);
    for (const char *want; (want = va_arg(ap, const char *));)
        if (!strstr(err.message, want))
            fail_msg("%s: message \"%s\" lacks \"%s\"", json, err.message, want);
    va_end(ap);
}

const struct dh_func *func_at(const struct dh_inventory *inv, const char *address)
{
    const struct dh_func *f = dh_inventory_find(inv, address);
    if (!f)
        fail_msg("%s is not in the inventory", address);
    return f;
}

const char *selected(const struct dh_selector *s, const struct dh_inventory *inv)
{
    static char buf[4096];
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < inv->n_funcs; i++) {
        if (!dh_select_match(s, &inv->funcs[i], inv))
            continue;
        int n = snprintf(buf + used, sizeof(buf) - used, "%s%s", used ? " " : "", inv->funcs[i].address);
        if (n < 0 || (size_t)n >= sizeof(buf) - used)
            fail_msg("selected(): buffer too small");
        used += (size_t)n;
    }
    return buf;
}

const char *selected_by(const char *json, const struct dh_inventory *inv)
{
    struct dh_selector *s = parse_ok(json);
    const char *r = selected(s, inv);
    dh_select_free(s);
    return r;
}

struct fake_tree *host_wide(void)
{
    struct fake_tree *t = fake_tree_new();
    char dir[512];

    /* legacy-mode PF with 8 VFs and one SF */
    fake_pci_add(t, "0000:81:00.0", 0x15b3, 0x101d, 0x020000);
    fake_pci_bind(t, "0000:81:00.0", "mlx5_core");
    fake_pci_sriov(t, "0000:81:00.0", 16, 0x101e, 2, 1);
    snprintf(dir, sizeof(dir), "%s", fake_pci_dir(t, "0000:81:00.0"));
    fake_netdev_add(t, dir, "ens2f0", "0c:42:a1:00:01:00", "up");
    static const char *const vfs[] = {"0000:81:00.2", "0000:81:00.3", "0000:81:00.4", "0000:81:00.5",
                                      "0000:81:00.6", "0000:81:00.7", "0000:81:01.0", "0000:81:01.1"};
    for (unsigned i = 0; i < 8; i++) {
        fake_pci_add_vf(t, "0000:81:00.0", i, vfs[i]);
        fake_pci_bind(t, vfs[i], i < 4 ? "mlx5_core" : "vfio-pci");
    }
    fake_aux_add_sf(t, "0000:81:00.0", "mlx5_core.sf.9", 3);
    fake_aux_bind(t, "mlx5_core.sf.9", "mlx5_core.sf");

    /* InfiniBand PF with two VFs */
    fake_pci_add(t, "0000:82:00.0", 0x15b3, 0x101b, 0x020700);
    fake_pci_bind(t, "0000:82:00.0", "mlx5_core");
    fake_pci_sriov(t, "0000:82:00.0", 4, 0x101c, 1, 1);
    snprintf(dir, sizeof(dir), "%s", fake_pci_dir(t, "0000:82:00.0"));
    fake_netdev_add(t, dir, "ibp130s0", NULL, "up");
    fake_pci_add_vf(t, "0000:82:00.0", 0, "0000:82:00.1");
    fake_pci_add_vf(t, "0000:82:00.0", 1, "0000:82:00.2");

    /* switchdev PF without VFs, with SFs */
    fake_pci_add(t, "0000:83:00.0", 0x15b3, 0x101d, 0x020000);
    fake_pci_bind(t, "0000:83:00.0", "mlx5_core");
    fake_pci_sriov(t, "0000:83:00.0", 8, 0x101e, 2, 1);
    snprintf(dir, sizeof(dir), "%s", fake_pci_dir(t, "0000:83:00.0"));
    fake_netdev_add(t, dir, "ens3f0np0", "0c:42:a1:00:03:00", "up");
    fake_netdev_set_port(t, "ens3f0np0", "p0", "0c42a1000300");
    fake_netdev_add(t, dir, "en3f0pf0sf0", "0c:42:a1:00:03:01", "up");
    fake_netdev_set_port(t, "en3f0pf0sf0", "pf0sf0", "0c42a1000300");
    static const struct {
        const char *name;
        unsigned sfnum;
    } sfs[] = {{"mlx5_core.sf.2", 0}, {"mlx5_core.sf.3", 1}, {"mlx5_core.sf.5", 7}};
    for (size_t i = 0; i < 3; i++) {
        fake_aux_add_sf(t, "0000:83:00.0", sfs[i].name, sfs[i].sfnum);
        fake_aux_bind(t, sfs[i].name, "mlx5_core.sf");
    }

    /* a function in a domain above ffff (VMD) */
    fake_pci_add(t, "10000:01:00.0", 0x8086, 0x0a54, 0x010802);
    fake_pci_bind(t, "10000:01:00.0", "nvme");
    return t;
}

int two_hosts_setup(void **state)
{
    struct two_hosts_fixture *fx = calloc(1, sizeof(*fx));
    fx->bf_tree = host_bluefield();
    fx->bf = host_scan(fx->bf_tree);
    fx->wide_tree = host_wide();
    fx->wide = host_scan(fx->wide_tree);
    *state = fx;
    return 0;
}

int two_hosts_teardown(void **state)
{
    struct two_hosts_fixture *fx = *state;
    dh_inventory_free(fx->bf);
    dh_inventory_free(fx->wide);
    fake_tree_free(fx->bf_tree);
    fake_tree_free(fx->wide_tree);
    free(fx);
    return 0;
}
