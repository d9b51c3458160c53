/* Both halves of an off-path port, end to end: the host side claims remote-managed VFs from a pool
 * (lib/pool, over a fake host) and publishes their binding profiles; the DPU side, whose eswitch
 * reports the host PF's MAC as the pcipf port's function hw_addr, looks each profile's
 * pf_mac_address and vf_num up and finds that VF's representor. The values travel as JSON, the way
 * they reach the DPU agent through the control plane. */
#include "test.h"

#include <jansson.h>

#include "claimhost.h"
#include "dpu.h"
#include "util/parse.h"

static void each_claimed_vf_finds_its_representor_on_the_dpu(void **state)
{
    (void)state;
    struct claimhost *c = claimhost_new();
    json_t *cl = claimhost_claim(c, "port-1", "offpath", NULL, 2, 0);
    json_t *fns = json_object_get(cl, "functions");
    assert_int_equal(json_array_size(fns), 2);
    /* the host PF's MAC, as the DPU's firmware reports it on the host PF's port */
    const char *pf_mac = json_string_value(
            json_object_get(json_object_get(json_array_get(fns, 0), "binding_profile"), "pf_mac_address"));
    assert_non_null(pf_mac);

    struct fake_dl *f = fake_dl_new();
    fake_dl_add_physical(f, "pci/0000:03:00.0", 1, 0, "p0", 10);
    fake_dl_add_pf(f, "pci/0000:03:00.0", 2, 1, true, 0, "pf0hpf", 11, pf_mac);
    for (unsigned vf = 0; vf < 8; vf++) {
        char name[16];
        snprintf(name, sizeof(name), "pf0vf%u", vf);
        fake_dl_add_vf(f, "pci/0000:03:00.0", 3 + vf, 1, true, 0, (uint16_t)vf, name, 12 + vf);
    }
    struct dh_devlink_ports *t = dpu_table(f, NULL);

    size_t i;
    json_t *fn;
    json_array_foreach (fns, i, fn) {
        json_t *bp = json_object_get(fn, "binding_profile");
        json_t *vf_num = json_object_get(bp, "vf_num");
        /* what the DPU agent gets: a MAC string and an integer (0 included) */
        assert_true(json_is_integer(vf_num));
        struct dh_devlink_query q = {.controller = -1, .flavour = DEVLINK_PORT_FLAVOUR_PCI_VF};
        assert_int_equal(dh_parse_mac(json_string_value(json_object_get(bp, "pf_mac_address")), q.pf_mac), 0);
        q.number = json_integer_value(vf_num);
        struct dh_devlink_match m;
        struct dh_error err = {0};
        if (dh_devlink_lookup(t, NULL, &q, &m, &err) < 0)
            fail_msg("%s: %s", json_string_value(json_object_get(fn, "address")), err.message);
        char want[16];
        snprintf(want, sizeof(want), "pf0vf%lld", (long long)q.number);
        assert_string_equal(m.port->netdev, want);
        assert_int_equal(m.port->vfnum, q.number);
    }
    dh_devlink_ports_free(t);
    fake_dl_free(f);
    json_decref(cl);
    claimhost_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(each_claimed_vf_finds_its_representor_on_the_dpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
