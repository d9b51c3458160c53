/* The streaming JSON writer: valid output that jansson parses back to the same values, escaping,
 * invalid UTF-8, pretty and compact forms, and misuse detection. */
#include "test.h"

#include <jansson.h>

#include <dpuhost/jsonw.h>

static char *finish(struct dh_jsonw *w)
{
    char *text = NULL;
    int r = dh_jsonw_finish(w, &text, NULL);
    dh_jsonw_free(w);
    if (r < 0)
        fail_msg("dh_jsonw_finish: %d", r);
    return text;
}

static void compact_document(void **state)
{
    (void)state;
    struct dh_jsonw *w = dh_jsonw_new(false);
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "a", "x");
    dh_jsonw_kv_int(w, "n", -42);
    dh_jsonw_kv_int_or_null(w, "u", -1);
    dh_jsonw_kv_bool(w, "t", true);
    dh_jsonw_kv_hex(w, "id", 0x15b3, 4);
    dh_jsonw_kv_hex(w, "cls", 0x20000, 6);
    dh_jsonw_key(w, "list");
    dh_jsonw_begin_array(w);
    dh_jsonw_int(w, 1);
    dh_jsonw_string(w, NULL);
    dh_jsonw_begin_object(w);
    dh_jsonw_end_object(w);
    dh_jsonw_begin_array(w);
    dh_jsonw_end_array(w);
    dh_jsonw_end_array(w);
    dh_jsonw_end_object(w);
    char *text = finish(w);
    assert_string_equal(text,
                        "{\"a\":\"x\",\"n\":-42,\"u\":null,\"t\":true,\"id\":\"0x15b3\",\"cls\":\"0x020000\","
                        "\"list\":[1,null,{},[]]}");
    free(text);
}

static void pretty_document_parses_to_the_same_values(void **state)
{
    (void)state;
    struct dh_jsonw *w = dh_jsonw_new(true);
    dh_jsonw_begin_object(w);
    dh_jsonw_key(w, "functions");
    dh_jsonw_begin_array(w);
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_string(w, "address", "0000:03:00.2");
    dh_jsonw_kv_null(w, "driver");
    dh_jsonw_end_object(w);
    dh_jsonw_end_array(w);
    dh_jsonw_end_object(w);
    char *text = finish(w);
    assert_non_null(strstr(text, "\n    {\n      \"address\": \"0000:03:00.2\",\n"));
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    json_t *f = json_array_get(json_object_get(doc, "functions"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "address")), "0000:03:00.2");
    assert_true(json_is_null(json_object_get(f, "driver")));
    json_decref(doc);
    free(text);
}

static void strings_are_escaped_and_round_trip(void **state)
{
    (void)state;
    static const char *const values[] = {
            "quote\" backslash\\ slash/",
            "tab\tnl\ncr\r",
            "\x01\x1f ctl",
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
            "",
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        struct dh_jsonw *w = dh_jsonw_new(false);
        dh_jsonw_begin_array(w);
        dh_jsonw_string(w, values[i]);
        dh_jsonw_end_array(w);
        char *text = finish(w);
        json_t *doc = json_loads(text, 0, NULL);
        if (!doc)
            fail_msg("value %zu produced invalid JSON: %s", i, text);
        assert_string_equal(json_string_value(json_array_get(doc, 0)), values[i]);
        json_decref(doc);
        free(text);
    }
}

static void invalid_utf8_becomes_replacement_characters(void **state)
{
    (void)state;
    /* a stray continuation byte, an overlong slash, a surrogate, a truncated sequence */
    static const char *const bad[] = {"a\x80z", "\xc0\xafz", "\xed\xa0\x80z", "\xe2\x82"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dh_jsonw *w = dh_jsonw_new(false);
        dh_jsonw_string(w, bad[i]);
        char *text = finish(w);
        json_t *doc = json_loads(text, JSON_DECODE_ANY, NULL);
        if (!doc)
            fail_msg("case %zu produced invalid JSON: %s", i, text);
        assert_non_null(strstr(text, "\\ufffd"));
        json_decref(doc);
        free(text);
    }
}

static void misuse_is_reported(void **state)
{
    (void)state;
    char *text = NULL;
    struct dh_jsonw *w = dh_jsonw_new(false);
    dh_jsonw_begin_object(w);
    dh_jsonw_int(w, 1); /* value without a key */
    assert_int_equal(dh_jsonw_finish(w, &text, NULL), -EINVAL);
    dh_jsonw_free(w);

    w = dh_jsonw_new(false);
    dh_jsonw_begin_array(w);
    dh_jsonw_key(w, "k"); /* key in an array */
    dh_jsonw_end_array(w);
    assert_int_equal(dh_jsonw_finish(w, &text, NULL), -EINVAL);
    dh_jsonw_free(w);

    w = dh_jsonw_new(false);
    dh_jsonw_begin_object(w); /* never closed */
    assert_int_equal(dh_jsonw_finish(w, &text, NULL), -EINVAL);
    dh_jsonw_free(w);

    w = dh_jsonw_new(false);
    dh_jsonw_begin_array(w);
    dh_jsonw_end_object(w); /* wrong closer */
    assert_int_equal(dh_jsonw_finish(w, &text, NULL), -EINVAL);
    dh_jsonw_free(w);

    w = dh_jsonw_new(false);
    dh_jsonw_int(w, 1);
    dh_jsonw_int(w, 2); /* two top-level values */
    assert_int_equal(dh_jsonw_finish(w, &text, NULL), -EINVAL);
    dh_jsonw_free(w);

    w = dh_jsonw_new(false);
    dh_jsonw_begin_array(w);
    dh_jsonw_end_array(w);
    dh_jsonw_fail(w, -ENOMEM);
    assert_int_equal(dh_jsonw_finish(w, &text, NULL), -ENOMEM);
    dh_jsonw_free(w);

    assert_null(text);
}

static void large_output_grows_the_buffer(void **state)
{
    (void)state;
    struct dh_jsonw *w = dh_jsonw_new(false);
    dh_jsonw_begin_array(w);
    for (int i = 0; i < 100000; i++)
        dh_jsonw_string(w, "0000:03:00.2");
    dh_jsonw_end_array(w);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(dh_jsonw_finish(w, &text, &len), 0);
    dh_jsonw_free(w);
    assert_int_equal(len, strlen(text));
    assert_int_equal(len, 2 + 100000 * 14 + 99999);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(compact_document),
            DH_TEST(pretty_document_parses_to_the_same_values),
            DH_TEST(strings_are_escaped_and_round_trip),
            DH_TEST(invalid_utf8_becomes_replacement_characters),
            DH_TEST(misuse_is_reported),
            DH_TEST(large_output_grows_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
