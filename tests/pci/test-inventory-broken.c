/* Broken and hostile trees: dangling links, missing files, garbage in numeric files, a VF whose PF
 * vanished, unreadable and invalid VPD. None of them may fail the scan or crash it; each leaves
 * exactly the affected fields unknown. */
#include "test.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hosts.h"
#include "vpd_blob.h"

static const struct dh_func *find(const struct dh_inventory *inv, const char *addr)
{
    const struct dh_func *f = dh_inventory_find(inv, addr);
    if (!f)
        fail_msg("%s not in inventory", addr);
    return f;
}

static void dangling_driver_link_still_names_the_driver(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    fake_pci_add(t, "0000:01:00.0", 0x8086, 0x10d3, 0x020000);
    fake_pci_remove_attr(t, "0000:01:00.0", "uevent"); /* the attribute path reads the link */
    char link[256];
    snprintf(link, sizeof(link), "%s/driver", fake_pci_dir(t, "0000:01:00.0"));
    fake_symlink(t, link, "sys/bus/pci/drivers/ghost");
    struct dh_inventory *inv = host_scan(t);
    assert_string_equal(find(inv, "0000:01:00.0")->driver, "ghost");
    dh_inventory_free(inv);
    fake_tree_free(t);
}

static void missing_files_leave_fields_unknown(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    fake_pci_add(t, "0000:01:00.0", 0x8086, 0x10d3, 0x020000);
    static const char *const attrs[] = {"uevent",           "vendor", "device",    "subsystem_vendor",
                                        "subsystem_device", "class",  "numa_node", "driver_override"};
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
        fake_pci_remove_attr(t, "0000:01:00.0", attrs[i]);
    struct dh_inventory *inv = host_scan(t);
    const struct dh_func *f = find(inv, "0000:01:00.0");
    assert_int_equal(f->kind, DH_FUNC_PCI);
    assert_int_equal(f->vendor_id, -1);
    assert_int_equal(f->device_id, -1);
    assert_int_equal(f->subsystem_vendor_id, -1);
    assert_int_equal(f->subsystem_device_id, -1);
    assert_int_equal(f->class_code, -1);
    assert_int_equal(f->numa_node, -1);
    assert_null(f->driver_override);
    assert_null(f->driver);
    dh_inventory_free(inv);
    fake_tree_free(t);
}

static void garbage_in_numeric_files(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    fake_pci_add(t, "0000:01:00.0", 0x15b3, 0x101d, 0x020000);
    fake_pci_sriov(t, "0000:01:00.0", 8, 0x101e, 2, 1);
    fake_pci_write(t, "0000:01:00.0", "uevent", "PCI_ID=banana\nPCI_CLASS=20000\n"); /* unusable: */
    fake_pci_write(t, "0000:01:00.0", "vendor", "banana\n");                         /* attributes */
    fake_pci_write(t, "0000:01:00.0", "device", "0x1x1d\n");
    fake_pci_write(t, "0000:01:00.0", "class", "0x1020000\n"); /* more than 24 bits */
    fake_pci_write(t, "0000:01:00.0", "numa_node", "-7\n");
    fake_pci_write(t, "0000:01:00.0", "sriov_totalvfs", "lots\n");
    fake_pci_write(t, "0000:01:00.0", "sriov_numvfs", "\n");
    fake_pci_write(t, "0000:01:00.0", "sriov_vf_device", "0xzz\n");
    fake_pci_write(t, "0000:01:00.0", "sriov_offset", "99999999\n");
    fake_pci_write(t, "0000:01:00.0", "sriov_drivers_autoprobe", "2\n");
    struct dh_inventory *inv = host_scan(t);
    const struct dh_func *f = find(inv, "0000:01:00.0");
    assert_int_equal(f->kind, DH_FUNC_PF); /* the attribute exists: still SR-IOV capable */
    assert_int_equal(f->vendor_id, -1);
    assert_int_equal(f->device_id, -1);
    assert_int_equal(f->class_code, -1);
    assert_int_equal(f->numa_node, -1);
    assert_int_equal(f->sriov.total_vfs, -1);
    assert_int_equal(f->sriov.num_vfs, -1);
    assert_int_equal(f->sriov.vf_device_id, -1);
    assert_int_equal(f->sriov.offset, -1);
    assert_int_equal(f->sriov.stride, 1);
    assert_int_equal(f->sriov.drivers_autoprobe, -1);
    dh_inventory_free(inv);
    fake_tree_free(t);
}

static void vf_whose_pf_vanished(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    fake_pci_add(t, "0000:03:00.0", 0x15b3, 0xa2d6, 0x020000);
    fake_pci_sriov(t, "0000:03:00.0", 8, 0x101e, 2, 1);
    uint8_t vpd[256];
    static const char *const ro[] = {"SN=GONE0001", NULL};
    size_t n = vpd_blob_build(vpd, sizeof(vpd), "gone", ro, NULL);
    fake_pci_write_bytes(t, "0000:03:00.0", "vpd", vpd, n);
    fake_pci_add_vf(t, "0000:03:00.0", 0, "0000:03:00.2");
    fake_remove(t, fake_pci_dir(t, "0000:03:00.0"));
    fake_remove(t, "sys/bus/pci/devices/0000:03:00.0");
    struct dh_inventory *inv = host_scan(t);
    assert_int_equal(inv->n_funcs, 1);
    const struct dh_func *vf = find(inv, "0000:03:00.2");
    assert_int_equal(vf->kind, DH_FUNC_VF);
    assert_string_equal(vf->pf, "0000:03:00.0"); /* what physfn says */
    assert_int_equal(vf->vf_index, -1);
    assert_null(vf->card);
    dh_inventory_free(inv);
    fake_tree_free(t);
}

static void dangling_and_junk_entries_in_the_device_list(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    fake_pci_add(t, "0000:01:00.0", 0x8086, 0x10d3, 0x020000);
    fake_symlink(t, "sys/bus/pci/devices/0000:02:00.0", "sys/devices/pci0000:00/0000:02:00.0");
    fake_write_str(t, "sys/bus/pci/devices/README", "not a device");
    fake_mkdir(t, "sys/bus/pci/devices/0000:1:00.0");
    struct dh_inventory *inv = host_scan(t);
    assert_int_equal(inv->n_funcs, 1);
    assert_string_equal(inv->funcs[0].address, "0000:01:00.0");
    dh_inventory_free(inv);
    fake_tree_free(t);
}

static void dangling_group_virtfn_and_netdev_links(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    fake_pci_add(t, "0000:01:00.0", 0x15b3, 0x101d, 0x020000);
    fake_pci_sriov(t, "0000:01:00.0", 8, 0x101e, 2, 1);
    char p[256];
    snprintf(p, sizeof(p), "%s/iommu_group", fake_pci_dir(t, "0000:01:00.0"));
    fake_symlink(t, p, "sys/kernel/iommu_groups/77");
    snprintf(p, sizeof(p), "%s/virtfn3", fake_pci_dir(t, "0000:01:00.0"));
    fake_symlink(t, p, "sys/devices/pci0000:00/0000:01:00.5");
    fake_symlink(t, "sys/class/net/ghost0", "sys/devices/pci0000:00/0000:01:00.0/net/ghost0");
    struct dh_inventory *inv = host_scan(t);
    const struct dh_func *f = find(inv, "0000:01:00.0");
    assert_int_equal(f->iommu_group, 77);
    assert_int_equal(f->n_iommu_group_peers, 0);
    /* a netdev whose directory is gone keeps only its name */
    assert_int_equal(f->n_netdevs, 1);
    assert_string_equal(f->netdevs[0].name, "ghost0");
    assert_null(f->netdevs[0].mac);
    assert_int_equal(inv->n_funcs, 1);
    dh_inventory_free(inv);
    fake_tree_free(t);
}

static void broken_sub_functions(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    fake_pci_add(t, "0000:03:00.0", 0x15b3, 0xa2d6, 0x020000);
    fake_aux_add_sf(t, "0000:03:00.0", "mlx5_core.sf.2", 7);
    char p[256];
    snprintf(p, sizeof(p), "%s/mlx5_core.sf.2/sfnum", fake_pci_dir(t, "0000:03:00.0"));
    fake_write_str(t, p, "seven\n");
    fake_symlink(t, "sys/bus/auxiliary/devices/mlx5_core.sf.3", "sys/devices/pci0000:00/0000:03:00.0/gone");
    fake_aux_add_sf(t, "0000:03:00.0", "mlx5_core.eth.0", 0); /* not an SF */
    struct dh_inventory *inv = host_scan(t);
    assert_int_equal(inv->n_funcs, 2);
    const struct dh_func *sf = find(inv, "mlx5_core.sf.2");
    assert_int_equal(sf->sf_num, -1);
    assert_string_equal(sf->pf, "0000:03:00.0");
    assert_null(dh_inventory_find(inv, "mlx5_core.eth.0"));
    dh_inventory_free(inv);
    fake_tree_free(t);
}

static void uevent_is_preferred_over_attributes(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    fake_pci_add(t, "0000:01:00.0", 0x8086, 0x10d3, 0x020000);
    fake_pci_write(
            t, "0000:01:00.0", "uevent",
            "DRIVER=e1000e\nPCI_CLASS=20000\nPCI_ID=8086:10D3\nPCI_SUBSYS_ID=8086:A01F\n"
            "PCI_SLOT_NAME=0000:01:00.0\nMODALIAS=pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00\n");
    struct dh_inventory *inv = host_scan(t);
    const struct dh_func *f = find(inv, "0000:01:00.0");
    assert_int_equal(f->vendor_id, 0x8086);
    assert_int_equal(f->device_id, 0x10d3);
    assert_int_equal(f->subsystem_vendor_id, 0x8086);
    assert_int_equal(f->subsystem_device_id, 0xa01f);
    assert_int_equal(f->class_code, 0x020000);
    assert_string_equal(f->driver, "e1000e"); /* no driver link: the value came from uevent */
    dh_inventory_free(inv);
    fake_tree_free(t);
}

static void garbled_uevent_falls_back_to_attributes(void **state)
{
    (void)state;
    static const char *const bad[] = {
            "PCI_CLASS=20000\n",                            /* no PCI_ID */
            "PCI_ID=8086:10D3\n",                           /* no PCI_CLASS */
            "PCI_ID=8086-10D3\nPCI_CLASS=20000\n",          /* bad separator */
            "PCI_ID=8086:10D3\nPCI_CLASS=1000000\n",        /* class wider than 24 bits */
            "PCI_ID=8086:10D3\nPCI_CLASS=20000\nDRIVER=\n", /* empty driver */
            "PCI_ID=18086:10D3\nPCI_CLASS=20000\n",
            "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fake_tree *t = fake_tree_new();
        fake_pci_add(t, "0000:01:00.0", 0x15b3, 0x101e, 0x020000);
        fake_pci_bind(t, "0000:01:00.0", "mlx5_core");
        fake_pci_write(t, "0000:01:00.0", "uevent", bad[i]);
        struct dh_inventory *inv = host_scan(t);
        const struct dh_func *f = find(inv, "0000:01:00.0");
        if (f->vendor_id != 0x15b3 || f->device_id != 0x101e || !f->driver || strcmp(f->driver, "mlx5_core"))
            fail_msg("uevent case %zu did not fall back to the attributes", i);
        dh_inventory_free(inv);
        fake_tree_free(t);
    }
}

static void add_vpd(struct fake_tree *t, const char *bdf, const void *data, size_t n)
{
    fake_pci_write_bytes(t, bdf, "vpd", data, n);
}

static void invalid_and_empty_vpd_are_reported_per_function(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    uint8_t good[256];
    static const char *const ro[] = {"SN=GOOD0001", "PN=P1", NULL};
    size_t n = vpd_blob_build(good, sizeof(good), "card", ro, NULL);

    fake_pci_add(t, "0000:03:00.0", 0x15b3, 0xa2d6, 0x020000);
    fake_pci_sriov(t, "0000:03:00.0", 8, 0x101e, 2, 1);
    add_vpd(t, "0000:03:00.0", good, n);
    fake_pci_add_vf(t, "0000:03:00.0", 0, "0000:03:00.2");
    uint8_t bad[256];
    memcpy(bad, good, n);
    bad[n - 2] ^= 0x01; /* break the RV checksum */
    add_vpd(t, "0000:03:00.2", bad, n);
    fake_pci_add(t, "0000:04:00.0", 0x8086, 0x10d3, 0x020000);
    add_vpd(t, "0000:04:00.0", "", 0);
    fake_pci_add(t, "0000:05:00.0", 0x8086, 0x10d3, 0x020000);
    char p[256];
    snprintf(p, sizeof(p), "%s/vpd", fake_pci_dir(t, "0000:05:00.0"));
    fake_mkdir(t, p); /* read() fails with EISDIR */

    struct dh_inventory *inv = host_scan(t);
    const struct dh_func *vf = find(inv, "0000:03:00.2");
    assert_null(vf->vpd);
    assert_non_null(vf->vpd_error);
    assert_non_null(strstr(vf->vpd_error, "invalid VPD"));
    assert_non_null(strstr(vf->vpd_error, "checksum"));
    /* an unusable own VPD falls back to the PF's card */
    assert_int_equal(vf->card_source, DH_CARD_PF);
    assert_string_equal(dh_func_card_serial(vf), "GOOD0001");
    const struct dh_func *empty = find(inv, "0000:04:00.0");
    assert_string_equal(empty->vpd_error, "VPD is empty");
    assert_null(empty->card);
    const struct dh_func *dir = find(inv, "0000:05:00.0");
    assert_non_null(dir->vpd_error);
    assert_non_null(strstr(dir->vpd_error, "cannot read VPD"));
    assert_null(find(inv, "0000:03:00.0")->vpd_error);
    dh_inventory_free(inv);
    fake_tree_free(t);
}

/* The vpd file is root-only (0600). Run as root, the test drops to nobody in a child to get the
 * real EACCES; run as a user, the file is made unreadable. */
static void unreadable_vpd_is_eacces_and_not_fatal(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    uint8_t good[256];
    static const char *const ro[] = {"SN=SECRET01", NULL};
    size_t n = vpd_blob_build(good, sizeof(good), "card", ro, NULL);
    fake_pci_add(t, "0000:03:00.0", 0x15b3, 0xa2d6, 0x020000);
    add_vpd(t, "0000:03:00.0", good, n);
    char p[512];
    snprintf(p, sizeof(p), "%s/%s/vpd", fake_tree_root(t), fake_pci_dir(t, "0000:03:00.0"));
    assert_int_equal(chmod(p, geteuid() == 0 ? 0600 : 0000), 0);
    assert_int_equal(chmod(fake_tree_root(t), 0755), 0);

    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pipefd[0]);
        if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
            _exit(3);
        struct dh_host *h = NULL;
        struct dh_inventory *inv = NULL;
        if (dh_host_new(fake_tree_root(t), &h, NULL) < 0 || dh_inventory_scan(h, NULL, &inv, NULL) < 0)
            _exit(4);
        const struct dh_func *f = dh_inventory_find(inv, "0000:03:00.0");
        const char *msg = f && f->vpd_error ? f->vpd_error : "(none)";
        if (write(pipefd[1], msg, strlen(msg)) < 0)
            _exit(5);
        _exit(f && !f->card && f->vendor_id == 0x15b3 ? 0 : 6);
    }
    close(pipefd[1]);
    char buf[512] = {0};
    ssize_t got = read(pipefd[0], buf, sizeof(buf) - 1);
    close(pipefd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(got > 0);
    assert_non_null(strstr(buf, "permission denied"));
    fake_tree_free(t);
}

static void root_without_pci_bus_fails_with_message(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    fake_remove(t, "sys/bus/pci");
    struct dh_host *h = host_open(t);
    struct dh_inventory *inv = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_inventory_scan(h, NULL, &inv, &err), -ENOENT);
    assert_null(inv);
    assert_non_null(strstr(err.message, "sys/bus/pci/devices"));
    dh_host_free(h);
    fake_tree_free(t);
}

static void empty_tree_is_an_empty_inventory(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    struct dh_inventory *inv = host_scan(t);
    assert_int_equal(inv->n_funcs, 0);
    assert_null(dh_inventory_find(inv, "0000:00:00.0"));
    dh_inventory_free(inv);
    fake_tree_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(dangling_driver_link_still_names_the_driver),
            DH_TEST(missing_files_leave_fields_unknown),
            DH_TEST(garbage_in_numeric_files),
            DH_TEST(vf_whose_pf_vanished),
            DH_TEST(dangling_and_junk_entries_in_the_device_list),
            DH_TEST(dangling_group_virtfn_and_netdev_links),
            DH_TEST(broken_sub_functions),
            DH_TEST(uevent_is_preferred_over_attributes),
            DH_TEST(garbled_uevent_falls_back_to_attributes),
            DH_TEST(invalid_and_empty_vpd_are_reported_per_function),
            DH_TEST(unreadable_vpd_is_eacces_and_not_fatal),
            DH_TEST(root_without_pci_bus_fails_with_message),
            DH_TEST(empty_tree_is_an_empty_inventory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
