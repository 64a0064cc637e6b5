/* Monotonic time for durations. Header only, thread-safe. */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <time.h>

static inline struct timespec monotime_now(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return t;
}

/* Milliseconds since *t (CLOCK_MONOTONIC). */
static inline long monotime_ms_since(const struct timespec *t) {
        struct timespec now = monotime_now();
        return (long) ((now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000);
}

/* Sleeps ms milliseconds, through signals. */
static inline void monotime_sleep_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}
