/* Host preparation for passthrough: preflight checks, binding PCI functions to vfio-pci with a
 * durable record of what was changed, restoring exactly that, and SR-IOV provisioning.
 * The binding follows libvirt's order (record, driver_override, unbind, drivers_probe, verify) and
 * never uses new_id; see docs/binding.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <dpuhost/error.h>
#include <dpuhost/host.h>
#include <dpuhost/jsonw.h>
#include <dpuhost/store.h>

struct dh_nl;

/* Network facts the in-use checks need, and VF admin settings; implemented over rtnetlink by
 * dh_vfio_net_netlink(), replaceable in tests. All may be NULL (then the check reports that it
 * could not look, and refuses unless forced). */
struct dh_link_facts {
    char *addresses; /* global addresses, "10.0.0.2/24, 2001:db8::2/64", or NULL when none */
    bool default_route;
    bool any_route;
    char *master; /* bond or bridge the link is enslaved to, or NULL */
};
void dh_link_facts_clear(struct dh_link_facts *f);

struct dh_vfio_net {
    int (*link_facts)(void *userdata, const char *ifname, struct dh_link_facts *ret, struct dh_error *err);
    int (*vf_get)(void *userdata, const char *pf_ifname, int vf, struct dh_vf_snapshot *ret,
                  struct dh_error *err);
    /* Sets the snapshot's fields (those that are not -1 / has_mac) and verifies them. */
    int (*vf_set)(void *userdata, const char *pf_ifname, int vf, const struct dh_vf_snapshot *want,
                  struct dh_error *err);
    void *userdata;
};

/* The rtnetlink implementation over an open struct dh_nl (which must outlive the result). */
struct dh_vfio_net dh_vfio_net_netlink(struct dh_nl *nl);

struct dh_vfio_ctx {
    struct dh_host *host;
    struct dh_store *store;        /* where bind records live; required for bind and restore */
    const struct dh_vfio_net *net; /* may be NULL: in-use checks on netdevs then refuse unless forced */
    int timeout_ms;                /* bounded waits for the kernel (driver link, /dev/vfio/N); default 5000 */
    int holder_timeout_ms;         /* restore: how long to wait for users of /dev/vfio/N; default 10000 */
    int parallel;                  /* binds and restores at once; default 8 */
};

enum {
    DH_BIND_FORCE =
            1 << 0, /* override the in-use checks (addresses, routes, mounts); never group viability */
};

/* The outcome for one function. */
struct dh_vfio_result {
    char address[64];
    int error;                          /* 0 or a negative errno */
    char message[DH_ERROR_MESSAGE_MAX]; /* what happened, or why not */
    bool changed;                       /* the host was changed (and, on error, rolled back) */
    int iommu_group;                    /* -1 when unknown */
};

/* Binds every address to vfio-pci. Addresses are validated first; a malformed or duplicate one
 * fails the whole call with -EINVAL and changes nothing. Then each function is checked and bound
 * independently (in parallel); a failure rolls back only that function. results has n entries.
 * Returns 0 when all succeeded, else the first failure's error. */
int dh_vfio_bind(struct dh_vfio_ctx *ctx, const char *const *addresses, size_t n, unsigned flags,
                 struct dh_vfio_result *results, struct dh_error *err);

/* Restores every address to its recorded driver and driver_override (and VF admin settings),
 * waiting (bounded) for processes that hold its /dev/vfio/N. Same calling convention. */
int dh_vfio_restore(struct dh_vfio_ctx *ctx, const char *const *addresses, size_t n,
                    struct dh_vfio_result *results, struct dh_error *err);

/* {"results":[{"address","ok","error","message","iommu_group","changed"}]} */
void dh_vfio_results_write_json(struct dh_jsonw *w, const struct dh_vfio_result *results, size_t n);

/* SR-IOV provisioning: sets sriov_drivers_autoprobe (when autoprobe is 0 or 1; -1 leaves it), then
 * writes 0 and then num_vfs to sriov_numvfs (nothing when the count is already right), waiting at
 * most timeout_ms for the kernel, which may block for minutes. Refuses to change the count while a
 * VF is recorded as bound by dpuhost (store may be NULL to skip that check). */
int dh_sriov_configure(struct dh_host *host, struct dh_store *store, const char *pf, int num_vfs,
                       int autoprobe, int timeout_ms, struct dh_error *err);

/* Preflight: can this host pass functions through? */
enum dh_check_status {
    DH_CHECK_PASS,
    DH_CHECK_WARN,
    DH_CHECK_FAIL,
};
const char *dh_check_status_to_string(enum dh_check_status s);

struct dh_check {
    char name[32];
    enum dh_check_status status;
    char detail[512];
    char remedy[512]; /* "" when nothing to do */
};

struct dh_preflight {
    struct dh_check checks[16];
    size_t n_checks;
    bool passthrough_ok; /* no check failed */
};

struct dh_preflight_options {
    const char *qemu_binary; /* default "qemu-system-x86_64" from PATH */
};

/* Runs every check; never fails for what it finds (that goes into the checks), only on -ENOMEM. */
int dh_preflight_run(struct dh_host *host, const struct dh_preflight_options *opts, struct dh_preflight *ret);
/* {"passthrough_ok":bool,"checks":[{"name","status","detail","remedy"}]} */
void dh_preflight_write_json(struct dh_jsonw *w, const struct dh_preflight *p);
