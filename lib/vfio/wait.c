/* Bounded waiting for the kernel: sysfs has no notification for "driver bound", so we poll, fast
 * first (a bind takes 30-60 ms in the lab) and backing off so that long waits stay cheap. */
#include "vfio-internal.h"

#include <errno.h>
#include <time.h>

int64_t vfio_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vfio_wait(int timeout_ms, bool (*pred)(void *userdata), void *userdata)
{
    int64_t deadline = vfio_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    long sleep_us = 1000;
    for (;;) {
        if (pred(userdata))
            return 0;
        int64_t left = deadline - vfio_now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        if (sleep_us > left * 1000)
            sleep_us = (long)left * 1000;
        struct timespec ts = {0, sleep_us * 1000};
        nanosleep(&ts, NULL);
        if (sleep_us < 50000)
            sleep_us *= 2;
    }
}
