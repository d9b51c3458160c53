/* Setting a VF's admin settings: round trips, only the fields asked for are written (one RTM_SETLINK
 * each, to the PF's ifindex), verification after the write, EBUSY retries on the MAC, refusals
 * reported as missing capabilities, rollback of what was already changed, and bad input that sends
 * nothing at all. */
#include "test.h"

#include "util/macro.h"

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "fake_netlink.h"

#define PF "ens1f0np0"
#define PF_INDEX 4

struct fixture {
    struct fake_nl *f;
    struct dh_nl *nl;
    struct fake_vf *vf1;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->f = fake_nl_new();
    fake_nl_add_link(fx->f, PF, PF_INDEX, 0);
    for (unsigned vf = 0; vf < 2; vf++)
        fake_nl_add_vf(fx->f, PF_INDEX, vf);
    fx->vf1 = fake_nl_vf(fx->f, PF_INDEX, 1);
    fx->vf1->mac[0] = 0x02;
    fx->vf1->mac[5] = 0x01;
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

static struct dh_vf_config mac(uint8_t last)
{
    return (struct dh_vf_config){.has_mac = true, .mac = {0x02, 0xaa, 0, 0, 0, last}};
}

/* The i-th RTM_SETLINK sent. */
static const struct nlmsghdr *setlink(struct fake_nl *f, size_t nth)
{
    for (size_t i = 0, k = 0; i < fake_nl_n_requests(f); i++) {
        const struct nlmsghdr *nlh = fake_nl_request(f, i);
        if (nlh->nlmsg_type == RTM_SETLINK && k++ == nth)
            return nlh;
    }
    fail_msg("no RTM_SETLINK #%zu", nth);
    return NULL;
}

static void sets_every_field_and_reads_it_back(void **state)
{
    struct fixture *fx = *state;
    struct dh_vf_config want = mac(0x42);
    want.has_vlan = true;
    want.vlan = 4095;
    want.qos = 7;
    want.has_spoofchk = true;
    want.spoofchk = false;
    want.has_trust = true;
    want.trust = true;
    want.has_link_state = true;
    want.link_state = DH_VF_LINK_STATE_DISABLE;
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, &err), 0);
    assert_false(dh_error_is_set(&err));
    assert_memory_equal(fx->vf1->mac, want.mac, 6);
    assert_int_equal(fx->vf1->vlan, 4095);
    assert_int_equal(fx->vf1->qos, 7);
    assert_false(fx->vf1->spoofchk);
    assert_true(fx->vf1->trust);
    assert_int_equal(fx->vf1->link_state, IFLA_VF_LINK_STATE_DISABLE);
    /* VF 0 untouched */
    struct fake_vf *vf0 = fake_nl_vf(fx->f, PF_INDEX, 0);
    assert_int_equal(vf0->vlan, 0);
    assert_true(vf0->spoofchk);
    /* read originals, five writes, one read-back */
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK), 5);
    assert_int_equal(fake_nl_count(fx->f, RTM_GETLINK), 2);

    struct dh_vf_config got;
    assert_int_equal(dh_nl_vf_get(fx->nl, PF, 1, &got, NULL), 0);
    assert_memory_equal(got.mac, want.mac, 6);
    assert_int_equal(got.vlan, 4095);
    assert_true(got.trust);
}

static void writes_only_what_is_asked_one_message_each(void **state)
{
    struct fixture *fx = *state;
    struct dh_vf_config want = {.has_vlan = true, .vlan = 10, .qos = 2, .has_trust = true, .trust = true};
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, NULL), 0);
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK), 2);

    const struct nlmsghdr *s0 = setlink(fx->f, 0), *s1 = setlink(fx->f, 1);
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(s0);
    assert_int_equal(ifi->ifi_index, PF_INDEX); /* to the PF's ifindex, not by name */
    assert_int_equal(s0->nlmsg_flags & NLM_F_ACK, NLM_F_ACK);
    const struct nlattr *a = fake_nl_setlink_vf_attr(s0, IFLA_VF_VLAN);
    assert_non_null(a);
    struct ifla_vf_vlan v;
    memcpy(&v, mnl_attr_get_payload(a), sizeof(v));
    assert_int_equal(v.vf, 1);
    assert_int_equal(v.vlan, 10);
    assert_int_equal(v.qos, 2);
    assert_null(fake_nl_setlink_vf_attr(s0, IFLA_VF_MAC));
    assert_null(fake_nl_setlink_vf_attr(s0, IFLA_VF_TRUST));
    a = fake_nl_setlink_vf_attr(s1, IFLA_VF_TRUST);
    assert_non_null(a);
    struct ifla_vf_trust t;
    memcpy(&t, mnl_attr_get_payload(a), sizeof(t));
    assert_int_equal(t.vf, 1);
    assert_int_equal(t.setting, 1);
    /* the MAC and spoofchk were left alone */
    assert_int_equal(fx->vf1->mac[5], 0x01);
    assert_true(fx->vf1->spoofchk);
}

static void values_already_in_place_are_not_written(void **state)
{
    struct fixture *fx = *state;
    struct dh_vf_config want = {.has_spoofchk = true, .spoofchk = true, .has_vlan = true};
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, NULL), 0);
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK), 0);
    /* but still verified */
    assert_int_equal(fake_nl_count(fx->f, RTM_GETLINK), 2);
}

static void nothing_to_set_sends_nothing(void **state)
{
    struct fixture *fx = *state;
    struct dh_vf_config want = {0};
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, NULL), 0);
    assert_int_equal(fake_nl_n_requests(fx->f), 0);
}

static void bad_input_sends_nothing(void **state)
{
    struct fixture *fx = *state;
    struct {
        struct dh_vf_config c;
        const char *pf;
        const char *message;
    } cases[] = {
            {{.has_mac = true, .mac = {0x01, 0, 0x5e, 0, 0, 1}},
             PF,
             "vf: MAC 01:00:5e:00:00:01 is a multicast address: a VF needs a unicast MAC (lowest bit of the "
             "first octet clear, e.g. 02:00:00:00:00:01)"},
            {{.has_mac = true, .mac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, PF, NULL},
            {{.has_vlan = true, .vlan = 4096}, PF, "vf: VLAN 4096 is out of range: use 0 (none) to 4095"},
            {{.has_vlan = true, .vlan = 5, .qos = 8}, PF, "vf: QoS 8 is out of range: use 0 to 7"},
            {{.has_link_state = true, .link_state = 3},
             PF,
             "vf: link state 3 is not one of auto, enable, disable"},
            /* a bad field after good ones: nothing at all is written */
            {{.has_trust = true, .trust = true, .has_vlan = true, .vlan = 9999}, PF, NULL},
            {{.has_trust = true}, "bad/name", "netlink: 'bad/name' is not a valid interface name"},
            {{.has_trust = true}, NULL, NULL},
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        struct dh_error err = {0};
        assert_int_equal(dh_nl_vf_set(fx->nl, cases[i].pf, 1, &cases[i].c, &err), -EINVAL);
        assert_true(dh_error_is_set(&err));
        if (cases[i].message)
            assert_string_equal(err.message, cases[i].message);
    }
    assert_int_equal(fake_nl_n_requests(fx->f), 0);
    assert_int_equal(fx->vf1->mac[5], 0x01);
    assert_false(fx->vf1->trust);
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, NULL, NULL), -EINVAL);
}

static void validate_accepts_the_edges(void **state)
{
    (void)state;
    struct dh_vf_config c = {.has_mac = true, .mac = {0}, .has_vlan = true, .vlan = 0, .qos = 7};
    assert_int_equal(dh_vf_config_validate(&c, NULL), 0); /* zero MAC clears; QoS alone tags priority */
    c = (struct dh_vf_config){.has_mac = true, .mac = {0xfe, 1, 2, 3, 4, 5}, .has_vlan = true, .vlan = 4095};
    assert_int_equal(dh_vf_config_validate(&c, NULL), 0);
    /* fields without has_ are not looked at */
    c = (struct dh_vf_config){.vlan = 9999, .qos = 99, .mac = {0xff}, .link_state = 9};
    assert_int_equal(dh_vf_config_validate(&c, NULL), 0);
    assert_int_equal(dh_vf_config_validate(NULL, NULL), -EINVAL);
}

static void link_state_names(void **state)
{
    (void)state;
    enum dh_vf_link_state s;
    assert_int_equal(dh_vf_link_state_from_string("enable", &s), 0);
    assert_int_equal(s, DH_VF_LINK_STATE_ENABLE);
    assert_int_equal(dh_vf_link_state_from_string("disable", &s), 0);
    assert_int_equal(s, DH_VF_LINK_STATE_DISABLE);
    assert_int_equal(dh_vf_link_state_from_string("auto", &s), 0);
    assert_int_equal(s, DH_VF_LINK_STATE_AUTO);
    assert_int_equal(dh_vf_link_state_from_string("up", &s), -EINVAL);
    assert_int_equal(dh_vf_link_state_from_string(NULL, &s), -EINVAL);
    assert_string_equal(dh_vf_link_state_to_string(DH_VF_LINK_STATE_DISABLE), "disable");
    assert_null(dh_vf_link_state_to_string((enum dh_vf_link_state)3));
}

static void mac_busy_is_retried_until_it_works(void **state)
{
    struct fixture *fx = *state;
    fx->vf1->mac_busy = 3;
    struct dh_vf_config want = mac(0x77);
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, NULL), 0);
    assert_int_equal(fx->vf1->mac[5], 0x77);
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK), 4);
    assert_int_equal(fake_nl_n_sleeps(fx->f), 3);
    assert_int_equal(fake_nl_slept_ms(fx->f), 3 * DH_NL_MAC_BUSY_INTERVAL_MS);
}

static void mac_busy_gives_up_after_the_last_attempt(void **state)
{
    struct fixture *fx = *state;
    fx->vf1->mac_busy = 1000;
    struct dh_vf_config want = mac(0x77);
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, &err), -EBUSY);
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK), DH_NL_MAC_BUSY_ATTEMPTS);
    assert_int_equal(fake_nl_n_sleeps(fx->f), DH_NL_MAC_BUSY_ATTEMPTS - 1);
    assert_string_equal(err.message,
                        "netlink: the MAC of VF 1 on ens1f0np0 stayed busy (EBUSY) through 20 "
                        "attempts 100 ms apart: the VF's own driver may hold it; unbind the VF's "
                        "driver or try again later; nothing was changed");
    assert_int_equal(fx->vf1->mac[5], 0x01);

    /* the retry policy is a parameter */
    dh_nl_set_mac_busy_retry(fx->nl, 2, 5);
    size_t before = fake_nl_count(fx->f, RTM_SETLINK);
    dh_error_clear(&err);
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, &err), -EBUSY);
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK) - before, 2);
    assert_non_null(strstr(err.message, "through 2 attempts 5 ms apart"));
    dh_nl_set_mac_busy_retry(fx->nl, 0, 0); /* 0 attempts still makes one */
    before = fake_nl_count(fx->f, RTM_SETLINK);
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, NULL), -EBUSY);
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK) - before, 1);
}

static void busy_other_fields_are_not_retried(void **state)
{
    struct fixture *fx = *state;
    fake_nl_fail_next(fx->f, RTM_SETLINK, -EBUSY, NULL);
    struct dh_vf_config want = {.has_trust = true, .trust = true};
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, &err), -EBUSY);
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK), 1);
    assert_string_equal(err.message,
                        "netlink: setting the trust of VF 1 on ens1f0np0 to on failed: Device or "
                        "resource busy; nothing was changed");
}

static void ignored_write_fails_verification_and_rolls_back(void **state)
{
    struct fixture *fx = *state;
    fx->vf1->ignored = FAKE_VF_SPOOFCHK;
    struct dh_vf_config want = mac(0x55);
    want.has_spoofchk = true;
    want.spoofchk = false;
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, &err), -EIO);
    assert_string_equal(
            err.message,
            "netlink: VF 1 of ens1f0np0: the driver accepted spoof checking off but reports on "
            "afterwards (it ignored the write or changed it); the settings changed before were restored");
    /* the MAC that did change is back */
    assert_int_equal(fx->vf1->mac[5], 0x01);
    assert_true(fx->vf1->spoofchk);
}

static void unverifiable_write_is_an_error(void **state)
{
    struct fixture *fx = *state;
    fx->vf1->unreported = FAKE_VF_TRUST; /* accepts trust but reports 0xFFFFFFFF */
    struct dh_vf_config want = {.has_trust = true, .trust = true};
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, &err), -EIO);
    assert_string_equal(err.message, "netlink: VF 1 of ens1f0np0: the driver accepted trust on but does not "
                                     "report it, so the write cannot be verified; the trust was not reported "
                                     "before, so it could not be restored");
}

static void trust_unsupported_is_a_missing_capability(void **state)
{
    struct fixture *fx = *state;
    fx->vf1->unreported = FAKE_VF_TRUST;
    fx->vf1->refused = FAKE_VF_TRUST;
    struct dh_vf_config got;
    assert_int_equal(dh_nl_vf_get(fx->nl, PF, 1, &got, NULL), 0);
    assert_false(got.has_trust);
    struct dh_vf_config want = {.has_trust = true, .trust = false};
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, &err), -EOPNOTSUPP);
    assert_string_equal(err.message,
                        "netlink: ens1f0np0 cannot set the trust of VF 1: its driver does not "
                        "support it (EOPNOTSUPP); this is a missing capability of the device or of "
                        "its mode (an off-path DPU's host PF may not own the eswitch); nothing was "
                        "changed");
}

static void vlan_clear_refused_is_a_missing_capability_and_rolls_back(void **state)
{
    struct fixture *fx = *state;
    fx->vf1->vlan = 200;
    fx->vf1->vlan_clear_eperm = true;
    struct dh_vf_config want = mac(0x66);
    want.has_vlan = true; /* VLAN 0 QoS 0: clear it */
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, &err), -EOPNOTSUPP);
    assert_int_equal(err.code, -EOPNOTSUPP);
    assert_string_equal(err.message,
                        "netlink: ens1f0np0 refuses to clear the VLAN of VF 1 (EPERM); some DPUs do "
                        "not let the host remove a VF VLAN, so this is a missing capability: clear "
                        "it from the DPU side or keep the VLAN; the settings changed before were "
                        "restored");
    assert_int_equal(fx->vf1->vlan, 200);
    assert_int_equal(fx->vf1->mac[5], 0x01); /* the MAC written first was put back */
    /* MAC write, VLAN write (refused), MAC restore */
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK), 3);
}

static void other_eperm_names_privileges(void **state)
{
    struct fixture *fx = *state;
    fake_nl_fail_next(fx->f, RTM_SETLINK, -EPERM, NULL);
    struct dh_vf_config want = {.has_vlan = true, .vlan = 7};
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, &err), -EPERM);
    assert_non_null(
            strstr(err.message, "refused to set the VLAN of VF 1 (EPERM): dpuhost needs CAP_NET_ADMIN"));
}

static void failed_restore_is_reported(void **state)
{
    struct fixture *fx = *state;
    fx->vf1->vlan = 300;
    struct dh_vf_config want = {.has_vlan = true,
                                .vlan = 0,
                                .qos = 3,
                                .has_link_state = true,
                                .link_state = DH_VF_LINK_STATE_ENABLE};
    struct dh_error err = {0};
    fake_nl_fail_next(fx->f, RTM_SETLINK, 0, NULL);                            /* VLAN: acknowledged */
    fake_nl_fail_next(fx->f, RTM_SETLINK, -EOPNOTSUPP, "link state is fixed"); /* link state */
    fake_nl_fail_next(fx->f, RTM_SETLINK, -EIO, "firmware timeout");           /* restoring the VLAN */
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, &err), -EOPNOTSUPP);
    assert_string_equal(err.message,
                        "netlink: ens1f0np0 cannot set the link state of VF 1: its driver does not "
                        "support it (EOPNOTSUPP) (kernel: link state is fixed); this is a missing "
                        "capability of the device or of its mode (an off-path DPU's host PF may not "
                        "own the eswitch); restoring the VLAN to 300 qos 0 failed too (Input/output "
                        "error)");
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK), 3);
}

static void readback_failure_rolls_back(void **state)
{
    struct fixture *fx = *state;
    struct dh_vf_config want = mac(0x99);
    struct dh_error err = {0};
    /* the originals are read, the MAC is written, the read-back fails */
    fake_nl_fail_nth(fx->f, RTM_GETLINK, 1, -EIO, "device reset in progress");
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, &err), -EIO);
    assert_string_equal(err.message, "netlink: VF 1 of ens1f0np0: the settings were written but could not be "
                                     "read back (netlink: reading the VF settings of ens1f0np0 failed: "
                                     "Input/output error (kernel: device reset in progress)); the settings "
                                     "changed before were restored");
    assert_int_equal(fx->vf1->mac[5], 0x01);
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK), 2);
}

static void originals_unreadable_writes_nothing(void **state)
{
    struct fixture *fx = *state;
    struct dh_vf_config want = mac(0x99);
    struct dh_error err = {0};
    assert_int_equal(dh_nl_vf_set(fx->nl, "ens9", 1, &want, &err), -ENODEV);
    assert_string_equal(err.message, "netlink: no network interface named 'ens9' (list them with: ip link)");
    dh_error_clear(&err);
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 7, &want, &err), -ENOENT);
    assert_string_equal(err.message, "netlink: ens1f0np0 has no VF 7 (it has 2 VFs, 0-1)");
    dh_error_clear(&err);
    fake_nl_fail_next(fx->f, RTM_GETLINK, 0, NULL); /* an acknowledgement without the link */
    assert_int_equal(dh_nl_vf_set(fx->nl, PF, 1, &want, &err), -EBADMSG);
    assert_non_null(strstr(err.message, "no RTM_NEWLINK in the reply"));
    assert_int_equal(fake_nl_count(fx->f, RTM_SETLINK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(sets_every_field_and_reads_it_back, setup, teardown),
            DH_TEST_SETUP(writes_only_what_is_asked_one_message_each, setup, teardown),
            DH_TEST_SETUP(values_already_in_place_are_not_written, setup, teardown),
            DH_TEST_SETUP(nothing_to_set_sends_nothing, setup, teardown),
            DH_TEST_SETUP(bad_input_sends_nothing, setup, teardown),
            DH_TEST(validate_accepts_the_edges),
            DH_TEST(link_state_names),
            DH_TEST_SETUP(mac_busy_is_retried_until_it_works, setup, teardown),
            DH_TEST_SETUP(mac_busy_gives_up_after_the_last_attempt, setup, teardown),
            DH_TEST_SETUP(busy_other_fields_are_not_retried, setup, teardown),
            DH_TEST_SETUP(ignored_write_fails_verification_and_rolls_back, setup, teardown),
            DH_TEST_SETUP(unverifiable_write_is_an_error, setup, teardown),
            DH_TEST_SETUP(trust_unsupported_is_a_missing_capability, setup, teardown),
            DH_TEST_SETUP(vlan_clear_refused_is_a_missing_capability_and_rolls_back, setup, teardown),
            DH_TEST_SETUP(other_eperm_names_privileges, setup, teardown),
            DH_TEST_SETUP(failed_restore_is_reported, setup, teardown),
            DH_TEST_SETUP(readback_failure_rolls_back, setup, teardown),
            DH_TEST_SETUP(originals_unreadable_writes_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
