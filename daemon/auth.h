/* Who may talk to dpuhostd. On the Unix socket: the peer's credentials as the kernel recorded them
 * at connect() (SO_PEERCRED, and SO_PEERGROUPS for the supplementary groups), checked against the
 * configuration's allowed_uids and allowed_gids; root is always allowed. On the optional TCP
 * listener: a bearer token from a file, compared in constant time. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <dpuhost/config.h>
#include <dpuhost/error.h>

#define DHD_PEER_GROUPS_MAX 64

struct dhd_peer {
    pid_t pid;
    uid_t uid;
    gid_t gid;                         /* the primary group */
    gid_t groups[DHD_PEER_GROUPS_MAX]; /* supplementary groups (when the kernel reports them) */
    size_t n_groups;
};

/* The credentials of the process at the other end of a connected AF_UNIX socket. */
int dhd_peer_get(int fd, struct dhd_peer *ret);
/* Root, a uid in allowed_uids, or a primary or supplementary gid in allowed_gids. */
bool dhd_peer_is_allowed(const struct dh_config *cfg, const struct dhd_peer *peer);

/* Reads the bearer token: a regular file readable by its owner only, holding one token of 16 to
 * 4096 characters from the RFC 6750 token alphabet (trailing newlines are ignored). The caller
 * frees *ret. */
int dhd_token_load(const char *path, char **ret, struct dh_error *err);
/* True when authorization is "Bearer <token>" (the scheme is case-insensitive). The comparison
 * takes the same time wherever the first difference is. */
bool dhd_token_matches(const char *authorization, const char *token);
