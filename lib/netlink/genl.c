/* Generic netlink over struct dh_nl: request headers, family resolution through the nlctrl family
 * (CTRL_CMD_GETFAMILY), and the request loop with the read-only rule generic netlink needs. Family
 * ids are assigned at run time (devlink is not at a fixed message type), so the rtnetlink rule of
 * nl_call() ("GET types are read-only") cannot be applied to them: here a dump counts as read-only,
 * which holds for every family because the kernel serves dumps from ->dumpit callbacks that only
 * read. */
#include "netlink/netlink-internal.h"

#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "util/macro.h"

/* The nlctrl family's version as genl_ctrl registers it; the kernel ignores the request's version
 * for CTRL_CMD_GETFAMILY, but iproute2 and libnl send this one. */
#define GENL_CTRL_VERSION 2

struct nlmsghdr *dh_genl_put_header(void *buf, uint16_t family_id, uint16_t flags, uint8_t cmd,
                                    uint8_t version)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = family_id;
    nlh->nlmsg_flags = flags;
    struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
    g->cmd = cmd;
    g->version = version;
    return nlh;
}

int dh_genl_attr_walk(const struct nlmsghdr *nlh, uint8_t *ret_cmd, dh_nl_attr_fn fn, void *userdata)
{
    assert_return(nlh && fn, -EINVAL);
    if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
        return -EBADMSG;
    const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
    if (ret_cmd)
        *ret_cmd = g->cmd;
    size_t off = NLMSG_HDRLEN + GENL_HDRLEN;
    return dh_nl_attr_walk((const uint8_t *)nlh + off, nlh->nlmsg_len - off, fn, userdata);
}

struct family {
    bool has_id, has_name;
    uint16_t id;
    char *name;
    size_t size;
};

static int family_attr(const struct nlattr *a, void *data)
{
    struct family *f = data;
    switch (mnl_attr_get_type(a)) {
    case CTRL_ATTR_FAMILY_ID:
        if (mnl_attr_get_payload_len(a) != sizeof(uint16_t))
            return -EBADMSG;
        f->id = mnl_attr_get_u16(a);
        f->has_id = true;
        return 0;
    case CTRL_ATTR_FAMILY_NAME:
        if (dh_nl_attr_copy_string(a, f->name, f->size) < 0)
            return -EBADMSG;
        f->has_name = true;
        return 0;
    default:
        /* version, header size, operations, multicast groups, policies: not needed here */
        return 0;
    }
}

int dh_genl_parse_family(const struct nlmsghdr *nlh, uint16_t *ret_id, char *name, size_t size)
{
    assert_return(nlh && ret_id && name && size > 0, -EINVAL);
    struct family f = {.name = name, .size = size};
    name[0] = '\0';
    uint8_t cmd;
    if (nlh->nlmsg_type != GENL_ID_CTRL)
        return -EBADMSG;
    int r = dh_genl_attr_walk(nlh, &cmd, family_attr, &f);
    if (r < 0)
        return r;
    if (cmd != CTRL_CMD_NEWFAMILY || !f.has_id || !f.has_name || f.id < GENL_MIN_ID)
        return -EBADMSG;
    *ret_id = f.id;
    return 0;
}

struct family_reply {
    const char *want;
    bool found;
    uint16_t id;
};

static int family_reply(const struct nlmsghdr *nlh, void *data)
{
    struct family_reply *fr = data;
    if (!nlh) {
        fr->found = false;
        return 0;
    }
    char name[GENL_NAMSIZ];
    uint16_t id;
    int r = dh_genl_parse_family(nlh, &id, name, sizeof(name));
    if (r < 0)
        return r;
    /* the kernel answers with the family asked for; anything else is not an answer to this request */
    if (!streq(name, fr->want))
        return -EBADMSG;
    fr->found = true;
    fr->id = id;
    return 0;
}

int dh_genl_family_id(struct dh_nl *nl, const char *name, uint16_t *ret_id, struct dh_error *err)
{
    assert_return(nl && name && ret_id, -EINVAL);
    if (!*name || strlen(name) >= GENL_NAMSIZ)
        return dh_error_set(err, -EINVAL, "netlink: '%s' is not a generic netlink family name", name);
    alignas(struct nlmsghdr) uint8_t buf[128] = {0};
    struct nlmsghdr *nlh = dh_genl_put_header(buf, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, GENL_CTRL_VERSION);
    mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
    struct family_reply fr = {.want = name};
    struct nl_failure why;
    int r = nl_call_as(nl, nlh, true, family_reply, &fr, &why);
    char suffix[NL_TEXT_MAX + 16];
    if (r == -ENOENT && why.source == NL_FROM_KERNEL)
        return dh_error_set(err, r,
                            "netlink: the kernel has no generic netlink family '%s' (its module is not "
                            "loaded, or the kernel was built without it)",
                            name);
    if (r == -EBADMSG)
        return dh_error_set(err, r,
                            "netlink: resolving the generic netlink family '%s' failed: malformed reply%s",
                            name, nl_failure_suffix(&why, suffix, sizeof(suffix)));
    if (r < 0)
        return dh_error_set(err, r, "netlink: resolving the generic netlink family '%s' failed: %s%s", name,
                            strerror(-r), nl_failure_suffix(&why, suffix, sizeof(suffix)));
    if (!fr.found)
        return dh_error_set(err, -EBADMSG,
                            "netlink: resolving the generic netlink family '%s' failed: the kernel "
                            "acknowledged without answering",
                            name);
    *ret_id = fr.id;
    return 0;
}

int dh_genl_request(struct dh_nl *nl, struct nlmsghdr *req, const char *what, dh_nl_reply_fn cb,
                    void *userdata, struct dh_error *err)
{
    assert_return(nl && req && req->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN, -EINVAL);
    bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    struct nl_failure why;
    int r = nl_call_as(nl, req, dump, cb, userdata, &why);
    if (r >= 0 || why.source == NL_FROM_CALLBACK)
        return r;
    char suffix[NL_TEXT_MAX + 16];
    return dh_error_set(err, r, "netlink: %s %s failed: %s%s", what ? what : "generic netlink",
                        dump ? "dump" : "request", r == -EBADMSG ? "malformed reply" : strerror(-r),
                        nl_failure_suffix(&why, suffix, sizeof(suffix)));
}
