/* VM spec parsing: defaults, every field, and every malformed shape with its message. */
#include "test.h"

#include <dpuhost/vm.h>

static void parse_bad(const char *json, const char *needle)
{
    json_t *doc = json_loads(json, 0, NULL);
    if (!doc)
        fail_msg("bad test JSON %s", json);
    struct dh_vm_spec s;
    struct dh_error err = {0};
    int r = dh_vm_spec_parse(doc, &s, &err);
    json_decref(doc);
    if (r != -EINVAL)
        fail_msg("accepted: %s", json);
    if (!strstr(err.message, needle))
        fail_msg("%s: message \"%s\" lacks \"%s\"", json, err.message, needle);
}

static void defaults_and_every_field(void **state)
{
    (void)state;
    json_t *doc = json_loads("{\"name\": \"vm-1\"}", 0, NULL);
    struct dh_vm_spec s;
    assert_int_equal(dh_vm_spec_parse(doc, &s, NULL), 0);
    json_decref(doc);
    assert_string_equal(s.name, "vm-1");
    assert_int_equal(s.vcpus, 1);
    assert_int_equal(s.memory_mib, 512);
    assert_int_equal(s.accel, DH_VM_ACCEL_AUTO);
    assert_int_equal(s.hotplug_slots, 2);
    assert_int_equal(s.n_devices, 0);
    assert_null(s.kernel);
    dh_vm_spec_clear(&s);
    doc = json_loads("{\"name\": \"a.b_c-d\", \"vcpus\": 4, \"memory_mib\": 2048, \"accel\": \"tcg\","
                     " \"boot\": {\"kernel\": \"/k\", \"initrd\": \"/i\", \"cmdline\": \"quiet\"},"
                     " \"pci_devices\": [{\"address\": \"0000:03:00.2\"}, {\"pool\": \"p\"}],"
                     " \"env\": {\"MAC\": \"02:00:00:00:00:01\"}, \"console_log\": \"/var/log/x.log\","
                     " \"hotplug_slots\": 0}",
                     0, NULL);
    assert_int_equal(dh_vm_spec_parse(doc, &s, NULL), 0);
    json_decref(doc);
    assert_int_equal(s.vcpus, 4);
    assert_int_equal(s.accel, DH_VM_ACCEL_TCG);
    assert_string_equal(s.initrd, "/i");
    assert_int_equal(s.n_devices, 2);
    assert_string_equal(s.devices[1].pool, "p");
    assert_string_equal(s.env_keys[0], "MAC");
    assert_string_equal(s.console_log, "/var/log/x.log");
    assert_int_equal(s.hotplug_slots, 0);
    dh_vm_spec_clear(&s);
    doc = json_loads("{\"name\": \"d\", \"boot\": {\"disk\": \"/d.img\"}}", 0, NULL);
    assert_int_equal(dh_vm_spec_parse(doc, &s, NULL), 0);
    assert_string_equal(s.disk_format, "raw");
    json_decref(doc);
    dh_vm_spec_clear(&s);
}

static void malformed_specs(void **state)
{
    (void)state;
    parse_bad("[]", "JSON object");
    parse_bad("{}", "name '(missing)'");
    parse_bad("{\"name\": \"a b\"}", "name 'a b'");
    parse_bad("{\"name\": \"v\", \"cpus\": 2}", "unknown field 'cpus'");
    parse_bad("{\"name\": \"v\", \"vcpus\": 0}", "vcpus must be an integer from 1 to 64");
    parse_bad("{\"name\": \"v\", \"memory_mib\": \"1G\"}", "memory_mib");
    parse_bad("{\"name\": \"v\", \"accel\": \"hvf\"}", "accel");
    parse_bad("{\"name\": \"v\", \"boot\": {}}", "exactly one of kernel or disk");
    parse_bad("{\"name\": \"v\", \"boot\": {\"kernel\": \"vmlinuz\"}}", "absolute path");
    parse_bad("{\"name\": \"v\", \"boot\": {\"kernel\": \"/a,b\"}}", "without commas");
    parse_bad("{\"name\": \"v\", \"boot\": {\"disk\": \"/d\", \"format\": \"vmdk\"}}", "raw or qcow2");
    parse_bad("{\"name\": \"v\", \"boot\": {\"disk\": \"/d\", \"cmdline\": \"x\"}}",
              "cmdline needs a kernel");
    parse_bad("{\"name\": \"v\", \"boot\": {\"kernel\": \"/k\", \"bios\": 1}}", "boot: unknown field 'bios'");
    parse_bad("{\"name\": \"v\", \"pci_devices\": {}}", "pci_devices must be a list");
    parse_bad("{\"name\": \"v\", \"pci_devices\": [{}]}", "exactly one of address or pool");
    parse_bad("{\"name\": \"v\", \"pci_devices\": [{\"address\": \"3:0.2\"}]}", "malformed");
    parse_bad("{\"name\": \"v\", \"pci_devices\": [{\"address\": \"0000:03:00.2\"}, {\"address\": "
              "\"0000:03:00.2\"}]}",
              "listed twice");
    parse_bad("{\"name\": \"v\", \"pci_devices\": [{\"pool\": \"a\", \"boot\": true}, {\"pool\": \"b\", "
              "\"boot\": true}]}",
              "only one");
    parse_bad("{\"name\": \"v\", \"boot\": {\"kernel\": \"/k\"}, \"pci_devices\": [{\"pool\": \"a\", "
              "\"boot\": true}]}",
              "excludes boot.kernel");
    parse_bad("{\"name\": \"v\", \"env\": {\"1X\": \"a\"}}", "env key '1X'");
    parse_bad("{\"name\": \"v\", \"env\": {\"X\": \"a b\"}}", "env.X");
    parse_bad("{\"name\": \"v\", \"env\": {\"X\": \"a,b\"}}", "env.X");
    parse_bad("{\"name\": \"v\", \"hotplug_slots\": 17}", "hotplug_slots");
    parse_bad("{\"name\": \"v\", \"console_log\": \"log\"}", "console_log");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(defaults_and_every_field),
            DH_TEST(malformed_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
