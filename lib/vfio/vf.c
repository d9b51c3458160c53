/* The PF netdev a VF's admin settings go through (RTM_SETLINK is sent to the PF, REFERENCE:
 * IFLA_VFINFO_LIST). A PF in switchdev mode has representors among its netdevs; the uplink (a
 * physical port, or the one netdev without a port name in legacy mode) is the one that answers. */
#include "vfio-internal.h"

#include "util/macro.h"

const char *vfio_pf_netdev(const struct dh_inventory *inv, const struct dh_func *vf)
{
    const struct dh_func *pf = vf->pf ? dh_inventory_find(inv, vf->pf) : NULL;
    if (!pf || pf->n_netdevs == 0)
        return NULL;
    for (size_t i = 0; i < pf->n_netdevs; i++)
        if (pf->netdevs[i].port.flavour == DH_PORT_NONE)
            return pf->netdevs[i].name;
    for (size_t i = 0; i < pf->n_netdevs; i++)
        if (pf->netdevs[i].port.flavour == DH_PORT_PHYSICAL)
            return pf->netdevs[i].name;
    return NULL; /* only representors: this host does not own the VF's settings */
}
