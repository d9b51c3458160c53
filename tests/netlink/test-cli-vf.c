/* `dpuhost vf` (cli/cmd-vf.c) run in-process on a fake host tree and the fake rtnetlink peer: text
 * and JSON output, setting and verifying, the PF netdev it picks, exit statuses, and bad input that
 * neither asks the kernel anything nor writes under /sys. The command opens netlink through the
 * context's nl_open, which run() sets to fake_open() (a dh_nl over the fake), so it never reaches
 * the kernel. */
#include "test.h"

#include <fcntl.h>
#include <jansson.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "cli.h"
#include "fake_netlink.h"
#include "hosts.h"
#include "run.h"
#include "tree_digest.h"
#include "util/macro.h"

static struct fake_nl *current_fake;

static int fake_open(struct dh_nl **ret, struct dh_error *err)
{
    if (!current_fake)
        return dh_error_set(err, -EPROTONOSUPPORT, "netlink: no fake installed");
    *ret = fake_nl_connect(current_fake);
    return 0;
}

struct fixture {
    struct fake_tree *tree;
    uint64_t digest;
    struct fake_nl *f;
    struct fake_vf *vf0;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->tree = host_bluefield();
    fx->f = fake_nl_new();
    /* the PF 0000:03:00.0's netdevs as the kernel would have them */
    fake_nl_add_link(fx->f, "ens1f0np0", 4, 0);
    fake_nl_add_link(fx->f, "pf0hpf", 5, 0);
    fake_nl_add_link(fx->f, "pf0vf0", 6, 0);
    fx->vf0 = fake_nl_add_vf(fx->f, 4, 0);
    memcpy(fx->vf0->mac, (uint8_t[]){0x02, 0, 0, 0, 0, 0x02}, 6);
    fake_nl_add_vf(fx->f, 4, 1)->vlan = 42;
    current_fake = fx->f;
    fx->digest = tree_digest(fake_tree_root(fx->tree));
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    uint64_t after = tree_digest(fake_tree_root(fx->tree));
    current_fake = NULL;
    fake_nl_free(fx->f);
    fake_tree_free(fx->tree);
    bool changed = after != fx->digest;
    free(fx);
    if (changed) {
        fprintf(stderr, "dpuhost vf wrote under the fake root\n");
        return -1;
    }
    return 0;
}

struct vf_call {
    struct cli_context ctx;
    int argc;
    char **argv;
};

static int call_vf(void *userdata)
{
    struct vf_call *c = userdata;
    return cmd_vf(&c->ctx, c->argc, c->argv);
}

/* Runs cmd_vf with the arguments (NULL-terminated), capturing stdout and stderr. json is an int:
 * va_start() after a parameter that undergoes promotion (a bool) is undefined. */
static struct run_output run(struct fixture *fx, int json, ...)
{
    char *argv[16] = {"vf"};
    int argc = 1;
    va_list ap;
    va_start(ap, json);
    for (const char *a; (a = va_arg(ap, const char *)) && argc < 15;)
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    struct vf_call c = {
            .ctx = {.root = fake_tree_root(fx->tree), .json = json, .prog = "dpuhost", .nl_open = fake_open},
            .argc = argc,
            .argv = argv,
    };
    struct run_output r;
    run_call_captured(call_vf, &c, &r);
    return r;
}

/* The IFLA_IFNAME of the first request. */
static const char *asked_ifname(struct fake_nl *f)
{
    const struct nlmsghdr *nlh = fake_nl_request(f, 0);
    const struct nlattr *a;
    mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg))
    {
        if (mnl_attr_get_type(a) == IFLA_IFNAME)
            return mnl_attr_get_str(a);
    }
    return NULL;
}

static void shows_settings_as_text(void **state)
{
    struct fixture *fx = *state;
    struct run_output r = run(fx, false, "0000:03:00.2", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    assert_non_null(strstr(r.out, "address: 0000:03:00.2\n"));
    assert_non_null(strstr(r.out, "pf: 0000:03:00.0\n"));
    assert_non_null(strstr(r.out, "pf_netdev: ens1f0np0\n"));
    assert_non_null(strstr(r.out, "vf_index: 0\n"));
    assert_non_null(strstr(r.out, "mac: 02:00:00:00:00:02\n"));
    assert_non_null(strstr(r.out, "vlan: 0\n"));
    assert_non_null(strstr(r.out, "link_state: auto\n"));
    /* the physical uplink, not the representors pf0hpf or pf0vf0 */
    assert_string_equal(asked_ifname(fx->f), "ens1f0np0");
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK), 0);
}

static void shows_settings_as_json_with_unknowns_as_null(void **state)
{
    struct fixture *fx = *state;
    fake_nl_vf(fx->f, 4, 1)->unreported = FAKE_VF_TRUST;
    struct run_output r = run(fx, true, "0000:03:00.3", NULL);
    assert_int_equal(r.status, 0);
    json_error_t jerr;
    json_t *doc = json_loads(r.out, 0, &jerr);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "address")), "0000:03:00.3");
    assert_int_equal(json_integer_value(json_object_get(doc, "vf_index")), 1);
    assert_int_equal(json_integer_value(json_object_get(doc, "vlan")), 42);
    assert_int_equal(json_integer_value(json_object_get(doc, "qos")), 0);
    assert_true(json_is_true(json_object_get(doc, "spoofchk")));
    assert_true(json_is_null(json_object_get(doc, "trust")));
    assert_string_equal(json_string_value(json_object_get(doc, "mac")), "00:00:00:00:00:00");
    json_decref(doc);
}

static void sets_and_prints_the_verified_result(void **state)
{
    struct fixture *fx = *state;
    struct run_output r = run(fx, true, "--mac", "02:11:22:33:44:55", "--vlan", "100,3", "--trust", "on",
                              "--spoofchk", "off", "--link-state", "disable", "0000:03:00.2", NULL);
    assert_string_equal(r.err, "");
    assert_int_equal(r.status, 0);
    assert_int_equal(fx->vf0->mac[1], 0x11);
    assert_int_equal(fx->vf0->vlan, 100);
    assert_int_equal(fx->vf0->qos, 3);
    assert_true(fx->vf0->trust);
    assert_false(fx->vf0->spoofchk);
    assert_int_equal(fx->vf0->link_state, IFLA_VF_LINK_STATE_DISABLE);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "mac")), "02:11:22:33:44:55");
    assert_int_equal(json_integer_value(json_object_get(doc, "vlan")), 100);
    assert_true(json_is_true(json_object_get(doc, "trust")));
    assert_string_equal(json_string_value(json_object_get(doc, "link_state")), "disable");
    json_decref(doc);
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK), 5);

    /* VLAN alone, QoS defaults to 0 */
    r = run(fx, false, "0000:03:00.2", "--vlan", "7", NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(fx->vf0->vlan, 7);
    assert_int_equal(fx->vf0->qos, 0);
}

static void bad_input_exits_2_and_asks_nothing(void **state)
{
    struct fixture *fx = *state;
    static const char *const cases[][4] = {
            {"03:00.2", NULL},
            {"0000:03:00.8", NULL},
            {"0000:03:00.2 ", NULL},
            {"mlx5_core.sf.4", NULL}, /* an SF name is an address elsewhere, not here */
            {"0000:03:00.2", "--mac", "02:11:22:33:44", NULL},
            {"0000:03:00.2", "--mac", "01:00:5e:00:00:01", NULL},
            {"0000:03:00.2", "--vlan", "4096", NULL},
            {"0000:03:00.2", "--vlan", "10,8", NULL},
            {"0000:03:00.2", "--vlan", "ten", NULL},
            {"0000:03:00.2", "--vlan", "10,", NULL},
            {"0000:03:00.2", "--trust", "maybe", NULL},
            {"0000:03:00.2", "--link-state", "up", NULL},
            {"0000:03:00.2", "--bogus", NULL},
            {"0000:03:00.2", "0000:03:00.3", NULL},
            {"--trust", "on", NULL},
            {"0000:03:00.0", NULL}, /* a PF */
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        struct run_output r = run(fx, false, cases[i][0], cases[i][1], cases[i][2], cases[i][3], NULL);
        if (r.status != EXIT_USAGE)
            fail_msg("case %zu (%s): exit %d, stderr %s", i, cases[i][0], r.status, r.err);
        assert_string_equal(r.out, "");
        assert_true(r.err[0] != '\0'); /* getopt words its own complaint about --bogus */
    }
    assert_int_equal(fake_nl_n_requests(fx->f), 0);
    struct run_output r = run(fx, false, "0000:03:00.2", "--mac", "01:00:5e:00:00:01", NULL);
    assert_string_equal(r.err,
                        "dpuhost: vf: MAC 01:00:5e:00:00:01 is a multicast address: a VF needs a unicast "
                        "MAC (lowest bit of the first octet clear, e.g. 02:00:00:00:00:01)\n");
    r = run(fx, false, "0000:03:00.0", NULL);
    assert_string_equal(
            r.err, "dpuhost: vf: 0000:03:00.0 is a pf function, not a VF (list VFs with: dpuhost functions "
                   "--kind vf)\n");
}

static void unknown_function_or_pf_without_netdev_exit_1(void **state)
{
    struct fixture *fx = *state;
    struct run_output r = run(fx, false, "0000:09:00.1", NULL);
    assert_int_equal(r.status, EXIT_FAIL);
    assert_non_null(strstr(r.err, "no function 0000:09:00.1 on this host"));
    /* an NVMe VF: its PF has no netdev */
    r = run(fx, false, "0000:04:00.1", NULL);
    assert_int_equal(r.status, EXIT_FAIL);
    assert_string_equal(r.err, "dpuhost: vf: PF 0000:04:00.0 of 0000:04:00.1 has no netdev that holds VF "
                               "settings (is its network driver bound? the settings are set through the PF's "
                               "netdev)\n");
    assert_int_equal(fake_nl_n_requests(fx->f), 0);
}

static void refusal_exits_1_with_the_reason(void **state)
{
    struct fixture *fx = *state;
    fx->vf0->vlan = 200;
    fx->vf0->vlan_clear_eperm = true;
    struct run_output r = run(fx, false, "0000:03:00.2", "--vlan", "0", NULL);
    assert_int_equal(r.status, EXIT_FAIL);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err,
                           "dpuhost: vf: 0000:03:00.2: netlink: ens1f0np0 refuses to clear the VLAN of "
                           "VF 0 (EPERM)"));
    assert_non_null(strstr(r.err, "missing capability"));
    assert_int_equal(fx->vf0->vlan, 200);

    /* and a kernel EINVAL is a failure, not bad input */
    fake_nl_fail_next(fx->f, RTM_SETLINK, -EINVAL, "VF VLAN not allowed");
    r = run(fx, false, "0000:03:00.2", "--vlan", "5", NULL);
    assert_int_equal(r.status, EXIT_FAIL);
    assert_non_null(strstr(r.err, "(kernel: VF VLAN not allowed)"));
}

static void legacy_pf_netdev_without_port_name_is_preferred(void **state)
{
    struct fixture *fx = *state;
    /* a netdev of the PF whose phys_port_name the kernel refuses: legacy SR-IOV mode */
    fake_netdev_add(fx->tree, fake_pci_dir(fx->tree, "0000:03:00.0"), "ens1f0", "0c:42:a1:00:00:01", "up");
    fx->digest = tree_digest(fake_tree_root(fx->tree));
    fake_nl_add_link(fx->f, "ens1f0", 7, 0);
    struct run_output r = run(fx, false, "0000:03:00.2", NULL);
    assert_int_equal(r.status, EXIT_FAIL); /* the fake's ens1f0 has no VF table */
    assert_string_equal(asked_ifname(fx->f), "ens1f0");
    assert_non_null(strstr(r.err, "ens1f0 reports no VF table"));
}

static void help_and_missing_netlink(void **state)
{
    struct fixture *fx = *state;
    struct run_output r = run(fx, false, "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Usage: dpuhost vf ADDR"));
    current_fake = NULL;
    r = run(fx, false, "0000:03:00.2", NULL);
    assert_int_equal(r.status, EXIT_FAIL);
    assert_string_equal(r.err, "dpuhost: netlink: no fake installed\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(shows_settings_as_text, setup, teardown),
            DH_TEST_SETUP(shows_settings_as_json_with_unknowns_as_null, setup, teardown),
            DH_TEST_SETUP(sets_and_prints_the_verified_result, setup, teardown),
            DH_TEST_SETUP(bad_input_exits_2_and_asks_nothing, setup, teardown),
            DH_TEST_SETUP(unknown_function_or_pf_without_netdev_exit_1, setup, teardown),
            DH_TEST_SETUP(refusal_exits_1_with_the_reason, setup, teardown),
            DH_TEST_SETUP(legacy_pf_netdev_without_port_name_is_preferred, setup, teardown),
            DH_TEST_SETUP(help_and_missing_netlink, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
