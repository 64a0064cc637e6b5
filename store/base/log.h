/* Logging with levels, for the daemon and every library.
 *
 * Levels are syslog's: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. Messages
 * go to stderr (the default, and in the foreground) or to syslog (once the
 * daemon detached: stderr is /dev/null then), one line each, prefixed with
 * the level on stderr. Messages above the maximum level are dropped before
 * they are formatted.
 *
 * What is logged: each checkpoint (name, digest, frozen window), every
 * error with its errno and the server's message, reconnects, resyncs and
 * cache rebuilds; once each, never per read.
 *
 * Threads: every function is thread-safe; log_setup() is meant for main()
 * before threads start. The functions preserve errno. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

/* Where messages go and the most verbose level kept (default: stderr,
 * LOG_INFO). ident names the program in syslog. */
void log_setup(enum log_target target, int max_level, const char *ident);
int log_max_level(void);
/* "error", "warning", "info", "debug" -> level; -EINVAL for others. */
int log_level_from_string(const char *s);

/* Logs at `level`; with error != 0, appends ": <strerror(|error|)>".
 * Returns -|error| (0 when error is 0), so that
 *   return log_error_errno(r, "cannot open %s", path);
 * logs and fails in one statement. */
int log_internal(int level, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_DEBUG, (e), __VA_ARGS__)
