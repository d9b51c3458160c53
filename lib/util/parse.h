/* Strict parsers for the small values found in sysfs and in user input. They take a string, never
 * a file, accept the whole string or nothing (no leading blanks, no trailing garbage, no sign on
 * unsigned values) and return 0 or -EINVAL / -ERANGE. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* base 10 or 16; for base 16 an optional "0x"/"0X" prefix is accepted when allow_prefix. */
int dh_parse_u64(const char *s, int base, bool allow_prefix, uint64_t max, uint64_t *ret);
int dh_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret);

/* sysfs "0x15b3"-style ids: 0x prefix required, at most max. */
int dh_parse_sysfs_hex(const char *s, uint64_t max, uint64_t *ret);

/* "on"/"off", "true"/"false", "1"/"0", "yes"/"no". */
int dh_parse_bool(const char *s, bool *ret);

/* A MAC address "aa:bb:cc:dd:ee:ff" (either case). */
int dh_parse_mac(const char *s, uint8_t ret[6]);
/* Lowercase "aa:bb:cc:dd:ee:ff"; buf must hold 18 bytes. */
void dh_format_mac(const uint8_t mac[6], char buf[18]);
