/* The DPU side's lookup, after ovn-vif's vif-plug-representor: the PF whose MAC the host
 * published, then the representor with the same handle, controller and pfnum and the VF (or SF)
 * number asked for.
 * Every failure says what was asked, what the eswitch has instead, and what to do, because the
 * person reading it is on the other side of a control plane from whoever published the pair. */
#include "devlink/devlink-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/fileio.h"
#include "util/macro.h"
#include "util/parse.h"

/* How many candidates an error lists before "...". */
#define LIST_MAX 6

struct text {
    char buf[DH_ERROR_MESSAGE_MAX];
    size_t len;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
    if (t->len >= sizeof(t->buf) - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = t->len + (size_t)n < sizeof(t->buf) ? t->len + (size_t)n : sizeof(t->buf) - 1;
}

static const char *kind_of(enum devlink_port_flavour flavour)
{
    return flavour == DEVLINK_PORT_FLAVOUR_PCI_SF ? "SF" : "VF";
}

/* "pci/0000:03:00.0 controller 1 pf 0 (pf0hpf, hw_addr)" */
static void describe_pf(struct text *t, const struct dh_devlink_ports *tab, const struct dh_devlink_pf *f)
{
    char h[192];
    add(t, "%s controller %lld pf %lld", dl_handle(f->bus, f->dev, h, sizeof(h)), (long long)f->controller,
        (long long)f->pfnum);
    const struct dh_devlink_port *p = f->port >= 0 ? &tab->ports[f->port] : NULL;
    if (p && p->netdev[0])
        add(t, " (%s, %s)", p->netdev, dh_devlink_mac_source_to_string(f->mac_source));
    else if (f->mac_source != DH_DEVLINK_MAC_NONE)
        add(t, " (%s)", dh_devlink_mac_source_to_string(f->mac_source));
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The numbers of the PF's representors of this flavour as ranges, "0-3,7"; returns how many. */
static size_t list_numbers(const struct dh_devlink_ports *tab, const struct dh_devlink_pf *f,
                           enum devlink_port_flavour flavour, struct text *t)
{
    size_t n = 0;
    for (size_t i = 0; i < tab->n_ports; i++)
        if (dl_port_of_pf(&tab->ports[i], f, flavour))
            n++;
    if (n == 0)
        return 0;
    int64_t *v = calloc(n, sizeof(*v));
    if (!v) {
        add(t, "(out of memory)");
        return n;
    }
    size_t k = 0;
    for (size_t i = 0; i < tab->n_ports; i++)
        if (dl_port_of_pf(&tab->ports[i], f, flavour))
            v[k++] = dl_port_number(&tab->ports[i]);
    qsort(v, n, sizeof(*v), cmp_i64);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[j + 1] <= v[j] + 1)
            j++;
        add(t, "%s%lld", i ? "," : "", (long long)v[i]);
        if (v[j] != v[i])
            add(t, "-%lld", (long long)v[j]);
        i = j + 1;
    }
    free(v);
    return n;
}

static int unknown_mac(const struct dh_devlink_ports *tab, const struct dh_devlink_query *q, const char *mac,
                       size_t n_other_controller, struct dh_error *err)
{
    struct text t = {0};
    add(&t, "representor: no PF with MAC %s", mac);
    if (q->controller >= 0)
        add(&t, " and controller %lld", (long long)q->controller);
    add(&t, " on this eswitch");
    if (n_other_controller)
        add(&t, " (a PF of another controller has it: drop --controller or pass that one)");
    if (tab->n_ports == 0) {
        add(&t,
            ": there are no switchdev ports at all (read from %s); is the eswitch in switchdev mode "
            "(devlink dev eswitch show)?",
            dh_devlink_source_to_string(tab->source));
        return dh_error_set(err, -ENOENT, "%s", t.buf);
    }
    size_t shown = 0;
    for (size_t i = 0; i < tab->n_pfs && shown < LIST_MAX; i++) {
        const struct dh_devlink_pf *f = &tab->pfs[i];
        char m[18];
        add(&t, shown++ ? "; " : ". PFs here: ");
        if (f->mac_source != DH_DEVLINK_MAC_NONE) {
            dh_format_mac(f->mac, m);
            add(&t, "%s on ", m);
        } else
            add(&t, "no MAC known for ");
        describe_pf(&t, tab, f);
        if (f->mac_source == DH_DEVLINK_MAC_NONE)
            add(&t, ": %s", f->why_no_mac);
    }
    if (tab->n_pfs > shown)
        add(&t, "; ...");
    if (tab->n_pfs == 0)
        add(&t, ". This eswitch has no PF ports and no VF or SF representors");
    add(&t, ". Check the port's binding profile (pf_mac_address) and that its card_serial_number is this "
            "DPU's (dpuhost cards)");
    return dh_error_set(err, -ENOENT, "%s", t.buf);
}

/* udev renames representors (pf0vf3 instead of eth7) after the kernel announces them; a name
 * handed to a switch before that goes stale. udev writes /run/udev/data/n<ifindex> once it has
 * processed a network interface (what sd_device_get_is_initialized() checks), and its control
 * socket /run/udev/control exists while it runs: without udev no rename is coming. */
static int check_udev(struct dh_host *host, const struct dh_devlink_port *p, struct dh_error *err)
{
    if (!host || !p->ifindex)
        return 0;
    int rootfd = dh_host_fd(host);
    if (!dh_exists_at(rootfd, "run/udev/control"))
        return 0;
    char path[64], name[256];
    snprintf(path, sizeof(path), "run/udev/data/n%u", p->ifindex);
    if (!dh_exists_at(rootfd, path))
        return dh_error_set(err, -EAGAIN,
                            "representor: the netdev %s of port %s has not been processed by udev yet (no "
                            "/run/udev/data/n%u), and udev may still rename it; retry after `udevadm settle`",
                            p->netdev, dl_port_name(p, name, sizeof(name)), p->ifindex);
    /* udev may have renamed it between the port dump and now: the name must still be this ifindex */
    char buf[32];
    uint64_t ifindex;
    if (dl_read_netdev_attr(host, p->netdev, "ifindex", buf, sizeof(buf)) < 0 ||
        dh_parse_u64(buf, 10, false, UINT32_MAX, &ifindex) < 0 || ifindex != p->ifindex)
        return dh_error_set(
                err, -EAGAIN,
                "representor: the netdev of port %s was renamed from %s while it was looked up (by "
                "udev); look it up again",
                dl_port_name(p, name, sizeof(name)), p->netdev);
    return 0;
}

int dh_devlink_lookup(const struct dh_devlink_ports *tab, struct dh_host *host,
                      const struct dh_devlink_query *q, struct dh_devlink_match *ret, struct dh_error *err)
{
    assert_return(tab && q && ret, -EINVAL);
    char mac[18];
    dh_format_mac(q->pf_mac, mac);
    static const uint8_t zero[6];
    if (memcmp(q->pf_mac, zero, 6) == 0 || (q->pf_mac[0] & 1))
        return dh_error_set(err, -EINVAL, "representor: %s cannot be a PF's MAC (it is %s)", mac,
                            q->pf_mac[0] & 1 ? "a multicast address" : "zero");
    if ((q->flavour != DEVLINK_PORT_FLAVOUR_PCI_VF && q->flavour != DEVLINK_PORT_FLAVOUR_PCI_SF) ||
        q->number < 0)
        return dh_error_set(err, -EINVAL, "representor: a lookup needs a VF or SF number");

    const struct dh_devlink_pf *found[LIST_MAX + 1];
    size_t n = 0, n_other_controller = 0;
    for (size_t i = 0; i < tab->n_pfs; i++) {
        const struct dh_devlink_pf *f = &tab->pfs[i];
        if (f->mac_source == DH_DEVLINK_MAC_NONE || memcmp(f->mac, q->pf_mac, 6) != 0)
            continue;
        if (q->controller >= 0 && f->controller != q->controller) {
            n_other_controller++;
            continue;
        }
        if (n < ELEMENTSOF(found))
            found[n] = f;
        n++;
    }
    if (n == 0)
        return unknown_mac(tab, q, mac, n_other_controller, err);
    if (n > 1) {
        struct text t = {0};
        add(&t, "representor: MAC %s belongs to %zu PFs: ", mac, n);
        for (size_t i = 0; i < n && i < ELEMENTSOF(found); i++) {
            add(&t, i ? "; " : "");
            describe_pf(&t, tab, found[i]);
        }
        add(&t, ". Pass the controller of the one meant (--controller)");
        return dh_error_set(err, -ENOTUNIQ, "%s", t.buf);
    }
    const struct dh_devlink_pf *f = found[0];

    const struct dh_devlink_port *rep = NULL;
    for (size_t i = 0; i < tab->n_ports && !rep; i++)
        if (dl_port_of_pf(&tab->ports[i], f, q->flavour) && dl_port_number(&tab->ports[i]) == q->number)
            rep = &tab->ports[i];
    if (!rep) {
        struct text t = {0}, have = {0};
        const char *kind = kind_of(q->flavour);
        size_t count = list_numbers(tab, f, q->flavour, &have);
        add(&t, "representor: %s %lld is out of range for the PF with MAC %s, ", kind, (long long)q->number,
            mac);
        describe_pf(&t, tab, f);
        if (count)
            add(&t,
                ": it has representors for %s %s (%zu). Check the %s number in the binding profile, and that "
                "the host has created that many %ss on this PF",
                kind, have.buf, count, kind, kind);
        else
            add(&t,
                ": it has no %s representors. Create the %ss on the host first (and put the eswitch in "
                "switchdev mode)",
                kind, kind);
        return dh_error_set(err, -ERANGE, "%s", t.buf);
    }
    if (!rep->netdev[0]) {
        char name[256];
        return dh_error_set(
                err, -ENODEV,
                "representor: port %s (%s %lld of the PF with MAC %s) has no netdev in this network "
                "namespace (type %s): its driver has not created it yet, or it was moved to another "
                "namespace",
                dl_port_name(rep, name, sizeof(name)), kind_of(q->flavour), (long long)q->number, mac,
                dh_devlink_port_type_to_string(rep->type) ? dh_devlink_port_type_to_string(rep->type)
                                                          : "unknown");
    }
    int r = check_udev(host, rep, err);
    if (r < 0)
        return r;
    *ret = (struct dh_devlink_match){.port = rep, .pf = f};
    return 0;
}
