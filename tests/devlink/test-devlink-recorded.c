/* Replies recorded from a real kernel (the lab's Linux 6.1 with netdevsim: one physical port and
 * three VF representors; see the comments at the top of the .hex files): the family resolution
 * and the port dump parsed message by message, replayed byte for byte through the request loop,
 * and looked up the way the DPU agent does. The recording is what caught that the kernel fills dump
 * messages with DEVLINK_CMD_NEW, not DEVLINK_CMD_PORT_NEW. */
#include "test.h"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "dpu.h"
#include "util/macro.h"

/* What the recording's comments say about the lab at the time. */
#define REC_UPLINK_MAC "9a:6d:e7:f4:a4:2a"
#define REC_SWITCH_ID "c378de726ffdf3506e6c33a59a612d0d10cf36e326c7c76d62ac00239ff5f2f4"
#define REC_HANDLE "netdevsim/netdevsim11"

static const char *data_dir;

struct rec {
    uint8_t *family, *dump;
    size_t family_len, dump_len;
    uint16_t family_id;
};

static int setup(void **state)
{
    struct rec *r = calloc(1, sizeof(*r));
    char path[4096];
    snprintf(path, sizeof(path), "%s/netdevsim-6.1-getfamily.hex", data_dir);
    r->family = fake_dl_load_hex(path, &r->family_len);
    snprintf(path, sizeof(path), "%s/netdevsim-6.1-port-dump.hex", data_dir);
    r->dump = fake_dl_load_hex(path, &r->dump_len);
    char name[GENL_NAMSIZ];
    if (dh_genl_parse_family((const struct nlmsghdr *)r->family, &r->family_id, name, sizeof(name)) < 0)
        fail_msg("the family recording does not start with CTRL_CMD_NEWFAMILY");
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct rec *r = *state;
    free(r->family);
    free(r->dump);
    free(r);
    return 0;
}

/* What devlink -j port show printed at the time (the recording's comments). */
struct want {
    uint32_t index;
    enum devlink_port_flavour flavour;
    const char *netdev;
    int64_t port_number, vfnum;
};
static const struct want want[] = {
        {0, DEVLINK_PORT_FLAVOUR_PHYSICAL, "eth0", 1, -1},
        {128, DEVLINK_PORT_FLAVOUR_PCI_VF, "eth1", -1, 0},
        {129, DEVLINK_PORT_FLAVOUR_PCI_VF, "eth2", -1, 1},
        {130, DEVLINK_PORT_FLAVOUR_PCI_VF, "eth3", -1, 2},
};

static void check_port(const struct dh_devlink_port *p, const struct want *w)
{
    assert_string_equal(p->bus, "netdevsim");
    assert_string_equal(p->dev, "netdevsim11");
    assert_int_equal(p->index, w->index);
    assert_true(p->has_flavour);
    assert_int_equal(p->flavour, w->flavour);
    assert_string_equal(p->netdev, w->netdev);
    assert_int_equal(p->type, DEVLINK_PORT_TYPE_ETH);
    assert_int_equal(p->port_number, w->port_number);
    assert_int_equal(p->vfnum, w->vfnum);
    assert_int_equal(p->sfnum, -1);
    bool vf = w->flavour == DEVLINK_PORT_FLAVOUR_PCI_VF;
    assert_int_equal(p->pfnum, vf ? 0 : -1);
    assert_int_equal(p->controller, vf ? 0 : -1);
    assert_int_equal(p->external, vf ? 0 : -1);
    /* 6.1's netdevsim has no port function operations: no nest, no hw_addr */
    assert_false(p->has_function);
    assert_int_equal(p->hw_addr_len, 0);
    assert_true(p->ifindex > 0);
}

static void the_family_resolution_names_devlink(void **state)
{
    struct rec *r = *state;
    char name[GENL_NAMSIZ];
    uint16_t id;
    const struct nlmsghdr *nlh = (const struct nlmsghdr *)r->family;
    assert_int_equal(dh_genl_parse_family(nlh, &id, name, sizeof(name)), 0);
    assert_string_equal(name, "devlink");
    assert_int_equal(id, 0x15);
    /* then the acknowledgement, capped */
    int len = (int)r->family_len;
    nlh = mnl_nlmsg_next(nlh, &len);
    assert_true(mnl_nlmsg_ok(nlh, len));
    assert_int_equal(nlh->nlmsg_type, NLMSG_ERROR);
    assert_true(nlh->nlmsg_flags & NLM_F_CAPPED);
    assert_int_equal(((const struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->error, 0);
}

static void every_recorded_port_parses(void **state)
{
    struct rec *r = *state;
    int len = (int)r->dump_len;
    size_t n = 0;
    bool done = false;
    for (const struct nlmsghdr *nlh = (const void *)r->dump; mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
        if (nlh->nlmsg_type == NLMSG_DONE) {
            done = true;
            continue;
        }
        assert_false(done);
        assert_int_equal(nlh->nlmsg_type, r->family_id);
        assert_true(nlh->nlmsg_flags & NLM_F_MULTI);
        struct dh_devlink_port p;
        assert_int_equal(dh_devlink_port_parse(nlh, r->family_id, &p), 0);
        assert_true(n < ELEMENTSOF(want));
        check_port(&p, &want[n]);
        /* the kernel's dumpit fills its messages with the device command */
        assert_int_equal(((const struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->cmd, DEVLINK_CMD_NEW);
        n++;
    }
    assert_int_equal(len, 0);
    assert_true(done);
    assert_int_equal(n, ELEMENTSOF(want));
}

static void the_recording_replays_through_the_request_loop(void **state)
{
    struct rec *r = *state;
    for (unsigned batch = 1; batch <= 5; batch += 2) {
        struct fake_dl *f = fake_dl_new();
        fake_dl_set_family_id(f, r->family_id);
        fake_dl_set_dump_batch(f, batch);
        fake_dl_reply_raw(f, r->dump, r->dump_len);
        struct dh_devlink *dl = fake_dl_devlink(f);
        assert_int_equal(dh_devlink_family_id(dl), r->family_id);
        struct dh_devlink_port *ports = NULL;
        size_t n = 0;
        struct dh_error err = {0};
        assert_int_equal(dh_devlink_port_dump(dl, &ports, &n, &err), 0);
        assert_int_equal(n, ELEMENTSOF(want));
        for (size_t i = 0; i < n; i++)
            check_port(&ports[i], &want[i]);
        free(ports);
        dh_devlink_free(dl);
        fake_dl_free(f);
    }
}

static void the_recorded_eswitch_answers_lookups(void **state)
{
    struct rec *r = *state;
    /* the sysfs the recorded kernel had for its uplink */
    struct fake_tree *tree = fake_tree_new();
    fake_netdev_add(tree, "sys/devices/netdevsim11", "eth0", REC_UPLINK_MAC, "up");
    fake_netdev_set_port(tree, "eth0", "p1", REC_SWITCH_ID);
    struct dh_host *host = dpu_host(tree);
    struct fake_dl *f = fake_dl_new();
    fake_dl_set_family_id(f, r->family_id);
    fake_dl_reply_raw(f, r->dump, r->dump_len);
    struct dh_devlink_ports *t = dpu_table(f, host);

    assert_int_equal(t->n_pfs, 1);
    assert_int_equal(t->pfs[0].mac_source, DH_DEVLINK_MAC_UPLINK);
    assert_string_equal(t->ports[0].switch_id, REC_SWITCH_ID);
    struct dh_devlink_match m;
    struct dh_error err = {0};
    assert_int_equal(dpu_lookup(t, host, REC_UPLINK_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 2, &m, &err), 0);
    assert_string_equal(m.port->netdev, "eth3");
    assert_int_equal(m.port->index, 130);
    assert_string_equal(m.pf->dev, "netdevsim11");
    assert_int_equal(dpu_lookup(t, host, REC_UPLINK_MAC, -1, DEVLINK_PORT_FLAVOUR_PCI_VF, 3, &m, &err),
                     -ERANGE);
    dpu_assert_contains(err.message, "VF 3 is out of range");
    dpu_assert_contains(err.message, "representors for VF 0-2 (3)");
    dpu_assert_contains(err.message, REC_HANDLE " controller 0 pf 0 (eth0, uplink)");

    dh_devlink_ports_free(t);
    fake_dl_free(f);
    dh_host_free(host);
    fake_tree_free(tree);
}

static void a_corrupted_recording_is_refused(void **state)
{
    struct rec *r = *state;
    uint8_t *copy = malloc(r->dump_len);
    memcpy(copy, r->dump, r->dump_len);
    /* the second message's bus name loses its NUL: the attribute still tiles, the string does not end */
    struct nlmsghdr *second = (struct nlmsghdr *)(copy + NLMSG_ALIGN(((struct nlmsghdr *)copy)->nlmsg_len));
    struct nlattr *bus = (struct nlattr *)((uint8_t *)second + NLMSG_HDRLEN + GENL_HDRLEN);
    assert_int_equal(bus->nla_type, DEVLINK_ATTR_BUS_NAME);
    assert_int_equal(bus->nla_len, 4 + sizeof("netdevsim"));
    bus->nla_len--;
    struct fake_dl *f = fake_dl_new();
    fake_dl_set_family_id(f, r->family_id);
    fake_dl_reply_raw(f, copy, r->dump_len);
    struct dh_devlink *dl = fake_dl_devlink(f);
    struct dh_devlink_port *ports = NULL;
    size_t n = 0;
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_port_dump(dl, &ports, &n, &err), -EBADMSG);
    assert_null(ports);
    dpu_assert_contains(err.message, "malformed port message");
    dh_devlink_free(dl);
    fake_dl_free(f);
    free(copy);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(the_family_resolution_names_devlink, setup, teardown),
            DH_TEST_SETUP(every_recorded_port_parses, setup, teardown),
            DH_TEST_SETUP(the_recording_replays_through_the_request_loop, setup, teardown),
            DH_TEST_SETUP(the_recorded_eswitch_answers_lookups, setup, teardown),
            DH_TEST_SETUP(a_corrupted_recording_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
