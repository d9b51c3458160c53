/* PCI addresses and class codes: pure helpers shared by every module that names a function. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* "dddd:bb:ss.f" plus room for the kernel's wider domains (VMD uses 10000 and up). */
#define DH_PCI_ADDR_STRLEN 17

struct dh_pci_addr {
    uint32_t domain;
    uint8_t bus;
    uint8_t slot;     /* 0x00-0x1f */
    uint8_t function; /* 0-7 */
};

/* Parses a full address "DDDD:BB:DD.F" strictly: four hex domain digits (more only for domains
 * above 0xffff, exactly as the kernel prints them), two bus digits, two slot digits (<= 1f), one
 * function digit (<= 7). Upper-case hex is accepted; nothing else (no short forms, no blanks).
 * Returns 0 or -EINVAL. */
int dh_pci_addr_parse(const char *s, struct dh_pci_addr *ret);

/* True when s is an address dh_pci_addr_parse() accepts. */
bool dh_pci_addr_is_valid(const char *s);

/* Formats the canonical lower-case form into buf. */
void dh_pci_addr_format(const struct dh_pci_addr *addr, char buf[DH_PCI_ADDR_STRLEN]);

/* Orders by domain, bus, slot, function. */
int dh_pci_addr_compare(const struct dh_pci_addr *a, const struct dh_pci_addr *b);

/* Routing ID (bus << 8 | devfn), as used by SR-IOV offset/stride arithmetic. */
uint16_t dh_pci_addr_rid(const struct dh_pci_addr *addr);

/* A short name for a 24-bit class code: "ethernet", "nvme", "gpu", "bridge", ...;
 * never NULL ("other" when nothing fits). */
const char *dh_pci_class_name(uint32_t class_code);
