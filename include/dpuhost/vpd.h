/* PCI Vital Product Data: a pure parser from a buffer (the bytes of <dev>/vpd) to the identifier
 * string and the keyword fields of VPD-R and VPD-W. Tolerant of what real cards do, strict about
 * what makes the data untrustworthy (see docs/inventory.md, "VPD"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dpuhost/error.h>

/* VPD is at most 32 KiB (PCI Local Bus Spec 3.0, 6.4). */
#define DH_VPD_MAX_BYTES 32768

struct dh_vpd_field {
    char keyword[3]; /* two characters [A-Z0-9] and a NUL */
    bool read_write; /* true when the field came from VPD-W */
    char *value;     /* printable ASCII with surrounding whitespace removed; may be "" */
};

struct dh_vpd {
    char *name;                  /* identifier string (large resource 0x82); NULL when the VPD has none */
    struct dh_vpd_field *fields; /* text fields in order of first appearance, one per keyword */
    size_t n_fields;
};

/* Parses size bytes of VPD. On success *ret holds a new struct dh_vpd the caller frees with
 * dh_vpd_free(). Returns -EBADMSG with a message saying what is wrong (and at which offset) when
 * the VPD as a whole must be rejected, -ENODATA when size is 0, -ENOMEM. Never reads past size. */
int dh_vpd_parse(const uint8_t *buf, size_t size, struct dh_vpd **ret, struct dh_error *err);

void dh_vpd_free(struct dh_vpd *vpd);

/* A deep copy, or NULL on allocation failure. */
struct dh_vpd *dh_vpd_dup(const struct dh_vpd *vpd);

/* The value of a keyword ("SN", "PN", "V3", "YA", ...), or NULL when absent. Keywords are unique
 * within a struct dh_vpd: a repeated keyword keeps the last value read, except that a VPD-R value
 * is never replaced by a VPD-W one. */
const char *dh_vpd_get(const struct dh_vpd *vpd, const char *keyword);
