#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int json_dump_text(const json_t *j, size_t flags, char **ret, size_t *ret_len) {
        char *s = j ? json_dumps(j, flags) : NULL;
        if (!s)
                return -ENOMEM;
        size_t n = strlen(s);
        char *out = realloc(s, n + 2);
        if (!out) {
                free(s);
                return -ENOMEM;
        }
        out[n] = '\n';
        out[n + 1] = '\0';
        *ret = out;
        *ret_len = n + 1;
        return 0;
}
