/* SPDX-License-Identifier: MIT */
/* The uncompressed view of a gzip blob as a store_reader, keeping a few
 * inflate cursors so that sequential reads continue where they stopped. */
#include "gzindex-internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#define N_CURSORS 4

/* ---- the uncompressed-view reader -------------------------------------- */

struct gzreader {
        struct gzindex *idx;
        struct store_reader *src;
        unsigned flags;
        pthread_mutex_t lock;
        uint64_t clock;
        struct gz_cursor *idle[N_CURSORS]; /* guarded by lock */
};

static void gzreader_free(void *ctx) {
        struct gzreader *g = ctx;

        for (size_t i = 0; i < N_CURSORS; i++)
                gz_cursor_free(g->idle[i]);
        pthread_mutex_destroy(&g->lock);
        if (g->flags & GZREADER_OWN_SOURCE)
                store_reader_free(g->src);
        if (g->flags & GZREADER_OWN_INDEX)
                gzindex_free(g->idx);
        free(g);
}

/* Takes the idle cursor that reaches uoff with the least inflating: one at or
 * before uoff and not before the nearest access point; otherwise any idle
 * cursor to re-seed (saves allocations), or NULL. Called with the lock held. */
static struct gz_cursor *take_cursor(struct gzreader *g, uint64_t uoff, uint64_t point_uoff,
                                     bool *ret_positioned) {
        int best = -1, any = -1;
        struct gz_cursor *c;

        for (int i = 0; i < N_CURSORS; i++) {
                c = g->idle[i];
                if (!c)
                        continue;
                if (any < 0 || c->stamp < g->idle[any]->stamp)
                        any = i; /* least recently used, if we have to re-seed one */
                if (!c->eof && c->upos <= uoff && c->upos >= point_uoff &&
                    (best < 0 || c->upos > g->idle[best]->upos))
                        best = i;
        }
        *ret_positioned = best >= 0;
        if (best < 0)
                best = any;
        if (best < 0)
                return NULL;
        c = g->idle[best];
        g->idle[best] = NULL;
        return c;
}

static void put_cursor(struct gzreader *g, struct gz_cursor *c) {
        int slot = -1;

        pthread_mutex_lock(&g->lock);
        c->stamp = ++g->clock;
        for (int i = 0; i < N_CURSORS; i++) {
                if (!g->idle[i]) {
                        slot = i;
                        break;
                }
                if (slot < 0 || g->idle[i]->stamp < g->idle[slot]->stamp)
                        slot = i;
        }
        gz_cursor_free(g->idle[slot]);
        g->idle[slot] = c;
        pthread_mutex_unlock(&g->lock);
}

static ssize_t gzreader_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        struct gzreader *g = ctx;
        struct gz_cursor *c;
        size_t p;
        bool positioned;
        ssize_t n;
        int k;

        if (off >= g->idx->usize || len == 0)
                return 0;
        if (len > g->idx->usize - off)
                len = (size_t) (g->idx->usize - off);
        if (len > SSIZE_MAX)
                len = SSIZE_MAX;
        p = gz_find_point(g->idx, off);

        pthread_mutex_lock(&g->lock);
        c = take_cursor(g, off, g->idx->points[p].uoff, &positioned);
        pthread_mutex_unlock(&g->lock);

        if (!c) {
                k = gz_cursor_new(&c);
                if (k < 0)
                        return k;
        }
        if (!positioned) {
                k = gz_cursor_seek_point(c, g->idx, p, g->src);
                if (k < 0) {
                        gz_cursor_free(c);
                        return k;
                }
        }
        n = gz_cursor_read(c, g->src, off, buf, len);
        if (n < 0) {
                gz_cursor_free(c); /* its state is unknown after an error */
                return n;
        }
        put_cursor(g, c);
        return n;
}

int gzindex_reader_new(struct gzindex *idx, struct store_reader *gz, unsigned flags,
                       struct store_reader **ret_reader) {
        struct gzreader *g;
        int k;

        if (!idx || !gz || !ret_reader || (flags & ~(GZREADER_OWN_INDEX | GZREADER_OWN_SOURCE)))
                return -EINVAL;
        if (gz->size != idx->csize)
                return -EINVAL;
        g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->idx = idx;
        g->src = gz;
        g->flags = flags;
        k = pthread_mutex_init(&g->lock, NULL);
        if (k != 0) {
                free(g);
                return -k;
        }
        k = store_reader_new(gzreader_pread, gzreader_free, g, idx->usize, ret_reader);
        if (k < 0) {
                pthread_mutex_destroy(&g->lock);
                free(g);
                return k;
        }
        return 0;
}
