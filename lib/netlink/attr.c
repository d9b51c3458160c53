/* Attribute walking for modules built on this one (devlink): the same rules as the rtnetlink
 * parsers in parse.c. Every length is checked against its container before anything is read, and
 * attributes must tile their container exactly (up to the final alignment padding), because the
 * kernel always writes them that way: anything else is a truncated or corrupt reply. */
#include "netlink/netlink-internal.h"

#include <stdint.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "util/macro.h"

int dh_nl_attr_walk(const void *p, size_t len, dh_nl_attr_fn fn, void *userdata)
{
    assert_return(p || len == 0, -EINVAL);
    if (len > INT32_MAX)
        return -EBADMSG;
    int rest = (int)len;
    const struct nlattr *a = p;
    for (; mnl_attr_ok(a, rest); a = mnl_attr_next(a)) {
        int r = fn(a, userdata);
        if (r < 0)
            return r;
        rest -= MNL_ALIGN(a->nla_len);
    }
    /* rest < 0 only when the last attribute ended exactly at len without its padding */
    return rest > 0 ? -EBADMSG : 0;
}

int dh_nl_attr_walk_nested(const struct nlattr *a, dh_nl_attr_fn fn, void *userdata)
{
    return dh_nl_attr_walk(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a), fn, userdata);
}

int dh_nl_attr_copy_string(const struct nlattr *a, char *buf, size_t size)
{
    size_t len = mnl_attr_get_payload_len(a);
    const char *s = mnl_attr_get_payload(a);
    const char *nul = memchr(s, '\0', len);
    if (!nul || (size_t)(nul - s) >= size)
        return -EBADMSG;
    memcpy(buf, s, (size_t)(nul - s) + 1);
    return 0;
}
