/* The image name an imported archive gets when none is given (archive.h):
 * as ckptfs names its own checkpoints, from config.dump. */
#include "archive.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "json.h"
#include "names.h"

/* "2026-12-03T07:52:39.12Z" or "...+01:00" (Go's RFC3339Nano) as epoch
 * seconds; -EINVAL when it is not that, or Go's zero time (year 1). */
int store_archive_parse_time(const char *s, time_t *ret) {
        struct tm tm = { 0 };
        const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
        if (!p || tm.tm_year + 1900 < 1971)
                return -EINVAL;
        if (*p == '.') {
                p++;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        long off = 0;
        if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
                int h = 0, m = 0;
                if (sscanf(p + 1, "%2d:%2d", &h, &m) != 2 || h > 23 || m > 59)
                        return -EINVAL;
                off = (*p == '-' ? -1 : 1) * (h * 3600L + m * 60L);
        } else if (strcmp(p, "Z") != 0)
                return -EINVAL;
        *ret = timegm(&tm) - off;
        return 0;
}

/* A reference path component: [a-z0-9] runs joined by '.', '_', '-';
 * anything else becomes '-'. Empty input gives "imported". */
static char *ref_component(const char *s) {
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > 128)
                return strdup("imported");
        char *out = malloc(n + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c >= 'A' && c <= 'Z')
                        c = (char) (c - 'A' + 'a');
                bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                          (i > 0 && (c == '.' || c == '_' || c == '-'));
                out[i] = ok ? c : '-';
        }
        out[n] = '\0';
        return out;
}

int store_archive_default_name(const char *config_dump, size_t len, time_t now, char **ret) {
        _cleanup_json_ json_t *j = json_loadb(config_dump, len, 0, NULL);
        if (!json_is_object(j))
                return -EBADMSG;
        const char *who = json_string_value(json_object_get(j, "name"));
        if (!who || !*who)
                who = json_string_value(json_object_get(j, "id"));
        time_t when;
        if (store_archive_parse_time(json_string_value(json_object_get(j, "checkpointedTime")), &when) < 0)
                when = now;
        _cleanup_free_ char *comp = ref_component(who);
        if (!comp)
                return -ENOMEM;
        char *name = NULL;
        int r = ckpt_default_name(comp, when, &name);
        if (r < 0)
                return r;
        *ret = name;
        return 0;
}
