/* The generic netlink layer added to the netlink module for devlink: family resolution against the
 * real kernel (nlctrl resolves itself on every Linux; a made-up family does not exist, and a kernel
 * without devlink says so the same way) and against the fake peer, and how a failed request is
 * named. The real-kernel cases report TAP "SKIP" where no NETLINK_GENERIC socket can be opened. */
#include "test.h"

#include <stdalign.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "dpu.h"

static void nlctrl_resolves_on_the_running_kernel(void **state)
{
    (void)state;
    struct dh_nl *nl = NULL;
    struct dh_error err = {0};
    int r = dh_nl_open_protocol(NETLINK_GENERIC, &nl, &err);
    if (r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT || r == -EPERM || r == -EACCES)
        skip();
    assert_int_equal(r, 0);
    uint16_t id = 0;
    assert_int_equal(dh_genl_family_id(nl, "nlctrl", &id, &err), 0);
    assert_int_equal(id, GENL_ID_CTRL);
    dh_error_clear(&err);
    assert_int_equal(dh_genl_family_id(nl, "dh-nonesuch", &id, &err), -ENOENT);
    assert_string_equal(err.message, "netlink: the kernel has no generic netlink family 'dh-nonesuch' (its "
                                     "module is not loaded, or the kernel was built without it)");
    dh_error_clear(&err);
    assert_int_equal(dh_genl_family_id(nl, "", &id, &err), -EINVAL);
    assert_int_equal(dh_genl_family_id(nl, "a-family-name-longer-than-genl-namsiz", &id, &err), -EINVAL);
    dh_nl_free(nl);
}

static void devlink_on_the_running_kernel(void **state)
{
    (void)state;
    /* a kernel with devlink answers the dump; one without says so and the scan can fall back */
    struct dh_devlink *dl = NULL;
    struct dh_error err = {0};
    int r = dh_devlink_open(&dl, &err);
    if (r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT || r == -EPERM || r == -EACCES)
        skip();
    if (r == -ENOENT) {
        dpu_assert_contains(err.message, "no generic netlink family 'devlink'");
        return;
    }
    assert_int_equal(r, 0);
    struct dh_devlink_port *ports = NULL;
    size_t n = 0;
    assert_int_equal(dh_devlink_port_dump(dl, &ports, &n, &err), 0);
    free(ports);
    dh_devlink_free(dl);
}

static void a_failed_request_is_named(void **state)
{
    (void)state;
    struct fake_dl *f = fake_dl_new();
    struct dh_nl *nl = fake_dl_connect(f);
    alignas(struct nlmsghdr) uint8_t buf[64] = {0};
    /* a command the fake (like a kernel without it) does not know */
    struct nlmsghdr *nlh =
            dh_genl_put_header(buf, FAKE_DL_FAMILY_ID, 0, DEVLINK_CMD_PORT_SET, DEVLINK_GENL_VERSION);
    struct dh_error err = {0};
    assert_int_equal(dh_genl_request(nl, nlh, "devlink DEVLINK_CMD_PORT_SET", NULL, NULL, &err), -EOPNOTSUPP);
    assert_string_equal(err.message, "netlink: devlink DEVLINK_CMD_PORT_SET request failed: Operation not "
                                     "supported (kernel: the fake answers port dumps only)");
    /* a non-dump request is acknowledged, so it asked for an ack; and it is sent once */
    assert_int_equal(fake_dl_n_requests(f), 1);
    assert_true(fake_dl_request(f, 0)->nlmsg_flags & NLM_F_ACK);
    dh_nl_free(nl);
    fake_dl_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(nlctrl_resolves_on_the_running_kernel),
            DH_TEST(devlink_on_the_running_kernel),
            DH_TEST(a_failed_request_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
