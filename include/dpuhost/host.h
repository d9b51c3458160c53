/* The host root: every access to /sys, /dev, /proc and /run goes through one struct dh_host, which
 * holds a configurable root directory (default "/"). Reads use paths relative to the root fd;
 * writes with kernel side effects and other kernel-facing actions go through struct dh_host_ops,
 * so that tests can install a simulator that applies them to a fake tree the way the kernel would
 * (the pciutils "access method" idea, without LD_PRELOAD). */
#pragma once

#include <stdbool.h>

#include <dpuhost/error.h>

struct dh_host;

struct dh_host_ops {
    /* Write value to the attribute at path (relative to the root, e.g. "sys/bus/pci/drivers_probe").
     * Returns 0 or the negative errno the kernel would return. */
    int (*write_attr)(void *userdata, struct dh_host *host, const char *path, const char *value);
    /* Load a kernel module by name (modprobe). Returns 0 or a negative errno. */
    int (*load_module)(void *userdata, struct dh_host *host, const char *name, struct dh_error *err);
};

/* Opens the host root. root NULL means "/". Fails with -ENOENT/-ENOTDIR/-EACCES and a message
 * naming the directory when it is missing, not a directory, or holds no sys/ directory.
 * The caller frees the result with dh_host_free(). */
int dh_host_new(const char *root, struct dh_host **ret, struct dh_error *err);
void dh_host_free(struct dh_host *host);

/* Replaces the kernel-facing operations (NULL restores the real ones). Tests only. */
void dh_host_set_ops(struct dh_host *host, const struct dh_host_ops *ops, void *userdata);

/* The root directory as given (normalized without trailing slash; "/" stays "/"). */
const char *dh_host_root(const struct dh_host *host);
/* A directory fd for the root; owned by host. */
int dh_host_fd(const struct dh_host *host);
/* True when the root is the real "/" (only then may external programs be pointed at paths). */
bool dh_host_is_real_root(const struct dh_host *host);

/* Absolute path of a root-relative path, for messages and for programs that need a real path.
 * The caller frees the result. Returns NULL on allocation failure. */
char *dh_host_path(const struct dh_host *host, const char *relpath);

/* Kernel-facing writes and module loading, through the installed ops. */
int dh_host_write_attr(struct dh_host *host, const char *relpath, const char *value);
int dh_host_load_module(struct dh_host *host, const char *name, struct dh_error *err);
