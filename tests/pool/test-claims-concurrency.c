/* 64 clients claim one function each from a pool of 32, at once: exactly 32 succeed, none twice. */
#include "test.h"

#include <pthread.h>

#include <dpuhost/config.h>
#include <dpuhost/pool.h>

#include "fake_kernel.h"
#include "fake_sysfs.h"
#include "util/fileio.h"

struct shared {
    struct dh_pools *pools;
    pthread_barrier_t start;
};

struct client {
    struct shared *sh;
    int id;
    int result;
    char address[64];
};

static void *client(void *arg)
{
    struct client *c = arg;
    char owner[32];
    snprintf(owner, sizeof(owner), "vm-%d", c->id);
    struct dh_claim_request req = {.owner = owner, .pool = "big", .numa_node = -1};
    char *text = NULL;
    pthread_barrier_wait(&c->sh->start);
    c->result = dh_pools_claim(c->sh->pools, &req, &text, NULL, NULL);
    if (c->result == 0) {
        json_t *doc = json_loads(text, 0, NULL);
        snprintf(c->address, sizeof(c->address), "%s",
                 json_string_value(
                         json_object_get(json_array_get(json_object_get(doc, "functions"), 0), "address")));
        json_decref(doc);
    }
    free(text);
    return NULL;
}

static void run(bool bind)
{
    enum {
        FUNCS = 32,
        CLIENTS = 64
    };
    struct fake_tree *t = fake_tree_new();
    struct fake_kernel *k = fake_kernel_new(t);
    fake_kernel_add_default_drivers(k);
    fake_write_str(t, "proc/1/mountinfo", "");
    fake_pci_add(t, "0000:90:00.0", 0x15b3, 0x101d, 0x020000);
    fake_pci_bind(t, "0000:90:00.0", "mlx5_core");
    fake_pci_iommu_group(t, "0000:90:00.0", 90);
    fake_pci_sriov(t, "0000:90:00.0", 64, 0x101e, 1, 1);
    fake_pci_write(t, "0000:90:00.0", "sriov_drivers_autoprobe", "0\n");
    struct dh_host *host = NULL;
    assert_int_equal(dh_host_new(fake_tree_root(t), &host, NULL), 0);
    fake_kernel_attach(k, host);
    assert_int_equal(dh_host_write_attr(host, "sys/bus/pci/devices/0000:90:00.0/sriov_numvfs", "32"), 0);
    char cfgtext[256];
    snprintf(cfgtext, sizeof(cfgtext),
             "{\"pools\": [{\"name\": \"big\", \"selectors\": {\"rootDevices\": [\"0000:90:00.0\"]}, "
             "\"bind\": %s}]}",
             bind ? "true" : "false");
    json_t *doc = json_loads(cfgtext, 0, NULL);
    struct dh_config *cfg = NULL;
    assert_int_equal(dh_config_parse(doc, &cfg, NULL), 0);
    json_decref(doc);
    char db[512];
    snprintf(db, sizeof(db), "%s/state.db", fake_tree_root(t));
    struct dh_store *store = NULL;
    assert_int_equal(dh_store_open(db, &store, NULL), 0);
    struct dh_pools_options o = {.host = host, .store = store, .config = cfg};
    struct shared sh;
    assert_int_equal(dh_pools_new(&o, &sh.pools, NULL), 0);
    pthread_barrier_init(&sh.start, NULL, CLIENTS);

    struct client c[CLIENTS];
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        c[i] = (struct client){.sh = &sh, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, client, &c[i]), 0);
    }
    int ok = 0, exhausted = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        if (c[i].result == 0)
            ok++;
        else if (c[i].result == -ENOSPC)
            exhausted++;
        else
            fail_msg("client %d: unexpected %d", i, c[i].result);
    }
    assert_int_equal(ok, FUNCS);
    assert_int_equal(exhausted, CLIENTS - FUNCS);
    /* none twice, in memory or in the store */
    for (int i = 0; i < CLIENTS; i++)
        for (int j = i + 1; j < CLIENTS; j++)
            if (c[i].result == 0 && c[j].result == 0 && strcmp(c[i].address, c[j].address) == 0)
                fail_msg("%s claimed twice", c[i].address);
    struct dh_claim_record *v = NULL;
    size_t n = 0;
    assert_int_equal(dh_store_claim_list(store, NULL, &v, &n, NULL), 0);
    assert_int_equal(n, FUNCS);
    for (size_t i = 0; i < n; i++)
        dh_claim_record_clear(&v[i]);
    free(v);
    if (bind)
        for (int i = 0; i < CLIENTS; i++)
            if (c[i].result == 0) {
                char path[128], *drv = NULL;
                snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver", c[i].address);
                assert_int_equal(dh_readlink_basename_at(dh_host_fd(host), path, &drv), 0);
                assert_string_equal(drv, "vfio-pci");
                free(drv);
            }
    pthread_barrier_destroy(&sh.start);
    dh_pools_free(sh.pools);
    dh_store_close(store);
    dh_config_free(cfg);
    dh_host_free(host);
    fake_kernel_free(k);
    fake_tree_free(t);
}

static void sixty_four_clients_thirty_two_functions_without_binding(void **state)
{
    (void)state;
    run(false);
}

static void sixty_four_clients_thirty_two_functions_with_binding(void **state)
{
    (void)state;
    run(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(sixty_four_clients_thirty_two_functions_without_binding),
            DH_TEST(sixty_four_clients_thirty_two_functions_with_binding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
