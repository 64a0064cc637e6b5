/* Texts built in memory with stdio (memtext.h). */
#include "memtext.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

int memtext_open(struct memtext *t) {
        *t = (struct memtext) { 0 };
        t->f = open_memstream(&t->buf, &t->len);
        return t->f ? 0 : -ENOMEM;
}

int memtext_finish(struct memtext *t, char **ret, size_t *ret_len) {
        /* A failed write leaves the stream in error; fclose() may not say so. */
        bool failed = ferror(t->f);
        if (fclose(t->f) != 0 || failed || !t->buf) {
                free(t->buf);
                *t = (struct memtext) { 0 };
                return -ENOMEM;
        }
        *ret = t->buf;
        *ret_len = t->len;
        *t = (struct memtext) { 0 };
        return 0;
}
