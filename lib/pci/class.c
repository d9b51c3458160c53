/* Short names for PCI class codes (PCI Code and ID Assignment Specification). The names are part of
 * the JSON contract (class_name), so they only ever gain entries. */
#include <dpuhost/pci.h>

#include <stddef.h>

struct class_entry {
    uint32_t value; /* class, subclass or class+subclass+prog-if */
    uint32_t mask;
    const char *name;
};

/* The most specific match wins: entries are ordered from specific to generic. */
static const struct class_entry classes[] = {
        {0x010802, 0xffffff, "nvme"},
        {0x010000, 0xffff00, "scsi"},
        {0x010100, 0xffff00, "ide"},
        {0x010400, 0xffff00, "raid"},
        {0x010600, 0xffff00, "sata"},
        {0x010700, 0xffff00, "sas"},
        {0x010000, 0xff0000, "storage"},
        {0x020000, 0xffff00, "ethernet"},
        {0x020700, 0xffff00, "infiniband"},
        {0x020000, 0xff0000, "network"},
        {0x030000, 0xff0000, "gpu"},
        {0x040000, 0xff0000, "multimedia"},
        {0x050000, 0xff0000, "memory"},
        {0x060000, 0xffff00, "host-bridge"},
        {0x060000, 0xff0000, "bridge"},
        {0x070000, 0xff0000, "communication"},
        {0x080600, 0xffff00, "iommu"},
        {0x080000, 0xff0000, "system"},
        {0x090000, 0xff0000, "input"},
        {0x0b0000, 0xff0000, "processor"},
        {0x0c0300, 0xffff00, "usb"},
        {0x0c0500, 0xffff00, "smbus"},
        {0x0c0000, 0xff0000, "serial-bus"},
        {0x0d0000, 0xff0000, "wireless"},
        {0x0e0000, 0xff0000, "intelligent-io"},
        {0x0f0000, 0xff0000, "satellite"},
        {0x100000, 0xff0000, "crypto"},
        {0x110000, 0xff0000, "signal-processing"},
        {0x120000, 0xff0000, "accelerator"},
        {0x130000, 0xff0000, "instrumentation"},
        {0x000100, 0xffff00, "gpu"}, /* pre-2.0 VGA-compatible device */
        {0x000000, 0xff0000, "unclassified"},
        {0xff0000, 0xff0000, "unassigned"},
};

const char *dh_pci_class_name(uint32_t class_code)
{
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        if ((class_code & classes[i].mask) == classes[i].value)
            return classes[i].name;
    return "other";
}
