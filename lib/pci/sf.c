/* Auxiliary sub-functions. A PF driver (mlx5_core, ...) creates auxiliary devices named
 * <driver>.<type>.<id> as children of the PF; only type "sf" is a sub-function: the PF's own
 * "mlx5_core.eth.0" looks alike and must not be listed (sriovnet makes the same distinction). */
#include "inventory-internal.h"

#include <ctype.h>
#include <fcntl.h>

#include "util/fileio.h"
#include "util/macro.h"
#include "util/parse.h"

bool dh_sf_name_is_valid(const char *name)
{
    if (!name || !*name || strlen(name) >= sizeof(((struct dh_func *)0)->address))
        return false;
    /* driver names are [A-Za-z0-9_-]; the kernel adds ".<type>.<id>" */
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return false;
    const char *last = strrchr(name, '.');
    if (!last || last == name)
        return false;
    uint64_t id;
    if (dh_parse_u64(last + 1, 10, false, UINT32_MAX, &id) < 0)
        return false;
    size_t prefix = (size_t)(last - name);
    return prefix > 3 && strncmp(name + prefix - 3, ".sf", 3) == 0;
}

bool dh_func_address_is_valid(const char *s)
{
    return dh_pci_addr_is_valid(s) || dh_sf_name_is_valid(s);
}

/* The parent PF is the directory that holds the auxiliary device: the second-to-last component of
 * the sys/bus/auxiliary/devices/<name> link. */
static char *parent_pf(int auxfd, const char *name)
{
    _cleanup_free_ char *target = NULL;
    if (dh_readlink_at(auxfd, name, &target) < 0)
        return NULL;
    char *last = strrchr(target, '/');
    if (!last)
        return NULL;
    *last = '\0';
    char *parent = strrchr(target, '/');
    parent = parent ? parent + 1 : target;
    return dh_pci_addr_is_valid(parent) ? strdup(parent) : NULL;
}

int inv_scan_sfs(int rootfd, struct dh_func **funcs, size_t *n, size_t *cap)
{
    _cleanup_closedir_ DIR *d = dh_opendir_at(rootfd, "sys/bus/auxiliary/devices");
    if (!d)
        return 0; /* no auxiliary bus: no SFs */
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!dh_sf_name_is_valid(de->d_name))
            continue;
        _cleanup_close_ int sfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0)
            continue; /* vanished or dangling */
        struct dh_func *f = inv_func_append(funcs, n, cap);
        if (!f)
            return -ENOMEM;
        memcpy(f->address, de->d_name, strlen(de->d_name) + 1); /* length checked above */
        f->kind = DH_FUNC_SF;
        f->pf = parent_pf(dirfd(d), de->d_name);
        f->sf_num = inv_read_dec_attr(sfd, "sfnum", 0, INT32_MAX, -1);
        int r = dh_readlink_basename_at(sfd, "driver", &f->driver);
        if (r == -ENOMEM)
            return r;
    }
    return 0;
}
