/* dpuhostd as a function, so that its main stays a one-liner and a test-only build (tests/daemon)
 * can run the very same daemon with the kernel simulator installed on its host root. */
#pragma once

#include <dpuhost/error.h>
#include <dpuhost/host.h>

struct dh_daemon_hooks {
    /* Called right after the host root is opened, before anything reads or writes it. The test
     * build installs its kernel simulator here. Return 0, or a negative errno to stop startup. */
    int (*host_opened)(void *userdata, struct dh_host *host, struct dh_error *err);
    void *userdata;
};

/* Parses the options, starts, serves until SIGTERM or SIGINT, stops cleanly (claims stay in the
 * store). Returns the exit status: 0 after a clean stop, 1 when starting or serving failed, 2 for
 * bad options or configuration. hooks may be NULL. */
int dh_daemon_run(int argc, char **argv, const struct dh_daemon_hooks *hooks);
