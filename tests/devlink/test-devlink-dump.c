/* The devlink connection and the port dump against the fake devlink peer: family resolution (one
 * request, the family asked for by name), dumps spanning datagrams, a dump interrupted by a change
 * and asked again without duplicates, a kernel error with its extended ack, a kernel without
 * devlink, and dh_devlink_scan()'s choice between devlink and sysfs. */
#include "test.h"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "dpu.h"
#include "util/macro.h"

static void the_family_is_resolved_once_by_name(void **state)
{
    (void)state;
    struct fake_dl *f = fake_dl_new();
    fake_dl_set_family_id(f, 0x1d);
    struct dh_devlink *dl = fake_dl_devlink(f);
    assert_int_equal(dh_devlink_family_id(dl), 0x1d);
    assert_int_equal(fake_dl_n_getfamily(f), 1);
    const struct nlmsghdr *req = fake_dl_request(f, 0);
    assert_int_equal(req->nlmsg_type, GENL_ID_CTRL);
    assert_true(req->nlmsg_flags & NLM_F_REQUEST);
    const struct nlattr *a = NULL, *it;
    mnl_attr_for_each(it, req, GENL_HDRLEN)
    {
        if (mnl_attr_get_type(it) == CTRL_ATTR_FAMILY_NAME)
            a = it;
    }
    assert_non_null(a);
    assert_string_equal(mnl_attr_get_str(a), "devlink");
    dh_devlink_free(dl);
    fake_dl_free(f);
}

static void a_kernel_without_devlink(void **state)
{
    (void)state;
    struct fake_dl *f = fake_dl_new();
    fake_dl_no_family(f);
    struct dh_devlink *dl = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_new(fake_dl_connect(f), &dl, &err), -ENOENT);
    assert_null(dl);
    dpu_assert_contains(err.message, "no generic netlink family 'devlink'");
    fake_dl_free(f);
}

static void dumps_span_datagrams(void **state)
{
    (void)state;
    for (unsigned batch = 1; batch <= 16; batch *= 4) {
        struct fake_dl *f = fake_dl_new();
        dpu_bluefield(f);
        fake_dl_set_dump_batch(f, batch);
        struct dh_devlink *dl = fake_dl_devlink(f);
        struct dh_devlink_port *ports = NULL;
        size_t n = 0;
        struct dh_error err = {0};
        assert_int_equal(dh_devlink_port_dump(dl, &ports, &n, &err), 0);
        assert_int_equal(n, 11);
        /* the kernel's order */
        assert_string_equal(ports[0].netdev, "p0");
        assert_string_equal(ports[1].netdev, "pf0hpf");
        assert_int_equal(ports[1].hw_addr_len, 6);
        assert_string_equal(ports[5].netdev, "pf0vf3");
        assert_int_equal(ports[5].vfnum, 3);
        assert_int_equal(ports[5].controller, 1);
        assert_int_equal(ports[5].external, 1);
        assert_string_equal(ports[6].netdev, "en3f0pf0sf88");
        assert_int_equal(ports[6].sfnum, 88);
        assert_int_equal(ports[6].fn_opstate, DEVLINK_PORT_FN_OPSTATE_ATTACHED);
        assert_string_equal(ports[10].dev, "0000:03:00.1");
        assert_int_equal(fake_dl_count(f, DEVLINK_CMD_PORT_GET), 1);
        const struct nlmsghdr *req = fake_dl_request(f, fake_dl_n_requests(f) - 1);
        assert_int_equal(req->nlmsg_flags & NLM_F_DUMP, NLM_F_DUMP);
        free(ports);
        dh_devlink_free(dl);
        fake_dl_free(f);
    }
}

static void an_interrupted_dump_is_asked_again(void **state)
{
    (void)state;
    struct fake_dl *f = fake_dl_new();
    dpu_bluefield(f);
    fake_dl_interrupt_dumps(f, 1);
    struct dh_devlink *dl = fake_dl_devlink(f);
    struct dh_devlink_port *ports = NULL;
    size_t n = 0;
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_port_dump(dl, &ports, &n, &err), 0);
    assert_int_equal(fake_dl_count(f, DEVLINK_CMD_PORT_GET), 2);
    assert_int_equal(n, 11); /* what the first attempt collected was dropped */
    free(ports);
    /* interrupted every time: an error, not a half-old list */
    fake_dl_interrupt_dumps(f, 10);
    assert_int_equal(dh_devlink_port_dump(dl, &ports, &n, &err), -EAGAIN);
    dpu_assert_contains(err.message, "devlink DEVLINK_CMD_PORT_GET dump failed");
    dpu_assert_contains(err.message, "interrupted");
    dh_devlink_free(dl);
    fake_dl_free(f);
}

static void a_kernel_error_is_reported_with_its_reason(void **state)
{
    (void)state;
    struct fake_dl *f = fake_dl_new();
    dpu_bluefield(f);
    fake_dl_fail_next_dump(f, -EPERM, "Operation not permitted in this namespace");
    struct dh_devlink *dl = fake_dl_devlink(f);
    struct dh_devlink_port *ports = NULL;
    size_t n = 0;
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_port_dump(dl, &ports, &n, &err), -EPERM);
    assert_null(ports);
    dpu_assert_contains(err.message, "devlink DEVLINK_CMD_PORT_GET dump failed: Operation not permitted");
    dpu_assert_contains(err.message, "(kernel: Operation not permitted in this namespace)");
    dh_devlink_free(dl);
    fake_dl_free(f);
}

static void scan_reads_devlink_when_asked(void **state)
{
    (void)state;
    struct fake_dl *f = fake_dl_new();
    dpu_bluefield(f);
    struct fake_tree *tree = dpu_bluefield_tree(NULL);
    struct dh_host *host = dpu_host(tree);
    struct dh_devlink *dl = fake_dl_devlink(f);
    struct dh_devlink_ports *t = NULL;
    struct dh_error err = {0};
    struct dh_devlink_scan_options o = {.source = DH_DEVLINK_SOURCE_DEVLINK, .devlink = dl};
    assert_int_equal(dh_devlink_scan(host, &o, &t, &err), 0);
    assert_int_equal(t->source, DH_DEVLINK_SOURCE_DEVLINK);
    assert_string_equal(t->fallback_reason, "");
    assert_int_equal(t->n_ports, 11);
    /* sorted by handle and index; the switch id comes from the netdev's sysfs */
    assert_string_equal(t->ports[0].netdev, "p0");
    assert_string_equal(t->ports[0].switch_id, DPU_SWITCH_ID);
    assert_int_equal(t->n_pfs, 3);
    dh_devlink_ports_free(t);

    /* AUTO on a root that is not "/": devlink describes the running kernel, so sysfs is read */
    o.source = DH_DEVLINK_SOURCE_AUTO;
    size_t before = fake_dl_n_requests(f);
    assert_int_equal(dh_devlink_scan(host, &o, &t, &err), 0);
    assert_int_equal(t->source, DH_DEVLINK_SOURCE_SYSFS);
    dpu_assert_contains(t->fallback_reason, "not /");
    assert_int_equal(fake_dl_n_requests(f), before);
    assert_int_equal(t->n_ports, 11); /* oob_net0 is not a switch port */
    dh_devlink_ports_free(t);

    dh_devlink_free(dl);
    fake_dl_free(f);
    dh_host_free(host);
    fake_tree_free(tree);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(the_family_is_resolved_once_by_name),
            DH_TEST(a_kernel_without_devlink),
            DH_TEST(dumps_span_datagrams),
            DH_TEST(an_interrupted_dump_is_asked_again),
            DH_TEST(a_kernel_error_is_reported_with_its_reason),
            DH_TEST(scan_reads_devlink_when_asked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
