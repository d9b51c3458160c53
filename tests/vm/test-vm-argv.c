/* QEMU command lines against golden files (tests/vm/golden/NAME.args, one argument per line).
 * DPUHOST_UPDATE_GOLDEN=1 rewrites them: review the diff before committing. */
#include "test.h"

#include <dpuhost/vm.h>

static const char *golden_dir;

static struct dh_vm_spec spec_of(const char *json)
{
    json_t *doc = json_loads(json, 0, NULL);
    struct dh_vm_spec s = {0};
    struct dh_error err = {0};
    if (!doc || dh_vm_spec_parse(doc, &s, &err) < 0)
        fail_msg("spec: %s", err.message);
    json_decref(doc);
    return s;
}

static void check_golden(const char *name, char **argv)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.args", golden_dir, name);
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    /* one argument per line; a newline inside an argument is written as \n */
    for (size_t i = 0; argv[i]; i++) {
        for (const char *c = argv[i]; *c; c++)
            if (*c == '\n')
                fputs("\\n", m);
            else
                fputc(*c, m);
        fputc('\n', m);
    }
    fclose(m);
    if (getenv("DPUHOST_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fwrite(text, 1, len, f);
        fclose(f);
    }
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("no golden file %s (run with DPUHOST_UPDATE_GOLDEN=1 to create it)", path);
    char want[16384];
    size_t n = fread(want, 1, sizeof(want) - 1, f);
    fclose(f);
    want[n] = '\0';
    if (strcmp(want, text) != 0)
        fail_msg("%s differs from the golden file:\n--- want\n%s--- got\n%s", name, want, text);
    free(text);
}

static void render(const char *name, const char *json, bool kvm, const struct dh_vm_launch_device *devs,
                   size_t n, int ports)
{
    struct dh_vm_spec s = spec_of(json);
    struct dh_vm_launch l = {.spec = &s,
                             .qemu_binary = "qemu-system-x86_64",
                             .kvm = kvm,
                             .qmp_path = "/var/lib/dpuhost/vms/vm-1/qmp.sock",
                             .console_path = "/var/lib/dpuhost/vms/vm-1/console.log",
                             .devices = devs,
                             .n_devices = n,
                             .n_ports = ports};
    char **argv = NULL;
    struct dh_error err = {0};
    if (dh_vm_render_argv(&l, &argv, &err) < 0)
        fail_msg("%s: %s", name, err.message);
    check_golden(name, argv);
    dh_vm_argv_free(argv);
    dh_vm_spec_clear(&s);
}

static void kernel_boot_with_two_vfs_and_spares(void **state)
{
    (void)state;
    static const struct dh_vm_launch_device d[] = {
            {"0000:03:00.2", "dev0", "rp1", false},
            {"0000:03:00.3", "dev1", "rp2", false},
    };
    render("kernel-two-vfs",
           "{\"name\": \"web-1\", \"vcpus\": 2, \"memory_mib\": 1024,"
           " \"boot\": {\"kernel\": \"/srv/vmlinuz\", \"initrd\": \"/srv/initrd.img\", \"cmdline\": "
           "\"console=ttyS0\"},"
           " \"pci_devices\": [{\"address\": \"0000:03:00.2\"}, {\"pool\": \"vfs\"}]}",
           true, d, 2, 4);
}

static void nvme_boot_device_gets_bootindex(void **state)
{
    (void)state;
    static const struct dh_vm_launch_device d[] = {
            {"0000:01:00.1", "dev0", "rp1", true},
            {"0000:01:00.2", "dev1", "rp2", false},
    };
    render("nvme-boot",
           "{\"name\": \"db\", \"pci_devices\": [{\"pool\": \"nvme\", \"boot\": true}, {\"pool\": "
           "\"nvme\"}]}",
           false, d, 2, 4);
}

static void disk_boot_takes_a_port_after_the_devices(void **state)
{
    (void)state;
    static const struct dh_vm_launch_device d[] = {{"0000:03:00.2", "dev0", "rp1", false}};
    render("disk-boot",
           "{\"name\": \"d\", \"boot\": {\"disk\": \"/srv/disk.qcow2\", \"format\": \"qcow2\"},"
           " \"pci_devices\": [{\"address\": \"0000:03:00.2\"}], \"hotplug_slots\": 0}",
           true, d, 1, 2);
}

static void env_goes_to_fw_cfg_and_the_kernel_command_line(void **state)
{
    (void)state;
    render("env",
           "{\"name\": \"egress\", \"boot\": {\"kernel\": \"/srv/vmlinuz\"},"
           " \"env\": {\"VF_MAC\": \"02:00:00:00:00:01\", \"IP\": \"192.0.2.10/24\", \"GW\": \"192.0.2.1\"},"
           " \"hotplug_slots\": 1}",
           false, NULL, 0, 1);
}

static void firmware_only_guest(void **state)
{
    (void)state;
    render("firmware-only", "{\"name\": \"fw\"}", false, NULL, 0, 2);
}

static void commas_in_paths_are_refused(void **state)
{
    (void)state;
    struct dh_vm_spec s = spec_of("{\"name\": \"x\"}");
    struct dh_vm_launch l = {.spec = &s, .qemu_binary = "q", .qmp_path = "/a,b/qmp", .console_path = "/c"};
    char **argv = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_vm_render_argv(&l, &argv, &err), -EINVAL);
    assert_non_null(strstr(err.message, "commas"));
    dh_vm_spec_clear(&s);
}

int main(int argc, char **argv)
{
    golden_dir = argc > 1 ? argv[1] : "tests/vm/golden";
    const struct CMUnitTest tests[] = {
            DH_TEST(kernel_boot_with_two_vfs_and_spares),
            DH_TEST(nvme_boot_device_gets_bootindex),
            DH_TEST(disk_boot_takes_a_port_after_the_devices),
            DH_TEST(env_goes_to_fw_cfg_and_the_kernel_command_line),
            DH_TEST(firmware_only_guest),
            DH_TEST(commas_in_paths_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
