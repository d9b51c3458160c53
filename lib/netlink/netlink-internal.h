/* Shared between the netlink module's files; not exported. The parsers are pure: each takes one
 * message, reads nothing past nlh->nlmsg_len (whatever the lengths inside claim) and returns
 * -EBADMSG for a shape the kernel never sends, so a truncated reply is an error, not a guess. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dpuhost/netlink.h>

#define NL_TEXT_MAX 256

/* Where a failed request failed, so that callers can compose a message that names their object. */
enum nl_source {
    NL_FROM_TRANSPORT, /* sending or receiving failed, or a reply was malformed */
    NL_FROM_KERNEL,    /* the kernel answered with an error */
    NL_FROM_CALLBACK,  /* the reply callback returned the error */
};

struct nl_failure {
    enum nl_source source;
    /* the kernel's extended ack message, or what went wrong with the exchange; may be empty */
    char text[NL_TEXT_MAX];
};

/* The request loop behind dh_nl_request(); fills why instead of a struct dh_error. */
int nl_call(struct dh_nl *nl, struct nlmsghdr *req, dh_nl_reply_fn cb, void *userdata,
            struct nl_failure *why);
/* The same loop with the caller saying whether the request only reads (and so may be asked again
 * after lost replies or an interrupted dump). nl_call() decides that from the rtnetlink message
 * type; generic netlink families number their message types at run time, so their callers say. */
int nl_call_as(struct dh_nl *nl, struct nlmsghdr *req, bool read_only, dh_nl_reply_fn cb, void *userdata,
               struct nl_failure *why);
/* " (kernel: <text>)", " (<text>)", or "" when there is nothing to add. Returns buf. */
const char *nl_failure_suffix(const struct nl_failure *why, char *buf, size_t size);
/* "RTM_SETLINK" etc., "message type N" for others (buf holds at least 32 bytes). */
const char *nl_type_name(uint16_t type, char *buf, size_t size);
/* Waits through the transport (tests record instead of sleeping). */
void nl_sleep(struct dh_nl *nl, unsigned ms);
void nl_mac_busy_retry(const struct dh_nl *nl, unsigned *ret_attempts, unsigned *ret_interval_ms);

/* Sends RTM_GETLINK for the interface named ifname (when not NULL) or with index ifindex, with
 * IFLA_EXT_MASK ext_mask, and runs cb over the reply. */
int nl_get_link(struct dh_nl *nl, const char *ifname, unsigned ifindex, uint32_t ext_mask, dh_nl_reply_fn cb,
                void *userdata, struct nl_failure *why);

/* Fills err for a failed request about interface ifname: "no network interface named ..." for
 * ENODEV, "malformed reply" for a parser's -EBADMSG, else "<what> <ifname> failed: ...".
 * Returns r. */
int nl_link_error(struct dh_error *err, int r, const struct nl_failure *why, const char *ifname,
                  const char *what);

/* The kernel's rules for an interface name (net/core/dev.c dev_valid_name()). */
bool nl_ifname_is_valid(const char *s);

/* NLMSG_ERROR (error code, 0 for an acknowledgement) or NLMSG_DONE (the dump's status, 0 when the
 * payload is empty), and the extended ack message (NLMSGERR_ATTR_MSG) into ext_ack, "" if none. */
int nl_parse_error(const struct nlmsghdr *nlh, int *ret_code, char *ext_ack, size_t size);

struct nl_link {
    unsigned ifindex;
    char name[IFNAMSIZ]; /* "" when the message carried no IFLA_IFNAME */
    unsigned master;     /* IFLA_MASTER, 0 when none */
};
/* RTM_NEWLINK. */
int nl_parse_link(const struct nlmsghdr *nlh, struct nl_link *ret);

/* The settings of VF vf from an RTM_NEWLINK's IFLA_VFINFO_LIST, and how many VFs it lists.
 * -ENODATA without IFLA_VFINFO_LIST, -ENOENT when vf is not listed (*ret_n_vfs still set). */
int nl_parse_vf(const struct nlmsghdr *nlh, unsigned vf, struct dh_vf_config *ret, unsigned *ret_n_vfs);

struct nl_addr {
    uint8_t family; /* AF_INET or AF_INET6; others are reported with has_addr false */
    uint8_t prefixlen;
    uint8_t scope;
    unsigned ifindex;
    bool has_addr;
    uint8_t addr[16];
};
/* RTM_NEWADDR. IFA_LOCAL wins over IFA_ADDRESS (which is the peer on point-to-point links). */
int nl_parse_addr(const struct nlmsghdr *nlh, struct nl_addr *ret);
/* Scope universe and not IPv6 link-local: what makes a netdev carry traffic for the host. */
bool nl_addr_is_global(const struct nl_addr *a);
/* "192.0.2.1/24", "2001:db8::1/64". -EAFNOSUPPORT without an address. */
int nl_addr_format(const struct nl_addr *a, char *buf, size_t size);

struct nl_route {
    uint8_t family;
    uint8_t dst_len;
    uint8_t type;     /* RTN_UNICAST, ... */
    uint32_t table;   /* RTA_TABLE when present (tables above 255), else rtm_table */
    bool dst_ll;      /* an IPv6 destination inside fe80::/10 */
    bool via_ifindex; /* RTA_OIF or one of the RTA_MULTIPATH next hops is the ifindex asked for */
};
/* RTM_NEWROUTE, and whether it leaves through ifindex. */
int nl_parse_route(const struct nlmsghdr *nlh, unsigned ifindex, struct nl_route *ret);
