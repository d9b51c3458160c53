/* dpuhostd's HTTP/1.1 transport over libmicrohttpd: every request is authenticated (peer
 * credentials on the Unix socket, a bearer token on TCP), its body read incrementally and refused
 * past DH_API_MAX_BODY, and handed to dh_api_handle(); GET /v1/events becomes a stream of JSON
 * lines. One thread per connection: a request that waits (a bind, a release waiting for QEMU to
 * let go of /dev/vfio/N, an event stream) never delays another connection's. */
#pragma once

#include <dpuhost/api.h>
#include <dpuhost/config.h>
#include <dpuhost/error.h>

struct dhd_http;

struct dhd_http_options {
    struct dh_api *api;
    const struct dh_config *config; /* allowed_uids, allowed_gids */
    int unix_fd;                    /* a listening AF_UNIX socket (stays the caller's), or -1 */
    int tcp_fd;                     /* a listening TCP socket (stays the caller's), or -1 */
    const char *token;              /* the bearer token; required with tcp_fd */
    int heartbeat_ms;               /* idle event streams send "\n" this often (default 15000) */
};

int dhd_http_start(const struct dhd_http_options *opts, struct dhd_http **ret, struct dh_error *err);
/* Stops accepting, waits for the requests in progress (end event streams first with
 * dh_api_events_close()), and frees. Accepts NULL. */
void dhd_http_stop(struct dhd_http *h);
