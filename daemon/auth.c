/* Peer credentials and bearer tokens: see auth.h. */
#include "auth.h"

#include <fcntl.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "util/macro.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

int dhd_peer_get(int fd, struct dhd_peer *ret)
{
    *ret = (struct dhd_peer){0};
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return negative_errno();
    if (len != sizeof(cred))
        return -EIO;
    ret->pid = cred.pid;
    ret->uid = cred.uid;
    ret->gid = cred.gid;
    /* Linux 4.13+; the groups of the peer at connect() time. Without them only the primary group
     * counts (ENOPROTOOPT on older kernels; ERANGE when the peer is in more groups than we look at,
     * then the primary group and nothing else decides, which can only refuse, never admit). */
    socklen_t glen = sizeof(ret->groups);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, ret->groups, &glen) == 0)
        ret->n_groups = glen / sizeof(gid_t);
    return 0;
}

static bool in(const gid_t *v, size_t n, gid_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

bool dhd_peer_is_allowed(const struct dh_config *cfg, const struct dhd_peer *peer)
{
    if (peer->uid == 0)
        return true;
    for (size_t i = 0; i < cfg->n_allowed_uids; i++)
        if (cfg->allowed_uids[i] == peer->uid)
            return true;
    if (in(cfg->allowed_gids, cfg->n_allowed_gids, peer->gid))
        return true;
    for (size_t i = 0; i < peer->n_groups; i++)
        if (in(cfg->allowed_gids, cfg->n_allowed_gids, peer->groups[i]))
            return true;
    return false;
}

/* RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~+/=", c);
}

int dhd_token_load(const char *path, char **ret, struct dh_error *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return dh_error_set(err, negative_errno(), "token file %s cannot be opened: %s", path,
                            strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0)
        return dh_error_set(err, negative_errno(), "token file %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return dh_error_set(err, -EINVAL, "token file %s is not a regular file", path);
    if (st.st_mode & 0077)
        return dh_error_set(err, -EPERM,
                            "token file %s is accessible by group or others (mode %04o): chmod 600 it, the "
                            "token is a password",
                            path, (unsigned)(st.st_mode & 07777));
    char buf[4098];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n < 0)
        return dh_error_set(err, negative_errno(), "token file %s cannot be read: %s", path, strerror(errno));
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (n < 16 || n > 4096)
        return dh_error_set(err, -EINVAL,
                            "token file %s holds %zd characters; give 16 to 4096 (e.g. openssl rand -hex 32)",
                            path, n);
    for (ssize_t i = 0; i < n; i++)
        if (!token_char(buf[i]))
            return dh_error_set(err, -EINVAL,
                                "token file %s: character %zd is not allowed in a bearer token (use letters, "
                                "digits and -._~+/=, e.g. openssl rand -hex 32)",
                                path, i + 1);
    *ret = strdup(buf);
    return *ret ? 0 : -ENOMEM;
}

bool dhd_token_matches(const char *authorization, const char *token)
{
    if (!authorization || !token || strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    const char *given = authorization + 7;
    size_t n = strlen(token), m = strlen(given);
    /* every byte of the expected token is looked at, whatever the given one holds */
    unsigned char diff = m != n;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(token[i] ^ (i < m ? given[i] : 0));
    return diff == 0;
}
