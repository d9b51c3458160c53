/* Every refusal of a bind, with its reason; --force overrides the in-use checks and never group
 * viability; bad input changes nothing. */
#include "test.h"

#include <sys/file.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bindhost.h"

static int setup(void **state)
{
    *state = bindhost_new();
    return 0;
}

static int teardown(void **state)
{
    struct bindhost *b = *state;
    int v = fake_kernel_violations(b->kernel);
    bindhost_free(b);
    return v ? -1 : 0;
}

static size_t n_writes(struct bindhost *b)
{
    size_t n;
    fake_kernel_writes(b->kernel, &n);
    return n;
}

static void refused(struct bindhost *b, const char *addr, unsigned flags, int code, const char *needle)
{
    const char *addrs[] = {addr};
    struct dh_vfio_result res;
    size_t before = n_writes(b);
    int r = dh_vfio_bind(&b->ctx, addrs, 1, flags, &res, NULL);
    if (r != code || res.error != code)
        fail_msg("%s: expected %d, got %d/%d: %s", addr, code, r, res.error, res.message);
    if (!strstr(res.message, needle))
        fail_msg("%s: message \"%s\" lacks \"%s\"", addr, res.message, needle);
    assert_false(res.changed);
    assert_int_equal(n_writes(b), before); /* nothing was written */
    struct dh_binding_record rec;
    assert_int_equal(dh_store_binding_get(b->store, addr, &rec, NULL), -ENOENT);
}

static void malformed_or_duplicate_addresses_change_nothing(void **state)
{
    struct bindhost *b = *state;
    const char *addrs[] = {"0000:07:00.0", "07:00.0"};
    struct dh_vfio_result res[2];
    struct dh_error err = {0};
    assert_int_equal(dh_vfio_bind(&b->ctx, addrs, 2, 0, res, &err), -EINVAL);
    assert_non_null(strstr(err.message, "malformed address '07:00.0'"));
    const char *dup[] = {"0000:07:00.0", "0000:07:00.0"};
    dh_error_clear(&err);
    assert_int_equal(dh_vfio_bind(&b->ctx, dup, 2, 0, res, &err), -EINVAL);
    assert_non_null(strstr(err.message, "given twice"));
    assert_int_equal(n_writes(b), 0);
    assert_string_equal(bindhost_driver(b, "0000:07:00.0"), "e1000e");
}

static void unknown_functions_subfunctions_and_no_group(void **state)
{
    struct bindhost *b = *state;
    refused(b, "0000:99:00.0", 0, -ENODEV, "no such PCI function");
    refused(b, "mlx5_core.sf.2", DH_BIND_FORCE, -EOPNOTSUPP, "vDPA");
    refused(b, "0000:08:00.0", DH_BIND_FORCE, -ENODEV, "intel_iommu=on");
}

static void pf_with_vfs_is_refused_even_with_force(void **state)
{
    struct bindhost *b = *state;
    bindhost_make_vfs(b, "0000:03:00.0", 2);
    refused(b, "0000:03:00.0", DH_BIND_FORCE, -EBUSY, "SR-IOV PF with 2 VFs");
}

static void non_viable_group_is_refused_even_with_force(void **state)
{
    struct bindhost *b = *state;
    refused(b, "0000:06:00.0", DH_BIND_FORCE, -EBUSY,
            "IOMMU group 24 also holds 0000:06:00.1 bound to e1000e");
    /* both together are fine */
    const char *both[] = {"0000:06:00.0", "0000:06:00.1"};
    struct dh_vfio_result res[2];
    assert_int_equal(dh_vfio_bind(&b->ctx, both, 2, 0, res, NULL), 0);
    assert_string_equal(bindhost_driver(b, "0000:06:00.1"), "vfio-pci");
}

static void a_bridge_in_the_group_is_viable(void **state)
{
    struct bindhost *b = *state;
    const char *addrs[] = {"0000:07:00.0"};
    struct dh_vfio_result res;
    assert_int_equal(dh_vfio_bind(&b->ctx, addrs, 1, 0, &res, NULL), 0);
    assert_string_equal(bindhost_driver(b, "0000:07:00.0"), "vfio-pci");
    assert_string_equal(bindhost_driver(b, "0000:00:1c.0"), "pcieport");
}

static void a_refused_mate_makes_its_peer_non_viable(void **state)
{
    struct bindhost *b = *state;
    bindhost_link(b, "enp5s0", "192.0.2.5/24", false, NULL);
    const char *both[] = {"0000:05:00.1", "0000:05:00.0"};
    struct dh_vfio_result res[2];
    assert_int_equal(dh_vfio_bind(&b->ctx, both, 2, 0, res, NULL), -EBUSY);
    assert_non_null(strstr(res[1].message, "192.0.2.5/24"));
    /* 05:00.1 alone would leave 05:00.0 on e1000e in its group */
    assert_int_equal(res[0].error, -EBUSY);
    assert_non_null(strstr(res[0].message, "also holds 0000:05:00.0 bound to e1000e"));
    assert_string_equal(bindhost_driver(b, "0000:05:00.1"), "");
}

static void netdev_in_use_is_refused_unless_forced(void **state)
{
    struct bindhost *b = *state;
    bindhost_link(b, "enp7s0", "192.0.2.7/24, 2001:db8::7/64", false, NULL);
    refused(b, "0000:07:00.0", 0, -EBUSY, "has addresses 192.0.2.7/24, 2001:db8::7/64");
    const char *addrs[] = {"0000:07:00.0"};
    struct dh_vfio_result res;
    assert_int_equal(dh_vfio_bind(&b->ctx, addrs, 1, DH_BIND_FORCE, &res, NULL), 0);
    assert_string_equal(bindhost_driver(b, "0000:07:00.0"), "vfio-pci");
    assert_int_equal(dh_vfio_restore(&b->ctx, addrs, 1, &res, NULL), 0);
    assert_string_equal(bindhost_driver(b, "0000:07:00.0"), "e1000e");
}

static void default_route_and_master_are_in_use(void **state)
{
    struct bindhost *b = *state;
    bindhost_link(b, "enp7s0", NULL, true, NULL);
    refused(b, "0000:07:00.0", 0, -EBUSY, "default route");
    b->n_links = 0;
    dh_link_facts_clear(&b->links[0].facts);
    bindhost_link(b, "enp7s0", NULL, false, "bond0");
    refused(b, "0000:07:00.0", 0, -EBUSY, "enslaved to bond0");
}

static void without_netlink_a_netdev_cannot_be_judged(void **state)
{
    struct bindhost *b = *state;
    b->ctx.net = NULL;
    refused(b, "0000:07:00.0", 0, -EBUSY, "cannot check whether its netdev enp7s0 is in use");
}

static void mounted_swap_and_held_namespaces_are_in_use(void **state)
{
    struct bindhost *b = *state;
    fake_write_str(
            b->tree, "proc/1/mountinfo",
            "22 1 254:1 / / rw - ext4 /dev/vda1 rw\n40 22 259:1 / /srv/data rw - xfs /dev/nvme0n1p1 rw\n");
    refused(b, "0000:04:00.0", 0, -EBUSY, "nvme0n1 (nvme0n1p1) is mounted on /srv/data");
    fake_write_str(b->tree, "proc/1/mountinfo", "22 1 254:1 / / rw - ext4 /dev/vda1 rw\n");
    fake_write_str(b->tree, "proc/swaps",
                   "Filename\tType\tSize\tUsed\tPriority\n/dev/nvme0n1p1  partition\t1048572\t0\t-2\n");
    refused(b, "0000:04:00.0", 0, -EBUSY, "swap");
    fake_write_str(b->tree, "proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
    fake_mkdir(b->tree, "sys/class/block/nvme0n1/holders/dm-0");
    refused(b, "0000:04:00.0", 0, -EBUSY, "held by dm-0");
    const char *addrs[] = {"0000:04:00.0"};
    struct dh_vfio_result res;
    assert_int_equal(dh_vfio_bind(&b->ctx, addrs, 1, DH_BIND_FORCE, &res, NULL), 0);
    assert_string_equal(bindhost_driver(b, "0000:04:00.0"), "vfio-pci");
}

static void a_locked_function_is_busy(void **state)
{
    struct bindhost *b = *state;
    char path[512];
    fake_mkdir(b->tree, "run/dpuhost/lock");
    snprintf(path, sizeof(path), "%s/run/dpuhost/lock/0000:07:00.0", fake_tree_root(b->tree));
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    /* another process holds it: a forked child keeps the lock while we try. Two pipes: the child
     * says "locked" on one and waits for "done" on the other. */
    int locked[2], done[2];
    assert_int_equal(pipe(locked), 0);
    assert_int_equal(pipe(done), 0);
    pid_t pid = fork();
    if (pid == 0) {
        int cfd = open(path, O_RDWR | O_CLOEXEC);
        if (flock(cfd, LOCK_EX) < 0 || write(locked[1], "x", 1) != 1)
            _exit(1);
        char c;
        if (read(done[0], &c, 1) < 0)
            _exit(2);
        _exit(0);
    }
    char c;
    assert_int_equal(read(locked[0], &c, 1), 1);
    refused(b, "0000:07:00.0", 0, -EBUSY, "another dpuhost operation");
    assert_int_equal(write(done[1], "x", 1), 1);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(fd);
    close(locked[0]);
    close(locked[1]);
    close(done[0]);
    close(done[1]);
}

static void missing_vfio_module_fails_cleanly(void **state)
{
    struct bindhost *b = *state;
    fake_kernel_remove_module(b->kernel, "vfio-pci");
    const char *addrs[] = {"0000:07:00.0"};
    struct dh_vfio_result res;
    assert_int_equal(dh_vfio_bind(&b->ctx, addrs, 1, 0, &res, NULL), -ENOENT);
    assert_non_null(strstr(res.message, "modprobe vfio-pci failed"));
    assert_string_equal(bindhost_driver(b, "0000:07:00.0"), "e1000e");
    struct dh_binding_record rec;
    assert_int_equal(dh_store_binding_get(b->store, "0000:07:00.0", &rec, NULL), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(malformed_or_duplicate_addresses_change_nothing, setup, teardown),
            DH_TEST_SETUP(unknown_functions_subfunctions_and_no_group, setup, teardown),
            DH_TEST_SETUP(pf_with_vfs_is_refused_even_with_force, setup, teardown),
            DH_TEST_SETUP(non_viable_group_is_refused_even_with_force, setup, teardown),
            DH_TEST_SETUP(a_bridge_in_the_group_is_viable, setup, teardown),
            DH_TEST_SETUP(a_refused_mate_makes_its_peer_non_viable, setup, teardown),
            DH_TEST_SETUP(netdev_in_use_is_refused_unless_forced, setup, teardown),
            DH_TEST_SETUP(default_route_and_master_are_in_use, setup, teardown),
            DH_TEST_SETUP(without_netlink_a_netdev_cannot_be_judged, setup, teardown),
            DH_TEST_SETUP(mounted_swap_and_held_namespaces_are_in_use, setup, teardown),
            DH_TEST_SETUP(a_locked_function_is_busy, setup, teardown),
            DH_TEST_SETUP(missing_vfio_module_fails_cleanly, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
