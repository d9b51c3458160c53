/* NVMe controllers and namespaces of a function bound to the nvme driver: <dev>/nvme/nvmeX, with
 * namespace directories inside the controller's. With native multipath (CONFIG_NVME_MULTIPATH) the
 * controller holds hidden paths "nvme<S>c<C>n<N>" while the block device users see is the head
 * "nvme<S>n<N>"; we report the head name, which is what mounts and holders refer to. */
#include "inventory-internal.h"

#include <ctype.h>
#include <fcntl.h>

#include "util/fileio.h"
#include "util/macro.h"
#include "util/strv.h"

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* "nvme0n1" -> "nvme0n1"; "nvme0c1n2" -> "nvme0n2"; anything else -> NULL. */
static char *namespace_name(const char *entry)
{
    const char *p = startswith(entry, "nvme");
    if (!p)
        return NULL;
    size_t s = strspn(p, "0123456789");
    if (s == 0)
        return NULL;
    const char *rest = p + s;
    if (rest[0] == 'c') {
        size_t c = strspn(rest + 1, "0123456789");
        if (c == 0)
            return NULL;
        rest += 1 + c;
    }
    if (rest[0] != 'n' || !all_digits(rest + 1, strlen(rest + 1)))
        return NULL;
    char *name = NULL;
    if (asprintf(&name, "nvme%.*s%s", (int)s, p, rest) < 0)
        return NULL;
    return name;
}

static bool is_controller_name(const char *s)
{
    const char *p = startswith(s, "nvme");
    return p && all_digits(p, strlen(p));
}

int inv_read_nvme(int devfd, struct dh_func *f)
{
    _cleanup_closedir_ DIR *d = dh_opendir_at(devfd, "nvme");
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_controller_name(de->d_name))
            continue;
        /* one controller per PCI function */
        f->nvme_controller = strdup(de->d_name);
        if (!f->nvme_controller)
            return -ENOMEM;
        break;
    }
    if (!f->nvme_controller)
        return 0;

    _cleanup_closedir_ DIR *cd = dh_opendir_at(dirfd(d), f->nvme_controller);
    if (!cd)
        return 0;
    while ((de = readdir(cd))) {
        char *ns = namespace_name(de->d_name);
        if (!ns)
            continue;
        if (dh_strv_find(f->nvme_namespaces, f->n_nvme_namespaces, ns) >= 0) {
            free(ns);
            continue;
        }
        if (dh_strv_push(&f->nvme_namespaces, &f->n_nvme_namespaces, ns) < 0)
            return -ENOMEM;
    }
    dh_strv_sort(f->nvme_namespaces, f->n_nvme_namespaces);
    return 0;
}
