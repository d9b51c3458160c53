/* The uevent parser: on messages recorded from the lab VM's kernel (uevents-lab.bin: 2 NVMe VFs
 * created and removed, kernel 6.1), on messages laid out the way the kernel writes them
 * (lib/kobject_uevent.c: "ACTION@DEVPATH\0" then "KEY=VALUE\0" fields) and on every malformed
 * shape; then the reader thread, fed through a socketpair: a burst becomes one refresh. */
#include "test.h"

#include <poll.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "uevent.h"

#define M(s) s, sizeof(s) - 1

/* A VF appearing on the PCI bus (kernel 6.1, QEMU's NVMe PF at 01:00.0 with its VF 0). */
static const char vf_add[] = "add@/devices/pci0000:00/0000:00:01.0/0000:01:00.1\0"
                             "ACTION=add\0"
                             "DEVPATH=/devices/pci0000:00/0000:00:01.0/0000:01:00.1\0"
                             "SUBSYSTEM=pci\0"
                             "PCI_CLASS=10802\0"
                             "PCI_ID=1B36:0010\0"
                             "PCI_SUBSYS_ID=1AF4:1100\0"
                             "PCI_SLOT_NAME=0000:01:00.1\0"
                             "MODALIAS=pci:v00001B36d00000010sv00001AF4sd00001100bc01sc08i02\0"
                             "SEQNUM=2345\0";

static const char vf_bind[] = "bind@/devices/pci0000:00/0000:00:01.0/0000:01:00.1\0"
                              "ACTION=bind\0"
                              "DEVPATH=/devices/pci0000:00/0000:00:01.0/0000:01:00.1\0"
                              "SUBSYSTEM=pci\0"
                              "DRIVER=vfio-pci\0"
                              "PCI_CLASS=10802\0"
                              "PCI_ID=1B36:0010\0"
                              "PCI_SLOT_NAME=0000:01:00.1\0"
                              "SEQNUM=2351\0";

static const char sf_add[] = "add@/devices/pci0000:00/0000:00:02.0/0000:03:00.0/mlx5_core.sf.4\0"
                             "ACTION=add\0"
                             "DEVPATH=/devices/pci0000:00/0000:00:02.0/0000:03:00.0/mlx5_core.sf.4\0"
                             "SUBSYSTEM=auxiliary\0"
                             "MODALIAS=auxiliary:mlx5_core.sf\0"
                             "SEQNUM=9\0";

static const char pci_netdev_add[] = "add@/devices/pci0000:00/0000:00:02.0/0000:02:00.0/net/eth0\0"
                                     "ACTION=add\0"
                                     "DEVPATH=/devices/pci0000:00/0000:00:02.0/0000:02:00.0/net/eth0\0"
                                     "SUBSYSTEM=net\0"
                                     "INTERFACE=eth0\0"
                                     "IFINDEX=2\0"
                                     "SEQNUM=812\0";

static const char veth_add[] = "add@/devices/virtual/net/veth12\0"
                               "ACTION=add\0"
                               "DEVPATH=/devices/virtual/net/veth12\0"
                               "SUBSYSTEM=net\0"
                               "INTERFACE=veth12\0"
                               "SEQNUM=813\0";

static const char block_change[] = "change@/devices/virtual/block/loop0\0"
                                   "ACTION=change\0"
                                   "DEVPATH=/devices/virtual/block/loop0\0"
                                   "SUBSYSTEM=block\0"
                                   "SEQNUM=14\0";

static const char pci_change[] = "change@/devices/pci0000:00/0000:00:01.0/0000:01:00.0\0"
                                 "ACTION=change\0"
                                 "DEVPATH=/devices/pci0000:00/0000:00:01.0/0000:01:00.0\0"
                                 "SUBSYSTEM=pci\0"
                                 "SEQNUM=15\0";

static void parses_kernel_messages(void **state)
{
    (void)state;
    struct dhd_uevent u;
    assert_int_equal(dhd_uevent_parse(M(vf_add), &u), 0);
    assert_string_equal(u.action, "add");
    assert_string_equal(u.devpath, "/devices/pci0000:00/0000:00:01.0/0000:01:00.1");
    assert_string_equal(u.subsystem, "pci");
    assert_string_equal(u.pci_slot, "0000:01:00.1");
    assert_null(u.driver);
    assert_int_equal(u.seqnum, 2345);
    assert_true(dhd_uevent_is_relevant(&u));

    assert_int_equal(dhd_uevent_parse(M(vf_bind), &u), 0);
    assert_string_equal(u.action, "bind");
    assert_string_equal(u.driver, "vfio-pci");
    assert_true(dhd_uevent_is_relevant(&u));

    assert_int_equal(dhd_uevent_parse(M(sf_add), &u), 0);
    assert_string_equal(u.subsystem, "auxiliary");
    assert_true(dhd_uevent_is_relevant(&u));

    assert_int_equal(dhd_uevent_parse(M(pci_netdev_add), &u), 0);
    assert_string_equal(u.interface, "eth0");
    assert_true(dhd_uevent_is_relevant(&u)); /* a PCI function's netdev: the inventory lists it */

    assert_int_equal(dhd_uevent_parse(M(veth_add), &u), 0);
    assert_false(dhd_uevent_is_relevant(&u)); /* a virtual netdev is not ours */
    assert_int_equal(dhd_uevent_parse(M(block_change), &u), 0);
    assert_false(dhd_uevent_is_relevant(&u));
    assert_int_equal(dhd_uevent_parse(M(pci_change), &u), 0);
    assert_false(dhd_uevent_is_relevant(&u)); /* nothing dpuhost lists changes on "change" */
}

/* Every recorded message parses, within its bounds (each is copied to a buffer of exactly its
 * length); add and remove of the VFs are relevant, the "change" events are not. */
static void parses_recorded_kernel_messages(void **state)
{
    (void)state;
    FILE *f = fopen(UEVENTS_LAB, "rb");
    assert_non_null(f);
    int n = 0, relevant = 0, adds = 0, removes = 0;
    uint32_t len;
    while (fread(&len, sizeof(len), 1, f) == 1) {
        char *buf = malloc(len);
        assert_int_equal(fread(buf, 1, len, f), len);
        struct dhd_uevent u;
        if (dhd_uevent_parse(buf, len, &u) < 0)
            fail_msg("recorded message %d (%.60s) does not parse", n, buf);
        assert_string_equal(u.subsystem, "pci");
        assert_true(u.seqnum > 0);
        assert_non_null(u.pci_slot);
        assert_true(strstr(u.devpath, u.pci_slot) != NULL);
        if (dhd_uevent_is_relevant(&u))
            relevant++;
        adds += strcmp(u.action, "add") == 0;
        removes += strcmp(u.action, "remove") == 0;
        free(buf);
        n++;
    }
    fclose(f);
    assert_int_equal(n, 7);
    assert_int_equal(adds, 2);
    assert_int_equal(removes, 2);
    assert_int_equal(relevant, 4);
}

static void refuses_malformed_messages(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *buf;
        size_t len;
    } bad[] = {
            {"empty", "", 0},
            {"no NUL at all", M("add@/devices/x")},
            {"udev's monitor format", M("libudev\0\xfe\xed\xca\xfe\0\0\0\0ACTION=add\0DEVPATH=/x\0")},
            {"header without '@'", M("add/devices/x\0ACTION=add\0DEVPATH=/devices/x\0")},
            {"empty action", M("@/devices/x\0ACTION=\0DEVPATH=/devices/x\0")},
            {"empty devpath", M("add@\0ACTION=add\0DEVPATH=\0")},
            {"header and ACTION disagree", M("add@/devices/x\0ACTION=remove\0DEVPATH=/devices/x\0")},
            {"ACTION a prefix of the header's", M("add@/devices/x\0ACTION=ad\0DEVPATH=/devices/x\0")},
            {"header and DEVPATH disagree", M("add@/devices/x\0ACTION=add\0DEVPATH=/devices/y\0")},
            {"ACTION missing", M("add@/devices/x\0DEVPATH=/devices/x\0")},
            {"DEVPATH missing", M("add@/devices/x\0ACTION=add\0")},
            {"a field without '='", M("add@/devices/x\0ACTION=add\0DEVPATH=/devices/x\0GARBAGE\0")},
            {"a field with an empty key", M("add@/devices/x\0ACTION=add\0DEVPATH=/devices/x\0=v\0")},
            {"the last field not terminated", M("add@/devices/x\0ACTION=add\0DEVPATH=/devices/x")},
            {"SEQNUM not a number", M("add@/devices/x\0ACTION=add\0DEVPATH=/devices/x\0SEQNUM=12a\0")},
            {"SEQNUM empty", M("add@/devices/x\0ACTION=add\0DEVPATH=/devices/x\0SEQNUM=\0")},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dhd_uevent u;
        /* a copy of exactly len bytes, so that ASan sees any read past the end */
        char *copy = malloc(bad[i].len ? bad[i].len : 1);
        memcpy(copy, bad[i].buf, bad[i].len);
        int r = dhd_uevent_parse(copy, bad[i].len, &u);
        free(copy);
        if (r != -EINVAL)
            fail_msg("%s: expected -EINVAL, got %d", bad[i].what, r);
    }
    /* every prefix of a good message is either refused or parses within its bounds */
    for (size_t n = 0; n < sizeof(vf_add) - 1; n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, vf_add, n);
        struct dhd_uevent u;
        int r = dhd_uevent_parse(copy, n, &u);
        free(copy);
        assert_true(r == -EINVAL || n > strlen(vf_add));
    }
}

struct counter {
    pthread_mutex_t lock;
    int calls;
};

static void count(void *userdata)
{
    struct counter *c = userdata;
    pthread_mutex_lock(&c->lock);
    c->calls++;
    pthread_mutex_unlock(&c->lock);
}

static int calls(struct counter *c)
{
    pthread_mutex_lock(&c->lock);
    int n = c->calls;
    pthread_mutex_unlock(&c->lock);
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void a_burst_is_one_refresh_and_noise_is_none(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    struct counter c = {PTHREAD_MUTEX_INITIALIZER, 0};
    struct dhd_uevents *u = NULL;
    assert_int_equal(dhd_uevents_start(sv[0], 100, count, &c, &u, NULL), 0);

    /* irrelevant and malformed messages: nothing */
    assert_int_equal(send(sv[1], M(veth_add), 0), (ssize_t)sizeof(veth_add) - 1);
    assert_int_equal(send(sv[1], M(block_change), 0), (ssize_t)sizeof(block_change) - 1);
    assert_int_equal(send(sv[1], M("garbage"), 0), 7);
    sleep_ms(300);
    assert_int_equal(calls(&c), 0);

    /* 20 VFs appearing and being bound, 5 ms apart: one refresh, after the burst */
    for (int i = 0; i < 10; i++) {
        send(sv[1], M(vf_add), 0);
        send(sv[1], M(vf_bind), 0);
        sleep_ms(5);
    }
    assert_int_equal(calls(&c), 0);
    for (int i = 0; i < 100 && calls(&c) == 0; i++)
        sleep_ms(10);
    sleep_ms(250);
    assert_int_equal(calls(&c), 1);

    /* later, one more event: one more refresh */
    send(sv[1], M(sf_add), 0);
    for (int i = 0; i < 100 && calls(&c) == 1; i++)
        sleep_ms(10);
    assert_int_equal(calls(&c), 2);
    dhd_uevents_stop(u);
    close(sv[1]);
}

static void a_continuous_stream_still_refreshes(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    struct counter c = {PTHREAD_MUTEX_INITIALIZER, 0};
    struct dhd_uevents *u = NULL;
    assert_int_equal(dhd_uevents_start(sv[0], 50, count, &c, &u, NULL), 0);
    /* an event every 20 ms for 1.5 s never leaves 50 ms of quiet: the cap (10 x 50 ms) refreshes */
    for (int i = 0; i < 75; i++) {
        send(sv[1], M(vf_add), 0);
        sleep_ms(20);
    }
    assert_true(calls(&c) >= 2);
    dhd_uevents_stop(u);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(parses_recorded_kernel_messages),     DH_TEST(parses_kernel_messages),
            DH_TEST(refuses_malformed_messages),          DH_TEST(a_burst_is_one_refresh_and_noise_is_none),
            DH_TEST(a_continuous_stream_still_refreshes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
