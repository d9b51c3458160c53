/* The daemon's configuration (/etc/dpuhost/dpuhost.json, or --config PATH): where it listens, who
 * may talk to it, where its state lives, and the pools. Parsing is strict: an unknown key or a bad
 * value is an error that names the key (with its path) and the value, and nothing is half-applied.
 * See docs/config.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include <dpuhost/error.h>
#include <dpuhost/select.h>

#define DH_CONFIG_DEFAULT_PATH "/etc/dpuhost/dpuhost.json"
#define DH_CONFIG_DEFAULT_SOCKET "/run/dpuhost/dpuhost.sock"
#define DH_CONFIG_DEFAULT_STATE_DIR "/var/lib/dpuhost"

struct dh_pool_config {
    char *name; /* [A-Za-z0-9_.-]{1,64}, unique */
    struct dh_selector *selector;
    bool bind;              /* claims bind their functions to vfio-pci (default true) */
    char *physical_network; /* for binding profiles; a device_spec tag of the same name wins */
    int remote_managed;     /* -1: from the device_spec tag; 0/1: pool-wide */
    char *description;
};

/* The "vms" section: how dpuhostd runs QEMU (docs/vms.md). */
struct dh_vm_config {
    char *qemu;            /* an absolute path, or a name looked up on PATH (default qemu-system-x86_64) */
    int start_timeout_ms;  /* QEMU up and its QMP socket answering (default 30000) */
    int stop_timeout_ms;   /* the guest's ACPI power-down before quit (default 30000) */
    int unplug_timeout_ms; /* DEVICE_DELETED after device_del, before the unplug is pending (default 5000) */
};

struct dh_config {
    char *socket;       /* Unix socket path */
    mode_t socket_mode; /* default 0660 */
    char *state_dir;
    uid_t *allowed_uids; /* besides root, which is always allowed */
    size_t n_allowed_uids;
    gid_t *allowed_gids;
    size_t n_allowed_gids;
    int bind_timeout_ms;
    int restore_wait_ms;
    struct dh_pool_config *pools;
    size_t n_pools;
    struct dh_vm_config vms;
};

/* Parses a configuration document. Pure apart from resolving user and group names. */
int dh_config_parse(json_t *doc, struct dh_config **ret, struct dh_error *err);
/* Reads and parses path; a missing file is -ENOENT with a message. */
int dh_config_load(const char *path, struct dh_config **ret, struct dh_error *err);
void dh_config_free(struct dh_config *cfg);

/* The pool called name, or NULL. */
const struct dh_pool_config *dh_config_pool(const struct dh_config *cfg, const char *name);
