/* A text written with stdio into memory (open_memstream) and handed over
 * whole, for the renderers of small generated files:
 *
 *   struct memtext t;
 *   if (memtext_open(&t) < 0) return -ENOMEM;
 *   fprintf(t.f, ...);
 *   return memtext_finish(&t, ret, ret_len);
 *
 * open_memstream() sets its buffer and length only at fclose(), so the
 * text is taken in one place. Pure, thread-safe (one memtext per thread). */
#pragma once

#include <stddef.h>
#include <stdio.h>

struct memtext {
        FILE *f;    /* write here between open and finish */
        char *buf;  /* the stream's, valid after finish */
        size_t len;
};

/* Opens t->f. 0, or -ENOMEM (nothing to finish). */
int memtext_open(struct memtext *t);

/* Closes t->f and hands the text over: *ret (NUL-terminated, the caller
 * frees it) and *ret_len (without the NUL). -ENOMEM, the text freed and
 * nothing set, when a write or the close failed. Always ends the memtext. */
int memtext_finish(struct memtext *t, char **ret, size_t *ret_len);
