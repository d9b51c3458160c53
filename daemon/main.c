/* dpuhostd: the host agent's daemon. Everything is in daemon.c (dh_daemon_run), so that tests can
 * run the same code with a kernel simulator; see docs/api.md and docs/config.md. */
#include <stddef.h>

#include "daemon.h"

int main(int argc, char **argv)
{
    return dh_daemon_run(argc, argv, NULL);
}
