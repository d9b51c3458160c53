/* Well-formed VPD images: see vpd_blob.h. Layout per PCI Local Bus Specification 3.0, 6.4. */
#include "vpd_blob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
    uint8_t *buf;
    size_t size, len;
};

static void put(struct out *o, const void *data, size_t n)
{
    if (o->len + n > o->size) {
        fprintf(stderr, "vpd_blob: image does not fit in %zu bytes\n", o->size);
        abort();
    }
    memcpy(o->buf + o->len, data, n);
    o->len += n;
}

static void put_u8(struct out *o, uint8_t v)
{
    put(o, &v, 1);
}

static void put_large_tag(struct out *o, uint8_t tag, size_t len)
{
    put_u8(o, tag);
    put_u8(o, (uint8_t)(len & 0xff));
    put_u8(o, (uint8_t)(len >> 8));
}

static size_t fields_len(const char *const *fields)
{
    size_t n = 0;
    for (size_t i = 0; fields && fields[i]; i++)
        n += 3 + strlen(fields[i]) - 3; /* "KW=" -> keyword(2) + len(1) + value */
    return n;
}

static void put_fields(struct out *o, const char *const *fields)
{
    for (size_t i = 0; fields && fields[i]; i++) {
        const char *f = fields[i];
        size_t vlen = strlen(f) - 3;
        put(o, f, 2);
        put_u8(o, (uint8_t)vlen);
        put(o, f + 3, vlen);
    }
}

size_t vpd_blob_build(uint8_t *buf, size_t size, const char *name, const char *const *ro,
                      const char *const *rw)
{
    struct out o = {buf, size, 0};
    if (name) {
        put_large_tag(&o, 0x82, strlen(name));
        put(&o, name, strlen(name));
    }
    /* VPD-R: fields, then RV with the checksum byte and no padding. */
    put_large_tag(&o, 0x90, fields_len(ro) + 4);
    put_fields(&o, ro);
    put(&o, "RV", 2);
    put_u8(&o, 1);
    uint8_t sum = 0;
    for (size_t i = 0; i < o.len; i++)
        sum = (uint8_t)(sum + o.buf[i]);
    put_u8(&o, (uint8_t)(0x100 - sum));
    if (rw) {
        /* VPD-W: fields, then RW with 4 bytes of spare space. */
        put_large_tag(&o, 0x91, fields_len(rw) + 3 + 4);
        put_fields(&o, rw);
        put(&o, "RW", 2);
        put_u8(&o, 4);
        put(&o, "\0\0\0\0", 4);
    }
    put_u8(&o, 0x78);
    return o.len;
}
