/* SPDX-License-Identifier: MIT */
#include "gzindex.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cleanup.h"

#define WINDOW 32768u
#define IN_CHUNK (64u << 10)
#define SCRATCH (32u << 10)
#define N_CURSORS 4
#define N_CACHED 8 /* windows a deserialised index keeps (as stored) */

enum point_kind {
        POINT_MEMBER = 0, /* start of a gzip member: inflate with the gzip wrapper, no history */
        POINT_BLOCK = 1,  /* deflate block boundary inside a member: raw inflate + window */
};

struct gz_point {
        uint64_t uoff;
        uint64_t coff;   /* POINT_BLOCK: first byte not fully consumed is coff - (bits ? 1 : 0) */
        uint8_t kind;
        uint8_t bits;    /* unused high bits of byte coff-1 that belong to the next block */
        uint32_t wlen;   /* bytes of history */
        /* Deserialised points: how the window is stored (0: wlen raw bytes;
         * else zlen bytes of zlib data) and the CRC32 of those bytes. */
        uint32_t zlen, wcrc;
        uint8_t *window; /* built points: the wlen raw bytes (NULL when wlen == 0);
                          * deserialised ones: NULL, fetched through the loader */
};

/* The windows a deserialised index fetched, as stored, and those it cannot
 * get. Behind a pointer: it changes under a const (shared) index. */
struct window_cache {
        pthread_mutex_t lock;
        uint64_t clock;
        bool damaged;
        uint8_t *bad; /* per point: its window is missing or corrupt */
        struct {
                uint8_t *data; /* NULL: free slot */
                uint32_t point;
                uint64_t stamp;
        } slots[N_CACHED];
};

struct gzindex {
        uint64_t span, usize, csize;
        size_t n, n_allocated;
        struct gz_point *points;
        struct gzindex_loader loader; /* deserialised indexes only */
        struct window_cache *cache;   /* ditto */
};

uint64_t gzindex_usize(const struct gzindex *idx) { return idx->usize; }
uint64_t gzindex_csize(const struct gzindex *idx) { return idx->csize; }
size_t gzindex_n_points(const struct gzindex *idx) { return idx->n; }

static void window_cache_free(struct window_cache *wc) {
        if (!wc)
                return;
        for (size_t s = 0; s < N_CACHED; s++)
                free(wc->slots[s].data);
        free(wc->bad);
        pthread_mutex_destroy(&wc->lock);
        free(wc);
}

static int window_cache_new(size_t n_points, struct window_cache **ret) {
        struct window_cache *wc = calloc(1, sizeof(*wc));
        int k;

        if (!wc)
                return -ENOMEM;
        wc->bad = calloc(n_points, 1);
        if (!wc->bad) {
                free(wc);
                return -ENOMEM;
        }
        k = pthread_mutex_init(&wc->lock, NULL);
        if (k != 0) {
                free(wc->bad);
                free(wc);
                return -k;
        }
        *ret = wc;
        return 0;
}

void gzindex_free(struct gzindex *idx) {
        if (!idx)
                return;
        for (size_t i = 0; i < idx->n; i++)
                free(idx->points[i].window);
        window_cache_free(idx->cache);
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

static int zerr(int z) {
        switch (z) {
        case Z_MEM_ERROR: return -ENOMEM;
        case Z_VERSION_ERROR: return -ENOTSUP;
        default: return -EBADMSG;
        }
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

/* ---- the inflate cursor -------------------------------------------------
 * A z_stream plus an input buffer fed from the compressed reader. It moves
 * only forward; to go back it is re-seeded from an access point. */

struct gz_cursor {
        z_stream zs;
        z_stream zwin;  /* inflates compressed windows of deserialised indexes */
        bool zs_ready, zwin_ready;
        bool raw;       /* raw deflate (resumed mid-member): we skip the trailer ourselves */
        bool eof;       /* past the last member */
        uint64_t upos;  /* uncompressed offset of the next output byte */
        uint64_t cpos;  /* compressed offset of the next byte to load into in[] */
        uint64_t stamp; /* for the reader's cursor cache */
        uint8_t in[IN_CHUNK];
        uint8_t scratch[SCRATCH];
        uint8_t window[WINDOW];
};

static void cursor_free(struct gz_cursor *c) {
        if (!c)
                return;
        if (c->zs_ready)
                inflateEnd(&c->zs);
        if (c->zwin_ready)
                inflateEnd(&c->zwin);
        free(c);
}

static int cursor_new(struct gz_cursor **ret) {
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
                return zerr(z);
        }
        c->zs_ready = true;
        *ret = c;
        return 0;
}

/* Makes sure at least one input byte is available. Returns 1, 0 at the end of
 * the compressed data, or -errno. */
static int cursor_fill(struct gz_cursor *c, struct store_reader *src) {
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

static uint64_t cursor_coff(const struct gz_cursor *c) {
        return c->cpos - c->zs.avail_in;
}

/* Copies the stored bytes of deserialised point i's window into buf (room
 * for WINDOW bytes): from the cache, else through the loader, checked against
 * the point's CRC and then cached. A missing or corrupt window is remembered,
 * so that later seeks skip it without asking the loader again. */
static int fetch_stored(const struct gzindex *idx, size_t i, uint8_t *buf) {
        const struct gz_point *p = &idx->points[i];
        struct window_cache *wc = idx->cache;
        size_t len = p->zlen ? p->zlen : p->wlen;
        uint8_t *copy;
        int k, victim = 0;

        pthread_mutex_lock(&wc->lock);
        k = wc->bad[i] ? -EBADMSG : -ENOENT;
        for (int s = 0; k == -ENOENT && s < N_CACHED; s++)
                if (wc->slots[s].data && wc->slots[s].point == i) {
                        memcpy(buf, wc->slots[s].data, len);
                        wc->slots[s].stamp = ++wc->clock;
                        k = 0;
                }
        pthread_mutex_unlock(&wc->lock);
        if (k != -ENOENT)
                return k;

        /* Not under the lock: the loader may take a while (sqlite). */
        k = idx->loader.load(idx->loader.userdata, (uint32_t) i, buf, len);
        if (k >= 0 && crc32_z(0, buf, len) != p->wcrc)
                k = -EBADMSG;
        if (k < 0 && k != -EBADMSG && k != -ENOENT)
                return k; /* maybe transient: ask again next time */
        copy = k >= 0 ? malloc(len) : NULL;
        if (copy)
                memcpy(copy, buf, len);

        pthread_mutex_lock(&wc->lock);
        if (k < 0) {
                wc->bad[i] = 1;
                wc->damaged = true;
        }
        for (int s = 0; copy && s < N_CACHED; s++) {
                if (wc->slots[s].data && wc->slots[s].point == i) {
                        free(TAKE_PTR(copy)); /* a racing fetch cached it first */
                        break;
                }
                if (!wc->slots[s].data || (wc->slots[victim].data && wc->slots[s].stamp < wc->slots[victim].stamp))
                        victim = s;
        }
        if (copy) {
                free(wc->slots[victim].data);
                wc->slots[victim].data = copy;
                wc->slots[victim].point = (uint32_t) i;
                wc->slots[victim].stamp = ++wc->clock;
        }
        pthread_mutex_unlock(&wc->lock);
        return k;
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
        _Static_assert(SCRATCH >= WINDOW, "a stored window fits in scratch");
        k = fetch_stored(idx, i, p->zlen ? c->scratch : c->window);
        if (k < 0)
                return k;
        if (p->zlen) {
                if (!c->zwin_ready) {
                        z = inflateInit(&c->zwin);
                        if (z != Z_OK)
                                return zerr(z);
                        c->zwin_ready = true;
                } else if ((z = inflateReset(&c->zwin)) != Z_OK)
                        return zerr(z);
                c->zwin.next_in = c->scratch;
                c->zwin.avail_in = p->zlen;
                c->zwin.next_out = c->window;
                c->zwin.avail_out = WINDOW;
                z = inflate(&c->zwin, Z_FINISH);
                if (z != Z_STREAM_END || WINDOW - c->zwin.avail_out != p->wlen)
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
                return z == Z_OK ? 0 : zerr(z);
        }
        c->raw = true;
        z = inflateReset2(&c->zs, -15);
        if (z != Z_OK)
                return zerr(z);
        if (p->bits) {
                uint8_t b;

                k = store_reader_read_exact(src, &b, 1, p->coff - 1);
                if (k < 0)
                        return k == -ENODATA ? -EBADMSG : k;
                z = inflatePrime(&c->zs, p->bits, b >> (8 - p->bits));
                if (z != Z_OK)
                        return zerr(z);
        }
        if (w) {
                z = inflateSetDictionary(&c->zs, w, p->wlen);
                if (z != Z_OK)
                        return zerr(z);
        }
        c->cpos = p->coff;
        return 0;
}

/* Positions c at point i, or, when i's window cannot be had, at the nearest
 * earlier point whose window can: only slower (point 0 needs no window). */
static int cursor_seek_point(struct gz_cursor *c, const struct gzindex *idx, size_t i,
                             struct store_reader *src) {
        const uint8_t *w;
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

                        k = cursor_fill(c, src);
                        if (k <= 0)
                                return k < 0 ? k : -EBADMSG;
                        take = left < c->zs.avail_in ? left : c->zs.avail_in;
                        c->zs.next_in += take;
                        c->zs.avail_in -= take;
                        left -= take;
                }
        }
        k = cursor_fill(c, src);
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
        return z == Z_OK ? 0 : zerr(z);
}

/* Inflates forward from the cursor (whose upos must be <= uoff), discarding
 * output before uoff, then writes up to len bytes. Returns the count. */
static ssize_t cursor_read(struct gz_cursor *c, struct store_reader *src, uint64_t uoff,
                           uint8_t *buf, size_t len) {
        size_t done = 0;

        while (done < len && !c->eof) {
                bool skipping = c->upos < uoff;
                uint8_t *out = skipping ? c->scratch : buf + done;
                size_t want = skipping ? (uoff - c->upos < SCRATCH ? (size_t) (uoff - c->upos) : SCRATCH)
                                       : len - done;
                size_t produced;
                int k, z;

                if (want > UINT_MAX)
                        want = UINT_MAX;
                k = cursor_fill(c, src);
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
                        return zerr(z);
        }
        return (ssize_t) done;
}

/* ---- building ---------------------------------------------------------- */

/* After the last member only zero padding may follow. */
static int check_zero_tail(struct gz_cursor *c, struct store_reader *src) {
        for (;;) {
                int k = cursor_fill(c, src);
                if (k <= 0)
                        return k;
                for (uInt i = 0; i < c->zs.avail_in; i++)
                        if (c->zs.next_in[i])
                                return -EBADMSG;
                c->zs.avail_in = 0;
        }
}

static int point_block(struct gz_cursor *c, struct gz_point *p) {
        uInt wlen = WINDOW;
        int z;

        *p = (struct gz_point) {
                .uoff = c->upos,
                .coff = cursor_coff(c),
                .kind = POINT_BLOCK,
                .bits = (uint8_t) (c->zs.data_type & 7),
        };
        p->window = malloc(WINDOW);
        if (!p->window)
                return -ENOMEM;
        z = inflateGetDictionary(&c->zs, p->window, &wlen);
        if (z != Z_OK) {
                free(p->window);
                p->window = NULL;   /* the caller frees it on error too */
                return zerr(z);
        }
        p->wlen = wlen;
        if (wlen == 0) {
                free(p->window);
                p->window = NULL;
        }
        return 0;
}

int gzindex_build(struct store_reader *gz, uint64_t span, struct gzindex **ret_index) {
        _cleanup_gzindex_ struct gzindex *idx = NULL;
        struct gz_cursor *c = NULL;
        uint64_t last;
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
        last = 0;

        k = cursor_new(&c);
        if (k < 0)
                return k;
        for (;;) {
                int z;

                k = cursor_fill(c, gz);
                if (k < 0)
                        goto out;
                if (k == 0) {
                        k = -EBADMSG; /* truncated member */
                        goto out;
                }
                c->zs.next_out = c->scratch;
                c->zs.avail_out = SCRATCH;
                /* Z_BLOCK returns at each block boundary, where a point can be taken. */
                z = inflate(&c->zs, Z_BLOCK);
                c->upos += SCRATCH - c->zs.avail_out;
                if (z == Z_STREAM_END) {
                        /* gzip mode consumed the trailer and checked CRC and size. */
                        k = cursor_fill(c, gz);
                        if (k < 0)
                                goto out;
                        if (k == 0)
                                break;
                        if (c->zs.next_in[0] == 0x00) {
                                k = check_zero_tail(c, gz);
                                if (k < 0)
                                        goto out;
                                break;
                        }
                        z = inflateReset(&c->zs);
                        if (z != Z_OK) {
                                k = zerr(z);
                                goto out;
                        }
                        if (c->upos - last >= idx->span) {
                                k = add_point(idx, &(struct gz_point) {
                                        .uoff = c->upos, .coff = cursor_coff(c), .kind = POINT_MEMBER });
                                if (k < 0)
                                        goto out;
                                last = c->upos;
                        }
                        continue;
                }
                if (z != Z_OK) {
                        k = zerr(z);
                        goto out;
                }
                /* 128: at a block boundary; 64: inside the last block of the member. */
                if ((c->zs.data_type & 128) && !(c->zs.data_type & 64) && c->upos - last >= idx->span) {
                        struct gz_point p;

                        k = point_block(c, &p);
                        if (k >= 0)
                                k = add_point(idx, &p);
                        if (k < 0) {
                                free(p.window);
                                goto out;
                        }
                        last = c->upos;
                }
        }
        idx->usize = c->upos;
        k = 0;
out:
        cursor_free(c);
        if (k < 0)
                return k;
        *ret_index = TAKE_PTR(idx);
        return 0;
}

/* ---- reading ----------------------------------------------------------- */

/* The index of the last point at or before uoff. */
static size_t find_point(const struct gzindex *idx, uint64_t uoff) {
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
        k = cursor_new(&c);
        if (k < 0)
                return k;
        k = cursor_seek_point(c, idx, find_point(idx, uoff), gz);
        n = k < 0 ? k : cursor_read(c, gz, uoff, buf, len);
        cursor_free(c);
        return n;
}

/* ---- serialisation ----------------------------------------------------- *
 * The points: "CKGZIDX1", u32 version, u32 n, u64 span, u64 usize, u64 csize,
 * then per point u64 uoff, u64 coff, u8 kind, u8 bits, u16 0, u32 wlen,
 * u32 zlen, u32 wcrc; finally u32 CRC32 of all that precedes. Little-endian.
 * Each window (wlen > 0) goes to put_window as stored: zlen bytes of zlib
 * data when that is smaller than its wlen raw bytes (else zlen is 0), wcrc
 * being the CRC32 of those stored bytes. */

#define MAGIC "CKGZIDX1"
#define FORMAT_VERSION 2u /* 1: one blob, windows inline */
#define HEADER_SIZE 40
#define POINT_SIZE 32

struct buf {
        uint8_t *p;
        size_t len, cap;
};

static int buf_put(struct buf *b, const void *data, size_t len) {
        if (b->cap - b->len < len) {
                size_t cap = b->cap ? b->cap : 4096;
                uint8_t *np;

                while (cap - b->len < len) {
                        if (cap > SIZE_MAX / 2)
                                return -ENOMEM;
                        cap *= 2;
                }
                np = realloc(b->p, cap);
                if (!np)
                        return -ENOMEM;
                b->p = np;
                b->cap = cap;
        }
        if (len > 0)
                memcpy(b->p + b->len, data, len);
        b->len += len;
        return 0;
}

static int put_le(struct buf *b, uint64_t v, unsigned bytes) {
        uint8_t t[8];

        for (unsigned i = 0; i < bytes; i++)
                t[i] = (uint8_t) (v >> (8 * i));
        return buf_put(b, t, bytes);
}

static uint64_t get_le(const uint8_t *p, unsigned bytes) {
        uint64_t v = 0;

        for (unsigned i = bytes; i > 0; i--)
                v = (v << 8) | p[i - 1];
        return v;
}

int gzindex_serialize(const struct gzindex *idx, gzindex_window_put put_window, void *userdata,
                      void **ret_buf, size_t *ret_len) {
        struct buf b = {};
        uint8_t z[WINDOW + WINDOW / 16 + 64]; /* > compressBound(WINDOW) */
        int k;

        if (!idx || !put_window || !ret_buf || !ret_len)
                return -EINVAL;
        _Static_assert(sizeof(z) >= WINDOW + (WINDOW >> 12) + (WINDOW >> 14) + (WINDOW >> 25) + 13,
                       "room for compressBound(WINDOW)");
        k = buf_put(&b, MAGIC, 8);
        k = k ?: put_le(&b, FORMAT_VERSION, 4);
        k = k ?: put_le(&b, idx->n, 4);
        k = k ?: put_le(&b, idx->span, 8);
        k = k ?: put_le(&b, idx->usize, 8);
        k = k ?: put_le(&b, idx->csize, 8);
        for (size_t i = 0; k == 0 && i < idx->n; i++) {
                const struct gz_point *p = &idx->points[i];
                uLongf zlen = p->zlen;
                const uint8_t *w = z;

                if (p->wlen == 0)
                        w = NULL;
                else if (!p->window)
                        k = fetch_stored(idx, i, z); /* a deserialised index: as it was stored */
                else {
                        /* Windows of compressible data shrink a lot; stored raw when not. */
                        zlen = sizeof(z);
                        if (compress2(z, &zlen, p->window, p->wlen, Z_DEFAULT_COMPRESSION) != Z_OK ||
                            zlen >= p->wlen) {
                                zlen = 0;
                                w = p->window;
                        }
                }
                k = k ?: (w ? put_window(userdata, (uint32_t) i, w, zlen ? zlen : p->wlen) : 0);
                k = k ?: put_le(&b, p->uoff, 8);
                k = k ?: put_le(&b, p->coff, 8);
                k = k ?: put_le(&b, p->kind, 1);
                k = k ?: put_le(&b, p->bits, 1);
                k = k ?: put_le(&b, 0, 2);
                k = k ?: put_le(&b, p->wlen, 4);
                k = k ?: put_le(&b, zlen, 4);
                k = k ?: put_le(&b, w ? crc32_z(0, w, zlen ? zlen : p->wlen) : 0, 4);
        }
        k = k ?: put_le(&b, crc32_z(0, b.p, b.len), 4);
        if (k < 0) {
                free(b.p);
                return k;
        }
        *ret_buf = b.p;
        *ret_len = b.len;
        return 0;
}

int gzindex_deserialize(const void *data, size_t len, const struct gzindex_loader *loader,
                        struct gzindex **ret_index) {
        _cleanup_gzindex_ struct gzindex *idx = NULL;
        const uint8_t *p = data, *end;
        uint32_t n;
        int k;

        if (!data || !loader || !loader->load || !ret_index)
                return -EINVAL;
        if (len < HEADER_SIZE + 4 || memcmp(p, MAGIC, 8) != 0)
                return -EBADMSG;
        if (get_le(p + len - 4, 4) != crc32_z(0, p, len - 4))
                return -EBADMSG;
        if (get_le(p + 8, 4) != FORMAT_VERSION)
                return -EBADMSG;
        n = (uint32_t) get_le(p + 12, 4);
        end = p + len - 4;
        if (n == 0 || (size_t) (end - p - HEADER_SIZE) != (size_t) n * POINT_SIZE)
                return -EBADMSG;
        idx = calloc(1, sizeof(*idx));
        if (!idx)
                return -ENOMEM;
        idx->span = get_le(p + 16, 8);
        idx->usize = get_le(p + 24, 8);
        idx->csize = get_le(p + 32, 8);
        idx->points = calloc(n, sizeof(*idx->points));
        if (!idx->points)
                return -ENOMEM;
        idx->n_allocated = n;
        k = window_cache_new(n, &idx->cache);
        if (k < 0)
                return k;

        p += HEADER_SIZE;
        for (uint32_t i = 0; i < n; i++, p += POINT_SIZE) {
                struct gz_point pt = {
                        .uoff = get_le(p, 8),
                        .coff = get_le(p + 8, 8),
                        .kind = p[16],
                        .bits = p[17],
                        .wlen = (uint32_t) get_le(p + 20, 4),
                        .zlen = (uint32_t) get_le(p + 24, 4),
                        .wcrc = (uint32_t) get_le(p + 28, 4),
                };

                /* Points must be usable as they are: no overreads, no backward
                 * jumps; a window stored deflated is smaller than raw. */
                if (pt.kind > POINT_BLOCK || pt.bits > 7 || pt.wlen > WINDOW ||
                    (pt.zlen && pt.zlen >= pt.wlen) || (pt.wlen == 0 && pt.wcrc) ||
                    pt.uoff > idx->usize || pt.coff > idx->csize ||
                    (i == 0 && (pt.uoff != 0 || pt.coff != 0 || pt.kind != POINT_MEMBER)) ||
                    (i > 0 && (pt.uoff <= idx->points[i - 1].uoff || pt.coff < idx->points[i - 1].coff)) ||
                    (pt.kind == POINT_MEMBER && (pt.wlen || pt.bits)) ||
                    (pt.bits && pt.coff == 0))
                        return -EBADMSG;
                idx->points[idx->n++] = pt;
        }
        idx->loader = *loader; /* only now: gzindex_free() releases it */
        *ret_index = TAKE_PTR(idx);
        return 0;
}

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
                cursor_free(g->idle[i]);
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
        cursor_free(g->idle[slot]);
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
        p = find_point(g->idx, off);

        pthread_mutex_lock(&g->lock);
        c = take_cursor(g, off, g->idx->points[p].uoff, &positioned);
        pthread_mutex_unlock(&g->lock);

        if (!c) {
                k = cursor_new(&c);
                if (k < 0)
                        return k;
        }
        if (!positioned) {
                k = cursor_seek_point(c, g->idx, p, g->src);
                if (k < 0) {
                        cursor_free(c);
                        return k;
                }
        }
        n = cursor_read(c, g->src, off, buf, len);
        if (n < 0) {
                cursor_free(c); /* its state is unknown after an error */
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
