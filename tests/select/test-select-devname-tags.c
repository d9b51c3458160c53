/* device_spec devname matching (the function owning the netdev; a PF's devname also matches its
 * VFs), tags read from the first matching entry (strings lower-cased, booleans as "true"/"false"),
 * remote_managed matching and Nova's host checks for remote_managed entries. */
#include "select-kit.h"

static void devname_selects_the_owner_and_a_pfs_vfs(void **state)
{
    struct bluefield_fixture *fx = *state;
    static const struct {
        const char *spec, *want;
    } cases[] = {
            {"{\"devname\": \"ens1f0v0\"}", "0000:03:00.2"},
            {"{\"devname\": \"ens1f0np0\"}", "0000:03:00.0 0000:03:00.2 0000:03:00.3"},
            /* a representor hangs off the PF's device: Nova resolves it to the PF as well */
            {"{\"devname\": \"pf0hpf\"}", "0000:03:00.0 0000:03:00.2 0000:03:00.3"},
            {"{\"devname\": \"ens1f0np0\", \"product_id\": \"101e\"}", "0000:03:00.2 0000:03:00.3"},
            {"{\"devname\": \"ens1f0np0\", \"vendor_id\": \"8086\"}", ""},
            {"{\"devname\": \"enp5s0\"}", "0000:05:00.0"},
            /* an SF's netdev: the device_spec form never selects SFs */
            {"{\"devname\": \"enp3s0f0s88\"}", ""},
            /* a virtual netdev belongs to no function; a missing one to nothing */
            {"{\"devname\": \"br0\"}", ""},
            {"{\"devname\": \"nosuch0\"}", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char json[256];
        snprintf(json, sizeof(json), "{\"device_spec\": %s}", cases[i].spec);
        const char *got = selected_by(json, fx->inv);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s selected \"%s\", want \"%s\"", cases[i].spec, got, cases[i].want);
    }
}

static void tags_come_from_the_first_matching_entry(void **state)
{
    struct bluefield_fixture *fx = *state;
    struct dh_selector *s = parse_ok("{\"device_spec\": ["
                                     "{\"address\": \"0000:03:00.2\", \"physical_network\": \"PhysNet1\", "
                                     "\"trusted\": true},"
                                     "{\"vendor_id\": \"15b3\", \"physical_network\": \"physnet2\", "
                                     "\"remote_managed\": \"No\", \"custom\": \"Yes\", \"flag\": false, "
                                     "\"managed\": \"YES\"}]}");
    const struct dh_func *vf0 = func_at(fx->inv, "0000:03:00.2"), *vf1 = func_at(fx->inv, "0000:03:00.3");
    assert_string_equal(dh_select_tag(s, vf0, fx->inv, "physical_network"), "physnet1");
    assert_string_equal(dh_select_tag(s, vf0, fx->inv, "trusted"), "true");
    /* the first entry that matches decides, even when a later one has the tag */
    assert_null(dh_select_tag(s, vf0, fx->inv, "remote_managed"));

    assert_string_equal(dh_select_tag(s, vf1, fx->inv, "physical_network"), "physnet2");
    assert_string_equal(dh_select_tag(s, vf1, fx->inv, "remote_managed"), "false");
    assert_string_equal(dh_select_tag(s, vf1, fx->inv, "managed"), "true");
    /* only the boolean tags are normalized; others are just lower-cased */
    assert_string_equal(dh_select_tag(s, vf1, fx->inv, "custom"), "yes");
    assert_string_equal(dh_select_tag(s, vf1, fx->inv, "flag"), "false");
    assert_null(dh_select_tag(s, vf1, fx->inv, "trusted"));
    assert_null(dh_select_tag(s, vf1, fx->inv, "vendor_id"));
    assert_null(dh_select_tag(s, vf1, fx->inv, NULL));

    /* no entry selects the e1000e function */
    assert_null(dh_select_tag(s, func_at(fx->inv, "0000:05:00.0"), fx->inv, "physical_network"));
    dh_select_free(s);

    s = parse_ok("{\"selectors\": {\"vendors\": [\"15b3\"]}}");
    assert_true(dh_select_match(s, vf0, fx->inv));
    assert_null(dh_select_tag(s, vf0, fx->inv, "physical_network"));
    dh_select_free(s);
}

/* remote_managed is a tag, not a filter: PFs and functions without a card serial stay selected, and
 * the pool layer makes them unavailable with a reason (tests/pool). */
static void remote_managed_is_a_tag_not_a_filter(void **state)
{
    struct bluefield_fixture *fx = *state;
    assert_string_equal(
            selected_by("{\"device_spec\": {\"vendor_id\": \"1b36\", \"remote_managed\": \"true\"}}",
                        fx->inv),
            "0000:04:00.0 0000:04:00.1 0000:04:00.2");
    assert_string_equal(
            selected_by("{\"device_spec\": {\"vendor_id\": \"1b36\", \"remote_managed\": false}}", fx->inv),
            "0000:04:00.0 0000:04:00.1 0000:04:00.2");
}

static void check_host(const struct dh_inventory *inv, const char *json, int want, const char *substr1,
                       const char *substr2)
{
    struct dh_selector *s = NULL;
    struct dh_error err = {0};
    if (parse_text(json, "gold", &s, &err) < 0)
        fail_msg("%s: %s", json, err.message);
    int r = dh_select_check_host(s, inv, &err);
    dh_select_free(s);
    if (r != want)
        fail_msg("%s: check_host returned %d (%s), want %d", json, r, err.message, want);
    if (substr1 && !strstr(err.message, substr1))
        fail_msg("%s: message \"%s\" lacks \"%s\"", json, err.message, substr1);
    if (substr2 && !strstr(err.message, substr2))
        fail_msg("%s: message \"%s\" lacks \"%s\"", json, err.message, substr2);
}

static void host_checks_of_remote_managed_entries(void **state)
{
    struct bluefield_fixture *fx = *state;
    check_host(fx->inv, "{\"device_spec\": {\"address\": \"0000:03:00.0\", \"remote_managed\": true}}",
               -EINVAL, "select: pool \"gold\": device_spec: remote_managed names PF 0000:03:00.0",
               "add \"product_id\": \"101e\"");
    check_host(fx->inv,
               "{\"device_spec\": {\"address\": \"0000:03:00.0\", \"product_id\": \"a2d6\", "
               "\"remote_managed\": true}}",
               -EINVAL, "a PF cannot be remote-managed", NULL);
    check_host(fx->inv,
               "{\"device_spec\": {\"address\": \"0000:03:00.0\", \"vendor_id\": \"8086\", \"product_id\": "
               "\"101e\", \"remote_managed\": true}}",
               -EINVAL, "not its VFs' ids 15b3:101e", NULL);
    check_host(fx->inv,
               "{\"device_spec\": {\"address\": \"0000:03:00.0\", \"product_id\": \"101e\", "
               "\"remote_managed\": true}}",
               0, NULL, NULL);
    check_host(fx->inv, "{\"device_spec\": {\"devname\": \"ens1f0np0\", \"remote_managed\": true}}", -EINVAL,
               "remote_managed names PF 0000:03:00.0", NULL);
    check_host(fx->inv, "{\"device_spec\": {\"devname\": \"ens1f0v0\", \"remote_managed\": true}}", 0, NULL,
               NULL);
    check_host(fx->inv,
               "{\"device_spec\": [{\"vendor_id\": \"15b3\"}, {\"devname\": \"nosuch0\", \"remote_managed\": "
               "true}]}",
               -EINVAL, "device_spec[1].devname \"nosuch0\"", "no PCI function on this host");
    /* the same entries without remote_managed need nothing from the host */
    check_host(fx->inv, "{\"device_spec\": {\"devname\": \"nosuch0\"}}", 0, NULL, NULL);
    check_host(fx->inv, "{\"device_spec\": {\"address\": \"0000:03:00.0\"}}", 0, NULL, NULL);
    /* not a single address: nothing to check */
    check_host(fx->inv, "{\"device_spec\": {\"address\": \"*:03:00.0\", \"remote_managed\": true}}", 0, NULL,
               NULL);
    check_host(fx->inv, "{\"selectors\": {\"pfNames\": [\"nosuch0\"]}}", 0, NULL, NULL);
    assert_int_equal(dh_select_check_host(NULL, fx->inv, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(devname_selects_the_owner_and_a_pfs_vfs, bluefield_fixture_setup,
                          bluefield_fixture_teardown),
            DH_TEST_SETUP(tags_come_from_the_first_matching_entry, bluefield_fixture_setup,
                          bluefield_fixture_teardown),
            DH_TEST_SETUP(remote_managed_is_a_tag_not_a_filter, bluefield_fixture_setup,
                          bluefield_fixture_teardown),
            DH_TEST_SETUP(host_checks_of_remote_managed_entries, bluefield_fixture_setup,
                          bluefield_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
