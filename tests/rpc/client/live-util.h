/* Helpers of the live rpc tests: the peer (`ctr`, run through the shell with
 * a time limit), digests, clocks, and the containerd process of a test env.
 * Not thread-safe unless noted; all return 0 or -errno, outputs set only on
 * success. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
static inline void freep(void *p) { free(*(void **) p); }
#define _cleanup_free_ _cleanup_(freep)

/* Every command the tests run is killed after this many seconds. */
#define LIVE_CMD_TIMEOUT_S 60

/* Monotonic milliseconds. Thread-safe. */
int64_t now_ms(void);

/* "'...'" with embedded quotes escaped, for /bin/sh. Caller frees. */
char *shell_quote(const char *s);

/* Runs `/bin/sh -c CMD` (CMD from fmt), with stdin from /dev/null and stderr
 * passed through. On success *ret_out (may be NULL) owns the NUL-terminated
 * stdout. Returns the exit status (0..255; 128+N when killed by signal N) or
 * -errno when the shell could not run. Thread-safe. */
int sh_capture(char **ret_out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* `ctr --address ADDR -n NS ARGS` with a time limit (ADDR and NS quoted
 * here; ARGS is shell text). Same return values as sh_capture(). */
int ctr_capture(const char *addr, const char *ns, char **ret_out, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
int vctr_capture(const char *addr, const char *ns, char **ret_out, const char *fmt, va_list ap)
        __attribute__((format(printf, 4, 0)));

/* Splits text into its non-empty lines (trailing blanks dropped), sorted.
 * On success *ret_lines is a NULL-terminated array, free with strv_free(). */
int lines_sorted(const char *text, char ***ret_lines, size_t *ret_n);

#include "strv.h"
int strv_cmp(const void *a, const void *b);   /* for qsort of char * */

/* "sha256:<64 hex>" of data. out must hold 72 bytes. */
void sha256_digest(const uint8_t *data, size_t len, char out[72]);

/* Fills buf with pseudo-random bytes from *seed (xorshift64*), advancing it. */
void fill_random(uint8_t *buf, size_t len, uint64_t *seed);

/* Reads a decimal pid from a file. */
int read_pidfile(const char *path, pid_t *ret_pid);
/* True if pid exists and is neither a zombie nor dead. */
bool pid_alive(pid_t pid);
/* True if /proc/pid/cmdline contains needle (NULs read as spaces). */
bool pid_cmdline_has(pid_t pid, const char *needle);
/* Waits up to timeout_ms for pid to be gone (or a zombie). 0 or -ETIMEDOUT. */
int wait_pid_gone(pid_t pid, int64_t timeout_ms);
/* One character of /proc/pid/stat's state ('R', 'S', 'T', ...), or 0. */
char pid_state(pid_t pid);
