/* Wall-clock time in the unit the state store keeps (microseconds since the epoch). */
#pragma once

#include <stdint.h>

int64_t dh_realtime_usec(void); /* CLOCK_REALTIME in µs */
