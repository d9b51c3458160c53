/* The binding module's network facts and VF settings over rtnetlink (lib/netlink). */
#include "vfio-internal.h"

#include <dpuhost/netlink.h>

#include "util/macro.h"

static int link_facts(void *userdata, const char *ifname, struct dh_link_facts *ret, struct dh_error *err)
{
    struct dh_link_usage u = {0};
    int r = dh_nl_link_usage(userdata, ifname, &u, err);
    if (r < 0)
        return r;
    *ret = (struct dh_link_facts){
            .default_route = u.default_route,
            .any_route = u.n_routes > 0,
    };
    size_t len = 0;
    for (size_t i = 0; i < u.n_addresses; i++)
        len += strlen(u.addresses[i]) + 2;
    if (u.n_addresses) {
        ret->addresses = calloc(1, len + 1);
        for (size_t i = 0; ret->addresses && i < u.n_addresses; i++) {
            if (i)
                strcat(ret->addresses, ", ");
            strcat(ret->addresses, u.addresses[i]);
        }
    }
    ret->master = TAKE_PTR(u.master);
    bool lost = u.n_addresses && !ret->addresses;
    dh_link_usage_clear(&u);
    if (lost) {
        dh_link_facts_clear(ret);
        return -ENOMEM;
    }
    return 0;
}

static int vf_get(void *userdata, const char *pf_ifname, int vf, struct dh_vf_snapshot *ret,
                  struct dh_error *err)
{
    struct dh_vf_config c = {0};
    if (vf < 0)
        return -EINVAL;
    int r = dh_nl_vf_get(userdata, pf_ifname, (unsigned)vf, &c, err);
    if (r < 0)
        return r;
    *ret = (struct dh_vf_snapshot){
            .valid = true,
            .pf_ifname = strdup(pf_ifname),
            .vf_index = vf,
            .has_mac = c.has_mac,
            .vlan = c.has_vlan ? c.vlan : -1,
            .qos = c.has_vlan ? c.qos : -1,
            .spoofchk = c.has_spoofchk ? c.spoofchk : -1,
            .trust = c.has_trust ? c.trust : -1,
    };
    memcpy(ret->mac, c.mac, 6);
    return ret->pf_ifname ? 0 : -ENOMEM;
}

static int vf_set(void *userdata, const char *pf_ifname, int vf, const struct dh_vf_snapshot *want,
                  struct dh_error *err)
{
    if (vf < 0)
        return -EINVAL;
    /* only what was read can be put back; a setting the driver did not report stays as it is */
    struct dh_vf_config c = {
            .has_mac = want->has_mac,
            .has_vlan = want->vlan >= 0,
            .vlan = (uint16_t)(want->vlan >= 0 ? want->vlan : 0),
            .qos = (uint8_t)(want->qos >= 0 ? want->qos : 0),
            .has_spoofchk = want->spoofchk >= 0,
            .spoofchk = want->spoofchk > 0,
            .has_trust = want->trust >= 0,
            .trust = want->trust > 0,
    };
    memcpy(c.mac, want->mac, 6);
    return dh_nl_vf_set(userdata, pf_ifname, (unsigned)vf, &c, err);
}

struct dh_vfio_net dh_vfio_net_netlink(struct dh_nl *nl)
{
    return (struct dh_vfio_net){.link_facts = link_facts, .vf_get = vf_get, .vf_set = vf_set, .userdata = nl};
}
