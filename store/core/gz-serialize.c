/* SPDX-License-Identifier: MIT */
/* The stored form of a gzip index: the access points in one self-checking
 * blob, each window handed out on its own (deflated when that is smaller). */
#include "gzindex-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

size_t gzindex_n_points(const struct gzindex *idx) { return idx->n; }

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
        uint8_t z[GZ_WINDOW + GZ_WINDOW / 16 + 64]; /* > compressBound(GZ_WINDOW) */
        int k;

        if (!idx || !put_window || !ret_buf || !ret_len)
                return -EINVAL;
        _Static_assert(sizeof(z) >= GZ_WINDOW + (GZ_WINDOW >> 12) + (GZ_WINDOW >> 14) + (GZ_WINDOW >> 25) + 13,
                       "room for compressBound(GZ_WINDOW)");
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
                        k = gz_fetch_stored(idx, i, z); /* a deserialised index: as it was stored */
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
        k = gz_window_cache_new(n, &idx->cache);
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
                if (pt.kind > POINT_BLOCK || pt.bits > 7 || pt.wlen > GZ_WINDOW ||
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
