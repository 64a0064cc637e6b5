/* SPDX-License-Identifier: MIT */
/* The inflate cursor: seeded at an access point (its window fetched and
 * inflated if need be), it inflates forward across members; and the
 * stateless random-access read built on it. */
#include "gzindex-internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

void gz_cursor_free(struct gz_cursor *c) {
        if (!c)
                return;
        if (c->zs_ready)
                inflateEnd(&c->zs);
        if (c->zwin_ready)
                inflateEnd(&c->zwin);
        free(c);
}

int gz_cursor_new(struct gz_cursor **ret) {
        struct gz_cursor *c = malloc(sizeof(*c));
        int z;

        if (!c)
                return -ENOMEM;
        memset(&c->zs, 0, sizeof(c->zs));
        memset(&c->zwin, 0, sizeof(c->zwin));
        c->zs_ready = c->zwin_ready = false;
        c->raw = c->eof = false;
        c->upos = c->cpos = c->stamp = 0;
        z = inflateInit2(&c->zs, 31);
        if (z != Z_OK) {
                free(c);
                return gz_zerr(z);
        }
        c->zs_ready = true;
        *ret = c;
        return 0;
}

/* Makes sure at least one input byte is available. Returns 1, 0 at the end of
 * the compressed data, or -errno. */
int gz_cursor_fill(struct gz_cursor *c, struct store_reader *src) {
        ssize_t n;

        if (c->zs.avail_in > 0)
                return 1;
        n = store_reader_pread(src, c->in, sizeof(c->in), c->cpos);
        if (n < 0)
                return (int) n;
        c->zs.next_in = c->in;
        c->zs.avail_in = (uInt) n;
        c->cpos += (uint64_t) n;
        return n > 0;
}

uint64_t gz_cursor_coff(const struct gz_cursor *c) {
        return c->cpos - c->zs.avail_in;
}

/* Point i's window, for inflateSetDictionary: in memory (built index), or
 * fetched into c->window. *ret is NULL when the point has none. */
static int point_window(const struct gzindex *idx, size_t i, struct gz_cursor *c, const uint8_t **ret) {
        const struct gz_point *p = &idx->points[i];
        int k, z;

        if (p->window || p->wlen == 0) {
                *ret = p->window;
                return 0;
        }
        _Static_assert(GZ_SCRATCH >= GZ_WINDOW, "a stored window fits in scratch");
        k = gz_fetch_stored(idx, i, p->zlen ? c->scratch : c->window);
        if (k < 0)
                return k;
        if (p->zlen) {
                if (!c->zwin_ready) {
                        z = inflateInit(&c->zwin);
                        if (z != Z_OK)
                                return gz_zerr(z);
                        c->zwin_ready = true;
                } else if ((z = inflateReset(&c->zwin)) != Z_OK)
                        return gz_zerr(z);
                c->zwin.next_in = c->scratch;
                c->zwin.avail_in = p->zlen;
                c->zwin.next_out = c->window;
                c->zwin.avail_out = GZ_WINDOW;
                z = inflate(&c->zwin, Z_FINISH);
                if (z != Z_STREAM_END || GZ_WINDOW - c->zwin.avail_out != p->wlen)
                        return -EBADMSG;
        }
        *ret = c->window;
        return 0;
}

/* Positions c at p, whose window (wlen bytes, NULL if none) is w. */
static int cursor_seek(struct gz_cursor *c, const struct gz_point *p, const uint8_t *w,
                       struct store_reader *src) {
        int z, k;

        c->eof = false;
        c->upos = p->uoff;
        c->zs.avail_in = 0;
        if (p->kind == POINT_MEMBER) {
                c->raw = false;
                c->cpos = p->coff;
                z = inflateReset2(&c->zs, 31);
                return z == Z_OK ? 0 : gz_zerr(z);
        }
        c->raw = true;
        z = inflateReset2(&c->zs, -15);
        if (z != Z_OK)
                return gz_zerr(z);
        if (p->bits) {
                uint8_t b;

                k = store_reader_read_exact(src, &b, 1, p->coff - 1);
                if (k < 0)
                        return k == -ENODATA ? -EBADMSG : k;
                z = inflatePrime(&c->zs, p->bits, b >> (8 - p->bits));
                if (z != Z_OK)
                        return gz_zerr(z);
        }
        if (w) {
                z = inflateSetDictionary(&c->zs, w, p->wlen);
                if (z != Z_OK)
                        return gz_zerr(z);
        }
        c->cpos = p->coff;
        return 0;
}

/* Positions c at point i, or, when i's window cannot be had, at the nearest
 * earlier point whose window can: only slower (point 0 needs no window). */
int gz_cursor_seek_point(struct gz_cursor *c, const struct gzindex *idx, size_t i,
                             struct store_reader *src) {
        const uint8_t *w = NULL;
        int k;

        while ((k = point_window(idx, i, c, &w)) < 0 && k != -ENOMEM && i > 0)
                i--;
        return k < 0 ? k : cursor_seek(c, &idx->points[i], w, src);
}

/* Called at Z_STREAM_END: moves to the next member, or marks the end. */
static int cursor_next_member(struct gz_cursor *c, struct store_reader *src) {
        int k, z;

        if (c->raw) {
                /* A raw inflate stops before the 8-byte gzip trailer (CRC32, ISIZE). */
                for (unsigned left = 8; left > 0;) {
                        unsigned take;

                        k = gz_cursor_fill(c, src);
                        if (k <= 0)
                                return k < 0 ? k : -EBADMSG;
                        take = left < c->zs.avail_in ? left : c->zs.avail_in;
                        c->zs.next_in += take;
                        c->zs.avail_in -= take;
                        left -= take;
                }
        }
        k = gz_cursor_fill(c, src);
        if (k < 0)
                return k;
        if (k == 0 || c->zs.next_in[0] == 0x00) {
                c->eof = true; /* end of data, or zero padding (checked when indexing) */
                return 0;
        }
        if (c->zs.next_in[0] != 0x1f)
                return -EBADMSG;
        c->raw = false;
        z = inflateReset2(&c->zs, 31);
        return z == Z_OK ? 0 : gz_zerr(z);
}

/* Inflates forward from the cursor (whose upos must be <= uoff), discarding
 * output before uoff, then writes up to len bytes. Returns the count. */
ssize_t gz_cursor_read(struct gz_cursor *c, struct store_reader *src, uint64_t uoff,
                           uint8_t *buf, size_t len) {
        size_t done = 0;

        while (done < len && !c->eof) {
                bool skipping = c->upos < uoff;
                uint8_t *out = skipping ? c->scratch : buf + done;
                size_t want = skipping ? (uoff - c->upos < GZ_SCRATCH ? (size_t) (uoff - c->upos) : GZ_SCRATCH)
                                       : len - done;
                size_t produced;
                int k, z;

                if (want > UINT_MAX)
                        want = UINT_MAX;
                k = gz_cursor_fill(c, src);
                if (k < 0)
                        return k;
                if (k == 0)
                        return -EBADMSG; /* compressed data ended inside a member */
                c->zs.next_out = out;
                c->zs.avail_out = (uInt) want;
                z = inflate(&c->zs, Z_NO_FLUSH);
                produced = want - c->zs.avail_out;
                c->upos += produced;
                if (!skipping)
                        done += produced;
                if (z == Z_STREAM_END) {
                        k = cursor_next_member(c, src);
                        if (k < 0)
                                return k;
                } else if (z != Z_OK)
                        return gz_zerr(z);
        }
        return (ssize_t) done;
}

/* The index of the last point at or before uoff. */
size_t gz_find_point(const struct gzindex *idx, uint64_t uoff) {
        size_t lo = 0, hi = idx->n;

        while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                if (idx->points[mid].uoff <= uoff)
                        lo = mid;
                else
                        hi = mid;
        }
        return lo;
}

ssize_t gzindex_read(const struct gzindex *idx, struct store_reader *gz, uint64_t uoff,
                     void *buf, size_t len) {
        struct gz_cursor *c;
        ssize_t n;
        int k;

        if (!idx || !gz || (!buf && len > 0))
                return -EINVAL;
        if (uoff >= idx->usize || len == 0)
                return 0;
        if (len > idx->usize - uoff)
                len = (size_t) (idx->usize - uoff);
        if (len > SSIZE_MAX)
                len = SSIZE_MAX;
        k = gz_cursor_new(&c);
        if (k < 0)
                return k;
        k = gz_cursor_seek_point(c, idx, gz_find_point(idx, uoff), gz);
        n = k < 0 ? k : gz_cursor_read(c, gz, uoff, buf, len);
        gz_cursor_free(c);
        return n;
}

int gz_zerr(int z) {
        switch (z) {
        case Z_MEM_ERROR: return -ENOMEM;
        case Z_VERSION_ERROR: return -ENOTSUP;
        default: return -EBADMSG;
        }
}
