/* The claims tests' fixture: see claimhost.h. */
#include "test.h"

#include "claimhost.h"
#include "util/fileio.h"
#include "vpd_blob.h"

static const char config_text[] =
        "{\"pools\": ["
        " {\"name\": \"vfs\", \"selectors\": {\"rootDevices\": [\"0000:03:00.0\"]}},"
        " {\"name\": \"offpath\", \"device_spec\": {\"address\": \"0000:81:00.0\", \"remote_managed\": "
        "\"true\","
        "  \"physical_network\": \"physnet1\"}},"
        " {\"name\": \"raw\", \"device_spec\": {\"address\": \"0000:82:00.0\"}, \"bind\": false},"
        " {\"name\": \"noserial\", \"device_spec\": {\"address\": \"0000:83:00.0\", \"remote_managed\": "
        "true}}"
        "]}";

static void on_event(void *userdata, const char *type, const char *data)
{
    (void)data;
    struct claimhost *c = userdata;
    if (c->n_events < 64)
        snprintf(c->events[c->n_events++], sizeof(c->events[0]), "%s", type);
}

static int link_facts(void *userdata, const char *ifname, struct dh_link_facts *ret, struct dh_error *err)
{
    (void)err;
    struct claimhost *c = userdata;
    *ret = (struct dh_link_facts){0};
    if (strcmp(ifname, c->failing_ifname) == 0)
        ret->addresses = strdup("192.0.2.9/24");
    return 0;
}

static void add_pf(struct fake_tree *t, const char *pf, uint16_t device, int group)
{
    fake_pci_add(t, pf, 0x15b3, device, 0x020000);
    fake_pci_bind(t, pf, "mlx5_core");
    fake_pci_iommu_group(t, pf, group);
    fake_pci_sriov(t, pf, 8, 0x101e, 1, 1);
}

static void open_all(struct claimhost *c)
{
    struct dh_error err = {0};
    if (dh_store_open(c->db, &c->store, &err) < 0)
        fail_msg("store: %s", err.message);
    struct dh_pools_options o = {.host = c->host,
                                 .store = c->store,
                                 .config = c->config,
                                 .net = &c->net,
                                 .on_event = on_event,
                                 .event_userdata = c};
    if (dh_pools_new(&o, &c->pools, &err) < 0)
        fail_msg("pools: %s", err.message);
}

struct claimhost *claimhost_new(void)
{
    struct claimhost *c = calloc(1, sizeof(*c));
    struct fake_tree *t = c->tree = fake_tree_new();
    c->kernel = fake_kernel_new(t);
    fake_kernel_add_default_drivers(c->kernel);
    fake_write_str(t, "proc/1/mountinfo", "");
    fake_write_str(t, "proc/swaps", "Filename Type Size Used Priority\n");

    fake_pci_add(t, "0000:03:00.0", 0x15b3, 0x101d, 0x020000);
    fake_pci_bind(t, "0000:03:00.0", "mlx5_core");
    fake_pci_iommu_group(t, "0000:03:00.0", 3);
    fake_pci_sriov(t, "0000:03:00.0", 8, 0x101e, 2, 1);

    add_pf(t, "0000:81:00.0", 0xa2d6, 81);
    static const char *const ro[] = {"SN=OFFPATH0001", "PN=MBF2H332A", NULL};
    uint8_t vpd[256];
    size_t n = vpd_blob_build(vpd, sizeof(vpd), "BlueField-2", ro, NULL);
    fake_pci_write_bytes(t, "0000:81:00.0", "vpd", vpd, n);
    char dir[256];
    snprintf(dir, sizeof(dir), "%s", fake_pci_dir(t, "0000:81:00.0"));
    fake_netdev_add(t, dir, "p0", "0c:42:a1:81:00:00", "up");
    add_pf(t, "0000:82:00.0", 0xa2d6, 82);
    add_pf(t, "0000:83:00.0", 0xa2d6, 83);

    if (dh_host_new(fake_tree_root(t), &c->host, NULL) < 0)
        fail_msg("host");
    fake_kernel_attach(c->kernel, c->host);
    /* VFs created the way the kernel does; autoprobe on: they come up on mlx5_core */
    static const struct {
        const char *pf;
        const char *n;
    } vfs[] = {{"0000:03:00.0", "4"}, {"0000:81:00.0", "2"}, {"0000:82:00.0", "2"}, {"0000:83:00.0", "1"}};
    for (size_t i = 0; i < sizeof(vfs) / sizeof(vfs[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_numvfs", vfs[i].pf);
        if (dh_host_write_attr(c->host, path, vfs[i].n) < 0)
            fail_msg("VFs on %s", vfs[i].pf);
    }
    fake_pci_write(t, "0000:03:00.4", "numa_node", "1\n");
    fake_pci_write(t, "0000:03:00.5", "numa_node", "1\n");

    json_t *doc = json_loads(config_text, 0, NULL);
    struct dh_error err = {0};
    if (dh_config_parse(doc, &c->config, &err) < 0)
        fail_msg("config: %s", err.message);
    json_decref(doc);
    c->net = (struct dh_vfio_net){.link_facts = link_facts, .userdata = c};
    snprintf(c->db, sizeof(c->db), "%s/state.db", fake_tree_root(t));
    c->config->bind_timeout_ms = 500;
    c->config->restore_wait_ms = 300;
    open_all(c);
    return c;
}

void claimhost_restart(struct claimhost *c)
{
    dh_pools_free(c->pools);
    dh_store_close(c->store);
    open_all(c);
}

void claimhost_free(struct claimhost *c)
{
    if (!c)
        return;
    dh_pools_free(c->pools);
    dh_store_close(c->store);
    dh_config_free(c->config);
    dh_host_free(c->host);
    fake_kernel_free(c->kernel);
    fake_tree_free(c->tree);
    free(c);
}

json_t *claimhost_claim(struct claimhost *c, const char *owner, const char *pool, const char *address,
                        int count, int expect_error)
{
    struct dh_claim_request req = {
            .owner = owner, .pool = pool, .address = address, .count = count, .numa_node = -1};
    char *text = NULL;
    struct dh_error err = {0};
    int r = dh_pools_claim(c->pools, &req, &text, NULL, &err);
    if (expect_error) {
        if (r != expect_error)
            fail_msg("claim %s/%s: expected %d, got %d (%s)", pool ? pool : "-", address ? address : "-",
                     expect_error, r, err.message);
        return NULL;
    }
    if (r < 0)
        fail_msg("claim %s/%s failed: %d %s", pool ? pool : "-", address ? address : "-", r, err.message);
    json_t *doc = json_loads(text, 0, NULL);
    free(text);
    return doc;
}

const char *claimhost_driver(struct claimhost *c, const char *bdf)
{
    static char buf[64];
    char path[128];
    char *s = NULL;
    snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver", bdf);
    buf[0] = '\0';
    if (dh_readlink_basename_at(dh_host_fd(c->host), path, &s) == 0) {
        snprintf(buf, sizeof(buf), "%s", s);
        free(s);
    }
    return buf;
}
