/* Strict number, boolean and MAC parsing. */
#include "test.h"

#include <errno.h>

#include "util/parse.h"

static void u64_accepts_whole_decimal_and_hex(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(dh_parse_u64("252", 10, false, UINT64_MAX, &v), 0);
    assert_int_equal(v, 252);
    assert_int_equal(dh_parse_u64("0x15b3", 16, true, 0xffff, &v), 0);
    assert_int_equal(v, 0x15b3);
    assert_int_equal(dh_parse_u64("101e", 16, false, 0xffff, &v), 0);
    assert_int_equal(v, 0x101e);
}

static void u64_rejects_garbage_sign_blanks_and_overflow(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(dh_parse_u64("", 10, false, 100, &v), -EINVAL);
    assert_int_equal(dh_parse_u64("12x", 10, false, 100, &v), -EINVAL);
    assert_int_equal(dh_parse_u64(" 12", 10, false, 100, &v), -EINVAL);
    assert_int_equal(dh_parse_u64("-1", 10, false, 100, &v), -EINVAL);
    assert_int_equal(dh_parse_u64("101", 10, false, 100, &v), -ERANGE);
    assert_int_equal(dh_parse_u64("99999999999999999999999", 10, false, UINT64_MAX, &v), -ERANGE);
    assert_int_equal(dh_parse_u64("0x", 16, true, 100, &v), -EINVAL);
    assert_int_equal(v, 7); /* untouched on failure */
}

static void i64_handles_negative_and_bounds(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(dh_parse_i64("-1", -1, 1024, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(dh_parse_i64("-2", -1, 1024, &v), -ERANGE);
    assert_int_equal(dh_parse_i64("--2", -5, 5, &v), -EINVAL);
    assert_int_equal(dh_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MIN);
}

static void sysfs_hex_requires_prefix(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(dh_parse_sysfs_hex("0x020000", 0xffffff, &v), 0);
    assert_int_equal(v, 0x020000);
    assert_int_equal(dh_parse_sysfs_hex("020000", 0xffffff, &v), -EINVAL);
    assert_int_equal(dh_parse_sysfs_hex("0x1000000", 0xffffff, &v), -ERANGE);
}

static void bool_forms(void **state)
{
    (void)state;
    bool b = false;
    assert_int_equal(dh_parse_bool("on", &b), 0);
    assert_true(b);
    assert_int_equal(dh_parse_bool("OFF", &b), 0);
    assert_false(b);
    assert_int_equal(dh_parse_bool("maybe", &b), -EINVAL);
}

static void mac_round_trip_and_rejects(void **state)
{
    (void)state;
    uint8_t mac[6];
    char buf[18];
    assert_int_equal(dh_parse_mac("0C:42:A1:00:00:5f", mac), 0);
    dh_format_mac(mac, buf);
    assert_string_equal(buf, "0c:42:a1:00:00:5f");
    assert_int_equal(dh_parse_mac("0c:42:a1:00:00", mac), -EINVAL);
    assert_int_equal(dh_parse_mac("0c-42-a1-00-00-5f", mac), -EINVAL);
    assert_int_equal(dh_parse_mac("0g:42:a1:00:00:5f", mac), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(u64_accepts_whole_decimal_and_hex),
            DH_TEST(u64_rejects_garbage_sign_blanks_and_overflow),
            DH_TEST(i64_handles_negative_and_bounds),
            DH_TEST(sysfs_hex_requires_prefix),
            DH_TEST(bool_forms),
            DH_TEST(mac_round_trip_and_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
