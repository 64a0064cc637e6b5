/* The grammar of a write to `restore` (restore.h). Pure. */
#include "restore.h"
#include "cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

restore_request *restore_request_free(restore_request *r) {
        if (r) {
                free(r->id);
                free(r);
        }
        return NULL;
}

static bool alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool restore_id_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > RESTORE_ID_MAX || !alnum(s[0]) || !alnum(s[n - 1]))
                return false;
        for (size_t i = 1; i < n; i++) {
                bool sep = s[i] == '.' || s[i] == '_' || s[i] == '-';
                if (!alnum(s[i]) && !sep)
                        return false;
                if (sep && !alnum(s[i - 1]))   /* separators one at a time */
                        return false;
        }
        return true;
}

static int refuse(char **ret_msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(char **ret_msg, const char *fmt, ...) {
        if (ret_msg) {
                va_list ap;
                va_start(ap, fmt);
                if (vasprintf(ret_msg, fmt, ap) < 0)
                        *ret_msg = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

/* One word into q; `seen` guards repeats. */
static int take_word(restore_request *q, const char *w, unsigned *seen, char **ret_msg) {
        unsigned bit;
        if (strncmp(w, "id=", 3) == 0) {
                bit = 1;
                if (!restore_id_valid(w + 3))
                        return refuse(ret_msg, "invalid container id \"%.100s\": letters and digits, "
                                      "single . _ - between them, at most %d", w + 3, RESTORE_ID_MAX);
                if (!(*seen & bit) && !(q->id = strdup(w + 3)))
                        return -ENOMEM;
        } else if (strcmp(w, "live") == 0 || strcmp(w, "no-start") == 0) {
                bit = 2;
                q->no_start = strcmp(w, "no-start") == 0;
        } else if (strcmp(w, "no-rw") == 0) {
                bit = 4;
                q->no_rw = true;
        } else
                return refuse(ret_msg, "unknown word \"%.100s\" (expected: [id=ID] [live|no-start] [no-rw])", w);
        if (*seen & bit)
                return refuse(ret_msg, "\"%.100s\" repeats or contradicts an earlier word", w);
        *seen |= bit;
        return 0;
}

int restore_request_parse(const char *line, size_t len, restore_request **ret, char **ret_msg) {
        if (len > RESTORE_COMMAND_MAX)
                return refuse(ret_msg, "the line is longer than %d bytes", RESTORE_COMMAND_MAX);
        if (memchr(line, '\0', len))
                return refuse(ret_msg, "the line holds a NUL byte");
        _cleanup_free_ char *copy = strndup(line, len);
        _cleanup_(restore_request_freep) restore_request *q = calloc(1, sizeof(*q));
        if (!copy || !q)
                return -ENOMEM;
        unsigned seen = 0;
        char *save = NULL;
        for (char *w = strtok_r(copy, " \t\r\n\v\f", &save); w; w = strtok_r(NULL, " \t\r\n\v\f", &save)) {
                int r = take_word(q, w, &seen, ret_msg);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(q);
        return 0;
}

int restore_chain_id(const char *const *diff_ids, size_t n, char ret[DIGEST_MAX]) {
        if (n == 0)
                return -EINVAL;
        char chain[DIGEST_MAX];
        for (size_t i = 0; i < n; i++) {
                if (!digest_valid(diff_ids[i]))
                        return -EINVAL;
                if (i == 0) {
                        snprintf(chain, sizeof(chain), "%s", diff_ids[0]);
                        continue;
                }
                char buf[2 * DIGEST_MAX + 1];
                int len = snprintf(buf, sizeof(buf), "%s %s", chain, diff_ids[i]);
                int r = digest_of(buf, (size_t) len, chain);
                if (r < 0)
                        return r;
        }
        memcpy(ret, chain, DIGEST_MAX);
        return 0;
}
