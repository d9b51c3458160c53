/* Matching SR-IOV-device-plugin-style selectors: each key alone, pfNames and rootDevices with and
 * without index ranges, auxTypes and SFs, linkTypes from the class code, AND within a selector and
 * OR within a key and across a list, and PFs with VFs enabled never being offered. */
#include "select-kit.h"

#define VFS_81_MLX "0000:81:00.2 0000:81:00.3 0000:81:00.4 0000:81:00.5"
#define VFS_81_VFIO "0000:81:00.6 0000:81:00.7 0000:81:01.0 0000:81:01.1"
#define VFS_81 VFS_81_MLX " " VFS_81_VFIO
#define SFS_83 "mlx5_core.sf.2 mlx5_core.sf.3 mlx5_core.sf.5"
#define ALL_SFS "mlx5_core.sf.9 " SFS_83

struct match_case {
    const char *selector, *want;
};

static void run_cases(const struct dh_inventory *inv, const struct match_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char json[512];
        snprintf(json, sizeof(json), "{\"selectors\": %s}", cases[i].selector);
        const char *got = selected_by(json, inv);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s selected \"%s\", want \"%s\"", cases[i].selector, got, cases[i].want);
    }
}

static void ids_drivers_and_addresses(void **state)
{
    struct two_hosts_fixture *fx = *state;
    static const struct match_case cases[] = {
            {"{\"vendors\": [\"15b3\"]}", VFS_81 " 0000:82:00.1 0000:82:00.2 0000:83:00.0"},
            {"{\"vendors\": [\"15B3\"], \"devices\": [\"101e\"]}", VFS_81},
            {"{\"devices\": [\"101d\"]}", "0000:83:00.0"},
            {"{\"devices\": [\"101c\", \"0a54\"]}", "0000:82:00.1 0000:82:00.2 10000:01:00.0"},
            {"{\"drivers\": [\"vfio-pci\"]}", VFS_81_VFIO},
            {"{\"drivers\": [\"mlx5_core\"]}", VFS_81_MLX " 0000:83:00.0"},
            {"{\"drivers\": [\"nvme\", \"vfio-pci\"]}", VFS_81_VFIO " 10000:01:00.0"},
            {"{\"drivers\": [\"mlx5_core.sf\"]}", ""},
            {"{\"pciAddresses\": [\"0000:81:00.3\", \"0000:83:00.0\", \"10000:01:00.0\"]}",
             "0000:81:00.3 0000:83:00.0 10000:01:00.0"},
            {"{\"pciAddresses\": [\"0000:81:01.1\", \"0000:99:00.0\"]}", "0000:81:01.1"},
    };
    run_cases(fx->wide, cases, sizeof(cases) / sizeof(cases[0]));
}

static void pfs_with_vfs_are_skipped(void **state)
{
    struct two_hosts_fixture *fx = *state;
    static const struct match_case wide[] = {
            /* an empty selector offers everything the plugin would list: VFs, PFs without VFs,
             * plain functions; never 81:00.0 or 82:00.0, whose VFs are enabled */
            {"{}", VFS_81 " 0000:82:00.1 0000:82:00.2 0000:83:00.0 10000:01:00.0"},
            {"{\"pciAddresses\": [\"0000:81:00.0\", \"0000:82:00.0\"]}", ""},
            {"{\"devices\": [\"101b\"]}", ""},
    };
    run_cases(fx->wide, wide, sizeof(wide) / sizeof(wide[0]));
    static const struct match_case bf[] = {
            {"{}",
             "0000:00:00.0 0000:03:00.1 0000:03:00.2 0000:03:00.3 0000:04:00.1 0000:04:00.2 0000:05:00.0 "
             "0000:05:00.1"},
            {"{\"rootDevices\": [\"0000:04:00.0\"]}", "0000:04:00.1 0000:04:00.2"},
    };
    run_cases(fx->bf, bf, sizeof(bf) / sizeof(bf[0]));
}

static void pf_names_with_ranges(void **state)
{
    struct two_hosts_fixture *fx = *state;
    static const struct match_case wide[] = {
            {"{\"pfNames\": [\"ens2f0\"]}", VFS_81},
            /* the plugin compares names with strings.EqualFold */
            {"{\"pfNames\": [\"ENS2F0#0,2-3\"]}", "0000:81:00.2 0000:81:00.4 0000:81:00.5"},
            /* entries for the same PF are ORed (the plugin would consult the first one only) */
            {"{\"pfNames\": [\"ens2f0#0-1\", \"ens2f0#6\"]}", "0000:81:00.2 0000:81:00.3 0000:81:01.0"},
            {"{\"pfNames\": [\"ens2f0#7-7\", \"ibp130s0#1\"]}", "0000:81:01.1 0000:82:00.2"},
            {"{\"pfNames\": [\"ens2f0#8-100\"]}", ""},
            /* a PF has no PF name of its own: 83:00.0 has no VFs, so nothing */
            {"{\"pfNames\": [\"ens3f0np0\"]}", ""},
            {"{\"pfNames\": [\"nosuch0\"]}", ""},
    };
    run_cases(fx->wide, wide, sizeof(wide) / sizeof(wide[0]));
    static const struct match_case bf[] = {
            /* switchdev: the uplink (phys_port_name p0) names the PF; representors do not */
            {"{\"pfNames\": [\"ens1f0np0\"]}", "0000:03:00.2 0000:03:00.3"},
            {"{\"pfNames\": [\"ens1f0np0#1\"]}", "0000:03:00.3"},
            {"{\"pfNames\": [\"pf0hpf\"]}", ""},
            {"{\"pfNames\": [\"pf0vf0\"]}", ""},
            {"{\"pfNames\": [\"ens1f0v0\"]}", ""},
    };
    run_cases(fx->bf, bf, sizeof(bf) / sizeof(bf[0]));
}

static void root_devices_with_ranges(void **state)
{
    struct two_hosts_fixture *fx = *state;
    static const struct match_case cases[] = {
            {"{\"rootDevices\": [\"0000:81:00.0\"]}", VFS_81},
            {"{\"rootDevices\": [\"0000:81:00.0#4-7\"]}", VFS_81_VFIO},
            {"{\"rootDevices\": [\"0000:81:00.0#0-1,3\", \"0000:82:00.0#0\"]}",
             "0000:81:00.2 0000:81:00.3 0000:81:00.5 0000:82:00.1"},
            /* a function without VFs is its own root device; with a range it has no index */
            {"{\"rootDevices\": [\"0000:83:00.0\"]}", "0000:83:00.0"},
            {"{\"rootDevices\": [\"0000:83:00.0#0\"]}", ""},
            {"{\"rootDevices\": [\"10000:01:00.0\"]}", "10000:01:00.0"},
            /* a VF is not a root device */
            {"{\"rootDevices\": [\"0000:81:00.2\"]}", ""},
    };
    run_cases(fx->wide, cases, sizeof(cases) / sizeof(cases[0]));
}

static void aux_types_select_sfs_and_only_sfs(void **state)
{
    struct two_hosts_fixture *fx = *state;
    static const struct match_case cases[] = {
            {"{\"auxTypes\": [\"sf\"]}", ALL_SFS},
            /* an SF has the ids, driver and class of its PF, as auxNetDevice reports them */
            {"{\"auxTypes\": [\"sf\"], \"vendors\": [\"15b3\"], \"devices\": [\"101d\"]}", ALL_SFS},
            {"{\"auxTypes\": [\"sf\"], \"devices\": [\"101e\"]}", ""},
            {"{\"auxTypes\": [\"sf\"], \"drivers\": [\"mlx5_core\"]}", ALL_SFS},
            {"{\"auxTypes\": [\"sf\"], \"drivers\": [\"mlx5_core.sf\"]}", ""},
            /* the index of an SF is its sfnum */
            {"{\"auxTypes\": [\"sf\"], \"pfNames\": [\"ens3f0np0\"]}", SFS_83},
            {"{\"auxTypes\": [\"sf\"], \"pfNames\": [\"ens3f0np0#1,7\"]}", "mlx5_core.sf.3 mlx5_core.sf.5"},
            {"{\"auxTypes\": [\"sf\"], \"pfNames\": [\"en3f0pf0sf0\"]}", ""},
            {"{\"auxTypes\": [\"sf\"], \"rootDevices\": [\"0000:83:00.0#0-1\"]}",
             "mlx5_core.sf.2 mlx5_core.sf.3"},
            /* SFs of a PF with VFs are offered: only the PF itself is skipped */
            {"{\"auxTypes\": [\"sf\"], \"rootDevices\": [\"0000:81:00.0#3\"]}", "mlx5_core.sf.9"},
            {"{\"auxTypes\": [\"sf\"], \"pfNames\": [\"ens2f0#0-2\"]}", ""},
            {"{\"auxTypes\": [\"sf\"], \"linkTypes\": [\"ether\"]}", ALL_SFS},
            {"{\"auxTypes\": [\"sf\"], \"linkTypes\": [\"infiniband\"]}", ""},
            /* without auxTypes a selector never offers an SF */
            {"{\"rootDevices\": [\"0000:83:00.0\"]}", "0000:83:00.0"},
            {"{\"pfNames\": [\"ens3f0np0#0-7\"]}", ""},
    };
    run_cases(fx->wide, cases, sizeof(cases) / sizeof(cases[0]));
    static const struct match_case bf[] = {
            {"{\"auxTypes\": [\"sf\"], \"pfNames\": [\"ens1f0np0#88\"]}", "mlx5_core.sf.4"},
            {"{\"auxTypes\": [\"sf\"], \"pfNames\": [\"ens1f0np0#0-87,89\"]}", ""},
    };
    run_cases(fx->bf, bf, sizeof(bf) / sizeof(bf[0]));
}

static void link_types_come_from_the_class_code(void **state)
{
    struct two_hosts_fixture *fx = *state;
    static const struct match_case wide[] = {
            {"{\"linkTypes\": [\"infiniband\"]}", "0000:82:00.1 0000:82:00.2"},
            {"{\"linkTypes\": [\"ether\"]}", VFS_81 " 0000:83:00.0"},
            {"{\"linkTypes\": [\"ether\", \"infiniband\"]}",
             VFS_81 " 0000:82:00.1 0000:82:00.2 0000:83:00.0"},
    };
    run_cases(fx->wide, wide, sizeof(wide) / sizeof(wide[0]));
    /* 03:00.3 is unbound and has no netdev; its class still says Ethernet */
    static const struct match_case bf[] = {
            {"{\"linkTypes\": [\"ether\"]}",
             "0000:03:00.1 0000:03:00.2 0000:03:00.3 0000:05:00.0 0000:05:00.1"},
    };
    run_cases(fx->bf, bf, sizeof(bf) / sizeof(bf[0]));
}

static void keys_are_anded_values_and_list_entries_ored(void **state)
{
    struct two_hosts_fixture *fx = *state;
    static const struct match_case cases[] = {
            {"{\"vendors\": [\"15b3\"], \"drivers\": [\"vfio-pci\"]}", VFS_81_VFIO},
            {"{\"vendors\": [\"8086\"], \"drivers\": [\"mlx5_core\"]}", ""},
            {"{\"vendors\": [\"8086\", \"15b3\"], \"linkTypes\": [\"infiniband\"]}",
             "0000:82:00.1 0000:82:00.2"},
            {"{\"rootDevices\": [\"0000:81:00.0#0-5\"], \"drivers\": [\"vfio-pci\"], \"pfNames\": "
             "[\"ens2f0#5-7\"]}",
             "0000:81:00.7"},
            {"[{\"drivers\": [\"nvme\"]}, {\"rootDevices\": [\"0000:82:00.0\"]}]",
             "0000:82:00.1 0000:82:00.2 10000:01:00.0"},
            {"[{\"auxTypes\": [\"sf\"], \"rootDevices\": [\"0000:83:00.0#7\"]}, {\"pciAddresses\": "
             "[\"0000:81:00.2\"]}]",
             "0000:81:00.2 mlx5_core.sf.5"},
    };
    run_cases(fx->wide, cases, sizeof(cases) / sizeof(cases[0]));

    /* a list is tried in order: the first selector that matches is reported */
    struct dh_selector *s = parse_ok("{\"selectors\": [{\"drivers\": [\"nvme\"]}, {\"vendors\": [\"8086\"]}, "
                                     "{\"rootDevices\": [\"0000:82:00.0\"]}]}");
    assert_int_equal(dh_select_match_index(s, func_at(fx->wide, "10000:01:00.0"), fx->wide), 0);
    assert_int_equal(dh_select_match_index(s, func_at(fx->wide, "0000:82:00.2"), fx->wide), 2);
    assert_int_equal(dh_select_match_index(s, func_at(fx->wide, "0000:81:00.2"), fx->wide), -1);
    dh_select_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(ids_drivers_and_addresses, two_hosts_setup, two_hosts_teardown),
            DH_TEST_SETUP(pfs_with_vfs_are_skipped, two_hosts_setup, two_hosts_teardown),
            DH_TEST_SETUP(pf_names_with_ranges, two_hosts_setup, two_hosts_teardown),
            DH_TEST_SETUP(root_devices_with_ranges, two_hosts_setup, two_hosts_teardown),
            DH_TEST_SETUP(aux_types_select_sfs_and_only_sfs, two_hosts_setup, two_hosts_teardown),
            DH_TEST_SETUP(link_types_come_from_the_class_code, two_hosts_setup, two_hosts_teardown),
            DH_TEST_SETUP(keys_are_anded_values_and_list_entries_ored, two_hosts_setup, two_hosts_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
