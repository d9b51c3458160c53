/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
#pragma once

/* Sends state ("READY=1", "STOPPING=1", "STATUS=...") to the service manager. 0 when sent or when
 * there is no manager ($NOTIFY_SOCKET unset); a negative errno when sending failed. */
int dhd_notify(const char *state);
