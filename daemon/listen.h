/* dpuhostd's listening sockets: the Unix socket (created safely, a stale one replaced, a live one
 * refused) and the optional TCP listener. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include <dpuhost/error.h>

struct dhd_unix_socket {
    int fd;
    char *path;
    dev_t dev; /* the file we created, so that we only ever remove our own */
    ino_t ino;
};

/* Listens on path with mode, owned by group when group is not (gid_t)-1. Missing parent
 * directories are created (0755). A socket file nobody answers on is replaced; one that answers
 * means another dpuhostd runs there: -EADDRINUSE, naming its pid. Anything else at path is left
 * alone and refused. The socket is created with its final mode (never more open than configured,
 * not even for a moment). Call it before any thread that creates files runs (it sets the umask). */
int dhd_unix_listen(const char *path, mode_t mode, gid_t group, struct dhd_unix_socket *ret,
                    struct dh_error *err);
/* Closes the socket and removes its file if it is still ours. */
void dhd_unix_close(struct dhd_unix_socket *s);

/* Listens on "IPV4:PORT" or "[IPV6]:PORT" (numeric; port 0 picks one). ret_name receives the bound
 * address as "ADDR:PORT". */
int dhd_tcp_listen(const char *spec, int *ret_fd, char *ret_name, size_t size, struct dh_error *err);
