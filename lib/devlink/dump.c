/* The devlink connection and the port dump: one DEVLINK_CMD_PORT_GET with NLM_F_DUMP lists every
 * port of every devlink instance in the network namespace, each answered as a DEVLINK_CMD_PORT_NEW
 * message. The dump is asked again from scratch when replies are lost or a port comes or goes
 * meanwhile (dh_genl_request()), so the list is never half old and half new. */
#include "devlink/devlink-internal.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "util/macro.h"

struct dh_devlink {
    struct dh_nl *nl;
    uint16_t family;
};

int dh_devlink_new(struct dh_nl *nl, struct dh_devlink **ret, struct dh_error *err)
{
    if (!nl || !ret) {
        dh_nl_free(nl);
        return -EINVAL;
    }
    uint16_t family;
    int r = dh_genl_family_id(nl, DEVLINK_GENL_NAME, &family, err);
    if (r < 0) {
        dh_nl_free(nl);
        return r;
    }
    struct dh_devlink *dl = calloc(1, sizeof(*dl));
    if (!dl) {
        dh_nl_free(nl);
        return dh_error_set(err, -ENOMEM, "devlink: out of memory");
    }
    dl->nl = nl;
    dl->family = family;
    *ret = dl;
    return 0;
}

void dh_devlink_free(struct dh_devlink *dl)
{
    if (!dl)
        return;
    dh_nl_free(dl->nl);
    free(dl);
}

uint16_t dh_devlink_family_id(const struct dh_devlink *dl)
{
    return dl ? dl->family : 0;
}

struct dump {
    uint16_t family;
    struct dh_devlink_port *ports;
    size_t n, cap;
};

static int dump_reply(const struct nlmsghdr *nlh, void *data)
{
    struct dump *d = data;
    if (!nlh) {
        /* asked again: what the earlier attempt collected is stale */
        d->n = 0;
        return 0;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct dh_devlink_port *v = realloc(d->ports, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        d->ports = v;
        d->cap = cap;
    }
    int r = dh_devlink_port_parse(nlh, d->family, &d->ports[d->n]);
    if (r < 0)
        return r;
    d->n++;
    return 0;
}

int dh_devlink_port_dump(struct dh_devlink *dl, struct dh_devlink_port **ret, size_t *ret_n,
                         struct dh_error *err)
{
    assert_return(dl && ret && ret_n, -EINVAL);
    alignas(struct nlmsghdr) uint8_t buf[64] = {0};
    struct nlmsghdr *nlh =
            dh_genl_put_header(buf, dl->family, NLM_F_DUMP, DEVLINK_CMD_PORT_GET, DEVLINK_GENL_VERSION);
    struct dump d = {.family = dl->family};
    struct dh_error inner = {0};
    int r = dh_genl_request(dl->nl, nlh, "devlink DEVLINK_CMD_PORT_GET", dump_reply, &d, &inner);
    if (r < 0) {
        free(d.ports);
        if (dh_error_is_set(&inner))
            return dh_error_set(err, r, "%s", inner.message);
        if (r == -ENOMEM)
            return dh_error_set(err, r, "devlink: out of memory");
        /* the callback refused a message: the parser says what the kernel never sends */
        return dh_error_set(err, r,
                            "devlink: the kernel's DEVLINK_CMD_PORT_GET dump holds a malformed port message "
                            "(%s)",
                            strerror(-r));
    }
    *ret = d.ports;
    *ret_n = d.n;
    return 0;
}
