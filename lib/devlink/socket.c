/* The real devlink connection: a NETLINK_GENERIC socket and the devlink family resolved on it. This
 * file holds dh_devlink_open() and nothing else anyone links against, on purpose: the CLI tests
 * provide their own dh_devlink_open() returning a connection to a fake peer, and the linker then
 * never pulls this object out of the archive. */
#include "devlink/devlink-internal.h"

#include "util/macro.h"

int dh_devlink_open(struct dh_devlink **ret, struct dh_error *err)
{
    assert_return(ret, -EINVAL);
    struct dh_nl *nl = NULL;
    int r = dh_nl_open_protocol(NETLINK_GENERIC, &nl, err);
    if (r < 0)
        return r;
    return dh_devlink_new(nl, ret, err);
}
