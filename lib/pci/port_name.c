/* phys_port_name parsing. The kernel builds the name in devlink_port_phys_port_name_get()
 * (net/devlink/port.c): p<N>[s<M>] for physical ports, [c<C>]pf<N>, [c<C>]pf<N>vf<M> and
 * [c<C>]pf<N>sf<M> for PCI function ports, where c<C> names an external controller (on a DPU, the
 * host). udev renames representor netdevs, so this attribute, not the name, identifies a port. */
#include <dpuhost/inventory.h>

#include <errno.h>
#include <limits.h>

/* Parses decimal digits at *s (at least one, no sign); advances *s. */
static int take_number(const char **s, int *ret)
{
    const char *p = *s;
    long v = 0;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    /* "p01" is not something the kernel prints: reject leading zeros to stay exact */
    if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');
        if (v > INT_MAX / 16)
            return -ERANGE;
    }
    *ret = (int)v;
    *s = p;
    return 0;
}

static void port_name_reset(struct dh_port_name *p)
{
    *p = (struct dh_port_name){
            .flavour = DH_PORT_NONE,
            .controller = -1,
            .port = -1,
            .split = -1,
            .pf = -1,
            .vf = -1,
            .sf = -1,
    };
}

static int parse(const char *s, struct dh_port_name *p)
{
    if (s[0] == 'c') {
        s++;
        if (take_number(&s, &p->controller) < 0)
            return -EINVAL;
        if (s[0] != 'p' || s[1] != 'f')
            return -EINVAL; /* only function ports carry a controller */
    }
    if (s[0] == 'p' && s[1] == 'f') {
        s += 2;
        if (take_number(&s, &p->pf) < 0)
            return -EINVAL;
        if (*s == '\0') {
            p->flavour = DH_PORT_PCIPF;
            return 0;
        }
        if (s[0] == 'v' && s[1] == 'f') {
            s += 2;
            if (take_number(&s, &p->vf) < 0 || *s)
                return -EINVAL;
            p->flavour = DH_PORT_PCIVF;
            return 0;
        }
        if (s[0] == 's' && s[1] == 'f') {
            s += 2;
            if (take_number(&s, &p->sf) < 0 || *s)
                return -EINVAL;
            p->flavour = DH_PORT_PCISF;
            return 0;
        }
        return -EINVAL;
    }
    if (s[0] == 'p') {
        s++;
        if (take_number(&s, &p->port) < 0)
            return -EINVAL;
        if (s[0] == 's') {
            s++;
            if (take_number(&s, &p->split) < 0)
                return -EINVAL;
        }
        if (*s)
            return -EINVAL;
        p->flavour = DH_PORT_PHYSICAL;
        return 0;
    }
    return -EINVAL;
}

int dh_port_name_parse(const char *s, struct dh_port_name *ret)
{
    struct dh_port_name p;
    port_name_reset(&p);
    int r = s ? parse(s, &p) : -EINVAL;
    if (r < 0)
        port_name_reset(&p);
    if (ret)
        *ret = p;
    return r;
}

const char *dh_port_flavour_to_string(enum dh_port_flavour flavour)
{
    switch (flavour) {
    case DH_PORT_PHYSICAL:
        return "physical";
    case DH_PORT_PCIPF:
        return "pcipf";
    case DH_PORT_PCIVF:
        return "pcivf";
    case DH_PORT_PCISF:
        return "pcisf";
    case DH_PORT_NONE:
        break;
    }
    return NULL;
}
