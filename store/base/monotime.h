/* Monotonic time for durations. Header only, thread-safe. */
#pragma once

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
