/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Scope-bound cleanup helpers (GCC/Clang `cleanup` attribute).
 *
 *   _cleanup_free_ char *s = strdup("x");   free()d when `s` leaves scope
 *   _cleanup_close_ int fd = open(...);     close()d if >= 0
 *   _cleanup_fclose_ FILE *f = fopen(...);  fclose()d if non-NULL
 *
 * Ownership leaves a guarded variable only explicitly, through TAKE_PTR() /
 * TAKE_FD(), which return the value and reset the variable so that its
 * cleanup becomes a no-op:
 *
 *   *ret = TAKE_PTR(s);
 *
 * DEFINE_TRIVIAL_CLEANUP_FUNC(type, fn) defines `fn##p(type *p)` that calls
 * fn(*p) when *p is non-NULL, for use as `_cleanup_(fnp)`.
 *
 * Everything here is header-only and has no state: safe from any thread.
 * close() errors are ignored and errno is preserved by the cleanups.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
        static inline void func##p(type *p) {                   \
                if (*p)                                         \
                        func(*p);                               \
        }

static inline void freep(void *p) {
        int saved = errno;
        free(*(void **) p);
        errno = saved;
}

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}

static inline void fclosep(FILE **f) {
        if (*f) {
                int saved = errno;
                (void) fclose(*f);
                errno = saved;
        }
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Returns *&var and sets var to NULL (hand-off of ownership). */
#define TAKE_PTR(var)                                   \
        ({                                              \
                __typeof__(var) *_pp_ = &(var);         \
                __typeof__(var) _p_ = *_pp_;            \
                *_pp_ = NULL;                           \
                _p_;                                    \
        })

/* Returns the fd and sets var to -1. */
#define TAKE_FD(var)                                    \
        ({                                              \
                int *_fdp_ = &(var);                    \
                int _fd_ = *_fdp_;                      \
                *_fdp_ = -1;                            \
                _fd_;                                   \
        })

/* Closes var if it is >= 0 and sets it to -1; evaluates to -1. */
#define safe_close(var)                                 \
        ({                                              \
                closep(&(var));                         \
                (var) = -1;                             \
        })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
