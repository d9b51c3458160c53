/* The inventory: every PCI function of the host (PFs, VFs, other functions) and every auxiliary
 * sub-function (SF), read from <root>/sys in one pass. A struct dh_inventory is a snapshot; it never
 * changes after dh_inventory_scan() returns, so it can be shared read-only between threads.
 * The JSON form (dh_inventory_to_json() and friends) is the contract documented in
 * docs/inventory.md and used unchanged by the CLI and the HTTP API. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <dpuhost/error.h>
#include <dpuhost/host.h>
#include <dpuhost/jsonw.h>
#include <dpuhost/pci.h>
#include <dpuhost/vpd.h>

enum dh_func_kind {
    DH_FUNC_PCI, /* a PCI function that is neither an SR-IOV PF nor a VF */
    DH_FUNC_PF,  /* SR-IOV capable: has sriov_totalvfs */
    DH_FUNC_VF,  /* has a physfn link */
    DH_FUNC_SF,  /* an auxiliary sub-function <drv>.sf.<id> of a PF */
};

/* "pci", "pf", "vf", "sf"; from_string returns -EINVAL for anything else. */
const char *dh_func_kind_to_string(enum dh_func_kind kind);
int dh_func_kind_from_string(const char *s, enum dh_func_kind *ret);

/* A switchdev port, from phys_port_name (see dh_port_name_parse()). */
enum dh_port_flavour {
    DH_PORT_NONE,     /* no or unparsable phys_port_name */
    DH_PORT_PHYSICAL, /* p<N> or p<N>s<M> */
    DH_PORT_PCIPF,    /* [c<C>]pf<N> */
    DH_PORT_PCIVF,    /* [c<C>]pf<N>vf<M> */
    DH_PORT_PCISF,    /* [c<C>]pf<N>sf<M> */
};

struct dh_port_name {
    enum dh_port_flavour flavour;
    int controller; /* c<C> prefix: an external controller (the host, seen from a DPU); -1 when absent */
    int port;       /* physical port number; -1 unless DH_PORT_PHYSICAL */
    int split;      /* split sub-port; -1 when absent */
    int pf, vf, sf; /* -1 when absent */
};

/* Parses phys_port_name. Pure. Returns 0, or -EINVAL (ret then has flavour DH_PORT_NONE). */
int dh_port_name_parse(const char *s, struct dh_port_name *ret);
/* "physical", "pcipf", "pcivf", "pcisf", or NULL for DH_PORT_NONE. */
const char *dh_port_flavour_to_string(enum dh_port_flavour flavour);

struct dh_netdev {
    char *name;
    char *mac;            /* NULL when unreadable */
    char *operstate;      /* NULL when unreadable */
    char *phys_port_name; /* NULL on a non-switchdev netdev (the kernel answers EOPNOTSUPP) */
    char *phys_switch_id; /* NULL likewise */
    struct dh_port_name port;
};

struct dh_sriov {
    int total_vfs;         /* -1 when unreadable */
    int num_vfs;           /* -1 when unreadable */
    int vf_device_id;      /* -1 when unreadable */
    int offset, stride;    /* -1 when unreadable */
    int drivers_autoprobe; /* 0, 1, or -1 when unreadable */
};

enum dh_card_source {
    DH_CARD_NONE,
    DH_CARD_SELF, /* the function's own VPD */
    DH_CARD_PF,   /* a VF or SF without (valid) VPD of its own takes its PF's */
};

struct dh_func {
    char address[64]; /* "dddd:bb:ss.f"; for an SF its auxiliary device name */
    enum dh_func_kind kind;
    struct dh_pci_addr bdf; /* valid unless kind == DH_FUNC_SF */

    /* -1 when absent or unreadable */
    int vendor_id, device_id, subsystem_vendor_id, subsystem_device_id;
    int32_t class_code;

    char *driver;             /* NULL when unbound */
    char *driver_override;    /* NULL when "(null)" */
    int iommu_group;          /* -1 without an IOMMU group */
    char **iommu_group_peers; /* the group's other members, sorted */
    size_t n_iommu_group_peers;
    int numa_node; /* -1 when unknown */

    char *pf;              /* VF: its physfn; SF: its parent PF. NULL otherwise */
    int vf_index;          /* VF: N of the PF's virtfnN link; -1 when the PF is gone */
    int sf_num;            /* SF: sfnum; -1 when unreadable */
    struct dh_sriov sriov; /* PF only */

    struct dh_netdev *netdevs; /* sorted by name */
    size_t n_netdevs;

    char *nvme_controller;  /* "nvme0" when bound to nvme */
    char **nvme_namespaces; /* "nvme0n1", ... sorted */
    size_t n_nvme_namespaces;

    struct dh_vpd *vpd;        /* the function's own parsed VPD, or NULL */
    const struct dh_vpd *card; /* own or PF's VPD (borrowed), NULL when there is no card */
    enum dh_card_source card_source;
    char *vpd_error; /* why the own VPD was unusable (unreadable, invalid); NULL otherwise */
};

struct dh_inventory {
    struct dh_func *funcs; /* PCI functions by address, then SFs by parent and sf_num */
    size_t n_funcs;
};

struct dh_inventory_options {
    bool skip_vpd; /* do not read <dev>/vpd (it is slow on real hardware and root-only) */
    /* A previous scan: a function found there with the same address and ids keeps its VPD (and
     * vpd_error) instead of reading it again. A daemon rescans on every uevent; VPD reads go
     * through config space a few bytes at a time. */
    const struct dh_inventory *reuse_vpd;
};

/* Reads the whole inventory. Per-function problems (dangling links, garbage in a numeric file, an
 * unreadable VPD) never fail the scan: the affected fields are left unknown (and vpd_error is set).
 * Fails only when <root>/sys/bus/pci/devices cannot be listed (-ENOENT etc., with a message) or on
 * -ENOMEM. The caller frees *ret with dh_inventory_free(). opts may be NULL. */
int dh_inventory_scan(struct dh_host *host, const struct dh_inventory_options *opts,
                      struct dh_inventory **ret, struct dh_error *err);
void dh_inventory_free(struct dh_inventory *inv);

/* True for an auxiliary sub-function name "<driver>.sf.<id>" (e.g. "mlx5_core.sf.4"). */
bool dh_sf_name_is_valid(const char *s);
/* True for a strict PCI address or an SF name: what every address argument accepts. */
bool dh_func_address_is_valid(const char *s);

/* The function with this address (BDF or SF name), or NULL. */
const struct dh_func *dh_inventory_find(const struct dh_inventory *inv, const char *address);

static inline bool dh_func_is_vf(const struct dh_func *f)
{
    return f->kind == DH_FUNC_VF;
}
static inline bool dh_func_is_pf(const struct dh_func *f)
{
    return f->kind == DH_FUNC_PF;
}
static inline bool dh_func_is_sf(const struct dh_func *f)
{
    return f->kind == DH_FUNC_SF;
}
/* The function's own netdev, the one a PF's VF settings go through and whose MAC is the PF MAC an
 * off-path DPU agent looks for: the netdev that is not a switchdev port (legacy mode), else the
 * physical uplink port (switchdev mode). Representors are never it. NULL when there is none.
 * Deterministic, unlike Nova's "first entry of listdir". */
const struct dh_netdev *dh_func_primary_netdev(const struct dh_func *f);

/* Reads f's driver and driver_override again from sysfs: after a bind or restore, so that the
 * inventory shows what the kernel did without a full rescan (netdevs and NVMe controllers follow
 * at the next scan). -ENOENT when the function is gone; f is unchanged on failure. */
int dh_func_reread_driver(struct dh_host *host, struct dh_func *f);

/* The card's serial number (own VPD or PF's), or NULL. */
const char *dh_func_card_serial(const struct dh_func *f);

/* Selects functions for listings. NULL members match everything. */
struct dh_func_filter {
    const char *kind;   /* "pf", "vf", "sf", "pci" */
    const char *vendor; /* "15b3" or "0x15b3" */
    const char *driver; /* a driver name, or "none" for unbound functions */
};
/* Checks a filter's values; -EINVAL with a message naming the bad value. */
int dh_func_filter_validate(const struct dh_func_filter *filter, struct dh_error *err);
bool dh_func_filter_match(const struct dh_func_filter *filter, const struct dh_func *f);

/* The JSON serializer: the only place that names the contract's keys. Errors are sticky in w. */
void dh_func_write_json(struct dh_jsonw *w, const struct dh_func *f);
/* The same, with more keys written by extra (before the object is closed): how the API adds a
 * function's pool and claim state without a second serializer. */
void dh_func_write_json_with(struct dh_jsonw *w, const struct dh_func *f,
                             void (*extra)(struct dh_jsonw *w, const struct dh_func *f, void *userdata),
                             void *userdata);
/* {"functions":[...]} of the functions matching filter (NULL: all). */
void dh_inventory_write_json(struct dh_jsonw *w, const struct dh_inventory *inv,
                             const struct dh_func_filter *filter);
/* {"cards":[{serial_number, part_number, name, functions, pfs, vf_count, sf_count}]} */
void dh_inventory_write_cards_json(struct dh_jsonw *w, const struct dh_inventory *inv);

/* The same documents as jansson values (parsed from the serializer's output, so they cannot
 * differ); new references, NULL only on allocation failure. */
json_t *dh_func_to_json(const struct dh_func *f);
json_t *dh_inventory_to_json(const struct dh_inventory *inv, const struct dh_func_filter *filter);
json_t *dh_inventory_cards_to_json(const struct dh_inventory *inv);
