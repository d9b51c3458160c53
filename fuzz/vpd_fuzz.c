/* libFuzzer target for the PCI VPD parser. Besides letting ASan/UBSan catch out-of-bounds reads, it
 * checks what dh_vpd_parse() promises on success (printable values, well-formed unique keywords, no RV
 * or RW) and on failure (a known error code with a message), so a wrong answer aborts like a crash. The
 * same function replays the checked-in corpus as a normal test (replay.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dpuhost/vpd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s)
{
    if (!s)
        abort();
    /* Touch every byte, so ASan sees a value that is not NUL-terminated inside its allocation. */
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            abort();
    size_t n = strlen(s);
    if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
        abort(); /* surrounding whitespace is stripped */
}

static int is_keyword_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dh_vpd *vpd = NULL;
    struct dh_error err = {0};

    int r = dh_vpd_parse(data, size, &vpd, &err);
    if (r < 0) {
        if (vpd || err.code != r || err.message[0] == '\0')
            abort();
        if (r != -EBADMSG && r != -ENODATA && r != -ENOMEM)
            abort();
        if ((r == -ENODATA) != (size == 0))
            abort();
        return 0;
    }
    if (r != 0 || !vpd || err.code != 0)
        abort();

    if (vpd->name)
        check_text(vpd->name);
    for (size_t i = 0; i < vpd->n_fields; i++) {
        const struct dh_vpd_field *f = &vpd->fields[i];
        if (!is_keyword_char(f->keyword[0]) || !is_keyword_char(f->keyword[1]) || f->keyword[2] != '\0')
            abort();
        if (strcmp(f->keyword, "RV") == 0 || strcmp(f->keyword, "RW") == 0 || strcmp(f->keyword, "CP") == 0)
            abort();
        check_text(f->value);
        /* Keywords are unique: the lookup finds this very entry. */
        if (dh_vpd_get(vpd, f->keyword) != f->value)
            abort();
    }
    dh_vpd_free(vpd);
    return 0;
}
