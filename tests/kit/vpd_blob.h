/* Builds well-formed PCI VPD images for tests and benchmark trees: identifier string, VPD-R with a
 * correct RV checksum, optional VPD-W with RW, end tag. Malformed shapes are built by hand in the
 * VPD parser's own tests. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* ro and rw are NULL-terminated lists of "KW=value" strings (rw may be NULL for no VPD-W).
 * name may be NULL for no identifier string. Returns the number of bytes written; aborts when the
 * image does not fit in size. */
size_t vpd_blob_build(uint8_t *buf, size_t size, const char *name, const char *const *ro,
                      const char *const *rw);
