/* Kernel uevents keep the inventory current: a thread reads NETLINK_KOBJECT_UEVENT (the kernel's
 * multicast group 1, not udev's), picks the events that change what dpuhost lists (PCI and
 * auxiliary devices added, removed, bound or unbound; netdevs of PCI devices coming and going),
 * and after a short quiet period (a VF storm is one refresh, not 252) calls back once. The parser
 * is pure and separate, so that it is tested on recorded and constructed messages. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <dpuhost/error.h>

struct dhd_uevent {
    const char *action;        /* "add", "remove", "bind", "unbind", "change", "move", ... */
    const char *devpath;       /* "/devices/pci0000:00/0000:00:01.0/0000:01:00.2" */
    const char *subsystem;     /* "pci", "auxiliary", "net", ... or NULL */
    const char *driver;        /* DRIVER= (bind) or NULL */
    const char *pci_slot;      /* PCI_SLOT_NAME= or NULL */
    const char *interface;     /* INTERFACE= (net) or NULL */
    unsigned long long seqnum; /* SEQNUM=, 0 when absent */
};

/* Parses one kernel uevent datagram: "ACTION@DEVPATH\0KEY=VALUE\0...". The strings point into buf,
 * which must stay alive. -EINVAL when it is not a kernel uevent (udev's "libudev" messages, a
 * header without '@', a header that disagrees with ACTION= or DEVPATH=, a field that is not
 * KEY=VALUE or runs past the end). */
int dhd_uevent_parse(const char *buf, size_t len, struct dhd_uevent *ret);
/* True for events after which the inventory may differ. */
bool dhd_uevent_is_relevant(const struct dhd_uevent *u);

/* Opens a NETLINK_KOBJECT_UEVENT socket subscribed to the kernel's group. */
int dhd_uevent_open(int *ret_fd, struct dh_error *err);

struct dhd_uevents;
typedef void (*dhd_uevents_fn)(void *userdata);
/* Starts the reader thread on fd (taken; any datagram socket carrying uevents, so that tests can
 * feed it through a socketpair; netlink senders other than the kernel are ignored). on_change runs
 * on that thread, debounce_ms after the last relevant event (at most 10 x debounce_ms after the
 * first of a burst), and after a receive overrun, when events may have been lost. */
int dhd_uevents_start(int fd, int debounce_ms, dhd_uevents_fn on_change, void *userdata,
                      struct dhd_uevents **ret, struct dh_error *err);
/* Stops the thread (waiting for a running on_change) and closes the socket. Accepts NULL. */
void dhd_uevents_stop(struct dhd_uevents *u);
