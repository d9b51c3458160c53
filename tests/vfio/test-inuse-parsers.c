/* The pure parsers behind the in-use checks: mountinfo and /proc/swaps. */
#include "test.h"

#include "vfio/vfio-internal.h"

static const char mountinfo[] = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
                                "40 22 259:3 / /srv/data rw,noatime shared:20 - xfs /dev/nvme0n1p3 rw\n"
                                "41 22 259:30 /sub /bind rw - xfs /dev/nvme1n1 rw\n"
                                "42 22 0:25 / /proc rw - proc proc rw\n";

static void finds_devices_in_mountinfo(void **state)
{
    (void)state;
    char mp[64];
    assert_true(vfio_mountinfo_has_device(mountinfo, 259, 3, mp, sizeof(mp)));
    assert_string_equal(mp, "/srv/data");
    assert_true(vfio_mountinfo_has_device(mountinfo, 254, 1, mp, sizeof(mp)));
    assert_string_equal(mp, "/");
    /* 259:3 must not match 259:30, nor 25:9 */
    assert_true(vfio_mountinfo_has_device(mountinfo, 259, 30, NULL, 0));
    assert_false(vfio_mountinfo_has_device(mountinfo, 25, 9, NULL, 0));
    assert_false(vfio_mountinfo_has_device(mountinfo, 259, 4, NULL, 0));
    assert_false(vfio_mountinfo_has_device("", 259, 3, NULL, 0));
    assert_false(vfio_mountinfo_has_device("garbage\n\n 1 2\n", 259, 3, NULL, 0));
}

static void finds_devices_in_swaps(void **state)
{
    (void)state;
    static const char swaps[] = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                                "/dev/nvme0n1p2                          partition\t8388604\t\t0\t\t-2\n"
                                "/swapfile                               file\t\t1048572\t\t0\t\t-3\n";
    assert_true(vfio_swaps_has_device(swaps, "nvme0n1p2"));
    assert_false(vfio_swaps_has_device(swaps, "nvme0n1"));
    assert_false(vfio_swaps_has_device(swaps, "n1p2"));
    assert_false(vfio_swaps_has_device(swaps, "swapfile2"));
    assert_false(vfio_swaps_has_device("", "nvme0n1p2"));
}

static void shareable_drivers(void **state)
{
    (void)state;
    assert_true(vfio_driver_shares_group(NULL));
    assert_true(vfio_driver_shares_group("vfio-pci"));
    assert_true(vfio_driver_shares_group("mlx5_vfio_pci"));
    assert_true(vfio_driver_shares_group("pci-stub"));
    assert_true(vfio_driver_shares_group("pcieport"));
    assert_false(vfio_driver_shares_group("e1000e"));
    assert_false(vfio_driver_shares_group("nvme"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(finds_devices_in_mountinfo),
            DH_TEST(finds_devices_in_swaps),
            DH_TEST(shareable_drivers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
