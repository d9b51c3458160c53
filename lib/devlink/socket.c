/* The real devlink connection: a NETLINK_GENERIC socket and the devlink family resolved on it.
 * Tests pass a connection to a fake peer instead (dh_devlink_scan_options.devlink or .open). */
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
