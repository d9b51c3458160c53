/* The PF netdev a VF's admin settings go through (RTM_SETLINK is sent to the PF, REFERENCE:
 * IFLA_VFINFO_LIST): the PF's primary netdev (see dh_func_primary_netdev()). */
#include "vfio-internal.h"

const char *vfio_pf_netdev(const struct dh_inventory *inv, const struct dh_func *vf)
{
    const struct dh_netdev *n = dh_func_primary_netdev(vf->pf ? dh_inventory_find(inv, vf->pf) : NULL);
    return n ? n->name : NULL;
}
