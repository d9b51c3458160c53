/* rtnetlink (NETLINK_ROUTE) over libmnl: interface lookup, a VF's admin settings held by its PF
 * (MAC, VLAN and QoS, spoof checking, trust, link state), and the in-use checks the binding code
 * runs before it takes a netdev away from the host (global addresses, routes, bond or bridge
 * membership). The socket sits behind a small transport (struct dh_nl_transport) so that everything
 * above it runs unchanged on replies that tests construct; the parsers take message buffers and are
 * pure. Nothing here prints. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/netlink.h>

#include <dpuhost/error.h>

/* Replies are received into a buffer of at least this size, grown to fit a larger datagram: a PF's
 * RTM_NEWLINK carries one IFLA_VF_INFO per VF and outgrows libmnl's 8 KiB MNL_SOCKET_BUFFER_SIZE. */
#define DH_NL_RECV_BUFFER_MIN (32u * 1024u)

/* A MAC write that fails with EBUSY is retried, as sriov-cni does (20 tries, 100 ms apart): a VF
 * driver may hold the MAC briefly, e.g. while the VF is being probed. */
#define DH_NL_MAC_BUSY_ATTEMPTS 20u
#define DH_NL_MAC_BUSY_INTERVAL_MS 100u

struct dh_nl;

/* How requests leave and replies come back. dh_nl_open() uses a NETLINK_ROUTE socket; tests use a
 * fake that answers from an in-memory model (tests/kit/fake_netlink.h). */
struct dh_nl_transport {
    /* Sends one request of nlh->nlmsg_len bytes. Returns 0 or a negative errno (-EINTR is retried). */
    int (*send)(void *userdata, const struct nlmsghdr *nlh);
    /* Receives one datagram. *ret points into transport-owned memory that stays valid until the next
     * call. Returns the datagram's size or a negative errno: -EINTR is retried; -ENOBUFS (the kernel
     * dropped replies) restarts a read-only request and fails a write. */
    ssize_t (*recv)(void *userdata, const void **ret);
    /* Waits between retries. NULL: nanosleep(). Tests record the wait instead of sleeping. */
    void (*sleep_ms)(void *userdata, unsigned ms);
    /* Releases userdata when the dh_nl is freed. May be NULL. */
    void (*free)(void *userdata);
};

/* Opens a NETLINK_ROUTE socket (extended acks on, 30 s receive timeout). Fails with the socket's
 * errno and a message. The caller frees *ret with dh_nl_free(). */
int dh_nl_open(struct dh_nl **ret, struct dh_error *err);
/* A dh_nl over another transport. portid: the port replies are addressed to (0: not checked).
 * Returns NULL on allocation failure. transport must outlive the result; userdata is released by
 * transport->free (when set) in dh_nl_free(). */
struct dh_nl *dh_nl_new(const struct dh_nl_transport *transport, void *userdata, uint32_t portid);
/* Accepts NULL. */
void dh_nl_free(struct dh_nl *nl);

/* Overrides the EBUSY retry of MAC writes (defaults DH_NL_MAC_BUSY_ATTEMPTS and
 * DH_NL_MAC_BUSY_INTERVAL_MS). attempts counts every try, so 1 means no retry; 0 is taken as 1. */
void dh_nl_set_mac_busy_retry(struct dh_nl *nl, unsigned attempts, unsigned interval_ms);

/* Called for every reply message other than NLMSG_NOOP, NLMSG_ERROR and NLMSG_DONE. Returns 0 to go
 * on, or a negative errno that ends the request (the remaining replies are drained). When the
 * request is restarted (the kernel dropped replies, or a dump was interrupted by a change) the
 * callback is called with nlh == NULL first: forget what earlier calls collected. */
typedef int (*dh_nl_reply_fn)(const struct nlmsghdr *nlh, void *userdata);

/* Sends one request and runs cb (may be NULL) over its replies. The request's nlmsg_seq is assigned
 * here and NLM_F_REQUEST is set; a request without NLM_F_DUMP gets NLM_F_ACK, so it ends with the
 * kernel's acknowledgement; a dump ends with NLMSG_DONE. Replies to other sequence numbers (left
 * over from an earlier, abandoned request) are skipped. Returns 0, cb's error, or the kernel's
 * negative errno with err naming the message type and quoting the kernel's extended ack message
 * when it sent one. */
int dh_nl_request(struct dh_nl *nl, struct nlmsghdr *req, dh_nl_reply_fn cb, void *userdata,
                  struct dh_error *err);

/* The ifindex of the interface named ifname (RTM_GETLINK with IFLA_IFNAME). -EINVAL for a name the
 * kernel could never accept (empty, IFNAMSIZ or longer, '/', ':' or blanks), -ENODEV when there is
 * no such interface. */
int dh_nl_link_index(struct dh_nl *nl, const char *ifname, unsigned *ret_ifindex, struct dh_error *err);

/* IFLA_VF_LINK_STATE values. */
enum dh_vf_link_state {
    DH_VF_LINK_STATE_AUTO = 0,    /* follows the uplink */
    DH_VF_LINK_STATE_ENABLE = 1,  /* always up */
    DH_VF_LINK_STATE_DISABLE = 2, /* always down */
};

/* "auto", "enable", "disable"; NULL for anything else. */
const char *dh_vf_link_state_to_string(enum dh_vf_link_state state);
/* The inverse; -EINVAL for anything else. */
int dh_vf_link_state_from_string(const char *s, enum dh_vf_link_state *ret);

/* A VF's admin settings. Every field has a has_ flag: in what dh_nl_vf_get() returns it means "the
 * driver reports it"; in what dh_nl_vf_set() is given it means "set this", so "leave alone" and
 * "set to 0" never look alike. */
struct dh_vf_config {
    bool has_mac;
    uint8_t mac[6]; /* unicast; 00:00:00:00:00:00 means "no admin MAC" to most drivers */

    bool has_vlan; /* vlan and qos travel together in IFLA_VF_VLAN */
    uint16_t vlan; /* 0 (untagged) .. 4095 */
    uint8_t qos;   /* 802.1p priority 0..7 */

    bool has_spoofchk;
    bool spoofchk;

    bool has_trust;
    bool trust;

    bool has_link_state;
    enum dh_vf_link_state link_state;
};

/* Checks what dh_nl_vf_set() would be asked to set: VLAN <= 4095, QoS <= 7 (QoS with VLAN 0 asks
 * for priority-tagged frames), a unicast MAC, a known link state. Pure. -EINVAL with a message
 * naming the value. */
int dh_vf_config_validate(const struct dh_vf_config *c, struct dh_error *err);

/* Reads VF vf's settings from the PF netdev pf_ifname (RTM_GETLINK with IFLA_EXT_MASK
 * RTEXT_FILTER_VF|RTEXT_FILTER_SKIP_STATS). Spoof checking or trust that the driver reports as
 * 0xFFFFFFFF come back with has_ cleared. -ENODEV without such an interface, -EOPNOTSUPP when it
 * reports no VF table at all (not a PF, or a driver without VF settings), -ENOENT when the table
 * does not hold this VF (or SR-IOV is off), -EBADMSG on a malformed reply. */
int dh_nl_vf_get(struct dh_nl *nl, const char *pf_ifname, unsigned vf, struct dh_vf_config *ret,
                 struct dh_error *err);

/* Sets the fields of want whose has_ flag is set, on VF vf of the PF netdev pf_ifname (RTM_SETLINK
 * to the PF's ifindex, one message per field, MAC first), then reads the VF back and checks every
 * field it set. Invalid input fails with -EINVAL before anything is sent. A field that already has
 * the wanted value is not written. A MAC write that fails with EBUSY is retried (see
 * dh_nl_set_mac_busy_retry()). A refusal of the driver to do something at all (EOPNOTSUPP, or EPERM
 * on clearing a VLAN, which some DPUs refuse) fails with -EOPNOTSUPP and names the missing
 * capability. When a write fails or a read-back differs, the fields already changed are restored
 * to what they were before the call, and the message says whether that worked. -EIO when a
 * read-back differs from what was written. */
int dh_nl_vf_set(struct dh_nl *nl, const char *pf_ifname, unsigned vf, const struct dh_vf_config *want,
                 struct dh_error *err);

/* What makes a netdev unsafe to take away from the host (REFERENCE: refuse unless forced). */
struct dh_link_usage {
    unsigned ifindex;
    char **addresses; /* global IPv4/IPv6 addresses, "192.0.2.1/24", "2001:db8::1/64"; owned */
    size_t n_addresses;
    bool default_route;      /* an IPv4 or IPv6 default route of the main table leaves through it */
    size_t n_routes;         /* routes of the main table through it (IPv6 fe80::/10 ones not counted) */
    unsigned master_ifindex; /* IFLA_MASTER, 0 when none */
    char *master;            /* the bond's or bridge's name; NULL when none or gone meanwhile; owned */
};

/* Fills ret for the interface ifname: its global addresses (RTM_GETADDR dump; scope universe only,
 * IPv6 link-local fe80::/10 and host-scope addresses do not count), its main-table routes and
 * whether one of them is an IPv4 or IPv6 default route (RTM_GETROUTE dump; RTA_OIF or any next hop
 * of RTA_MULTIPATH), and its master. Free ret's contents with dh_link_usage_clear(), also after a
 * failure. */
int dh_nl_link_usage(struct dh_nl *nl, const char *ifname, struct dh_link_usage *ret, struct dh_error *err);
/* Frees what u owns and zeroes it. Accepts NULL. */
void dh_link_usage_clear(struct dh_link_usage *u);
/* True when any of the reasons to refuse holds: a global address, a route, a master. */
bool dh_link_usage_is_busy(const struct dh_link_usage *u);

/* Generic netlink (NETLINK_GENERIC). Families such as devlink register at run time under a name;
 * their message type is the family id the kernel assigned, resolved once per socket through the
 * nlctrl family. The same struct dh_nl, request loop and transports serve both protocols. */

/* Opens a socket of another netlink protocol (NETLINK_GENERIC for devlink) with dh_nl_open()'s
 * settings; dh_nl_open() is dh_nl_open_protocol(NETLINK_ROUTE, ...). The caller frees *ret with
 * dh_nl_free(). */
int dh_nl_open_protocol(int protocol, struct dh_nl **ret, struct dh_error *err);

/* Called for every attribute; returns 0 to go on or a negative errno that ends the walk. */
typedef int (*dh_nl_attr_fn)(const struct nlattr *a, void *userdata);
/* Runs fn over the attributes in [p, p + len). Pure. The attributes must tile the range exactly (up
 * to the last one's alignment padding), as the kernel writes them: -EBADMSG otherwise, so a
 * truncated reply is an error and never half-read. */
int dh_nl_attr_walk(const void *p, size_t len, dh_nl_attr_fn fn, void *userdata);
/* The same over a nested attribute's payload. */
int dh_nl_attr_walk_nested(const struct nlattr *a, dh_nl_attr_fn fn, void *userdata);
/* Copies a NUL-terminated string attribute into buf; -EBADMSG unless the NUL is inside the attribute
 * and the string fits. */
int dh_nl_attr_copy_string(const struct nlattr *a, char *buf, size_t size);

/* Puts a generic netlink request's headers (nlmsghdr of type family_id with flags, genlmsghdr with
 * cmd and version) at the start of buf, which must be aligned for struct nlmsghdr and large enough
 * for the request; attributes are added with libmnl's mnl_attr_put_*(). Returns the header. */
struct nlmsghdr *dh_genl_put_header(void *buf, uint16_t family_id, uint16_t flags, uint8_t cmd,
                                    uint8_t version);
/* Runs fn over the attributes of a generic netlink message and returns its command in *ret_cmd
 * (may be NULL). Pure. -EBADMSG when the message is too short for its genlmsghdr or the attributes
 * do not tile it. */
int dh_genl_attr_walk(const struct nlmsghdr *nlh, uint8_t *ret_cmd, dh_nl_attr_fn fn, void *userdata);
/* A CTRL_CMD_NEWFAMILY message: the family's id, and its name into name (size bytes). Pure.
 * -EBADMSG when either is missing or malformed. */
int dh_genl_parse_family(const struct nlmsghdr *nlh, uint16_t *ret_id, char *name, size_t size);
/* The id of the generic netlink family called name (CTRL_CMD_GETFAMILY). -ENOENT, with a message
 * naming the family, when the kernel has none (its module is not loaded, or not built). */
int dh_genl_family_id(struct dh_nl *nl, const char *name, uint16_t *ret_id, struct dh_error *err);
/* dh_nl_request() for a generic netlink request. A dump only reads, so it is asked again when the
 * kernel drops replies or a concurrent change interrupts it; any other request is sent once (it
 * may change something). what names the request in errors ("devlink DEVLINK_CMD_PORT_GET"). */
int dh_genl_request(struct dh_nl *nl, struct nlmsghdr *req, const char *what, dh_nl_reply_fn cb,
                    void *userdata, struct dh_error *err);
