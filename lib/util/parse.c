/* Strict whole-string parsers for numbers, booleans and MAC addresses. */
#include "util/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int dh_parse_u64(const char *s, int base, bool allow_prefix, uint64_t max, uint64_t *ret)
{
    if (!s || (base != 10 && base != 16))
        return -EINVAL;
    if (base == 16 && allow_prefix && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    if (!*s)
        return -EINVAL;
    uint64_t v = 0;
    for (; *s; s++) {
        int d = digit_value(*s);
        if (d < 0 || d >= base)
            return -EINVAL;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return -ERANGE;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

int dh_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
    if (!s || !*s)
        return -EINVAL;
    bool neg = false;
    if (*s == '-') {
        neg = true;
        s++;
    }
    uint64_t u;
    int r = dh_parse_u64(s, 10, false, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &u);
    if (r < 0)
        return r;
    int64_t v = neg ? (int64_t)(0 - u) : (int64_t)u;
    if (v < min || v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

int dh_parse_sysfs_hex(const char *s, uint64_t max, uint64_t *ret)
{
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return -EINVAL;
    return dh_parse_u64(s, 16, true, max, ret);
}

int dh_parse_bool(const char *s, bool *ret)
{
    static const char *const yes[] = {"1", "on", "true", "yes"};
    static const char *const no[] = {"0", "off", "false", "no"};
    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return -EINVAL;
}

int dh_parse_mac(const char *s, uint8_t ret[6])
{
    if (!s || strlen(s) != 17)
        return -EINVAL;
    uint8_t mac[6];
    for (int i = 0; i < 6; i++) {
        int hi = digit_value(s[i * 3]), lo = digit_value(s[i * 3 + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        if (i < 5 && s[i * 3 + 2] != ':')
            return -EINVAL;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(ret, mac, 6);
    return 0;
}

void dh_format_mac(const uint8_t mac[6], char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}
