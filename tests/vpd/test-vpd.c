/* PCI VPD parser: table tests on the values parsed from well-formed images (built with the test kit's
 * vpd_blob_build()), one test per malformed shape the parser must reject (asserting -EBADMSG and what the
 * message says), one per oddity of real cards it must tolerate, and truncation at every offset. Every
 * image is parsed from an exact-size heap copy so that ASan catches a read one byte past the end. */
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <dpuhost/vpd.h>

#include "util/macro.h"
#include "vpd_blob.h"

/* A hand-built image for the malformed shapes vpd_blob_build() refuses to make. */
struct img {
    uint8_t b[1024];
    size_t n;
};

static void put(struct img *m, const void *data, size_t n)
{
    assert_true(m->n + n <= sizeof(m->b));
    memcpy(m->b + m->n, data, n);
    m->n += n;
}

static void put_u8(struct img *m, uint8_t v)
{
    put(m, &v, 1);
}

/* Writes a large resource tag with a length to fill in later with end_large(); returns its offset. */
static size_t put_large(struct img *m, uint8_t tag)
{
    size_t at = m->n;
    put_u8(m, tag);
    put(m, "\0\0", 2);
    return at;
}

static void end_large(struct img *m, size_t at)
{
    size_t len = m->n - at - 3;
    m->b[at + 1] = (uint8_t)(len & 0xff);
    m->b[at + 2] = (uint8_t)(len >> 8);
}

static void put_id(struct img *m, const char *name)
{
    size_t at = put_large(m, 0x82);
    put(m, name, strlen(name));
    end_large(m, at);
}

static void put_field(struct img *m, const char *kw, const void *value, size_t len)
{
    put(m, kw, 2);
    put_u8(m, (uint8_t)len);
    put(m, value, len);
}

static void put_text(struct img *m, const char *kw, const char *value)
{
    put_field(m, kw, value, strlen(value));
}

/* Writes RV with pad bytes after the checksum byte; returns the checksum byte's offset for
 * fix_checksum(), which must run after every length before it is final. */
static size_t put_rv(struct img *m, size_t pad)
{
    put(m, "RV", 2);
    put_u8(m, (uint8_t)(1 + pad));
    size_t at = m->n;
    put_u8(m, 0);
    for (size_t i = 0; i < pad; i++)
        put_u8(m, 0);
    return at;
}

static void fix_checksum(struct img *m, size_t at)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < at; i++)
        sum = (uint8_t)(sum + m->b[i]);
    m->b[at] = (uint8_t)(0x100 - sum);
}

/* The usual head of a hand-built image: identifier string and a VPD-R holding SN and RV. */
static void put_name_and_ro(struct img *m)
{
    put_id(m, "Test Card");
    size_t ro = put_large(m, 0x90);
    put_text(m, "SN", "MT2109X00000");
    size_t cs = put_rv(m, 2);
    end_large(m, ro);
    fix_checksum(m, cs);
}

static int parse_bytes(const uint8_t *b, size_t n, struct dh_vpd **ret, struct dh_error *err)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, b, n);
    dh_error_clear(err);
    *ret = NULL;
    int r = dh_vpd_parse(copy, n, ret, err);
    free(copy);
    return r;
}

static struct dh_vpd *parse_ok(const uint8_t *b, size_t n)
{
    struct dh_vpd *vpd;
    struct dh_error err;
    int r = parse_bytes(b, n, &vpd, &err);
    if (r != 0)
        fail_msg("dh_vpd_parse() = %d: %s", r, err.message);
    assert_non_null(vpd);
    return vpd;
}

static void assert_rejected_bytes(const uint8_t *b, size_t n, const char *needle)
{
    struct dh_vpd *vpd;
    struct dh_error err;
    assert_int_equal(parse_bytes(b, n, &vpd, &err), -EBADMSG);
    assert_null(vpd);
    assert_int_equal(err.code, -EBADMSG);
    if (!strstr(err.message, needle))
        fail_msg("message \"%s\" does not say \"%s\"", err.message, needle);
}

static void assert_rejected(const struct img *m, const char *needle)
{
    assert_rejected_bytes(m->b, m->n, needle);
}

struct expect {
    const char *keyword;
    bool read_write;
    const char *value;
};

static void assert_fields(const struct dh_vpd *vpd, const struct expect *e, size_t n)
{
    assert_int_equal(vpd->n_fields, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(vpd->fields[i].keyword, e[i].keyword);
        assert_int_equal(vpd->fields[i].read_write, e[i].read_write);
        assert_string_equal(vpd->fields[i].value, e[i].value);
    }
}

#define BF2_NAME \
    "BlueField-2 DPU 25GbE Dual-Port SFP56, Crypto Enabled, 16GB on-board DDR, 1GbE OOB management"

static size_t build_bluefield(uint8_t *buf, size_t size)
{
    static const char *const ro[] = {
            "PN=MBF2H332A-AECOT",
            "EC=A6",
            "SN=MT2109X00000",
            "V0=PCIeGen4 x8",
            "V1=N/A",
            "V2=MBF2H332A-AECOT",
            "V3=7c6a0c2c8a3eeb118000b8cef6a1d2f0",
            "VA=MLX:MN=MLNX:CSKU=V2:UUID=V3:PCI=V0:MODL=BF2H332A",
            NULL,
    };
    static const char *const rw[] = {
            "YA=  rack-7/slot-3  ",
            "V5=0",
            "Y1=",
            NULL,
    };
    return vpd_blob_build(buf, size, BF2_NAME, ro, rw);
}

static void bluefield_parses_to_expected_fields(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_bluefield(buf, sizeof(buf));
    struct dh_vpd *vpd = parse_ok(buf, n);

    static const struct expect e[] = {
            {"PN", false, "MBF2H332A-AECOT"},
            {"EC", false, "A6"},
            {"SN", false, "MT2109X00000"},
            {"V0", false, "PCIeGen4 x8"},
            {"V1", false, "N/A"},
            {"V2", false, "MBF2H332A-AECOT"},
            {"V3", false, "7c6a0c2c8a3eeb118000b8cef6a1d2f0"},
            {"VA", false, "MLX:MN=MLNX:CSKU=V2:UUID=V3:PCI=V0:MODL=BF2H332A"},
            {"YA", true, "rack-7/slot-3"},
            {"V5", true, "0"},
            {"Y1", true, ""},
    };
    assert_string_equal(vpd->name, BF2_NAME);
    assert_fields(vpd, e, ELEMENTSOF(e));
    assert_string_equal(dh_vpd_get(vpd, "SN"), "MT2109X00000");
    assert_string_equal(dh_vpd_get(vpd, "YA"), "rack-7/slot-3");
    assert_null(dh_vpd_get(vpd, "MN"));
    assert_null(dh_vpd_get(vpd, "RV"));
    assert_null(dh_vpd_get(vpd, "RW"));
    dh_vpd_free(vpd);
}

static void minimal_vpd_without_name_has_no_fields(void **state)
{
    (void)state;
    uint8_t buf[16];
    static const char *const none[] = {NULL};
    size_t n = vpd_blob_build(buf, sizeof(buf), NULL, none, NULL);
    assert_int_equal(n, 3 + 4 + 1);
    struct dh_vpd *vpd = parse_ok(buf, n);
    assert_null(vpd->name);
    assert_int_equal(vpd->n_fields, 0);
    assert_null(dh_vpd_get(vpd, "SN"));
    dh_vpd_free(vpd);
}

/* RV with padding and RW with non-zero spare bytes, as real EEPROMs have them. */
static void padded_rv_and_rw_parse(void **state)
{
    (void)state;
    struct img m = {0};
    put_id(&m, "ConnectX-6 Dx EN adapter card, 100GbE, Dual-port QSFP56");
    size_t ro = put_large(&m, 0x90);
    put_text(&m, "PN", "MCX623106AN-CDAT");
    put_text(&m, "SN", "MT2140T00001");
    size_t cs = put_rv(&m, 40);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    size_t rw = put_large(&m, 0x91);
    put_text(&m, "V0", "x");
    put_field(&m, "RW", "\xff\xff\xff\xff\xff\xff", 6);
    end_large(&m, rw);
    put_u8(&m, 0x78);

    struct dh_vpd *vpd = parse_ok(m.b, m.n);
    static const struct expect e[] = {
            {"PN", false, "MCX623106AN-CDAT"},
            {"SN", false, "MT2140T00001"},
            {"V0", true, "x"},
    };
    assert_fields(vpd, e, ELEMENTSOF(e));
    dh_vpd_free(vpd);
}

/* --- whole-VPD rejections --- */

static void empty_is_enodata(void **state)
{
    (void)state;
    struct dh_vpd *vpd;
    struct dh_error err;
    assert_int_equal(parse_bytes((const uint8_t *)"", 0, &vpd, &err), -ENODATA);
    assert_null(vpd);
    assert_int_equal(err.code, -ENODATA);
    assert_non_null(strstr(err.message, "empty"));
}

static void large_tag_without_length_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    put_u8(&m, 0x91);
    put_u8(&m, 0x05); /* one of the two length bytes */
    assert_rejected(&m, "length of the VPD-W (tag 0x91) at offset 0x24 runs past the end");
}

static void resource_past_the_end_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    size_t rw = put_large(&m, 0x91);
    put_text(&m, "YA", "asset");
    end_large(&m, rw);
    m.n -= 2; /* the data stops two bytes short */
    assert_rejected(&m, "VPD is truncated: the VPD-W (tag 0x91) at offset 0x24 has 8 data bytes");
}

static void missing_vpd_r_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_id(&m, "Name only");
    put_u8(&m, 0x78);
    assert_rejected(&m, "no VPD-R resource");
}

static void missing_end_tag_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    assert_rejected(&m, "no end tag (0x78): the data ends at offset 0x24");
}

/* Filler that walks as zero-length small resources (type 0) never reaches an end tag in 32 KiB. */
static void no_end_tag_within_32k_is_rejected(void **state)
{
    (void)state;
    size_t n = DH_VPD_MAX_BYTES + 100;
    uint8_t *b = calloc(1, n);
    assert_non_null(b);
    static const char *const none[] = {NULL};
    size_t len = vpd_blob_build(b, n, NULL, none, NULL);
    b[len - 1] = 0x00; /* drop the end tag */
    b[DH_VPD_MAX_BYTES + 10] = 0x78;
    assert_rejected_bytes(b, n, "no end tag (0x78) within the 32 KiB");
    free(b);
}

static void resource_past_32k_is_rejected(void **state)
{
    (void)state;
    size_t n = DH_VPD_MAX_BYTES + 100;
    uint8_t *b = calloc(1, n);
    assert_non_null(b);
    static const char *const none[] = {NULL};
    size_t len = vpd_blob_build(b, n, NULL, none, NULL) - 1;
    /* An unknown large resource from offset 7 up to 32 KiB + 4, then an end tag. */
    size_t data = DH_VPD_MAX_BYTES + 4 - (len + 3);
    b[len] = 0xa0;
    b[len + 1] = (uint8_t)(data & 0xff);
    b[len + 2] = (uint8_t)(data >> 8);
    b[len + 3 + data] = 0x78;
    assert_rejected_bytes(b, n, "resource (tag 0xa0) at offset 0x7 runs past the 32 KiB");
    free(b);
}

static void nonprintable_identifier_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_id(&m, "Bad\x01name");
    size_t ro = put_large(&m, 0x90);
    size_t cs = put_rv(&m, 0);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    put_u8(&m, 0x78);
    assert_rejected(&m, "identifier string at offset 0x0 has a non-printable byte 0x01 at offset 0x6");
}

/* A too-long identifier length swallows the VPD-R tag (0x90), which is not printable. */
static void overlong_identifier_length_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    put_u8(&m, 0x78);
    m.b[1] += 1;
    assert_rejected(&m, "non-printable byte 0x90 at offset 0xc");
}

static void field_overrunning_vpd_r_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    size_t ro = put_large(&m, 0x90);
    put_text(&m, "SN", "ABCD");
    size_t cs = put_rv(&m, 0);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    put_u8(&m, 0x78);
    m.b[5] = 9; /* SN claims 9 bytes; 8 are left in VPD-R */
    assert_rejected(&m, "VPD-R field SN at offset 0x3 has 9 data bytes and overruns the resource");
}

static void field_overrunning_vpd_w_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    size_t rw = put_large(&m, 0x91);
    put_field(&m, "\xff\xff", "\xff", 1);
    end_large(&m, rw);
    put_u8(&m, 0x78);
    m.b[rw + 5] = 2;
    assert_rejected(&m, "VPD-W field 0xffff at offset 0x27 has 2 data bytes and overruns");
}

static void rw_in_vpd_r_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    size_t ro = put_large(&m, 0x90);
    put_field(&m, "RW", "\0\0", 2);
    size_t cs = put_rv(&m, 0);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    put_u8(&m, 0x78);
    assert_rejected(&m, "VPD-R has an RW field at offset 0x3");
}

static void rv_in_vpd_w_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    size_t rw = put_large(&m, 0x91);
    size_t cs = put_rv(&m, 0);
    end_large(&m, rw);
    fix_checksum(&m, cs);
    put_u8(&m, 0x78);
    assert_rejected(&m, "VPD-W has an RV field at offset 0x27");
}

static void missing_rv_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    size_t ro = put_large(&m, 0x90);
    put_text(&m, "SN", "MT2109X00000");
    end_large(&m, ro);
    put_u8(&m, 0x78);
    assert_rejected(&m, "VPD-R at offset 0x0 has no RV (checksum) field");
}

static void empty_vpd_r_is_rejected(void **state)
{
    (void)state;
    static const uint8_t b[] = {0x90, 0x00, 0x00, 0x78};
    assert_rejected_bytes(b, sizeof(b), "has no RV (checksum) field");
}

static void rv_followed_by_a_field_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    size_t ro = put_large(&m, 0x90);
    size_t cs = put_rv(&m, 0);
    put_text(&m, "SN", "late");
    end_large(&m, ro);
    fix_checksum(&m, cs);
    put_u8(&m, 0x78);
    assert_rejected(&m, "RV at offset 0x3 is not the last field of VPD-R: it ends at 0x7, VPD-R at 0xe");
}

/* RV's padding must reach the end of VPD-R exactly: one spare byte after it is not a field. */
static void rv_short_of_the_end_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    size_t ro = put_large(&m, 0x90);
    size_t cs = put_rv(&m, 0);
    put_u8(&m, 0);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    put_u8(&m, 0x78);
    assert_rejected(&m, "RV at offset 0x3 is not the last field of VPD-R");
}

static void rv_padding_past_vpd_r_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    size_t ro = put_large(&m, 0x90);
    size_t cs = put_rv(&m, 3);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    put_u8(&m, 0x78);
    m.b[5] = 5;
    assert_rejected(&m, "VPD-R field RV at offset 0x3 has 5 data bytes and overruns");
}

static void bad_checksum_is_rejected(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_bluefield(buf, sizeof(buf));
    buf[5] ^= 0x01; /* a bit flip in the identifier string */
    assert_rejected_bytes(buf, n, "VPD-R checksum is 0xff, not 0 (RV at offset 0x105)");
}

static void zero_length_rv_is_rejected(void **state)
{
    (void)state;
    static const uint8_t b[] = {0x90, 0x03, 0x00, 'R', 'V', 0x00, 0x78};
    assert_rejected_bytes(b, sizeof(b), "RV at offset 0x3 has length 0");
}

static void rw_not_last_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    size_t rw = put_large(&m, 0x91);
    put_field(&m, "RW", "\0\0", 2);
    put_text(&m, "YA", "tag");
    end_large(&m, rw);
    put_u8(&m, 0x78);
    assert_rejected(&m, "RW at offset 0x27 is not the last field of VPD-W: it ends at 0x2c, VPD-W at 0x32");
}

static void one_stray_byte_in_vpd_w_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    size_t rw = put_large(&m, 0x91);
    put_text(&m, "YA", "tag");
    put_u8(&m, 'V');
    end_large(&m, rw);
    put_u8(&m, 0x78);
    assert_rejected(&m, "1 stray byte at offset 0x2d at the end of VPD-W (tag at 0x24)");
}

static void two_stray_bytes_in_vpd_w_are_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    size_t rw = put_large(&m, 0x91);
    put(&m, "V1", 2);
    end_large(&m, rw);
    put_u8(&m, 0x78);
    assert_rejected(&m, "2 stray bytes at offset 0x27 at the end of VPD-W");
}

static void stray_bytes_in_vpd_r_are_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    size_t ro = put_large(&m, 0x90);
    put_text(&m, "SN", "x");
    put(&m, "V0", 2);
    end_large(&m, ro);
    put_u8(&m, 0x78);
    assert_rejected(&m, "2 stray bytes at offset 0x7 at the end of VPD-R");
}

static void second_vpd_r_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    size_t ro = put_large(&m, 0x90);
    size_t cs = put_rv(&m, 0);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    put_u8(&m, 0x78);
    assert_rejected(&m, "second VPD-R at offset 0x24 (the first is at 0xc)");
}

static void second_vpd_w_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    for (int i = 0; i < 2; i++) {
        size_t rw = put_large(&m, 0x91);
        put_text(&m, "YA", i ? "second" : "first");
        end_large(&m, rw);
    }
    put_u8(&m, 0x78);
    assert_rejected(&m, "second VPD-W at offset 0x2f (the first is at 0x24)");
}

static void second_identifier_string_is_rejected(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    put_id(&m, "Other name");
    put_u8(&m, 0x78);
    assert_rejected(&m, "second identifier string at offset 0x24 (the first is at 0x0)");
}

/* --- tolerated oddities --- */

static void malformed_keywords_are_skipped(void **state)
{
    (void)state;
    struct img m = {0};
    size_t ro = put_large(&m, 0x90);
    put_text(&m, "PN", "part");
    put_text(&m, "s1", "lower case");
    put_field(&m, "\xff\xff", "\xff\xff\xff", 3);
    put_text(&m, "S-", "dash");
    put_field(&m, "CP", "\x01\x00\x10\x00", 4); /* binary capability pointer */
    put_text(&m, "SN", "serial");
    size_t cs = put_rv(&m, 0);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    put_u8(&m, 0x78);

    struct dh_vpd *vpd = parse_ok(m.b, m.n);
    static const struct expect e[] = {
            {"PN", false, "part"},
            {"SN", false, "serial"},
    };
    assert_fields(vpd, e, ELEMENTSOF(e));
    assert_null(dh_vpd_get(vpd, "CP"));
    dh_vpd_free(vpd);
}

/* Well-formed keywords the spec does not list (legacy FG, a future ZZ) are kept as text. */
static void unlisted_well_formed_keywords_are_kept(void **state)
{
    (void)state;
    static const char *const ro[] = {"FG=fabric", "ZZ=future", NULL};
    uint8_t buf[64];
    size_t n = vpd_blob_build(buf, sizeof(buf), "x", ro, NULL);
    struct dh_vpd *vpd = parse_ok(buf, n);
    static const struct expect e[] = {
            {"FG", false, "fabric"},
            {"ZZ", false, "future"},
    };
    assert_fields(vpd, e, ELEMENTSOF(e));
    dh_vpd_free(vpd);
}

static void ff_filled_field_is_dropped_and_siblings_survive(void **state)
{
    (void)state;
    struct img m = {0};
    put_id(&m, "Card");
    size_t ro = put_large(&m, 0x90);
    put_text(&m, "PN", "MCX4121A-ACAT");
    put_field(&m, "EC", "\xff\xff\xff\xff", 4);
    put_text(&m, "SN", "MT1722K00000");
    size_t cs = put_rv(&m, 0);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    size_t rw = put_large(&m, 0x91);
    put_field(&m, "YA", "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
    put_text(&m, "V1", "kept");
    put_field(&m, "RW", "\xff\xff", 2);
    end_large(&m, rw);
    put_u8(&m, 0x78);

    struct dh_vpd *vpd = parse_ok(m.b, m.n);
    static const struct expect e[] = {
            {"PN", false, "MCX4121A-ACAT"},
            {"SN", false, "MT1722K00000"},
            {"V1", true, "kept"},
    };
    assert_fields(vpd, e, ELEMENTSOF(e));
    assert_null(dh_vpd_get(vpd, "EC"));
    assert_null(dh_vpd_get(vpd, "YA"));
    dh_vpd_free(vpd);
}

/* Only surrounding whitespace is stripped; a tab, NUL padding or a high byte inside drops the field. */
/* NUL padding ends a value (cards pad fields with NULs; libvirt reads them as C strings). */
static void values_are_trimmed_and_inner_bad_bytes_drop_the_field(void **state)
{
    (void)state;
    struct img m = {0};
    put_id(&m, " \t Spaced name \r\n");
    size_t ro = put_large(&m, 0x90);
    put_text(&m, "PN", "  MBF2M516A  ");
    put_text(&m, "EC", "\tA1\n");
    put_text(&m, "V0", "a\tb");
    put_field(&m, "V1", "SN\0\0", 4);
    put_text(&m, "V2", "caf\xe9");
    put_text(&m, "V3", "k=v, a/b: N/A");
    size_t cs = put_rv(&m, 0);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    put_u8(&m, 0x78);

    struct dh_vpd *vpd = parse_ok(m.b, m.n);
    assert_string_equal(vpd->name, "Spaced name");
    static const struct expect e[] = {
            {"PN", false, "MBF2M516A"},
            {"EC", false, "A1"},
            {"V1", false, "SN"},
            {"V3", false, "k=v, a/b: N/A"},
    };
    assert_fields(vpd, e, ELEMENTSOF(e));
    dh_vpd_free(vpd);
}

static void zero_length_and_blank_fields_are_empty_strings(void **state)
{
    (void)state;
    static const char *const ro[] = {"SN=", "PN=    ", NULL};
    static const char *const rw[] = {"YA=", NULL};
    uint8_t buf[64];
    size_t n = vpd_blob_build(buf, sizeof(buf), "", ro, rw);
    struct dh_vpd *vpd = parse_ok(buf, n);
    assert_string_equal(vpd->name, "");
    static const struct expect e[] = {
            {"SN", false, ""},
            {"PN", false, ""},
            {"YA", true, ""},
    };
    assert_fields(vpd, e, ELEMENTSOF(e));
    dh_vpd_free(vpd);
}

static void vpd_w_without_rw_is_accepted_when_filled(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    size_t rw = put_large(&m, 0x91);
    put_text(&m, "YA", "asset");
    put_text(&m, "Y0", "");
    end_large(&m, rw);
    put_u8(&m, 0x78);

    struct dh_vpd *vpd = parse_ok(m.b, m.n);
    static const struct expect e[] = {
            {"SN", false, "MT2109X00000"},
            {"YA", true, "asset"},
            {"Y0", true, ""},
    };
    assert_fields(vpd, e, ELEMENTSOF(e));
    dh_vpd_free(vpd);
}

static void empty_vpd_w_and_empty_rw_are_accepted(void **state)
{
    (void)state;
    struct img m = {0};
    put_name_and_ro(&m);
    size_t rw = put_large(&m, 0x91);
    end_large(&m, rw);
    put_u8(&m, 0x78);
    struct dh_vpd *vpd = parse_ok(m.b, m.n);
    assert_int_equal(vpd->n_fields, 1);
    dh_vpd_free(vpd);

    m = (struct img){0};
    put_name_and_ro(&m);
    rw = put_large(&m, 0x91);
    put_field(&m, "RW", "", 0);
    end_large(&m, rw);
    put_u8(&m, 0x78);
    vpd = parse_ok(m.b, m.n);
    assert_int_equal(vpd->n_fields, 1);
    dh_vpd_free(vpd);
}

/* The checksum covers the unknown resource's bytes too (spec and kernel), unlike libvirt's sum. */
static void unknown_resources_are_skipped_and_checksummed(void **state)
{
    (void)state;
    struct img m = {0};
    put_u8(&m, 0x22); /* small resource type 4, 2 data bytes */
    put(&m, "\x90\x91", 2);
    put_id(&m, "Card");
    size_t unk = put_large(&m, 0x84);
    put(&m, "\x90\x00\x01\x78\xff", 5);
    end_large(&m, unk);
    size_t ro = put_large(&m, 0x90);
    put_text(&m, "SN", "S1");
    size_t cs = put_rv(&m, 0);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    put_u8(&m, 0x75); /* small type 0xe, 5 data bytes */
    put(&m, "\x91\x00\x00\x78\x78", 5);
    put_u8(&m, 0x78);

    struct dh_vpd *vpd = parse_ok(m.b, m.n);
    assert_string_equal(vpd->name, "Card");
    static const struct expect e[] = {{"SN", false, "S1"}};
    assert_fields(vpd, e, ELEMENTSOF(e));
    dh_vpd_free(vpd);

    /* A checksum computed libvirt's way, leaving out the unknown resources' data, is wrong. */
    uint8_t omitted = (uint8_t)(0x90 + 0x91 + 0x90 + 0x00 + 0x01 + 0x78 + 0xff);
    m.b[cs] = (uint8_t)(m.b[cs] + omitted);
    assert_rejected(&m, "VPD-R checksum is");
}

/* 0x0123 bytes of VPD-R: a big-endian reading (0x2301) would run past the data. */
static void large_resource_length_is_little_endian(void **state)
{
    (void)state;
    struct img m = {0};
    size_t ro = put_large(&m, 0x90);
    char v[256];
    memset(v, 'a', sizeof(v));
    put_field(&m, "V0", v, 255);
    size_t cs = put_rv(&m, 0x0123 - 255 - 3 - 4);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    put_u8(&m, 0x78);
    assert_int_equal(m.b[1], 0x23);
    assert_int_equal(m.b[2], 0x01);

    struct dh_vpd *vpd = parse_ok(m.b, m.n);
    assert_int_equal(strlen(dh_vpd_get(vpd, "V0")), 255);
    dh_vpd_free(vpd);
}

/* The end tag's length bits and whatever follows it (EEPROM fill) are ignored, as by the kernel. */
static void end_tag_length_bits_and_trailing_bytes_are_ignored(void **state)
{
    (void)state;
    static const char *const ro[] = {"SN=MT2109X00000", NULL};
    uint8_t buf[64];
    size_t n = vpd_blob_build(buf, sizeof(buf), "Card", ro, NULL);

    buf[n - 1] = 0x7f; /* type 0xf with 7 length bits, and no data bytes at all */
    struct dh_vpd *vpd = parse_ok(buf, n);
    assert_string_equal(dh_vpd_get(vpd, "SN"), "MT2109X00000");
    dh_vpd_free(vpd);

    buf[n - 1] = 0x78;
    memset(buf + n, 0xff, 16);
    vpd = parse_ok(buf, n + 16);
    assert_string_equal(dh_vpd_get(vpd, "SN"), "MT2109X00000");
    dh_vpd_free(vpd);
}

static void vpd_w_before_vpd_r_is_accepted(void **state)
{
    (void)state;
    struct img m = {0};
    size_t rw = put_large(&m, 0x91);
    put_text(&m, "YA", "asset");
    put_field(&m, "RW", "\0", 1);
    end_large(&m, rw);
    put_id(&m, "Late name");
    size_t ro = put_large(&m, 0x90);
    put_text(&m, "SN", "S2");
    size_t cs = put_rv(&m, 0);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    put_u8(&m, 0x78);

    struct dh_vpd *vpd = parse_ok(m.b, m.n);
    assert_string_equal(vpd->name, "Late name");
    static const struct expect e[] = {
            {"YA", true, "asset"},
            {"SN", false, "S2"},
    };
    assert_fields(vpd, e, ELEMENTSOF(e));
    dh_vpd_free(vpd);
}

static void repeated_keyword_keeps_last_value_at_first_position(void **state)
{
    (void)state;
    static const char *const ro[] = {"SN=first", "PN=part", "V0=ro", "SN=second", "EC=A1", "SN=third", NULL};
    static const char *const rw[] = {"V0=rw", "YA=a", "YA=b", NULL};
    uint8_t buf[128];
    size_t n = vpd_blob_build(buf, sizeof(buf), "Card", ro, rw);
    struct dh_vpd *vpd = parse_ok(buf, n);
    /* within a resource the last value wins; VPD-W never overrides VPD-R */
    static const struct expect e[] = {
            {"SN", false, "third"}, {"PN", false, "part"}, {"V0", false, "ro"},
            {"EC", false, "A1"},    {"YA", true, "b"},
    };
    assert_fields(vpd, e, ELEMENTSOF(e));
    assert_string_equal(dh_vpd_get(vpd, "SN"), "third");
    dh_vpd_free(vpd);
}

static void vpd_w_cannot_replace_the_serial_number(void **state)
{
    (void)state;
    static const char *const ro[] = {"SN=MT2109X00001", "PN=part", NULL};
    static const char *const rw[] = {"SN=forged", "PN=other", "V9=extra", NULL};
    uint8_t buf[128];
    size_t n = vpd_blob_build(buf, sizeof(buf), "Card", ro, rw);
    struct dh_vpd *vpd = parse_ok(buf, n);
    assert_string_equal(dh_vpd_get(vpd, "SN"), "MT2109X00001");
    assert_string_equal(dh_vpd_get(vpd, "PN"), "part");
    assert_string_equal(dh_vpd_get(vpd, "V9"), "extra");
    dh_vpd_free(vpd);
}

/* A later value with bad bytes is dropped, so it does not erase the earlier good one. */
static void repeated_keyword_with_bad_bytes_keeps_earlier_value(void **state)
{
    (void)state;
    struct img m = {0};
    size_t ro = put_large(&m, 0x90);
    put_text(&m, "SN", "good");
    put_field(&m, "SN", "\xff\xff", 2);
    size_t cs = put_rv(&m, 0);
    end_large(&m, ro);
    fix_checksum(&m, cs);
    put_u8(&m, 0x78);
    struct dh_vpd *vpd = parse_ok(m.b, m.n);
    assert_string_equal(dh_vpd_get(vpd, "SN"), "good");
    assert_int_equal(vpd->n_fields, 1);
    dh_vpd_free(vpd);
}

/* Every distinct keyword once, twice: exercises the growth of the field array and the keyword table. */
static void every_keyword_is_stored_once(void **state)
{
    (void)state;
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t size = DH_VPD_MAX_BYTES;
    uint8_t *b = malloc(size);
    assert_non_null(b);
    size_t n = 0;
    b[n++] = 0x90;
    n += 2;
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < 36; i++)
            for (size_t j = 0; j < 36; j++) {
                if ((chars[i] == 'R' && (chars[j] == 'V' || chars[j] == 'W')) ||
                    (chars[i] == 'C' && chars[j] == 'P'))
                    continue;
                b[n++] = (uint8_t)chars[i];
                b[n++] = (uint8_t)chars[j];
                b[n++] = 1;
                b[n++] = (uint8_t)(round ? 'b' : 'a');
            }
    b[n++] = 'R';
    b[n++] = 'V';
    b[n++] = 1;
    size_t cs = n++;
    b[1] = (uint8_t)((n - 3) & 0xff);
    b[2] = (uint8_t)((n - 3) >> 8);
    uint8_t sum = 0;
    for (size_t i = 0; i < cs; i++)
        sum = (uint8_t)(sum + b[i]);
    b[cs] = (uint8_t)(0x100 - sum);
    b[n++] = 0x78;

    struct dh_vpd *vpd = parse_ok(b, n);
    assert_int_equal(vpd->n_fields, 36 * 36 - 3);
    for (size_t i = 0; i < vpd->n_fields; i++)
        assert_string_equal(vpd->fields[i].value, "b");
    assert_string_equal(vpd->fields[0].keyword, "AA");
    assert_string_equal(dh_vpd_get(vpd, "99"), "b");
    dh_vpd_free(vpd);
    free(b);
}

static void every_truncation_is_rejected(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_bluefield(buf, sizeof(buf));
    for (size_t len = 0; len < n; len++) {
        struct dh_vpd *vpd;
        struct dh_error err;
        int r = parse_bytes(buf, len, &vpd, &err);
        if (r != (len == 0 ? -ENODATA : -EBADMSG))
            fail_msg("truncated to %zu of %zu bytes: dh_vpd_parse() = %d (%s)", len, n, r, err.message);
        assert_null(vpd);
        assert_int_equal(err.code, r);
        assert_true(err.message[0] != '\0');
    }
    struct dh_vpd *vpd = parse_ok(buf, n);
    dh_vpd_free(vpd);
}

static void free_and_get_accept_null(void **state)
{
    (void)state;
    dh_vpd_free(NULL);
    assert_null(dh_vpd_get(NULL, "SN"));
    struct dh_vpd *vpd = NULL;
    assert_int_equal(dh_vpd_parse(NULL, 1, &vpd, NULL), -EINVAL);
    assert_int_equal(dh_vpd_parse((const uint8_t *)"\x78", 1, NULL, NULL), -EINVAL);
    /* err is optional */
    assert_int_equal(dh_vpd_parse((const uint8_t *)"\x78", 1, &vpd, NULL), -EBADMSG);
    assert_null(vpd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(bluefield_parses_to_expected_fields),
            DH_TEST(minimal_vpd_without_name_has_no_fields),
            DH_TEST(padded_rv_and_rw_parse),
            DH_TEST(empty_is_enodata),
            DH_TEST(large_tag_without_length_is_rejected),
            DH_TEST(resource_past_the_end_is_rejected),
            DH_TEST(missing_vpd_r_is_rejected),
            DH_TEST(missing_end_tag_is_rejected),
            DH_TEST(no_end_tag_within_32k_is_rejected),
            DH_TEST(resource_past_32k_is_rejected),
            DH_TEST(nonprintable_identifier_is_rejected),
            DH_TEST(overlong_identifier_length_is_rejected),
            DH_TEST(field_overrunning_vpd_r_is_rejected),
            DH_TEST(field_overrunning_vpd_w_is_rejected),
            DH_TEST(rw_in_vpd_r_is_rejected),
            DH_TEST(rv_in_vpd_w_is_rejected),
            DH_TEST(missing_rv_is_rejected),
            DH_TEST(empty_vpd_r_is_rejected),
            DH_TEST(rv_followed_by_a_field_is_rejected),
            DH_TEST(rv_short_of_the_end_is_rejected),
            DH_TEST(rv_padding_past_vpd_r_is_rejected),
            DH_TEST(bad_checksum_is_rejected),
            DH_TEST(zero_length_rv_is_rejected),
            DH_TEST(rw_not_last_is_rejected),
            DH_TEST(one_stray_byte_in_vpd_w_is_rejected),
            DH_TEST(two_stray_bytes_in_vpd_w_are_rejected),
            DH_TEST(stray_bytes_in_vpd_r_are_rejected),
            DH_TEST(second_vpd_r_is_rejected),
            DH_TEST(second_vpd_w_is_rejected),
            DH_TEST(second_identifier_string_is_rejected),
            DH_TEST(malformed_keywords_are_skipped),
            DH_TEST(unlisted_well_formed_keywords_are_kept),
            DH_TEST(ff_filled_field_is_dropped_and_siblings_survive),
            DH_TEST(values_are_trimmed_and_inner_bad_bytes_drop_the_field),
            DH_TEST(zero_length_and_blank_fields_are_empty_strings),
            DH_TEST(vpd_w_without_rw_is_accepted_when_filled),
            DH_TEST(empty_vpd_w_and_empty_rw_are_accepted),
            DH_TEST(unknown_resources_are_skipped_and_checksummed),
            DH_TEST(large_resource_length_is_little_endian),
            DH_TEST(end_tag_length_bits_and_trailing_bytes_are_ignored),
            DH_TEST(vpd_w_before_vpd_r_is_accepted),
            DH_TEST(repeated_keyword_keeps_last_value_at_first_position),
            DH_TEST(vpd_w_cannot_replace_the_serial_number),
            DH_TEST(repeated_keyword_with_bad_bytes_keeps_earlier_value),
            DH_TEST(every_keyword_is_stored_once),
            DH_TEST(every_truncation_is_rejected),
            DH_TEST(free_and_get_accept_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
