/* phys_port_name parsing: every form the kernel prints, and garbage. */
#include "test.h"

#include <errno.h>

#include <dpuhost/inventory.h>

struct port_case {
    const char *in;
    enum dh_port_flavour flavour;
    int controller, port, split, pf, vf, sf;
};

static void parses_every_kernel_form(void **state)
{
    (void)state;
    static const struct port_case cases[] = {
            {"p0", DH_PORT_PHYSICAL, -1, 0, -1, -1, -1, -1},
            {"p1s2", DH_PORT_PHYSICAL, -1, 1, 2, -1, -1, -1},
            {"pf0", DH_PORT_PCIPF, -1, -1, -1, 0, -1, -1},
            {"pf1vf0", DH_PORT_PCIVF, -1, -1, -1, 1, 0, -1},
            {"pf0vf127", DH_PORT_PCIVF, -1, -1, -1, 0, 127, -1},
            {"pf0sf88", DH_PORT_PCISF, -1, -1, -1, 0, -1, 88},
            {"c1pf0", DH_PORT_PCIPF, 1, -1, -1, 0, -1, -1},
            {"c1pf0vf3", DH_PORT_PCIVF, 1, -1, -1, 0, 3, -1},
            {"c2pf1sf0", DH_PORT_PCISF, 2, -1, -1, 1, -1, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct port_case *c = &cases[i];
        struct dh_port_name p;
        if (dh_port_name_parse(c->in, &p) != 0)
            fail_msg("'%s' rejected", c->in);
        assert_int_equal(p.flavour, c->flavour);
        assert_int_equal(p.controller, c->controller);
        assert_int_equal(p.port, c->port);
        assert_int_equal(p.split, c->split);
        assert_int_equal(p.pf, c->pf);
        assert_int_equal(p.vf, c->vf);
        assert_int_equal(p.sf, c->sf);
    }
}

static void rejects_garbage_and_resets_output(void **state)
{
    (void)state;
    static const char *const bad[] = {
            "",     "p",      "pf",  "pfvf1", "pf0vf", "pf0vf1x", "c1p0",    "c1",           "cpf0",
            "eth0", "pf0xf1", "p0s", "P0",    "pf01",  "pf0sf",   "pf0vf-1", "p99999999999", " pf0",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dh_port_name p = {.flavour = DH_PORT_PCIVF, .pf = 5};
        if (dh_port_name_parse(bad[i], &p) == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(p.flavour, DH_PORT_NONE);
        assert_int_equal(p.pf, -1);
    }
    assert_int_equal(dh_port_name_parse(NULL, NULL), -EINVAL);
}

static void flavour_names(void **state)
{
    (void)state;
    assert_string_equal(dh_port_flavour_to_string(DH_PORT_PHYSICAL), "physical");
    assert_string_equal(dh_port_flavour_to_string(DH_PORT_PCIPF), "pcipf");
    assert_string_equal(dh_port_flavour_to_string(DH_PORT_PCIVF), "pcivf");
    assert_string_equal(dh_port_flavour_to_string(DH_PORT_PCISF), "pcisf");
    assert_null(dh_port_flavour_to_string(DH_PORT_NONE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(parses_every_kernel_form),
            DH_TEST(rejects_garbage_and_resets_output),
            DH_TEST(flavour_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
