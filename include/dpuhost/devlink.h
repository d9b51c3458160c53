/* devlink ports and their representors: the DPU half of an off-path port (docs/offpath.md). The
 * hypervisor hands a VF to a VM and publishes its PF's MAC and the VF number; the agent on the DPU
 * (its own kernel) looks the pair up here to find the VF's representor netdev and plug it into the
 * switch. Ports come from devlink (generic netlink, DEVLINK_CMD_PORT_GET), or from sysfs
 * (phys_port_name, phys_switch_id) where devlink is unavailable. A PF is found by MAC the way
 * OVN's vif-plug-representor does it: the pcipf port's function hw_addr, else the smart_nic
 * compatibility file of the matching uplink; on a local eswitch, whose PF netdev is the uplink
 * representor itself, the uplink's own MAC. The port table is a snapshot and never changes after
 * dh_devlink_scan() returns. Nothing here prints. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/devlink.h>
#include <linux/netlink.h>

#include <dpuhost/error.h>
#include <dpuhost/host.h>
#include <dpuhost/jsonw.h>
#include <dpuhost/netlink.h>

/* The longest hardware address a port function reports (the kernel's MAX_ADDR_LEN). */
#define DH_DEVLINK_HW_ADDR_MAX 32u

/* One switchdev port. Numbers are -1 when the source does not report them. */
struct dh_devlink_port {
    char bus[32];  /* the devlink handle "<bus>/<dev>": "pci", "netdevsim", "auxiliary"; "" when */
    char dev[128]; /* sysfs cannot tell the bus */
    int64_t index; /* DEVLINK_ATTR_PORT_INDEX; -1 from sysfs, which does not know it */

    bool has_flavour;
    enum devlink_port_flavour flavour;
    int64_t port_number;   /* physical ports (p<N>) */
    int64_t split_subport; /* a split physical port's sub-port (p<N>s<M>) */
    int64_t controller;    /* function ports: 0 is the local controller, others are external */
    int external;          /* 1: the function belongs to an external controller (on a DPU, the host);
                            * 0: local; -1: not reported (physical ports) */
    int64_t pfnum, vfnum, sfnum;

    int type;              /* enum devlink_port_type; -1 when not reported */
    char netdev[IFNAMSIZ]; /* "" when the port has no netdev in this network namespace */
    unsigned ifindex;      /* 0 without a netdev */
    char switch_id[2 * DH_DEVLINK_HW_ADDR_MAX + 1]; /* the netdev's phys_switch_id (hex), "" if none */

    bool has_function;  /* DEVLINK_ATTR_PORT_FUNCTION was present */
    size_t hw_addr_len; /* 0: the function reports no hw_addr */
    uint8_t hw_addr[DH_DEVLINK_HW_ADDR_MAX];
    int fn_state;   /* enum devlink_port_fn_state; -1 when not reported */
    int fn_opstate; /* enum devlink_port_fn_opstate; -1 when not reported */
};

/* "physical", "cpu", "dsa", "pcipf", "pcivf", "virtual", "unused", "pcisf" (devlink's names);
 * NULL for a flavour this build does not know. */
const char *dh_devlink_flavour_to_string(enum devlink_port_flavour flavour);
/* "notset", "auto", "eth", "ib"; NULL otherwise. */
const char *dh_devlink_port_type_to_string(int type);

/* Parses one port message, the kernel's answer to DEVLINK_CMD_PORT_GET (command
 * DEVLINK_CMD_PORT_NEW, or DEVLINK_CMD_NEW in dumps, as the kernel sends them). Pure.
 * family_id: the devlink family's id, which the message type must equal (0: not checked).
 * -EBADMSG for a message of another type or command, without its handle or index, with an
 * attribute of the wrong size, or with attributes that do not tile it. Attributes this code does
 * not know are skipped. */
int dh_devlink_port_parse(const struct nlmsghdr *nlh, uint16_t family_id, struct dh_devlink_port *ret);

/* A devlink connection: a generic netlink dh_nl and the devlink family's id. */
struct dh_devlink;

/* Opens a NETLINK_GENERIC socket and resolves the devlink family. -ENOENT when the kernel has no
 * devlink family. The caller frees *ret with dh_devlink_free(). */
int dh_devlink_open(struct dh_devlink **ret, struct dh_error *err);
/* The same over a dh_nl the caller made (tests: a fake peer). Takes ownership of nl, also on
 * failure. */
int dh_devlink_new(struct dh_nl *nl, struct dh_devlink **ret, struct dh_error *err);
/* Accepts NULL. */
void dh_devlink_free(struct dh_devlink *dl);
uint16_t dh_devlink_family_id(const struct dh_devlink *dl);

/* Every port of every devlink instance in the network namespace (one DEVLINK_CMD_PORT_GET dump),
 * in the kernel's order. The caller frees *ret with free(). */
int dh_devlink_port_dump(struct dh_devlink *dl, struct dh_devlink_port **ret, size_t *ret_n,
                         struct dh_error *err);

/* The switchdev ports sysfs shows under <root>/sys/class/net: every netdev whose phys_port_name
 * parses (dh_port_name_parse()), with the device it hangs off as the handle, its ifindex and
 * phys_switch_id. sysfs has no port index, controller of a local function (taken as 0), or
 * function hw_addr. The caller frees *ret with free(). -ENOENT without <root>/sys/class/net. */
int dh_devlink_sysfs_ports(struct dh_host *host, struct dh_devlink_port **ret, size_t *ret_n,
                           struct dh_error *err);

enum dh_devlink_source {
    DH_DEVLINK_SOURCE_AUTO,    /* devlink; sysfs when --root is not "/" or the kernel has no devlink */
    DH_DEVLINK_SOURCE_DEVLINK, /* devlink only */
    DH_DEVLINK_SOURCE_SYSFS,   /* sysfs only */
};
/* "auto", "devlink", "sysfs"; from_string returns -EINVAL for anything else. */
const char *dh_devlink_source_to_string(enum dh_devlink_source source);
int dh_devlink_source_from_string(const char *s, enum dh_devlink_source *ret);

/* Where a PF's MAC came from. */
enum dh_devlink_mac_source {
    DH_DEVLINK_MAC_NONE,      /* unknown: see why_no_mac */
    DH_DEVLINK_MAC_HW_ADDR,   /* the pcipf port's function hw_addr */
    DH_DEVLINK_MAC_SMART_NIC, /* the "MAC" line of <uplink>/smart_nic/pf/config: kernels whose pcipf
                               * port reports no (or a zero) hw_addr; the uplink is the physical port
                               * whose number is the PF's */
    DH_DEVLINK_MAC_UPLINK,    /* a local PF without a pcipf port (the eswitch runs in the PF's own
                               * kernel): its netdev is the uplink representor, whose address is the
                               * PF MAC the host side publishes */
};
/* "none", "hw_addr", "smart_nic", "uplink". */
const char *dh_devlink_mac_source_to_string(enum dh_devlink_mac_source source);

/* A PF as the eswitch sees it: every (device, controller, pfnum) that has a pcipf port or a VF or SF
 * representor. */
struct dh_devlink_pf {
    char bus[32];
    char dev[128];
    int64_t controller;
    bool external;
    int64_t pfnum;
    ssize_t port; /* index in ports[] of the port standing for the PF: its pcipf port, or the uplink
                   * of a local PF; -1 when there is none */
    enum dh_devlink_mac_source mac_source;
    uint8_t mac[6];       /* valid unless mac_source is DH_DEVLINK_MAC_NONE */
    char why_no_mac[512]; /* "" unless mac_source is DH_DEVLINK_MAC_NONE */
};

struct dh_devlink_ports {
    enum dh_devlink_source source;              /* DH_DEVLINK_SOURCE_DEVLINK or _SYSFS: what was read */
    char fallback_reason[DH_ERROR_MESSAGE_MAX]; /* why AUTO read sysfs; "" otherwise */
    struct dh_devlink_port *ports;              /* sorted by handle, then index (devlink) or netdev (sysfs) */
    size_t n_ports;
    struct dh_devlink_pf *pfs; /* sorted by handle, controller, pfnum */
    size_t n_pfs;
};

struct dh_devlink_scan_options {
    enum dh_devlink_source source;
    /* An open connection to read devlink through (tests: over a fake peer); borrowed. NULL:
     * open() when devlink is to be read. */
    struct dh_devlink *devlink;
    /* How to open one when devlink is not given (a caller's seam, e.g. the CLI's); NULL:
     * dh_devlink_open(). Its "no devlink" errors (-ENOENT, -EPROTONOSUPPORT, -EAFNOSUPPORT) make
     * AUTO fall back to sysfs like dh_devlink_open()'s. */
    int (*open)(struct dh_devlink **ret, struct dh_error *err);
};

/* Reads the ports (opts may be NULL: AUTO) and finds the PFs and their MACs, reading sysfs under
 * host for the uplink addresses and smart_nic files. AUTO reads sysfs instead of devlink when the
 * host root is not "/" (devlink describes the running kernel, not the tree under --root) or the
 * kernel has no devlink family or generic netlink (fallback_reason says which); any other devlink
 * failure is an error. The caller frees *ret with dh_devlink_ports_free(). */
int dh_devlink_scan(struct dh_host *host, const struct dh_devlink_scan_options *opts,
                    struct dh_devlink_ports **ret, struct dh_error *err);
/* The same over ports the caller read: takes ownership of ports (freed also on failure). host may
 * be NULL (no sysfs reads: MACs come from hw_addr only). */
int dh_devlink_ports_new(struct dh_host *host, enum dh_devlink_source source, struct dh_devlink_port *ports,
                         size_t n_ports, struct dh_devlink_ports **ret, struct dh_error *err);
/* Accepts NULL. */
void dh_devlink_ports_free(struct dh_devlink_ports *t);

/* What the DPU agent gets from the host's binding profile: pf_mac_address and vf_num (or an SF
 * number). */
struct dh_devlink_query {
    uint8_t pf_mac[6];
    int64_t controller;                /* -1: any */
    enum devlink_port_flavour flavour; /* DEVLINK_PORT_FLAVOUR_PCI_VF or DEVLINK_PORT_FLAVOUR_PCI_SF */
    int64_t number;                    /* the VF or SF number */
};

/* Borrowed from the table. */
struct dh_devlink_match {
    const struct dh_devlink_port *port;
    const struct dh_devlink_pf *pf;
};

/* Finds the representor as OVN's vif-plug-representor does: the PF whose MAC is q->pf_mac (and whose
 * controller is q->controller unless -1), then the port of q's flavour with the same handle,
 * controller and pfnum and the number asked for. Errors, each with a message naming what was
 * asked, what the eswitch has, and what to do:
 *   -EINVAL     a zero or multicast MAC, a flavour other than pcivf/pcisf, a negative number
 *   -ENOENT     no PF has that MAC (the known ones are listed)
 *   -ENOTUNIQ   several PFs have it (pass a controller)
 *   -ERANGE     the PF has no representor with that number (the ones it has are listed)
 *   -ENODEV     the representor port has no netdev (not created yet, or in another namespace)
 *   -EAGAIN     udev runs on this host (<root>/run/udev/control) and has not processed the netdev
 *               yet (no <root>/run/udev/data/n<ifindex>): it may still rename it; or it has renamed
 *               it since the ports were read (the name is no longer that ifindex's); retry
 * host may be NULL to skip the udev check. */
int dh_devlink_lookup(const struct dh_devlink_ports *t, struct dh_host *host,
                      const struct dh_devlink_query *q, struct dh_devlink_match *ret, struct dh_error *err);

/* {"source", "fallback_reason", "ports": [...], "pfs": [...]} (docs/offpath.md). Errors are sticky
 * in w. */
void dh_devlink_ports_write_json(struct dh_jsonw *w, const struct dh_devlink_ports *t);
/* The members of a lookup's answer ("netdev", "ifindex", "port", ..., "pf": {...}, "source"),
 * written into an object the caller has begun, so that callers can add their own. */
void dh_devlink_match_write_members(struct dh_jsonw *w, const struct dh_devlink_ports *t,
                                    const struct dh_devlink_match *m);

/* Adds netdev to the Open vSwitch bridge: `ovs-vsctl --timeout=<timeout_s> --may-exist add-port
 * <bridge> <netdev>`, found on PATH and run without a shell (posix_spawn). --may-exist makes a
 * second plug a no-op. -ENOENT when ovs-vsctl is not on PATH; -EINVAL for a bridge or netdev name
 * ovs-vsctl would take for something else; -EIO when it exits non-zero or is killed (its last
 * line of stderr is quoted); -ETIMEDOUT when it outlives timeout_s by 5 s. */
int dh_devlink_ovs_add_port(const char *bridge, const char *netdev, unsigned timeout_s, struct dh_error *err);
