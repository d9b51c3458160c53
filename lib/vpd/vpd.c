/* PCI Vital Product Data parser: turns the bytes of <dev>/vpd into the identifier string and the text
 * fields of VPD-R and VPD-W (PCI Local Bus Specification 3.0, 6.4 and appendix I; PCIe 4.0, 6.28). It is a
 * pure function over a buffer so that the same code runs on real cards, test images and fuzz inputs. The
 * accept/reject rules follow libvirt's virpcivpd.c, which has met many real cards: the VPD as a whole is
 * rejected when its structure or checksum cannot be trusted (the serial number feeds Nova's
 * card_serial_number, so a wrong value is worse than none), while oddities confined to one field only drop
 * that field. Every read is bounds-checked against the buffer size before it happens. */
#include <dpuhost/vpd.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"

/* Resource data type tags. A large resource has bit 7 set, a little-endian u16 length and then data; a
 * small resource keeps its type in bits 6-3 and its length in bits 2-0 (PCI 3.0, 6.4, "VPD Format"). */
#define TAG_LARGE 0x80
#define TAG_ID_STRING 0x82
#define TAG_VPD_R 0x90
#define TAG_VPD_W 0x91
#define SMALL_TYPE_END 0x0f
#define LARGE_HEADER_BYTES 3
#define FIELD_HEADER_BYTES 3 /* two keyword characters and a u8 length */

/* Keywords are two characters from [A-Z0-9]: 36 * 36 possible, so a direct table maps a keyword to its
 * entry and a repeated keyword costs O(1) however many fields a (hostile) 32 KiB image holds. */
#define KEYWORD_CHARS 36
#define KEYWORD_SLOTS (KEYWORD_CHARS * KEYWORD_CHARS)

struct parser {
    const uint8_t *buf;
    struct dh_error *err;
    struct dh_vpd *vpd;
    size_t n_allocated;
    uint16_t slot[KEYWORD_SLOTS]; /* keyword -> 1 + index into vpd->fields; 0 when not seen yet */
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct dh_vpd *, dh_vpd_free)

static bool is_printable(uint8_t c)
{
    return c >= 0x20 && c <= 0x7e;
}

/* The same set as g_ascii_isspace(), which libvirt's g_strstrip() uses; no locale involved. */
static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int keyword_char(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= '0' && c <= '9')
        return 26 + (c - '0');
    return -1;
}

/* The table slot of a well-formed keyword, or -1 for anything outside [A-Z0-9][A-Z0-9]. */
static int keyword_slot(uint8_t c0, uint8_t c1)
{
    int a = keyword_char(c0), b = keyword_char(c1);
    if (a < 0 || b < 0)
        return -1;
    return a * KEYWORD_CHARS + b;
}

/* Ends the value at its first NUL (cards pad fields with NULs; libvirt reads the value as a C string
 * too), strips surrounding whitespace and requires printable ASCII. Returns 0 with a new string,
 * -EBADMSG with *ret_bad at the offending byte, or -ENOMEM. */
static int text_dup(const uint8_t *p, size_t n, char **ret, size_t *ret_bad)
{
    const uint8_t *nul = memchr(p, '\0', n);
    if (nul)
        n = (size_t)(nul - p);
    size_t first = 0;
    while (first < n && is_space(p[first]))
        first++;
    while (n > first && is_space(p[n - 1]))
        n--;
    for (size_t i = first; i < n; i++)
        if (!is_printable(p[i])) {
            *ret_bad = i;
            return -EBADMSG;
        }
    char *s = malloc(n - first + 1);
    if (!s)
        return -ENOMEM;
    memcpy(s, p + first, n - first);
    s[n - first] = '\0';
    *ret = s;
    return 0;
}

/* Records a text field, taking ownership of value. A repeated keyword replaces the earlier value in
 * place, like libvirt's virPCIVPDResourceUpdateKeyword(): the last value read wins, at the position
 * where the keyword first appeared. Except that VPD-W never overrides VPD-R: the read-only resource
 * is checksummed and factory-programmed, the writable one is not, and a serial number must not be
 * replaceable by whatever was written to VPD-W (libvirt ignores SN in VPD-W for the same reason). */
static int field_set(struct parser *p, int slot, const uint8_t kw[2], bool read_write, char *value)
{
    _cleanup_free_ char *v = value;
    struct dh_vpd *vpd = p->vpd;

    if (p->slot[slot] != 0) {
        struct dh_vpd_field *f = &vpd->fields[p->slot[slot] - 1];
        if (read_write && !f->read_write)
            return 0;
        free(f->value);
        f->value = TAKE_PTR(v);
        f->read_write = read_write;
        return 0;
    }
    if (vpd->n_fields == p->n_allocated) {
        size_t n = p->n_allocated ? p->n_allocated * 2 : 16;
        struct dh_vpd_field *fields = reallocarray(vpd->fields, n, sizeof(*fields));
        if (!fields)
            return -ENOMEM;
        vpd->fields = fields;
        p->n_allocated = n;
    }
    struct dh_vpd_field *f = &vpd->fields[vpd->n_fields];
    f->keyword[0] = (char)kw[0];
    f->keyword[1] = (char)kw[1];
    f->keyword[2] = '\0';
    f->read_write = read_write;
    f->value = TAKE_PTR(v);
    /* At most KEYWORD_SLOTS distinct keywords exist, so the index fits in uint16_t. */
    p->slot[slot] = (uint16_t)++vpd->n_fields;
    return 0;
}

/* Formats a keyword for a message: as text when printable, else as hex (it may be any two bytes). */
static const char *keyword_name(const uint8_t kw[2], char buf[8])
{
    if (is_printable(kw[0]) && is_printable(kw[1]))
        snprintf(buf, 8, "%c%c", kw[0], kw[1]);
    else
        snprintf(buf, 8, "0x%02x%02x", kw[0], kw[1]);
    return buf;
}

/* Walks the fields of VPD-R (read_write false) or VPD-W, whose tag is at offset tag_pos and whose data
 * is [start, end). end <= size was checked by the caller. */
static int parse_fields(struct parser *p, size_t tag_pos, size_t start, size_t end, bool read_write)
{
    const char *res = read_write ? "VPD-W" : "VPD-R";
    const uint8_t *buf = p->buf;
    size_t pos = start;
    char kwbuf[8];
    int r;

    /* A field is at least its 3-byte header: zero-length fields are legal (and RW may be empty). */
    while (end - pos >= FIELD_HEADER_BYTES) {
        const uint8_t *kw = buf + pos;
        size_t len = buf[pos + 2], data = pos + FIELD_HEADER_BYTES;

        /* The next field's position comes from this one's length, so an overrun cannot be skipped. */
        if (len > end - data)
            return dh_error_set(p->err, -EBADMSG,
                                "%s field %s at offset 0x%zx has %zu data bytes and overruns the resource, "
                                "which ends at 0x%zx",
                                res, keyword_name(kw, kwbuf), pos, len, end);

        if (kw[0] == 'R' && kw[1] == 'V') {
            if (read_write)
                return dh_error_set(p->err, -EBADMSG,
                                    "VPD-W has an RV field at offset 0x%zx; RV (checksum) belongs in VPD-R",
                                    pos);
            /* The kernel's pci_vpd_check_csum() also refuses an RV without its checksum byte. */
            if (len == 0)
                return dh_error_set(p->err, -EBADMSG,
                                    "RV at offset 0x%zx has length 0, so it has no checksum byte", pos);
            /* RV's padding runs exactly to the end of VPD-R (PCI 3.0, appendix I.3.1). */
            if (data + len != end)
                return dh_error_set(p->err, -EBADMSG,
                                    "RV at offset 0x%zx is not the last field of VPD-R: it ends at 0x%zx, "
                                    "VPD-R at 0x%zx",
                                    pos, data + len, end);
            /* The checksum byte makes the 8-bit sum of every byte from VPD offset 0 through itself zero
             * (PCI 3.0, appendix I.3.1; the kernel's pci_vpd_check_csum() sums exactly this range). Every byte
             * counts, including those of unknown resources: libvirt leaves the data of resources it
             * does not know out of its running sum, which disagrees with the spec and the kernel, and
             * the spec's sum is what vendors' tools write. */
            uint8_t sum = 0;
            for (size_t i = 0; i <= data; i++)
                sum = (uint8_t)(sum + buf[i]);
            if (sum != 0)
                return dh_error_set(p->err, -EBADMSG, "VPD-R checksum is 0x%02x, not 0 (RV at offset 0x%zx)",
                                    sum, pos);
            return 0;
        }
        if (kw[0] == 'R' && kw[1] == 'W') {
            if (!read_write)
                return dh_error_set(
                        p->err, -EBADMSG,
                        "VPD-R has an RW field at offset 0x%zx; RW (spare space) belongs in VPD-W", pos);
            if (data + len != end)
                return dh_error_set(p->err, -EBADMSG,
                                    "RW at offset 0x%zx is not the last field of VPD-W: it ends at 0x%zx, "
                                    "VPD-W at 0x%zx",
                                    pos, data + len, end);
            return 0;
        }

        pos = data + len;

        /* CP (extended capability pointer) is binary; malformed keywords may be from a newer spec or
         * a vendor's own use: both are skipped by their length, as libvirt does. */
        int slot = keyword_slot(kw[0], kw[1]);
        if (slot < 0 || (kw[0] == 'C' && kw[1] == 'P'))
            continue;

        char *value = NULL;
        size_t bad;
        r = text_dup(buf + data, len, &value, &bad);
        if (r == -EBADMSG)
            continue; /* e.g. 0xff fill in an unprogrammed field: drop the field, keep the VPD */
        if (r >= 0)
            r = field_set(p, slot, kw, read_write, value);
        if (r < 0)
            return dh_error_set(p->err, r, "out of memory while parsing VPD");
    }

    if (pos != end)
        return dh_error_set(
                p->err, -EBADMSG,
                "%zu stray byte%s at offset 0x%zx at the end of %s (tag at 0x%zx): too short for a "
                "field header",
                end - pos, end - pos == 1 ? "" : "s", pos, res, tag_pos);
    /* VPD-W may lack RW when its fields fill it exactly: libvirt allows it because some vendors omit
     * RW, and nothing after it depends on it. VPD-R without RV has no checksum and cannot be trusted. */
    if (!read_write)
        return dh_error_set(p->err, -EBADMSG, "VPD-R at offset 0x%zx has no RV (checksum) field", tag_pos);
    return 0;
}

static int parse_id_string(struct parser *p, size_t tag_pos, size_t start, size_t end)
{
    size_t bad;
    int r = text_dup(p->buf + start, end - start, &p->vpd->name, &bad);
    /* Unlike a field, a bad identifier string rejects the VPD: a length that is too long runs into the
     * next tag (0x90 is not printable), which is how libvirt notices a derailed walk. */
    if (r == -EBADMSG)
        return dh_error_set(
                p->err, -EBADMSG,
                "identifier string at offset 0x%zx has a non-printable byte 0x%02x at offset 0x%zx", tag_pos,
                p->buf[start + bad], start + bad);
    if (r < 0)
        return dh_error_set(p->err, r, "out of memory while parsing VPD");
    return 0;
}

static const char *resource_name(uint8_t tag)
{
    switch (tag) {
    case TAG_ID_STRING:
        return "identifier string";
    case TAG_VPD_R:
        return "VPD-R";
    case TAG_VPD_W:
        return "VPD-W";
    default:
        return "resource";
    }
}

int dh_vpd_parse(const uint8_t *buf, size_t size, struct dh_vpd **ret, struct dh_error *err)
{
    assert_return(ret, -EINVAL);
    assert_return(buf || size == 0, -EINVAL);

    if (size == 0)
        return dh_error_set(err, -ENODATA, "VPD is empty (0 bytes)");

    _cleanup_(dh_vpd_freep) struct dh_vpd *vpd = calloc(1, sizeof(*vpd));
    if (!vpd)
        return dh_error_set(err, -ENOMEM, "out of memory while parsing VPD");
    struct parser parser = {.buf = buf, .err = err, .vpd = vpd}, *p = &parser;

    /* Offsets of the resources seen so far; SIZE_MAX while absent. */
    size_t id_pos = SIZE_MAX, ro_pos = SIZE_MAX, rw_pos = SIZE_MAX;
    size_t pos = 0;
    int r;

    for (;;) {
        /* VPD addresses are 15 bits (PCI 3.0, 6.4): an end tag beyond 32 KiB cannot be real, and the
         * kernel's pci_vpd_size() gives up there too. */
        if (pos >= DH_VPD_MAX_BYTES)
            return dh_error_set(err, -EBADMSG,
                                "VPD has no end tag (0x78) within the 32 KiB VPD address space");
        if (pos >= size)
            return dh_error_set(err, -EBADMSG, "VPD has no end tag (0x78): the data ends at offset 0x%zx",
                                pos);

        uint8_t tag = buf[pos];
        size_t start, len;
        if (tag & TAG_LARGE) {
            if (size - pos < LARGE_HEADER_BYTES)
                return dh_error_set(err, -EBADMSG,
                                    "VPD is truncated: the length of the %s (tag 0x%02x) at offset 0x%zx "
                                    "runs past the end of the data at 0x%zx",
                                    resource_name(tag), tag, pos, size);
            len = (size_t)buf[pos + 1] | (size_t)buf[pos + 2] << 8; /* little-endian */
            start = pos + LARGE_HEADER_BYTES;
        } else {
            /* The end tag is small resource type 0xf, spelled 0x78 (length 0). Like the kernel's
             * pci_vpd_size() and libvirt, any length bits are ignored, and so is everything after the
             * tag: the kernel's sysfs file may carry those bytes and EEPROM dumps carry fill. */
            if (((tag >> 3) & 0x0f) == SMALL_TYPE_END)
                break;
            len = tag & 0x07;
            start = pos + 1;
        }
        if (len > size - start)
            return dh_error_set(err, -EBADMSG,
                                "VPD is truncated: the %s (tag 0x%02x) at offset 0x%zx has %zu data bytes, "
                                "but the data ends at 0x%zx",
                                resource_name(tag), tag, pos, len, size);
        size_t end = start + len;
        if (end > DH_VPD_MAX_BYTES)
            return dh_error_set(err, -EBADMSG,
                                "the %s (tag 0x%02x) at offset 0x%zx runs past the 32 KiB VPD address space",
                                resource_name(tag), tag, pos);

        /* The spec has one identifier string, one VPD-R and at most one VPD-W. A second copy is
         * rejected rather than merged: the kernel's pci_vpd_find_tag() uses the first and libvirt keeps
         * the last values, so the two would report different serials. The order of the resources is
         * not checked (VPD-W before VPD-R is tolerated, as by libvirt and the kernel): every byte
         * before RV is still covered by the checksum. */
        switch (tag) {
        case TAG_ID_STRING:
            if (id_pos != SIZE_MAX)
                return dh_error_set(err, -EBADMSG,
                                    "second identifier string at offset 0x%zx (the first is at 0x%zx)", pos,
                                    id_pos);
            id_pos = pos;
            r = parse_id_string(p, pos, start, end);
            break;
        case TAG_VPD_R:
            if (ro_pos != SIZE_MAX)
                return dh_error_set(err, -EBADMSG, "second VPD-R at offset 0x%zx (the first is at 0x%zx)",
                                    pos, ro_pos);
            ro_pos = pos;
            r = parse_fields(p, pos, start, end, false);
            break;
        case TAG_VPD_W:
            if (rw_pos != SIZE_MAX)
                return dh_error_set(err, -EBADMSG, "second VPD-W at offset 0x%zx (the first is at 0x%zx)",
                                    pos, rw_pos);
            rw_pos = pos;
            r = parse_fields(p, pos, start, end, true);
            break;
        default:
            /* Unknown large or small resources are skipped by their length, as libvirt does. */
            r = 0;
            break;
        }
        if (r < 0)
            return r;
        pos = end;
    }

    if (ro_pos == SIZE_MAX)
        return dh_error_set(err, -EBADMSG,
                            "VPD has no VPD-R resource (tag 0x90) before the end tag at offset 0x%zx", pos);

    *ret = TAKE_PTR(vpd);
    return 0;
}

void dh_vpd_free(struct dh_vpd *vpd)
{
    if (!vpd)
        return;
    for (size_t i = 0; i < vpd->n_fields; i++)
        free(vpd->fields[i].value);
    free(vpd->fields);
    free(vpd->name);
    free(vpd);
}

const char *dh_vpd_get(const struct dh_vpd *vpd, const char *keyword)
{
    assert_return(vpd, NULL);
    assert_return(keyword, NULL);

    for (size_t i = 0; i < vpd->n_fields; i++)
        if (streq(vpd->fields[i].keyword, keyword))
            return vpd->fields[i].value;
    return NULL;
}

struct dh_vpd *dh_vpd_dup(const struct dh_vpd *vpd)
{
    if (!vpd)
        return NULL;
    _cleanup_(dh_vpd_freep) struct dh_vpd *copy = calloc(1, sizeof(*copy));
    if (!copy)
        return NULL;
    if (vpd->name && !(copy->name = strdup(vpd->name)))
        return NULL;
    if (vpd->n_fields) {
        copy->fields = calloc(vpd->n_fields, sizeof(*copy->fields));
        if (!copy->fields)
            return NULL;
        for (size_t i = 0; i < vpd->n_fields; i++) {
            copy->fields[i] = vpd->fields[i];
            copy->fields[i].value = strdup(vpd->fields[i].value);
            copy->n_fields = i + 1;
            if (!copy->fields[i].value)
                return NULL;
        }
    }
    return TAKE_PTR(copy);
}
