/* The devlink port message parser (as devlink_nl_port_fill() writes it in Linux 6.1: handle,
 * index, type and netdev, the flavour's attributes from devlink_nl_port_attrs_put(), the function
 * nest) and the names of the UAPI's enums. Pure:
 * every attribute's size is checked against its UAPI type before it is read, because a malformed
 * reply must be an error and never a wrong port. */
#include "devlink/devlink-internal.h"

#include <stdio.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "util/macro.h"

void dl_port_init(struct dh_devlink_port *p)
{
    *p = (struct dh_devlink_port){
            .index = -1,
            .port_number = -1,
            .split_subport = -1,
            .controller = -1,
            .external = -1,
            .pfnum = -1,
            .vfnum = -1,
            .sfnum = -1,
            .type = -1,
            .fn_state = -1,
            .fn_opstate = -1,
    };
}

const char *dl_handle(const char *bus, const char *dev, char *buf, size_t size)
{
    if (*bus)
        snprintf(buf, size, "%s/%s", bus, dev);
    else
        snprintf(buf, size, "%s", dev);
    return buf;
}

const char *dl_port_name(const struct dh_devlink_port *p, char *buf, size_t size)
{
    char h[192];
    if (p->index >= 0)
        snprintf(buf, size, "%s/%lld", dl_handle(p->bus, p->dev, h, sizeof(h)), (long long)p->index);
    else
        snprintf(buf, size, "%s", p->netdev);
    return buf;
}

const char *dh_devlink_flavour_to_string(enum devlink_port_flavour flavour)
{
    switch (flavour) {
    case DEVLINK_PORT_FLAVOUR_PHYSICAL:
        return "physical";
    case DEVLINK_PORT_FLAVOUR_CPU:
        return "cpu";
    case DEVLINK_PORT_FLAVOUR_DSA:
        return "dsa";
    case DEVLINK_PORT_FLAVOUR_PCI_PF:
        return "pcipf";
    case DEVLINK_PORT_FLAVOUR_PCI_VF:
        return "pcivf";
    case DEVLINK_PORT_FLAVOUR_VIRTUAL:
        return "virtual";
    case DEVLINK_PORT_FLAVOUR_UNUSED:
        return "unused";
    case DEVLINK_PORT_FLAVOUR_PCI_SF:
        return "pcisf";
    }
    return NULL;
}

const char *dh_devlink_port_type_to_string(int type)
{
    switch (type) {
    case DEVLINK_PORT_TYPE_NOTSET:
        return "notset";
    case DEVLINK_PORT_TYPE_AUTO:
        return "auto";
    case DEVLINK_PORT_TYPE_ETH:
        return "eth";
    case DEVLINK_PORT_TYPE_IB:
        return "ib";
    }
    return NULL;
}

/* Integer attributes are as wide as their UAPI type says, no wider and no narrower. */
static int get_u8(const struct nlattr *a, int *ret)
{
    if (mnl_attr_get_payload_len(a) != sizeof(uint8_t))
        return -EBADMSG;
    *ret = mnl_attr_get_u8(a);
    return 0;
}

static int get_u16(const struct nlattr *a, int64_t *ret)
{
    if (mnl_attr_get_payload_len(a) != sizeof(uint16_t))
        return -EBADMSG;
    *ret = mnl_attr_get_u16(a);
    return 0;
}

static int get_u32(const struct nlattr *a, int64_t *ret)
{
    if (mnl_attr_get_payload_len(a) != sizeof(uint32_t))
        return -EBADMSG;
    *ret = mnl_attr_get_u32(a);
    return 0;
}

static int function_attr(const struct nlattr *a, void *data)
{
    struct dh_devlink_port *p = data;
    switch (mnl_attr_get_type(a)) {
    case DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR: {
        size_t len = mnl_attr_get_payload_len(a);
        if (len > sizeof(p->hw_addr))
            return -EBADMSG;
        memcpy(p->hw_addr, mnl_attr_get_payload(a), len);
        p->hw_addr_len = len;
        return 0;
    }
    case DEVLINK_PORT_FN_ATTR_STATE:
        return get_u8(a, &p->fn_state);
    case DEVLINK_PORT_FN_ATTR_OPSTATE:
        return get_u8(a, &p->fn_opstate);
    default:
        /* capabilities (roce, migratable) and whatever later kernels add */
        return 0;
    }
}

struct parse_state {
    struct dh_devlink_port *p;
    bool has_bus, has_dev, has_index;
};

static int port_attr(const struct nlattr *a, void *data)
{
    struct parse_state *s = data;
    struct dh_devlink_port *p = s->p;
    int64_t v;
    int r;
    switch (mnl_attr_get_type(a)) {
    case DEVLINK_ATTR_BUS_NAME:
        s->has_bus = true;
        return dh_nl_attr_copy_string(a, p->bus, sizeof(p->bus));
    case DEVLINK_ATTR_DEV_NAME:
        s->has_dev = true;
        return dh_nl_attr_copy_string(a, p->dev, sizeof(p->dev));
    case DEVLINK_ATTR_PORT_INDEX:
        s->has_index = true;
        return get_u32(a, &p->index);
    case DEVLINK_ATTR_PORT_TYPE:
        if ((r = get_u16(a, &v)) < 0)
            return r;
        p->type = (int)v;
        return 0;
    case DEVLINK_ATTR_PORT_NETDEV_IFINDEX:
        if ((r = get_u32(a, &v)) < 0)
            return r;
        p->ifindex = (unsigned)v;
        return 0;
    case DEVLINK_ATTR_PORT_NETDEV_NAME:
        return dh_nl_attr_copy_string(a, p->netdev, sizeof(p->netdev));
    case DEVLINK_ATTR_PORT_FLAVOUR:
        if ((r = get_u16(a, &v)) < 0)
            return r;
        p->flavour = (enum devlink_port_flavour)v;
        p->has_flavour = true;
        return 0;
    case DEVLINK_ATTR_PORT_NUMBER:
        return get_u32(a, &p->port_number);
    case DEVLINK_ATTR_PORT_SPLIT_SUBPORT_NUMBER:
        return get_u32(a, &p->split_subport);
    case DEVLINK_ATTR_PORT_PCI_PF_NUMBER:
        return get_u16(a, &p->pfnum);
    case DEVLINK_ATTR_PORT_PCI_VF_NUMBER:
        return get_u16(a, &p->vfnum);
    case DEVLINK_ATTR_PORT_PCI_SF_NUMBER:
        return get_u32(a, &p->sfnum);
    case DEVLINK_ATTR_PORT_CONTROLLER_NUMBER:
        return get_u32(a, &p->controller);
    case DEVLINK_ATTR_PORT_EXTERNAL:
        return get_u8(a, &p->external);
    case DEVLINK_ATTR_PORT_FUNCTION:
        p->has_function = true;
        return dh_nl_attr_walk_nested(a, function_attr, p);
    default:
        /* splittable, lanes, split group, desired type, ibdev, linecard, ...: not needed */
        return 0;
    }
}

int dh_devlink_port_parse(const struct nlmsghdr *nlh, uint16_t family_id, struct dh_devlink_port *ret)
{
    assert_return(nlh && ret, -EINVAL);
    struct dh_devlink_port p;
    dl_port_init(&p);
    if (family_id && nlh->nlmsg_type != family_id)
        return -EBADMSG;
    struct parse_state s = {.p = &p};
    uint8_t cmd;
    int r = dh_genl_attr_walk(nlh, &cmd, port_attr, &s);
    if (r < 0)
        return r == -EBADMSG ? r : -EBADMSG;
    /* A dump's messages carry DEVLINK_CMD_NEW, not DEVLINK_CMD_PORT_NEW: the kernel's port dumpit
     * fills them with the device command (seen in the lab's recording of Linux 6.1, and kept by
     * later kernels for compatibility); a single PORT_GET and notifications carry PORT_NEW. */
    if ((cmd != DEVLINK_CMD_PORT_NEW && cmd != DEVLINK_CMD_NEW) || !s.has_bus || !s.has_dev || !s.has_index ||
        !p.bus[0] || !p.dev[0])
        return -EBADMSG;
    /* external is a flag of the function flavours; a value other than 0/1 is not the kernel's */
    if (p.external > 1)
        return -EBADMSG;
    /* the kernel sends the name and the ifindex together or not at all */
    if (!p.netdev[0] != !p.ifindex)
        return -EBADMSG;
    *ret = p;
    return 0;
}
