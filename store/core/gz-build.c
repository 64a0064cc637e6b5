/* SPDX-License-Identifier: MIT */
/* A gzip index: its points, its lifetime, and building it in one pass
 * over the compressed blob. */
#include "gzindex-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

uint64_t gzindex_usize(const struct gzindex *idx) { return idx->usize; }
uint64_t gzindex_csize(const struct gzindex *idx) { return idx->csize; }

void gzindex_free(struct gzindex *idx) {
        if (!idx)
                return;
        for (size_t i = 0; i < idx->n; i++)
                free(idx->points[i].window);
        gz_window_cache_free(idx->cache);
        if (idx->loader.free)
                idx->loader.free(idx->loader.userdata);
        free(idx->points);
        free(idx);
}

bool gzindex_damaged(const struct gzindex *idx) {
        bool d = false;

        if (idx && idx->cache) {
                pthread_mutex_lock(&idx->cache->lock);
                d = idx->cache->damaged;
                pthread_mutex_unlock(&idx->cache->lock);
        }
        return d;
}

static int add_point(struct gzindex *idx, const struct gz_point *p) {
        if (idx->n == idx->n_allocated) {
                size_t cap = idx->n_allocated ? idx->n_allocated * 2 : 16;
                struct gz_point *a = reallocarray(idx->points, cap, sizeof(*a));
                if (!a)
                        return -ENOMEM;
                idx->points = a;
                idx->n_allocated = cap;
        }
        idx->points[idx->n++] = *p;
        return 0;
}

int gzindex_probe(struct store_reader *r) {
        uint8_t m[2];
        int k = store_reader_read_exact(r, m, 2, 0);

        if (k == -ENODATA)
                return 0;
        if (k < 0)
                return k;
        return m[0] == 0x1f && m[1] == 0x8b;
}

/* ---- building ---------------------------------------------------------- */

/* After the last member only zero padding may follow. */
static int check_zero_tail(struct gz_cursor *c, struct store_reader *src) {
        for (;;) {
                int k = gz_cursor_fill(c, src);
                if (k <= 0)
                        return k;
                for (uInt i = 0; i < c->zs.avail_in; i++)
                        if (c->zs.next_in[i])
                                return -EBADMSG;
                c->zs.avail_in = 0;
        }
}

static int point_block(struct gz_cursor *c, struct gz_point *p) {
        uInt wlen = GZ_WINDOW;
        int z;

        *p = (struct gz_point) {
                .uoff = c->upos,
                .coff = gz_cursor_coff(c),
                .kind = POINT_BLOCK,
                .bits = (uint8_t) (c->zs.data_type & 7),
        };
        p->window = malloc(GZ_WINDOW);
        if (!p->window)
                return -ENOMEM;
        z = inflateGetDictionary(&c->zs, p->window, &wlen);
        if (z != Z_OK) {
                free(p->window);
                p->window = NULL;   /* the caller frees it on error too */
                return gz_zerr(z);
        }
        p->wlen = wlen;
        if (wlen == 0) {
                free(p->window);
                p->window = NULL;
        }
        return 0;
}

/* At the end of a member (gzip mode consumed the trailer and checked CRC
 * and size): the next member starts (1, with a point when span says so),
 * or the stream ends, leaving only zero padding (0). */
static int build_member_end(struct gz_cursor *c, struct store_reader *gz, struct gzindex *idx, uint64_t *last) {
        int k, z;

        k = gz_cursor_fill(c, gz);
        if (k <= 0)
                return k;
        if (c->zs.next_in[0] == 0x00)
                return check_zero_tail(c, gz);
        z = inflateReset(&c->zs);
        if (z != Z_OK)
                return gz_zerr(z);
        if (c->upos - *last >= idx->span) {
                k = add_point(idx, &(struct gz_point) {
                        .uoff = c->upos, .coff = gz_cursor_coff(c), .kind = POINT_MEMBER });
                if (k < 0)
                        return k;
                *last = c->upos;
        }
        return 1;
}

/* Inside a member, at a deflate block boundary: a point with its window
 * when span says so. */
static int build_block_point(struct gz_cursor *c, struct gzindex *idx, uint64_t *last) {
        struct gz_point p;
        int k;

        /* 128: at a block boundary; 64: inside the last block of the member. */
        if (!(c->zs.data_type & 128) || (c->zs.data_type & 64) || c->upos - *last < idx->span)
                return 0;
        k = point_block(c, &p);
        if (k >= 0)
                k = add_point(idx, &p);
        if (k < 0) {
                free(p.window);
                return k;
        }
        *last = c->upos;
        return 0;
}

/* Inflates the whole stream through c, adding points to idx. */
static int build_points(struct gz_cursor *c, struct store_reader *gz, struct gzindex *idx) {
        uint64_t last = 0;

        for (;;) {
                int k, z;

                k = gz_cursor_fill(c, gz);
                if (k <= 0)
                        return k < 0 ? k : -EBADMSG; /* truncated member */
                c->zs.next_out = c->scratch;
                c->zs.avail_out = GZ_SCRATCH;
                /* Z_BLOCK returns at each block boundary, where a point can be taken. */
                z = inflate(&c->zs, Z_BLOCK);
                c->upos += GZ_SCRATCH - c->zs.avail_out;
                if (z == Z_STREAM_END)
                        k = build_member_end(c, gz, idx, &last);
                else if (z == Z_OK)
                        k = build_block_point(c, idx, &last);
                else
                        k = gz_zerr(z);
                if (k < 0)
                        return k;
                if (z == Z_STREAM_END && k == 0)
                        return 0;
        }
}

int gzindex_build(struct store_reader *gz, uint64_t span, struct gzindex **ret_index) {
        _cleanup_gzindex_ struct gzindex *idx = NULL;
        struct gz_cursor *c = NULL;
        int k;

        if (!gz || !ret_index)
                return -EINVAL;
        k = gzindex_probe(gz);
        if (k <= 0)
                return k < 0 ? k : -EBADMSG;
        idx = calloc(1, sizeof(*idx));
        if (!idx)
                return -ENOMEM;
        idx->span = span ? span : GZINDEX_DEFAULT_SPAN;
        idx->csize = gz->size;
        k = add_point(idx, &(struct gz_point) { .kind = POINT_MEMBER });
        if (k < 0)
                return k;
        k = gz_cursor_new(&c);
        if (k < 0)
                return k;
        k = build_points(c, gz, idx);
        idx->usize = c->upos;
        gz_cursor_free(c);
        if (k < 0)
                return k;
        *ret_index = TAKE_PTR(idx);
        return 0;
}
