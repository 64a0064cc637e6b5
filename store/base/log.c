#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set once in main() before threads start; read-only afterwards. */
static enum log_target target = LOG_TARGET_STDERR;
static int max_level = LOG_INFO;

static const char *const level_names[] = {
        [LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_setup(enum log_target t, int level, const char *ident) {
        target = t;
        max_level = level;
        if (t == LOG_TARGET_SYSLOG)
                openlog(ident ? ident : "ckptfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int log_max_level(void) {
        return max_level;
}

int log_level_from_string(const char *s) {
        for (int l = 0; l < (int) (sizeof(level_names) / sizeof(level_names[0])); l++)
                if (level_names[l] && s && strcmp(s, level_names[l]) == 0)
                        return l;
        return -EINVAL;
}

int log_internal(int level, int error, const char *fmt, ...) {
        int saved = errno;
        int ret = error > 0 ? -error : error;
        if (level > max_level) {
                errno = saved;
                return ret;
        }
        char msg[2048];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (n >= 0 && error != 0 && (size_t) n < sizeof(msg))
                snprintf(msg + n, sizeof(msg) - (size_t) n, ": %s", strerror(-ret));
        if (target == LOG_TARGET_SYSLOG)
                syslog(level, "%s", msg);
        else
                /* One call per line: stdio locks the stream, lines never mix. */
                fprintf(stderr, "ckptfs: %s: %s\n", level_names[level] ? level_names[level] : "log", msg);
        errno = saved;
        return ret;
}
