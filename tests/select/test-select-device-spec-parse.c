/* Parsing Nova-style device_spec: every accepted form compiles, and every malformed shape is
 * rejected with a message that names the key (with its list index) and the offending value. */
#include "select-kit.h"

static void accepts_every_form(void **state)
{
    (void)state;
    static const char *const ok[] = {
            "{\"device_spec\": {\"vendor_id\": \"15b3\", \"product_id\": \"101e\"}}",
            "{\"device_spec\": [{\"vendor_id\": \"15b3\"}, {\"vendor_id\": \"8086\"}]}",
            "{\"device_spec\": {\"vendor_id\": \"*\", \"product_id\": \"*\"}}",
            "{\"device_spec\": {\"vendor_id\": \"15B3\", \"product_id\": \"A2D6\"}}",
            "{\"device_spec\": {}}",
            "{\"device_spec\": {\"address\": \"0000:03:00.2\"}}",
            "{\"device_spec\": {\"address\": \"*:03:00.*\"}}",
            "{\"device_spec\": {\"address\": \"03:00.2\"}}",
            "{\"device_spec\": {\"address\": \"00.2\"}}",
            "{\"device_spec\": {\"address\": \"03:00\"}}",
            "{\"device_spec\": {\"address\": \":00.\"}}",
            "{\"device_spec\": {\"address\": \".2\"}}",
            "{\"device_spec\": {\"address\": \"*\"}}",
            "{\"device_spec\": {\"address\": \"0:3:0.0\"}}",
            "{\"device_spec\": {\"address\": \"*:*:*.*\"}}",
            "{\"device_spec\": {\"address\": \"ffff:ff:1f.7\"}}",
            "{\"device_spec\": {\"address\": {\"bus\": \"0[34]\"}}}",
            ("{\"device_spec\": {\"address\": {\"domain\": \".*\", \"bus\": \"03\", \"slot\": \"00\", "
             "\"function\": \"[0-3]\"}}}"),
            "{\"device_spec\": {\"address\": {}}}",
            "{\"device_spec\": {\"address\": {\"bus\": \"0\\\\w\"}}}",
            "{\"device_spec\": {\"devname\": \"ens1f0np0\"}}",
            "{\"device_spec\": {\"devname\": \"does-not-exist\"}}",
            "{\"device_spec\": {\"vendor_id\": \"15b3\", \"physical_network\": \"physnet1\", \"trusted\": "
            "\"true\"}}",
            "{\"device_spec\": {\"remote_managed\": true}}",
            "{\"device_spec\": {\"remote_managed\": \"True\"}}",
            "{\"device_spec\": {\"remote_managed\": \"no\"}}",
            "{\"device_spec\": {\"managed\": false, \"custom_tag\": \"x\"}}",
            "{\"name\": \"gold\", \"size\": 3, \"device_spec\": {\"vendor_id\": \"15b3\"}}",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct dh_selector *s = parse_ok(ok[i]);
        assert_int_equal(dh_select_get_form(s), DH_SELECT_DEVICE_SPEC);
        dh_select_free(s);
    }
}

static void rejects_the_pool_shape(void **state)
{
    (void)state;
    parse_fails("[1]", "pool configuration [1]", "not an object", NULL);
    parse_fails("{\"device_spec\": {}, \"selectors\": {}}", "both \"device_spec\" and \"selectors\"", NULL);
    parse_fails("{\"name\": \"x\"}", "neither \"device_spec\" nor \"selectors\"", NULL);
    parse_fails("{\"device_spec\": 5}", "device_spec 5", "not an object or a list", NULL);
    parse_fails("{\"device_spec\": \"15b3\"}", "device_spec \"15b3\"", NULL);
    parse_fails("{\"device_spec\": []}", "device_spec []", "empty list", NULL);
    parse_fails("{\"device_spec\": [1]}", "device_spec[0] 1", "not an object", NULL);
    parse_fails("{\"device_spec\": [{}, [\"x\"]]}", "device_spec[1] [\"x\"]", "not an object", NULL);
}

static void rejects_bad_ids(void **state)
{
    (void)state;
    static const struct {
        const char *json, *key_value, *why;
    } bad[] = {
            {"{\"device_spec\": {\"vendor_id\": \"15bx\"}}", "device_spec.vendor_id \"15bx\"",
             "4 hex digits"},
            {"{\"device_spec\": {\"vendor_id\": \"0x15b3\"}}", "vendor_id \"0x15b3\"", "4 hex digits"},
            {"{\"device_spec\": {\"vendor_id\": \"15b\"}}", "vendor_id \"15b\"", "4 hex digits"},
            {"{\"device_spec\": {\"vendor_id\": \"15b33\"}}", "vendor_id \"15b33\"", "4 hex digits"},
            {"{\"device_spec\": {\"vendor_id\": \"\"}}", "vendor_id \"\"", "4 hex digits"},
            {"{\"device_spec\": {\"vendor_id\": \" 15b3\"}}", "vendor_id \" 15b3\"", "4 hex digits"},
            {"{\"device_spec\": {\"vendor_id\": \"**\"}}", "vendor_id \"**\"", "4 hex digits"},
            {"{\"device_spec\": {\"vendor_id\": 5555}}", "vendor_id 5555", "not a string"},
            {"{\"device_spec\": {\"product_id\": null}}", "product_id null", "not a string"},
            {"{\"device_spec\": {\"product_id\": \"10 1e\"}}", "product_id \"10 1e\"", "4 hex digits"},
            {"{\"device_spec\": [{\"vendor_id\": \"15b3\"}, {\"product_id\": \"zzzz\"}]}",
             "device_spec[1].product_id \"zzzz\"", "e.g. \"15b3\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parse_fails(bad[i].json, bad[i].key_value, bad[i].why, NULL);
}

static void rejects_bad_glob_addresses(void **state)
{
    (void)state;
    static const struct {
        const char *address, *key_value, *why;
    } bad[] = {
            {"\"\"", "address \"\"", "empty"},
            {"5", "address 5", "neither a glob string nor a regex object"},
            {"[\"0000:03:00.0\"]", "address [\"0000:03:00.0\"]", "neither a glob"},
            {"\"0000:03:00.8\"", "address \"0000:03:00.8\": function \"8\"", "above the maximum 7"},
            {"\"0000:03:20.0\"", "slot \"20\"", "above the maximum 1f"},
            {"\"10000:03:00.0\"", "domain \"10000\"", "up to 4 hex digits"},
            {"\"0000:103:00.0\"", "bus \"103\"", "up to 2 hex digits"},
            {"\"0000:03:00.10\"", "function \"10\"", "up to 1 hex digits"},
            {"\"0*:03:00.0\"", "domain \"0*\"", "not \"*\""},
            {"\"0000:0g:00.0\"", "address \"0000:0g:00.0\"", "unexpected character 'g'"},
            {"\"0x03:00.0\"", "address \"0x03:00.0\"", "unexpected character 'x'"},
            {"\" 0000:03:00.0\"", "address \" 0000:03:00.0\"", "unexpected character ' '"},
            {"\"0000:03:00.0.1\"", "address \"0000:03:00.0.1\"", "more than one '.'"},
            {"\"0:0000:03:00.0\"", "address \"0:0000:03:00.0\"", "more than three"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[256];
        snprintf(json, sizeof(json), "{\"device_spec\": {\"address\": %s}}", bad[i].address);
        parse_fails(json, "device_spec.", bad[i].key_value, bad[i].why, NULL);
    }
}

static void rejects_bad_regex_addresses(void **state)
{
    (void)state;
    static const struct {
        const char *address, *key_value, *why;
    } bad[] = {
            {"{\"bus\": \"(\"}", "address.bus \"(\"", "invalid regular expression"},
            {"{\"slot\": \"[0-\"}", "address.slot \"[0-\"", "invalid regular expression"},
            {"{\"bus\": \"(?:03)\"}", "address.bus \"(?:03)\"", "invalid regular expression"},
            {"{\"bus\": \"\\\\d\\\\d\"}", "address.bus \"\\\\d\\\\d\"", "\\d is Python regex syntax"},
            {"{\"bus\": 3}", "address.bus 3", "not a string"},
            {"{\"function\": \"\"}", "address.function \"\"", "empty"},
            {"{\"bsu\": \"03\"}", "address.bsu", "unknown key"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[256];
        snprintf(json, sizeof(json), "{\"device_spec\": [{}, {\"address\": %s}]}", bad[i].address);
        parse_fails(json, "device_spec[1].", bad[i].key_value, bad[i].why, NULL);
    }
}

static void rejects_address_with_devname_and_bad_devnames(void **state)
{
    (void)state;
    parse_fails("{\"device_spec\": {\"address\": \"0000:03:00.0\", \"devname\": \"ens1f0\"}}",
                "device_spec: \"address\" \"0000:03:00.0\" and \"devname\" \"ens1f0\" together", "use one",
                NULL);
    parse_fails("{\"device_spec\": {\"devname\": \"\"}}", "devname \"\"", "not an interface name", NULL);
    parse_fails("{\"device_spec\": {\"devname\": \"a/b\"}}", "devname \"a/b\"", "not an interface name",
                NULL);
    parse_fails("{\"device_spec\": {\"devname\": \"sixteen-chars-xx\"}}", "devname \"sixteen-chars-xx\"",
                NULL);
    parse_fails("{\"device_spec\": {\"devname\": \"eth 0\"}}", "devname \"eth 0\"", NULL);
    parse_fails("{\"device_spec\": {\"devname\": 7}}", "devname 7", NULL);
}

static void rejects_bad_tags(void **state)
{
    (void)state;
    static const struct {
        const char *tag, *key_value, *why;
    } bad[] = {
            {"\"physical_network\": 5", "physical_network 5", "string or a boolean"},
            {"\"physical_network\": null", "physical_network null", "string or a boolean"},
            {"\"physical_network\": [\"a\"]", "physical_network [\"a\"]", "string or a boolean"},
            {"\"physical_network\": \"\"", "physical_network \"\"", "empty"},
            {"\"remote_managed\": \"maybe\"", "remote_managed \"maybe\"", "not a boolean"},
            {"\"trusted\": \"ture\"", "trusted \"ture\"", "not a boolean"},
            {"\"managed\": 1", "managed 1", "string or a boolean"},
            {"\"vendors\": [\"15b3\"]", "device_spec.vendors", "selectors key"},
            {"\"pfNames\": [\"ens1f0\"]", "device_spec.pfNames", "selectors key"},
            {"\"vendor\": \"15b3\"", "device_spec.vendor:", "did you mean \"vendor_id\""},
            {"\"device_id\": \"101e\"", "device_spec.device_id:", "did you mean \"product_id\""},
            {"\"dev_name\": \"ens1f0\"", "device_spec.dev_name:", "did you mean \"devname\""},
            {"\"\": \"x\"", "device_spec:", "empty string"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[256];
        snprintf(json, sizeof(json), "{\"device_spec\": {\"vendor_id\": \"15b3\", %s}}", bad[i].tag);
        parse_fails(json, bad[i].key_value, bad[i].why, NULL);
    }
}

static void message_names_the_pool_and_escapes_values(void **state)
{
    (void)state;
    struct dh_selector *s = NULL;
    struct dh_error err = {0};
    assert_int_equal(parse_text("{\"device_spec\": [{}, {\"vendor_id\": \"1\\n5\"}]}", "gold", &s, &err),
                     -EINVAL);
    assert_null(s);
    assert_int_equal(err.code, -EINVAL);
    assert_non_null(strstr(err.message, "select: pool \"gold\": device_spec[1].vendor_id \"1\\n5\": "));
    assert_null(strchr(err.message, '\n'));

    /* a huge value is cut, not pasted whole */
    char json[1200];
    char big[1001];
    memset(big, 'a', 1000);
    big[1000] = '\0';
    snprintf(json, sizeof(json), "{\"device_spec\": {\"physical_network\": 5, \"x\": \"%s\"}}", big);
    dh_error_clear(&err);
    assert_int_equal(parse_text(json, NULL, &s, &err), -EINVAL);
    assert_non_null(strstr(err.message, "physical_network 5"));
    snprintf(json, sizeof(json), "{\"device_spec\": {\"vendor_id\": \"%s\"}}", big);
    dh_error_clear(&err);
    assert_int_equal(parse_text(json, NULL, &s, &err), -EINVAL);
    assert_non_null(strstr(err.message, "aaa...: not 4 hex digits"));
    assert_true(strlen(err.message) < 300);
}

static void embedded_nul_is_refused(void **state)
{
    (void)state;
    /* what json_loads(JSON_ALLOW_NUL) would produce from "eth\u00000" */
    json_t *j = json_pack("{s:{s:s%}}", "device_spec", "devname",
                          "eth\0"
                          "0",
                          (size_t)5);
    assert_non_null(j);
    struct dh_selector *s = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_select_parse(j, NULL, &s, &err), -EINVAL);
    assert_null(s);
    assert_string_equal(err.message,
                        "select: device_spec: a string contains a NUL character (\\u0000); remove it");
    json_decref(j);
}

static void null_arguments_are_refused(void **state)
{
    (void)state;
    struct dh_selector *s = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_select_parse(NULL, NULL, &s, &err), -EINVAL);
    assert_non_null(strstr(err.message, "(none)"));
    json_t *j = json_pack("{s:{}}", "device_spec");
    assert_int_equal(dh_select_parse(j, NULL, NULL, NULL), -EINVAL);
    json_decref(j);
    dh_select_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(accepts_every_form),
            DH_TEST(rejects_the_pool_shape),
            DH_TEST(rejects_bad_ids),
            DH_TEST(rejects_bad_glob_addresses),
            DH_TEST(rejects_bad_regex_addresses),
            DH_TEST(rejects_address_with_devname_and_bad_devnames),
            DH_TEST(rejects_bad_tags),
            DH_TEST(message_names_the_pool_and_escapes_values),
            DH_TEST(embedded_nul_is_refused),
            DH_TEST(null_arguments_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
