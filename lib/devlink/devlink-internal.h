/* Shared between the devlink module's files; not exported. */
#pragma once

#include <dpuhost/devlink.h>

/* The port fields every source leaves unknown until it says otherwise: numbers -1, no netdev. */
void dl_port_init(struct dh_devlink_port *p);

/* "<bus>/<dev>", or "<dev>" when the bus is unknown. Returns buf. */
const char *dl_handle(const char *bus, const char *dev, char *buf, size_t size);
/* "<bus>/<dev>/<index>" for devlink ports; the netdev name for sysfs ports, which have no index.
 * Returns buf. */
const char *dl_port_name(const struct dh_devlink_port *p, char *buf, size_t size);

/* True when p is a port of flavour that belongs to PF f: same handle, controller and pfnum. */
bool dl_port_of_pf(const struct dh_devlink_port *p, const struct dh_devlink_pf *f,
                   enum devlink_port_flavour flavour);
/* A VF port's vfnum, an SF port's sfnum. */
int64_t dl_port_number(const struct dh_devlink_port *p);

/* <root>/sys/class/net/<ifname>/<attr> into buf (trailing whitespace stripped). */
int dl_read_netdev_attr(struct dh_host *host, const char *ifname, const char *attr, char *buf, size_t size);
/* The "MAC" line of <root>/sys/class/net/<ifname>/smart_nic/pf/config. -ENOENT when the file is
 * absent, -EBADMSG when it holds no MAC line or an unparsable one. */
int dl_read_smart_nic_mac(struct dh_host *host, const char *ifname, uint8_t ret[6]);
/* The "MAC" line of a smart_nic/pf/config text. Pure. */
int dl_parse_smart_nic_config(const char *text, uint8_t ret[6]);
/* Fills p->switch_id from sysfs when p has a netdev (devlink does not report it). */
void dl_fill_switch_id(struct dh_host *host, struct dh_devlink_port *p);
