/* A VF's admin settings, which live in its PF's driver (REFERENCE §4): read with RTM_GETLINK on the
 * PF and IFLA_EXT_MASK RTEXT_FILTER_VF|RTEXT_FILTER_SKIP_STATS (without SKIP_STATS the per-VF
 * statistics of a PF with many VFs overflow the 64 KiB attribute nest), written with RTM_SETLINK on
 * the PF's ifindex, IFLA_VFINFO_LIST > IFLA_VF_INFO > one attribute whose struct starts with the VF
 * number. Each field is its own message, so a refusal is pinned to the field that caused it and the
 * kernel never applies half of a batch behind our back; every write is read back, and a failure
 * puts back what this call had already changed (save the originals, restore only what you changed). */
#include "netlink/netlink-internal.h"

#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "util/macro.h"
#include "util/parse.h"

#define VF_EXT_MASK (RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS)

/* The order of the writes. The MAC goes first: it is the one with EBUSY retries, and a VF whose MAC
 * cannot be set should not be left with a new VLAN either. */
enum field {
    F_MAC,
    F_VLAN,
    F_SPOOFCHK,
    F_TRUST,
    F_LINK_STATE,
    N_FIELDS,
};

static const char *const field_names[N_FIELDS] = {"MAC", "VLAN", "spoof checking", "trust", "link state"};

static const char *const link_states[] = {
        [DH_VF_LINK_STATE_AUTO] = "auto",
        [DH_VF_LINK_STATE_ENABLE] = "enable",
        [DH_VF_LINK_STATE_DISABLE] = "disable",
};

const char *dh_vf_link_state_to_string(enum dh_vf_link_state state)
{
    return (unsigned)state < ELEMENTSOF(link_states) ? link_states[state] : NULL;
}

int dh_vf_link_state_from_string(const char *s, enum dh_vf_link_state *ret)
{
    for (size_t i = 0; s && i < ELEMENTSOF(link_states); i++)
        if (streq(s, link_states[i])) {
            *ret = (enum dh_vf_link_state)i;
            return 0;
        }
    return -EINVAL;
}

static bool has_field(const struct dh_vf_config *c, enum field f)
{
    switch (f) {
    case F_MAC:
        return c->has_mac;
    case F_VLAN:
        return c->has_vlan;
    case F_SPOOFCHK:
        return c->has_spoofchk;
    case F_TRUST:
        return c->has_trust;
    case F_LINK_STATE:
        return c->has_link_state;
    default:
        return false;
    }
}

/* Both must have the field. */
static bool field_equal(const struct dh_vf_config *a, const struct dh_vf_config *b, enum field f)
{
    switch (f) {
    case F_MAC:
        return memcmp(a->mac, b->mac, sizeof(a->mac)) == 0;
    case F_VLAN:
        return a->vlan == b->vlan && a->qos == b->qos;
    case F_SPOOFCHK:
        return a->spoofchk == b->spoofchk;
    case F_TRUST:
        return a->trust == b->trust;
    case F_LINK_STATE:
        return a->link_state == b->link_state;
    default:
        return false;
    }
}

static const char *format_field(const struct dh_vf_config *c, enum field f, char *buf, size_t size)
{
    if (!has_field(c, f)) {
        snprintf(buf, size, "not reported");
        return buf;
    }
    switch (f) {
    case F_MAC: {
        char mac[18];
        dh_format_mac(c->mac, mac);
        snprintf(buf, size, "%s", mac);
        break;
    }
    case F_VLAN:
        if (c->vlan == 0 && c->qos == 0)
            snprintf(buf, size, "none");
        else
            snprintf(buf, size, "%u qos %u", c->vlan, c->qos);
        break;
    case F_SPOOFCHK:
        snprintf(buf, size, "%s", c->spoofchk ? "on" : "off");
        break;
    case F_TRUST:
        snprintf(buf, size, "%s", c->trust ? "on" : "off");
        break;
    case F_LINK_STATE: {
        const char *s = dh_vf_link_state_to_string(c->link_state);
        snprintf(buf, size, "%s", s ? s : "unknown");
        break;
    }
    default:
        snprintf(buf, size, "?");
    }
    return buf;
}

int dh_vf_config_validate(const struct dh_vf_config *c, struct dh_error *err)
{
    assert_return(c, -EINVAL);
    if (c->has_mac && (c->mac[0] & 1)) {
        char mac[18];
        dh_format_mac(c->mac, mac);
        return dh_error_set(err, -EINVAL,
                            "vf: MAC %s is a multicast address: a VF needs a unicast MAC (lowest bit of "
                            "the first octet clear, e.g. 02:00:00:00:00:01)",
                            mac);
    }
    if (c->has_vlan && c->vlan > 4095)
        return dh_error_set(err, -EINVAL, "vf: VLAN %u is out of range: use 0 (none) to 4095", c->vlan);
    if (c->has_vlan && c->qos > 7)
        return dh_error_set(err, -EINVAL, "vf: QoS %u is out of range: use 0 to 7", c->qos);
    if (c->has_link_state && !dh_vf_link_state_to_string(c->link_state))
        return dh_error_set(err, -EINVAL, "vf: link state %d is not one of auto, enable, disable",
                            (int)c->link_state);
    return 0;
}

struct vf_reply {
    unsigned vf;
    bool found;
    unsigned ifindex;
    int parsed; /* nl_parse_vf()'s result */
    unsigned n_vfs;
    struct dh_vf_config c;
};

static int vf_reply(const struct nlmsghdr *nlh, void *data)
{
    struct vf_reply *v = data;
    if (!nlh) {
        *v = (struct vf_reply){.vf = v->vf};
        return 0;
    }
    if (nlh->nlmsg_type != RTM_NEWLINK)
        return 0;
    struct nl_link link;
    int r = nl_parse_link(nlh, &link);
    if (r < 0)
        return r;
    r = nl_parse_vf(nlh, v->vf, &v->c, &v->n_vfs);
    if (r == -EBADMSG)
        return r;
    v->found = true;
    v->ifindex = link.ifindex;
    v->parsed = r;
    return 0;
}

/* Reads VF vf of the PF named ifname, or (ifname NULL) with index ifindex; name is for messages. */
static int read_vf(struct dh_nl *nl, const char *ifname, unsigned ifindex, const char *name, unsigned vf,
                   struct dh_vf_config *ret, unsigned *ret_ifindex, struct dh_error *err)
{
    struct vf_reply v = {.vf = vf};
    struct nl_failure why;
    int r = nl_get_link(nl, ifname, ifindex, VF_EXT_MASK, vf_reply, &v, &why);
    if (r < 0)
        return nl_link_error(err, r, &why, name, "reading the VF settings of");
    if (!v.found)
        return dh_error_set(err, -EBADMSG,
                            "netlink: reading the VF settings of %s failed: no RTM_NEWLINK in the reply",
                            name);
    if (v.parsed == -ENODATA)
        return dh_error_set(err, -EOPNOTSUPP,
                            "netlink: %s reports no VF table: it is not an SR-IOV PF's netdev, or its driver "
                            "does not report VF settings",
                            name);
    if (v.parsed == -ENOENT && v.n_vfs == 0)
        return dh_error_set(err, -ENOENT,
                            "netlink: %s has no VFs: SR-IOV is off (sriov_numvfs is 0); create them first",
                            name);
    if (v.parsed == -ENOENT)
        return dh_error_set(err, -ENOENT, "netlink: %s has no VF %u (it has %u VF%s, 0-%u)", name, vf,
                            v.n_vfs, v.n_vfs == 1 ? "" : "s", v.n_vfs - 1);
    if (v.parsed < 0)
        return dh_error_set(err, v.parsed, "netlink: reading VF %u of %s failed: %s", vf, name,
                            strerror(-v.parsed));
    *ret = v.c;
    if (ret_ifindex)
        *ret_ifindex = v.ifindex;
    return 0;
}

int dh_nl_vf_get(struct dh_nl *nl, const char *pf_ifname, unsigned vf, struct dh_vf_config *ret,
                 struct dh_error *err)
{
    assert_return(nl && ret, -EINVAL);
    if (!nl_ifname_is_valid(pf_ifname))
        return dh_error_set(err, -EINVAL, "netlink: '%s' is not a valid interface name",
                            pf_ifname ? pf_ifname : "(null)");
    return read_vf(nl, pf_ifname, 0, pf_ifname, vf, ret, NULL, err);
}

/* One RTM_SETLINK carrying field f of c for VF vf. */
static int write_field(struct dh_nl *nl, unsigned ifindex, unsigned vf, enum field f,
                       const struct dh_vf_config *c, struct nl_failure *why)
{
    alignas(struct nlmsghdr) uint8_t buf[512] = {0};
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_SETLINK;
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = (int)ifindex;
    struct nlattr *list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
    switch (f) {
    case F_MAC: {
        struct ifla_vf_mac m = {.vf = vf};
        memcpy(m.mac, c->mac, sizeof(c->mac));
        mnl_attr_put(nlh, IFLA_VF_MAC, sizeof(m), &m);
        break;
    }
    case F_VLAN: {
        struct ifla_vf_vlan v = {.vf = vf, .vlan = c->vlan, .qos = c->qos};
        mnl_attr_put(nlh, IFLA_VF_VLAN, sizeof(v), &v);
        break;
    }
    case F_SPOOFCHK: {
        struct ifla_vf_spoofchk s = {.vf = vf, .setting = c->spoofchk};
        mnl_attr_put(nlh, IFLA_VF_SPOOFCHK, sizeof(s), &s);
        break;
    }
    case F_TRUST: {
        struct ifla_vf_trust t = {.vf = vf, .setting = c->trust};
        mnl_attr_put(nlh, IFLA_VF_TRUST, sizeof(t), &t);
        break;
    }
    case F_LINK_STATE: {
        struct ifla_vf_link_state ls = {.vf = vf, .link_state = (uint32_t)c->link_state};
        mnl_attr_put(nlh, IFLA_VF_LINK_STATE, sizeof(ls), &ls);
        break;
    }
    default:
        return -EINVAL;
    }
    mnl_attr_nest_end(nlh, info);
    mnl_attr_nest_end(nlh, list);
    return nl_call(nl, nlh, NULL, NULL, why);
}

/* write_field(), retrying a MAC write that fails with EBUSY. */
static int write_field_retry(struct dh_nl *nl, unsigned ifindex, unsigned vf, enum field f,
                             const struct dh_vf_config *c, struct nl_failure *why)
{
    unsigned attempts, interval_ms;
    nl_mac_busy_retry(nl, &attempts, &interval_ms);
    for (unsigned i = 1;; i++) {
        int r = write_field(nl, ifindex, vf, f, c, why);
        if (r != -EBUSY || f != F_MAC || i >= attempts)
            return r;
        nl_sleep(nl, interval_ms);
    }
}

/* The message for a failed write of field f; returns the error to report. */
static int describe_write_failure(struct dh_nl *nl, int r, const struct nl_failure *why, enum field f,
                                  const struct dh_vf_config *want, const char *ifname, unsigned vf, char *buf,
                                  size_t size)
{
    char suffix[NL_TEXT_MAX + 16], value[64];
    nl_failure_suffix(why, suffix, sizeof(suffix));
    if (r == -EOPNOTSUPP && why->source == NL_FROM_KERNEL) {
        snprintf(buf, size,
                 "netlink: %s cannot set the %s of VF %u: its driver does not support it (EOPNOTSUPP)%s; "
                 "this is a missing capability of the device or of its mode (an off-path DPU's host PF may "
                 "not own the eswitch)",
                 ifname, field_names[f], vf, suffix);
        return -EOPNOTSUPP;
    }
    if (r == -EPERM && why->source == NL_FROM_KERNEL && f == F_VLAN && want->vlan == 0 && want->qos == 0) {
        snprintf(buf, size,
                 "netlink: %s refuses to clear the VLAN of VF %u (EPERM)%s; some DPUs do not let the host "
                 "remove a VF VLAN, so this is a missing capability: clear it from the DPU side or keep the "
                 "VLAN",
                 ifname, vf, suffix);
        return -EOPNOTSUPP;
    }
    if (r == -EPERM && why->source == NL_FROM_KERNEL) {
        snprintf(buf, size,
                 "netlink: %s refused to set the %s of VF %u (EPERM)%s: dpuhost needs CAP_NET_ADMIN, or the "
                 "PF does not own this VF's settings (an off-path DPU's host PF may not own the eswitch)",
                 ifname, field_names[f], vf, suffix);
        return -EPERM;
    }
    if (r == -EBUSY && f == F_MAC) {
        unsigned attempts, interval_ms;
        nl_mac_busy_retry(nl, &attempts, &interval_ms);
        snprintf(
                buf, size,
                "netlink: the MAC of VF %u on %s stayed busy (EBUSY) through %u attempt%s %u ms apart%s: the "
                "VF's own driver may hold it; unbind the VF's driver or try again later",
                vf, ifname, attempts, attempts == 1 ? "" : "s", interval_ms, suffix);
        return -EBUSY;
    }
    snprintf(buf, size, "netlink: setting the %s of VF %u on %s to %s failed: %s%s", field_names[f], vf,
             ifname, format_field(want, f, value, sizeof(value)), strerror(-r), suffix);
    return r;
}

/* Writes back the original value of every field in changed (a bit per enum field), newest first,
 * and says how that went. */
static void rollback(struct dh_nl *nl, unsigned ifindex, unsigned vf, const struct dh_vf_config *orig,
                     unsigned changed, char *note, size_t size)
{
    if (!changed) {
        snprintf(note, size, "nothing was changed");
        return;
    }
    size_t used = 0;
    note[0] = '\0';
    for (int f = N_FIELDS - 1; f >= 0; f--) {
        if (!(changed & (1u << f)))
            continue;
        int n;
        if (!has_field(orig, (enum field)f))
            n = snprintf(note + used, size - used,
                         "%sthe %s was not reported before, so it could not be restored", used ? "; " : "",
                         field_names[f]);
        else {
            struct nl_failure why;
            int r = write_field_retry(nl, ifindex, vf, (enum field)f, orig, &why);
            if (r >= 0)
                continue;
            char value[64];
            n = snprintf(note + used, size - used, "%srestoring the %s to %s failed too (%s)",
                         used ? "; " : "", field_names[f],
                         format_field(orig, (enum field)f, value, sizeof(value)), strerror(-r));
        }
        if (n > 0)
            used = (size_t)n >= size - used ? size - 1 : used + (size_t)n;
    }
    if (!used)
        snprintf(note, size, "the settings changed before were restored");
}

int dh_nl_vf_set(struct dh_nl *nl, const char *pf_ifname, unsigned vf, const struct dh_vf_config *want,
                 struct dh_error *err)
{
    assert_return(nl && want, -EINVAL);
    if (!nl_ifname_is_valid(pf_ifname))
        return dh_error_set(err, -EINVAL, "netlink: '%s' is not a valid interface name",
                            pf_ifname ? pf_ifname : "(null)");
    int r = dh_vf_config_validate(want, err);
    if (r < 0)
        return r;
    bool any = false;
    for (int f = 0; f < N_FIELDS; f++)
        any = any || has_field(want, (enum field)f);
    if (!any)
        return 0;

    /* the originals: what a failure restores, and the fields that need no write */
    struct dh_vf_config orig;
    unsigned ifindex;
    r = read_vf(nl, pf_ifname, 0, pf_ifname, vf, &orig, &ifindex, err);
    if (r < 0)
        return r;

    char msg[DH_ERROR_MESSAGE_MAX / 2], note[DH_ERROR_MESSAGE_MAX / 2];
    unsigned changed = 0;
    for (int i = 0; i < N_FIELDS; i++) {
        enum field f = (enum field)i;
        if (!has_field(want, f) || (has_field(&orig, f) && field_equal(&orig, want, f)))
            continue;
        struct nl_failure why;
        r = write_field_retry(nl, ifindex, vf, f, want, &why);
        if (r < 0) {
            r = describe_write_failure(nl, r, &why, f, want, pf_ifname, vf, msg, sizeof(msg));
            rollback(nl, ifindex, vf, &orig, changed, note, sizeof(note));
            return dh_error_set(err, r, "%s; %s", msg, note);
        }
        changed |= 1u << f;
    }

    struct dh_vf_config now;
    struct dh_error readerr = {0};
    r = read_vf(nl, NULL, ifindex, pf_ifname, vf, &now, NULL, &readerr);
    if (r < 0) {
        rollback(nl, ifindex, vf, &orig, changed, note, sizeof(note));
        return dh_error_set(err, r,
                            "netlink: VF %u of %s: the settings were written but could not be read back "
                            "(%s); %s",
                            vf, pf_ifname, readerr.message, note);
    }
    for (int i = 0; i < N_FIELDS; i++) {
        enum field f = (enum field)i;
        if (!has_field(want, f) || (has_field(&now, f) && field_equal(&now, want, f)))
            continue;
        char wanted[64], got[64];
        format_field(want, f, wanted, sizeof(wanted));
        if (!has_field(&now, f))
            snprintf(msg, sizeof(msg),
                     "netlink: VF %u of %s: the driver accepted %s %s but does not report it, so the write "
                     "cannot be verified",
                     vf, pf_ifname, field_names[f], wanted);
        else
            snprintf(msg, sizeof(msg),
                     "netlink: VF %u of %s: the driver accepted %s %s but reports %s afterwards (it ignored "
                     "the write or changed it)",
                     vf, pf_ifname, field_names[f], wanted, format_field(&now, f, got, sizeof(got)));
        rollback(nl, ifindex, vf, &orig, changed, note, sizeof(note));
        return dh_error_set(err, -EIO, "%s; %s", msg, note);
    }
    return 0;
}
