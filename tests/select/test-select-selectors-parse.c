/* Parsing SR-IOV-device-plugin-style selectors: every key in every accepted shape, and every
 * malformed value (including pfNames/rootDevices index ranges) rejected with a message naming the
 * key, its index and the value. */
#include "select-kit.h"

static void accepts_every_key(void **state)
{
    (void)state;
    static const char *const ok[] = {
            "{\"selectors\": {\"vendors\": [\"15b3\"]}}",
            "{\"selectors\": [{\"vendors\": [\"15b3\"]}, {\"devices\": [\"1017\"]}]}",
            "{\"selectors\": {}}",
            ("{\"selectors\": {\"vendors\": [\"15b3\", \"8086\"], \"devices\": [\"101E\"], "
             "\"drivers\": [\"mlx5_core\", \"vfio-pci\"], "
             "\"pciAddresses\": [\"0000:03:00.2\", \"0000:03:00.3\"], "
             "\"pfNames\": [\"ens1f0\", \"ens1f0#0,2-7\", \"ens1f0#65535\", \"ens1f0#7-7\"], "
             "\"rootDevices\": [\"0000:86:00.0\", \"0000:86:00.0#0-1,3\"], "
             "\"linkTypes\": [\"ether\", \"infiniband\"]}}"),
            ("{\"selectors\": {\"auxTypes\": [\"sf\"], \"rootDevices\": [\"0000:03:00.0#88\"], "
             "\"pfNames\": [\"p0#0-3\"]}}"),
            "{\"name\": \"sfs\", \"selectors\": {\"auxTypes\": [\"sf\"]}}",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct dh_selector *s = parse_ok(ok[i]);
        assert_int_equal(dh_select_get_form(s), DH_SELECT_SELECTORS);
        dh_select_free(s);
    }
}

static void rejects_bad_shapes_and_keys(void **state)
{
    (void)state;
    parse_fails("{\"selectors\": 5}", "selectors 5", "not an object or a list", NULL);
    parse_fails("{\"selectors\": []}", "selectors []", "empty list", NULL);
    parse_fails("{\"selectors\": [1]}", "selectors[0] 1", "not an object", NULL);
    parse_fails("{\"selectors\": {\"vendor\": [\"15b3\"]}}", "selectors.vendor:", "unknown selector", NULL);
    parse_fails("{\"selectors\": {\"Vendors\": [\"15b3\"]}}", "selectors.Vendors:", "note the case", NULL);
    parse_fails("{\"selectors\": {\"isRdma\": true}}", "selectors.isRdma:", "does not implement", NULL);
    parse_fails("{\"selectors\": {\"nicNames\": [\"ens1f0\"]}}", "selectors.nicNames:", "does not implement",
                NULL);
    parse_fails("{\"selectors\": {\"vendor_id\": \"15b3\"}}", "selectors.vendor_id:", "device_spec key",
                NULL);
    parse_fails("{\"selectors\": [{}, {\"physical_network\": \"x\"}]}",
                "selectors[1].physical_network:", "device_spec key", NULL);
}

static void rejects_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *sel, *key_value, *why;
    } bad[] = {
            {"\"vendors\": \"15b3\"", "selectors.vendors \"15b3\"",
             "not a list; write a list of strings, e.g. [\"15b3\"]"},
            {"\"vendors\": []", "selectors.vendors []", "empty list"},
            {"\"vendors\": [15]", "selectors.vendors[0] 15", "not a string"},
            {"\"vendors\": [\"15b3\", \"\"]", "selectors.vendors[1] \"\"", "empty string"},
            {"\"vendors\": [\"0x15b3\"]", "selectors.vendors[0] \"0x15b3\"", "without 0x"},
            {"\"vendors\": [\"mellanox\"]", "selectors.vendors[0] \"mellanox\"", "4 hex digits"},
            {"\"devices\": [\"101\"]", "selectors.devices[0] \"101\"", "e.g. \"101e\""},
            {"\"devices\": [\"101e \"]", "selectors.devices[0] \"101e \"", "4 hex digits"},
            {"\"drivers\": [\"mlx5 core\"]", "selectors.drivers[0] \"mlx5 core\"", "not a driver name"},
            {"\"drivers\": [\"../vfio\"]", "selectors.drivers[0] \"../vfio\"", "not a driver name"},
            {"\"drivers\": {\"a\": 1}", "selectors.drivers {\"a\":1}", "not a list"},
            {"\"pciAddresses\": [\"03:00.2\"]", "selectors.pciAddresses[0] \"03:00.2\"", "full PCI address"},
            {"\"pciAddresses\": [\"0000:03:00.8\"]", "selectors.pciAddresses[0] \"0000:03:00.8\"",
             "full PCI"},
            {"\"pfNames\": [\"ens1f0#\"]", "selectors.pfNames[0] \"ens1f0#\"", "nothing follows '#'"},
            {"\"pfNames\": [\"#0-1\"]", "selectors.pfNames[0] \"#0-1\": \"\" is not an interface name",
             "e.g."},
            {"\"pfNames\": [\"a-very-long-name#0\"]", "\"a-very-long-name\" is not an interface name",
             "1-15"},
            {"\"pfNames\": [\"ens1f0\", \"ens1f0#3-1\"]",
             "selectors.pfNames[1] \"ens1f0#3-1\": bad index list \"3-1\"", "reversed range"},
            {"\"pfNames\": [\"ens1f0#0,,2\"]", "bad index list \"0,,2\"", "empty part"},
            {"\"pfNames\": [\"ens1f0#0,\"]", "bad index list \"0,\"", "empty part"},
            {"\"pfNames\": [\"ens1f0#,0\"]", "bad index list \",0\"", "empty part"},
            {"\"pfNames\": [\"ens1f0#a\"]", "bad index list \"a\"", "not a decimal number"},
            {"\"pfNames\": [\"ens1f0#-1\"]", "bad index list \"-1\"", "not a decimal number"},
            {"\"pfNames\": [\"ens1f0#2-\"]", "bad index list \"2-\"", "not a decimal number"},
            {"\"pfNames\": [\"ens1f0#+1\"]", "bad index list \"+1\"", "not a decimal number"},
            {"\"pfNames\": [\"ens1f0# 1\"]", "bad index list \" 1\"", "not a decimal number"},
            {"\"pfNames\": [\"ens1f0#1-2-3\"]", "bad index list \"1-2-3\"", "more than one '-'"},
            {"\"pfNames\": [\"ens1f0#65536\"]", "bad index list \"65536\"", "above 65535"},
            {"\"pfNames\": [\"ens1f0#0-99999999999999999999\"]", "bad index list \"0-99999999999999999999\"",
             "above 65535"},
            {"\"pfNames\": [\"ens1f0#0#1\"]", "selectors.pfNames[0] \"ens1f0#0#1\"", "more than one '#'"},
            {"\"rootDevices\": [\"86:00.0\"]",
             "selectors.rootDevices[0] \"86:00.0\": \"86:00.0\" is not a full PCI", "e.g."},
            {"\"rootDevices\": [\"0000:86:00.0#5-2\"]", "selectors.rootDevices[0] \"0000:86:00.0#5-2\"",
             "reversed"},
            {"\"rootDevices\": [\"0000:86:00.0#\"]", "selectors.rootDevices[0]", "nothing follows '#'"},
            {"\"linkTypes\": [\"ethernet\"]", "selectors.linkTypes[0] \"ethernet\"",
             "\"ether\" or \"infiniband\""},
            {"\"linkTypes\": [\"Ether\"]", "selectors.linkTypes[0] \"Ether\"", "not supported"},
            {"\"auxTypes\": [\"eth\"]", "selectors.auxTypes[0] \"eth\"", "write \"sf\""},
            {"\"auxTypes\": [\"sf\"], \"pciAddresses\": [\"0000:03:00.2\"]",
             "\"pciAddresses\" with \"auxTypes\"", "SFs have no PCI address"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[256];
        snprintf(json, sizeof(json), "{\"selectors\": {%s}}", bad[i].sel);
        parse_fails(json, bad[i].key_value, bad[i].why, NULL);
    }
    parse_fails("{\"selectors\": [{\"vendors\": [\"15b3\"]}, {\"devices\": [\"x\"]}]}",
                "selectors[1].devices[0] \"x\"", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(accepts_every_key),
            DH_TEST(rejects_bad_shapes_and_keys),
            DH_TEST(rejects_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
