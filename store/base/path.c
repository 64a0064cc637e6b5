#include "path.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

int path_append(char *buf, size_t size, size_t *len, const char *comp, size_t n) {
        size_t sep = *len > 0 ? 1 : 0;
        if (*len + sep + n + 1 > size)
                return -ENAMETOOLONG;
        if (sep)
                buf[*len] = '/';
        memcpy(buf + *len + sep, comp, n);
        *len += sep + n;
        buf[*len] = '\0';
        return 0;
}

int path_join(char *buf, size_t size, ...) {
        va_list ap;
        size_t len = 0;
        int r = 0;
        if (size == 0)
                return -ENAMETOOLONG;
        buf[0] = '\0';
        va_start(ap, size);
        for (const char *c; r >= 0 && (c = va_arg(ap, const char *));)
                if (*c)
                        r = path_append(buf, size, &len, c, strlen(c));
        va_end(ap);
        if (r < 0) {
                buf[0] = '\0';
                return r;
        }
        return (int) len;
}
