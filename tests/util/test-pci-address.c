/* Strict PCI address parsing, formatting, ordering and class names. */
#include "test.h"

#include <errno.h>

#include <dpuhost/pci.h>

static void parses_canonical_address(void **state)
{
    (void)state;
    struct dh_pci_addr a;
    assert_int_equal(dh_pci_addr_parse("0000:03:1f.7", &a), 0);
    assert_int_equal(a.domain, 0);
    assert_int_equal(a.bus, 3);
    assert_int_equal(a.slot, 0x1f);
    assert_int_equal(a.function, 7);
    char buf[DH_PCI_ADDR_STRLEN];
    assert_int_equal(dh_pci_addr_parse("0000:AF:00.1", &a), 0);
    dh_pci_addr_format(&a, buf);
    assert_string_equal(buf, "0000:af:00.1");
}

static void accepts_wide_domains_only_as_the_kernel_prints_them(void **state)
{
    (void)state;
    struct dh_pci_addr a;
    char buf[DH_PCI_ADDR_STRLEN];
    assert_int_equal(dh_pci_addr_parse("10000:e1:00.0", &a), 0);
    assert_int_equal(a.domain, 0x10000);
    dh_pci_addr_format(&a, buf);
    assert_string_equal(buf, "10000:e1:00.0");
    assert_int_equal(dh_pci_addr_parse("00000:e1:00.0", &a), -EINVAL);
}

static void rejects_every_malformed_shape(void **state)
{
    (void)state;
    static const char *const bad[] = {
            "",
            "03:00.0",
            "0:03:00.0",
            "000:03:00.0",
            "0000:3:00.0",
            "0000:03:0.0",
            "0000:03:00",
            "0000:03:00.",
            "0000:03:00.8",
            "0000:03:20.0",
            "0000:03:00.0 ",
            " 0000:03:00.0",
            "0000-03-00.0",
            "0000:03:00:0",
            "0000:0g:00.0",
            "0000:03:00.0\n",
            "mlx5_core.sf.4",
            "0000:03:00.00",
            "123456789:03:00.0",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (dh_pci_addr_is_valid(bad[i]))
            fail_msg("accepted malformed address '%s'", bad[i]);
    }
    assert_false(dh_pci_addr_is_valid(NULL));
}

static void orders_by_domain_then_rid(void **state)
{
    (void)state;
    struct dh_pci_addr a, b, c;
    dh_pci_addr_parse("0000:03:00.7", &a);
    dh_pci_addr_parse("0000:03:01.0", &b);
    dh_pci_addr_parse("0001:00:00.0", &c);
    assert_true(dh_pci_addr_compare(&a, &b) < 0);
    assert_true(dh_pci_addr_compare(&b, &c) < 0);
    assert_int_equal(dh_pci_addr_compare(&b, &b), 0);
    assert_int_equal(dh_pci_addr_rid(&b), 0x0308);
}

static void class_names(void **state)
{
    (void)state;
    assert_string_equal(dh_pci_class_name(0x020000), "ethernet");
    assert_string_equal(dh_pci_class_name(0x020700), "infiniband");
    assert_string_equal(dh_pci_class_name(0x028000), "network");
    assert_string_equal(dh_pci_class_name(0x010802), "nvme");
    assert_string_equal(dh_pci_class_name(0x010801), "storage");
    assert_string_equal(dh_pci_class_name(0x030000), "gpu");
    assert_string_equal(dh_pci_class_name(0x030200), "gpu");
    assert_string_equal(dh_pci_class_name(0x060400), "bridge");
    assert_string_equal(dh_pci_class_name(0x060000), "host-bridge");
    assert_string_equal(dh_pci_class_name(0x120000), "accelerator");
    assert_string_equal(dh_pci_class_name(0xffff00), "unassigned");
    assert_string_equal(dh_pci_class_name(0x400000), "other");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(parses_canonical_address),
            DH_TEST(accepts_wide_domains_only_as_the_kernel_prints_them),
            DH_TEST(rejects_every_malformed_shape),
            DH_TEST(orders_by_domain_then_rid),
            DH_TEST(class_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
