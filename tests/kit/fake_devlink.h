/* A fake devlink peer for tests: a transport for struct dh_nl that answers generic netlink family
 * resolution (CTRL_CMD_GETFAMILY to nlctrl) and DEVLINK_CMD_PORT_GET dumps from an in-memory model
 * of switchdev ports, in the kernel's wire format built with libmnl (so the production parser runs
 * on the same bytes it gets from the kernel), records every request, and injects what the kernel
 * does: no devlink family (ENOENT), error replies with extended acks, dumps spanning datagrams,
 * interrupted dumps, and replies recorded from a real kernel, replayed byte for byte. Model setters
 * abort the test on misuse. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#include <dpuhost/devlink.h>
#include <dpuhost/netlink.h>

/* The port id the fake addresses its replies to. */
#define FAKE_DL_PORTID 4343u
/* The devlink family id it announces unless told otherwise (the kernel assigns one at boot). */
#define FAKE_DL_FAMILY_ID 21u

/* A port as the kernel holds it. Which attributes are sent follows devlink_nl_port_fill(): the
 * flavour's own numbers only, the netdev only for type eth, the function nest only when
 * has_function. */
struct fake_dl_port {
    char bus[32];
    char dev[64];
    uint32_t index;
    uint16_t flavour;     /* DEVLINK_PORT_FLAVOUR_* */
    uint32_t port_number; /* physical */
    uint32_t controller;  /* function flavours */
    bool external;
    uint16_t pfnum, vfnum;
    uint32_t sfnum;
    uint16_t type;     /* DEVLINK_PORT_TYPE_ETH unless changed */
    char netdev[16];   /* "" for none (type eth without a netdev yet, or in another namespace) */
    uint32_t ifindex;  /* sent with netdev */
    bool has_function; /* DEVLINK_ATTR_PORT_FUNCTION */
    uint8_t hw_addr[32];
    size_t hw_addr_len; /* 0: no DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR inside the nest */
    int state;          /* DEVLINK_PORT_FN_STATE_*, -1: not sent */
    int opstate;        /* DEVLINK_PORT_FN_OPSTATE_*, -1: not sent */
};

struct fake_dl;

struct fake_dl *fake_dl_new(void);
/* Accepts NULL. Free every dh_nl connected to f first. */
void fake_dl_free(struct fake_dl *f);
/* A dh_nl whose requests f answers; free it with dh_nl_free(). */
struct dh_nl *fake_dl_connect(struct fake_dl *f);
/* A dh_devlink over a new connection (the family resolved through f); fails the test on error. */
struct dh_devlink *fake_dl_devlink(struct fake_dl *f);

/* The model. handle is "<bus>/<dev>" ("pci/0000:03:00.0"). netdev NULL or "" for none. Returned
 * pointers stay valid until fake_dl_free(); tests may change their fields. Ports are dumped in the
 * order they were added. */
struct fake_dl_port *fake_dl_add_physical(struct fake_dl *f, const char *handle, uint32_t index,
                                          uint32_t port_number, const char *netdev, uint32_t ifindex);
/* A pcipf port; hw_addr "aa:bb:cc:dd:ee:ff" gives it a function nest with that address, NULL none. */
struct fake_dl_port *fake_dl_add_pf(struct fake_dl *f, const char *handle, uint32_t index,
                                    uint32_t controller, bool external, uint16_t pfnum, const char *netdev,
                                    uint32_t ifindex, const char *hw_addr);
struct fake_dl_port *fake_dl_add_vf(struct fake_dl *f, const char *handle, uint32_t index,
                                    uint32_t controller, bool external, uint16_t pfnum, uint16_t vfnum,
                                    const char *netdev, uint32_t ifindex);
/* An SF port with a function nest (state and opstate as given, -1 to leave out). */
struct fake_dl_port *fake_dl_add_sf(struct fake_dl *f, const char *handle, uint32_t index,
                                    uint32_t controller, bool external, uint16_t pfnum, uint32_t sfnum,
                                    const char *netdev, uint32_t ifindex, int state, int opstate);

/* Faults and variations. */
void fake_dl_set_family_id(struct fake_dl *f, uint16_t id);
/* Family resolution fails with ENOENT, as on a kernel without devlink. */
void fake_dl_no_family(struct fake_dl *f);
/* The next port dump is answered with NLMSG_ERROR error (with ext_ack as NLMSGERR_ATTR_MSG when
 * not NULL). */
void fake_dl_fail_next_dump(struct fake_dl *f, int error, const char *ext_ack);
/* Messages per datagram in dumps (default 2, so that dumps span datagrams). */
void fake_dl_set_dump_batch(struct fake_dl *f, unsigned n);
/* The next n dumps flag their messages NLM_F_DUMP_INTR (a port came or went meanwhile). */
void fake_dl_interrupt_dumps(struct fake_dl *f, unsigned n);
/* The next port dump is answered with these bytes instead of the model: a run of netlink messages,
 * replayed as they are except for nlmsg_seq and nlmsg_pid (patched to the request's), dump_batch
 * messages per datagram. A recording that ends without NLMSG_DONE gets one. */
void fake_dl_reply_raw(struct fake_dl *f, const void *buf, size_t len);

/* What was sent. */
size_t fake_dl_n_requests(const struct fake_dl *f);
/* The i-th request (a copy). */
const struct nlmsghdr *fake_dl_request(const struct fake_dl *f, size_t i);
/* How many family resolutions, and how many devlink requests with this genl command, were sent. */
size_t fake_dl_n_getfamily(const struct fake_dl *f);
size_t fake_dl_count(const struct fake_dl *f, uint8_t cmd);

/* Loads a recording: '#' starts a comment line; every other non-blank line is one netlink message
 * in hex (blanks between bytes allowed). Returns the concatenated messages (caller frees); fails the
 * test when the file is missing or malformed. */
uint8_t *fake_dl_load_hex(const char *path, size_t *ret_len);
