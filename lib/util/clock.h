/* Wall-clock time: in the unit the state store keeps (microseconds since the epoch), and as the
 * absolute deadlines pthread_cond_timedwait() takes. */
#pragma once

#include <stdint.h>
#include <time.h>

int64_t dh_realtime_usec(void); /* CLOCK_REALTIME in µs */
/* The CLOCK_REALTIME time timeout_ms from now, for pthread_cond_timedwait(). */
struct timespec dh_realtime_deadline(int timeout_ms);
