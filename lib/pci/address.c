/* PCI address parsing and formatting. The strict form is what sysfs uses for directory names, so an
 * accepted address can always be compared byte for byte with a sysfs entry once formatted. */
#include <dpuhost/pci.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int parse_hex_run(const char *s, size_t n, uint32_t *ret)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hexval(s[i]);
        if (d < 0)
            return -EINVAL;
        v = v << 4 | (uint32_t)d;
    }
    *ret = v;
    return 0;
}

int dh_pci_addr_parse(const char *s, struct dh_pci_addr *ret)
{
    if (!s)
        return -EINVAL;
    const char *colon = strchr(s, ':');
    if (!colon)
        return -EINVAL;
    size_t dlen = (size_t)(colon - s);
    if (dlen < 4 || dlen > 8)
        return -EINVAL;
    uint32_t domain, bus, slot, fn;
    if (parse_hex_run(s, dlen, &domain) < 0)
        return -EINVAL;
    /* The kernel prints the domain with %04x: a wider domain never has a leading zero. */
    if (dlen > 4 && s[0] == '0')
        return -EINVAL;
    const char *p = colon + 1;
    if (strlen(p) != 7 || p[2] != ':' || p[5] != '.')
        return -EINVAL;
    if (parse_hex_run(p, 2, &bus) < 0 || parse_hex_run(p + 3, 2, &slot) < 0 ||
        parse_hex_run(p + 6, 1, &fn) < 0)
        return -EINVAL;
    if (slot > 0x1f || fn > 7)
        return -EINVAL;
    if (ret) {
        ret->domain = domain;
        ret->bus = (uint8_t)bus;
        ret->slot = (uint8_t)slot;
        ret->function = (uint8_t)fn;
    }
    return 0;
}

bool dh_pci_addr_is_valid(const char *s)
{
    return dh_pci_addr_parse(s, NULL) == 0;
}

void dh_pci_addr_format(const struct dh_pci_addr *addr, char buf[DH_PCI_ADDR_STRLEN])
{
    snprintf(buf, DH_PCI_ADDR_STRLEN, "%04x:%02x:%02x.%x", addr->domain, addr->bus, addr->slot,
             addr->function);
}

int dh_pci_addr_compare(const struct dh_pci_addr *a, const struct dh_pci_addr *b)
{
    if (a->domain != b->domain)
        return a->domain < b->domain ? -1 : 1;
    uint16_t ra = dh_pci_addr_rid(a), rb = dh_pci_addr_rid(b);
    return ra < rb ? -1 : ra > rb;
}

uint16_t dh_pci_addr_rid(const struct dh_pci_addr *addr)
{
    return (uint16_t)(addr->bus << 8 | addr->slot << 3 | addr->function);
}
