/* Reading a VF's admin settings through its PF: every field, "driver does not report", a PF without
 * a VF table, a VF that is not there, a PF that is not there, and the request that is sent. */
#include "test.h"

#include "util/macro.h"

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "fake_netlink.h"

struct fixture {
    struct fake_nl *f;
    struct dh_nl *nl;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->f = fake_nl_new();
    fake_nl_add_link(fx->f, "ens1f0np0", 4, 0);
    fake_nl_add_link(fx->f, "veth0", 5, 0);
    fake_nl_add_link(fx->f, "ens1f1np1", 6, 0)->sriov = true; /* SR-IOV capable, no VFs */
    for (unsigned vf = 0; vf < 4; vf++) {
        struct fake_vf *v = fake_nl_add_vf(fx->f, 4, vf);
        v->mac[0] = 0x02;
        v->mac[5] = (uint8_t)(0x10 + vf);
    }
    struct fake_vf *v2 = fake_nl_vf(fx->f, 4, 2);
    v2->vlan = 100;
    v2->qos = 5;
    v2->spoofchk = false;
    v2->trust = true;
    v2->link_state = IFLA_VF_LINK_STATE_ENABLE;
    fx->nl = fake_nl_connect(fx->f);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    dh_nl_free(fx->nl);
    fake_nl_free(fx->f);
    free(fx);
    return 0;
}

static void reads_every_field(void **state)
{
    struct fixture *fx = *state;
    struct dh_vf_config c;
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_get(fx->nl, "ens1f0np0", 2, &c, &err), 0);
    assert_true(c.has_mac && c.has_vlan && c.has_spoofchk && c.has_trust && c.has_link_state);
    static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x12};
    assert_memory_equal(c.mac, mac, 6);
    assert_int_equal(c.vlan, 100);
    assert_int_equal(c.qos, 5);
    assert_false(c.spoofchk);
    assert_true(c.trust);
    assert_int_equal(c.link_state, DH_VF_LINK_STATE_ENABLE);

    assert_int_equal(dh_nl_vf_get(fx->nl, "ens1f0np0", 0, &c, &err), 0);
    assert_int_equal(c.vlan, 0);
    assert_true(c.spoofchk);
    assert_false(c.trust);
    assert_int_equal(c.link_state, DH_VF_LINK_STATE_AUTO);
    assert_false(dh_error_is_set(&err));
}

static void asks_for_vf_info_without_stats(void **state)
{
    struct fixture *fx = *state;
    struct dh_vf_config c;
    assert_int_equal(dh_nl_vf_get(fx->nl, "ens1f0np0", 1, &c, NULL), 0);
    assert_int_equal(fake_nl_n_requests(fx->f), 1);
    const struct nlmsghdr *req = fake_nl_request(fx->f, 0);
    assert_int_equal(req->nlmsg_type, RTM_GETLINK);
    const struct nlattr *a;
    bool name = false, mask = false;
    mnl_attr_for_each(a, req, sizeof(struct ifinfomsg))
    {
        if (mnl_attr_get_type(a) == IFLA_IFNAME) {
            assert_string_equal(mnl_attr_get_str(a), "ens1f0np0");
            name = true;
        }
        if (mnl_attr_get_type(a) == IFLA_EXT_MASK) {
            assert_int_equal(mnl_attr_get_u32(a), RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS);
            mask = true;
        }
    }
    assert_true(name && mask);
}

static void unreported_spoofchk_and_trust_are_unknown(void **state)
{
    struct fixture *fx = *state;
    fake_nl_vf(fx->f, 4, 1)->unreported = FAKE_VF_SPOOFCHK | FAKE_VF_TRUST;
    struct dh_vf_config c;
    assert_int_equal(dh_nl_vf_get(fx->nl, "ens1f0np0", 1, &c, NULL), 0);
    assert_true(c.has_mac);
    assert_false(c.has_spoofchk);
    assert_false(c.has_trust);
    assert_true(c.has_link_state);
}

static void not_a_pf_has_no_vf_table(void **state)
{
    struct fixture *fx = *state;
    struct dh_vf_config c;
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_get(fx->nl, "veth0", 0, &c, &err), -EOPNOTSUPP);
    assert_string_equal(err.message,
                        "netlink: veth0 reports no VF table: it is not an SR-IOV PF's netdev, or its "
                        "driver does not report VF settings");
}

static void missing_vf_and_sriov_off(void **state)
{
    struct fixture *fx = *state;
    struct dh_vf_config c;
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_get(fx->nl, "ens1f0np0", 4, &c, &err), -ENOENT);
    assert_string_equal(err.message, "netlink: ens1f0np0 has no VF 4 (it has 4 VFs, 0-3)");
    dh_error_clear(&err);
    assert_int_equal(dh_nl_vf_get(fx->nl, "ens1f1np1", 0, &c, &err), -ENOENT);
    assert_string_equal(
            err.message,
            "netlink: ens1f1np1 has no VFs: SR-IOV is off (sriov_numvfs is 0); create them first");
}

static void missing_pf_and_bad_names(void **state)
{
    struct fixture *fx = *state;
    struct dh_vf_config c;
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_get(fx->nl, "ens9", 0, &c, &err), -ENODEV);
    assert_string_equal(err.message, "netlink: no network interface named 'ens9' (list them with: ip link)");
    size_t sent = fake_nl_n_requests(fx->f);
    static const char *const bad[] = {"", "a-name-of-16-chr", "eth0/1", "eth:0", "eth 0", "..", NULL};
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        dh_error_clear(&err);
        assert_int_equal(dh_nl_vf_get(fx->nl, bad[i], 0, &c, &err), -EINVAL);
        assert_non_null(strstr(err.message, "not a valid interface name"));
    }
    assert_int_equal(fake_nl_n_requests(fx->f), sent);
    assert_int_equal(dh_nl_vf_get(NULL, "ens1f0np0", 0, &c, NULL), -EINVAL);
    assert_int_equal(dh_nl_vf_get(fx->nl, "ens1f0np0", 0, NULL, NULL), -EINVAL);
}

static void kernel_error_is_reported_with_its_text(void **state)
{
    struct fixture *fx = *state;
    struct dh_vf_config c;
    struct dh_error err = {0};
    fake_nl_fail_next(fx->f, RTM_GETLINK, -EMSGSIZE, "VF info too large");
    assert_int_equal(dh_nl_vf_get(fx->nl, "ens1f0np0", 0, &c, &err), -EMSGSIZE);
    assert_string_equal(err.message, "netlink: reading the VF settings of ens1f0np0 failed: Message too long "
                                     "(kernel: VF info too large)");
}

static void many_vfs_are_read(void **state)
{
    struct fixture *fx = *state;
    /* 250 VFs make a reply of about 50 KiB: more than one MNL_SOCKET_BUFFER_SIZE */
    fake_nl_add_link(fx->f, "big0", 7, 0);
    for (unsigned vf = 0; vf < 250; vf++)
        fake_nl_add_vf(fx->f, 7, vf)->vlan = vf;
    struct dh_vf_config c;
    assert_int_equal(dh_nl_vf_get(fx->nl, "big0", 249, &c, NULL), 0);
    assert_int_equal(c.vlan, 249);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(reads_every_field, setup, teardown),
            DH_TEST_SETUP(asks_for_vf_info_without_stats, setup, teardown),
            DH_TEST_SETUP(unreported_spoofchk_and_trust_are_unknown, setup, teardown),
            DH_TEST_SETUP(not_a_pf_has_no_vf_table, setup, teardown),
            DH_TEST_SETUP(missing_vf_and_sriov_off, setup, teardown),
            DH_TEST_SETUP(missing_pf_and_bad_names, setup, teardown),
            DH_TEST_SETUP(kernel_error_is_reported_with_its_text, setup, teardown),
            DH_TEST_SETUP(many_vfs_are_read, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
