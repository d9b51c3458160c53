/* device_spec address matching: glob fields and missing parts, regexes anchored at the start only
 * (Python re.match), Nova's exact-PF-address-matches-its-VFs rule, and what is never matched. */
#include "select-kit.h"

#define ALL_PCI                                                                                   \
    "0000:00:00.0 0000:03:00.0 0000:03:00.1 0000:03:00.2 0000:03:00.3 0000:04:00.0 0000:04:00.1 " \
    "0000:04:00.2 "                                                                               \
    "0000:05:00.0 0000:05:00.1"

static void glob_fields_and_missing_parts(void **state)
{
    struct two_hosts_fixture *fx = *state;
    static const struct {
        const char *address, *want;
    } cases[] = {
            {"0000:03:00.3", "0000:03:00.3"},
            {"*:03:00.*", "0000:03:00.0 0000:03:00.1 0000:03:00.2 0000:03:00.3"},
            {"03:00.2", "0000:03:00.2"},
            {"00.1", "0000:03:00.1 0000:04:00.1 0000:05:00.1"},
            {"04:00", "0000:04:00.0 0000:04:00.1 0000:04:00.2"},
            {"04:00.", "0000:04:00.0 0000:04:00.1 0000:04:00.2"},
            {".2", "0000:03:00.2 0000:04:00.2"},
            {":00.", ALL_PCI},
            {"*", ALL_PCI},
            {"*:*:*.*", ALL_PCI},
            {"0:3:0.3", "0000:03:00.3"},
            {"0000:03:00.3", "0000:03:00.3"},
            {"0001:03:00.3", ""},
            {"0000:06:00.0", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char json[128];
        snprintf(json, sizeof(json), "{\"device_spec\": {\"address\": \"%s\"}}", cases[i].address);
        const char *got = selected_by(json, fx->bf);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("address %s selected \"%s\", want \"%s\"", cases[i].address, got, cases[i].want);
    }
}

static void no_address_matches_every_pci_function_but_no_sf(void **state)
{
    struct two_hosts_fixture *fx = *state;
    assert_string_equal(selected_by("{\"device_spec\": {}}", fx->bf), ALL_PCI);
    assert_string_equal(selected_by("{\"device_spec\": {\"vendor_id\": \"15b3\"}}", fx->bf),
                        "0000:03:00.0 0000:03:00.1 0000:03:00.2 0000:03:00.3");
    assert_string_equal(
            selected_by("{\"device_spec\": {\"vendor_id\": \"15B3\", \"product_id\": \"101E\"}}", fx->bf),
            "0000:03:00.2 0000:03:00.3");
}

static void regex_is_anchored_at_the_start_only(void **state)
{
    struct two_hosts_fixture *fx = *state;
    static const struct {
        const char *address, *want;
    } cases[] = {
            /* "0" matches every bus that starts with 0, as re.match("0", "03") does */
            {"{\"bus\": \"0\"}", ALL_PCI},
            /* re.match("3", "03") is None: no implicit search */
            {"{\"bus\": \"3\"}", ""},
            {"{\"bus\": \"3$\"}", ""},
            {"{\"bus\": \".3\"}", "0000:03:00.0 0000:03:00.1 0000:03:00.2 0000:03:00.3"},
            {"{\"bus\": \"03$\", \"function\": \"[23]\"}", "0000:03:00.2 0000:03:00.3"},
            {"{\"function\": \"[2-3]\"}", "0000:03:00.2 0000:03:00.3 0000:04:00.2"},
            {"{\"bus\": \"0[45]\", \"function\": \"1\"}", "0000:04:00.1 0000:05:00.1"},
            {"{\"slot\": \"0\", \"function\": \"0\"}", "0000:00:00.0 0000:03:00.0 0000:04:00.0 0000:05:00.0"},
            {"{\"bus\": \"03|05\", \"function\": \"0\"}", "0000:03:00.0 0000:05:00.0"},
            {"{\"bus\": \"a|05\", \"function\": \"0\"}", "0000:05:00.0"},
            /* the domain field is "0000": a prefix matches */
            {"{\"domain\": \"00\", \"bus\": \"00\"}", "0000:00:00.0"},
            {"{\"domain\": \"^0000$\", \"bus\": \"00\"}", "0000:00:00.0"},
            {"{\"domain\": \"1\"}", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char json[256];
        snprintf(json, sizeof(json), "{\"device_spec\": {\"address\": %s}}", cases[i].address);
        const char *got = selected_by(json, fx->bf);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("address %s selected \"%s\", want \"%s\"", cases[i].address, got, cases[i].want);
    }
}

static void regex_prefix_matches_a_longer_field(void **state)
{
    struct two_hosts_fixture *fx = *state;
    /* the analogue of re.match("03", "030"): domain 10000 starts with "1000", so it matches; a
     * glob cannot name that domain (Nova's MAX_DOMAIN is ffff) but "*" covers it */
    assert_string_equal(selected_by("{\"device_spec\": {\"address\": {\"domain\": \"1000\"}}}", fx->wide),
                        "10000:01:00.0");
    assert_string_equal(selected_by("{\"device_spec\": {\"address\": {\"domain\": \"1000$\"}}}", fx->wide),
                        "");
    assert_string_equal(selected_by("{\"device_spec\": {\"address\": \"*:01:00.0\"}}", fx->wide),
                        "10000:01:00.0");
}

static void exact_pf_address_also_matches_its_vfs(void **state)
{
    struct two_hosts_fixture *fx = *state;
    static const struct {
        const char *spec, *want;
    } cases[] = {
            {"{\"address\": \"0000:03:00.0\"}", "0000:03:00.0 0000:03:00.2 0000:03:00.3"},
            /* ids apply to the function matched: only the VFs carry 101e */
            {"{\"address\": \"0000:03:00.0\", \"product_id\": \"101e\"}", "0000:03:00.2 0000:03:00.3"},
            {"{\"address\": \"0:3:0.0\", \"product_id\": \"101e\"}", "0000:03:00.2 0000:03:00.3"},
            {"{\"address\": \"0000:04:00.0\"}", "0000:04:00.0 0000:04:00.1 0000:04:00.2"},
            /* a PF without VFs enabled has nothing more to match */
            {"{\"address\": \"0000:03:00.1\"}", "0000:03:00.1"},
            /* not a single address: Nova's is_single_address() is false, so no VFs */
            {"{\"address\": \"*:03:00.0\"}", "0000:03:00.0"},
            {"{\"address\": \"0000:03:00.\"}", "0000:03:00.0 0000:03:00.1 0000:03:00.2 0000:03:00.3"},
            /* a VF's or a plain function's address matches that function only */
            {"{\"address\": \"0000:03:00.2\"}", "0000:03:00.2"},
            {"{\"address\": \"0000:05:00.0\"}", "0000:05:00.0"},
            /* a regex whose fields are all plain hex numbers is a single address too */
            {"{\"address\": {\"domain\": \"0000\", \"bus\": \"03\", \"slot\": \"00\", \"function\": \"0\"}}",
             "0000:03:00.0 0000:03:00.2 0000:03:00.3"},
            {"{\"address\": {\"bus\": \"03\", \"slot\": \"00\", \"function\": \"0\"}}", "0000:03:00.0"},
            {"{\"address\": {\"domain\": \"0000\", \"bus\": \"03\", \"slot\": \"00\", \"function\": "
             "\"[0]\"}}",
             "0000:03:00.0"},
            /* Nova joins the literal fields ("0:3:0.0"), which names no device: no PF rule, and "3"
             * does not match bus "03" */
            {"{\"address\": {\"domain\": \"0\", \"bus\": \"3\", \"slot\": \"0\", \"function\": \"0\"}}", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char json[256];
        snprintf(json, sizeof(json), "{\"device_spec\": %s}", cases[i].spec);
        const char *got = selected_by(json, fx->bf);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s selected \"%s\", want \"%s\"", cases[i].spec, got, cases[i].want);
    }
    assert_string_equal(selected_by("{\"device_spec\": {\"address\": \"0000:81:00.0\"}}", fx->wide),
                        "0000:81:00.0 0000:81:00.2 0000:81:00.3 0000:81:00.4 0000:81:00.5 0000:81:00.6 "
                        "0000:81:00.7 0000:81:01.0 0000:81:01.1");
}

static void list_entries_are_ored_and_the_first_match_is_reported(void **state)
{
    struct two_hosts_fixture *fx = *state;
    struct dh_selector *s =
            parse_ok("{\"device_spec\": [{\"address\": \"0000:03:00.2\"}, {\"vendor_id\": \"15b3\"}, {}]}");
    assert_int_equal(dh_select_match_index(s, func_at(fx->bf, "0000:03:00.2"), fx->bf), 0);
    assert_int_equal(dh_select_match_index(s, func_at(fx->bf, "0000:03:00.3"), fx->bf), 1);
    assert_int_equal(dh_select_match_index(s, func_at(fx->bf, "0000:05:00.0"), fx->bf), 2);
    assert_int_equal(dh_select_match_index(s, func_at(fx->bf, "mlx5_core.sf.4"), fx->bf), -1);
    assert_int_equal(dh_select_match_index(NULL, func_at(fx->bf, "0000:05:00.0"), fx->bf), -1);
    assert_int_equal(dh_select_match_index(s, NULL, fx->bf), -1);
    assert_int_equal(dh_select_match_index(s, func_at(fx->bf, "0000:05:00.0"), NULL), -1);
    dh_select_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(glob_fields_and_missing_parts, two_hosts_setup, two_hosts_teardown),
            DH_TEST_SETUP(no_address_matches_every_pci_function_but_no_sf, two_hosts_setup,
                          two_hosts_teardown),
            DH_TEST_SETUP(regex_is_anchored_at_the_start_only, two_hosts_setup, two_hosts_teardown),
            DH_TEST_SETUP(regex_prefix_matches_a_longer_field, two_hosts_setup, two_hosts_teardown),
            DH_TEST_SETUP(exact_pf_address_also_matches_its_vfs, two_hosts_setup, two_hosts_teardown),
            DH_TEST_SETUP(list_entries_are_ored_and_the_first_match_is_reported, two_hosts_setup,
                          two_hosts_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
