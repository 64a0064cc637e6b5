/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the gzip files of store/core share behind gzindex.h: the index and
 * its access points, the window cache of a deserialised index, the inflate
 * cursor; and the serialised form, which db-gzip.c stores. Internal to
 * store/core (and its tests).
 *
 * Threads: an index is immutable once built or deserialised, except its
 * window cache (behind its own lock); a cursor belongs to one thread at a
 * time.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zlib.h>

#include "gzindex.h"

#define GZ_WINDOW 32768u
#define GZ_IN_CHUNK (64u << 10)
#define GZ_SCRATCH (32u << 10)
#define GZ_N_CACHED 8 /* windows a deserialised index keeps (as stored) */

/* Where a deserialised index gets its windows. load copies the stored bytes
 * of window `point` (exactly len of them, as put_window received them) into
 * buf and returns 0, or -ENOENT (no such window), -EBADMSG (stored with
 * another size), -errno. It is called from any thread, concurrently, without
 * locks of the index held. free (may be NULL) releases userdata. */
struct gzindex_loader {
        int (*load)(void *userdata, uint32_t point, void *buf, size_t len);
        void (*free)(void *userdata);
        void *userdata;
};

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
        } slots[GZ_N_CACHED];
};

struct gzindex {
        uint64_t span, usize, csize;
        size_t n, n_allocated;
        struct gz_point *points;
        struct gzindex_loader loader; /* deserialised indexes only */
        struct window_cache *cache;   /* ditto */
};

/* A zlib error as -errno. */
int gz_zerr(int z);

/* ---- gz-windows.c: the window cache ---------------------------------------- */

int gz_window_cache_new(size_t n_points, struct window_cache **ret);
void gz_window_cache_free(struct window_cache *wc);
/* Copies the stored bytes of deserialised point i's window into buf (room
 * for GZ_WINDOW bytes): from the cache, else through the loader, checked
 * against the point's CRC and then cached. A missing or corrupt window is
 * remembered (-EBADMSG from then on) and marks the index damaged. */
int gz_fetch_stored(const struct gzindex *idx, size_t i, uint8_t *buf);

/* ---- gz-cursor.c: the inflate cursor --------------------------------------- */

/* A z_stream plus an input buffer fed from the compressed reader. It moves
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
        uint8_t in[GZ_IN_CHUNK];
        uint8_t scratch[GZ_SCRATCH];
        uint8_t window[GZ_WINDOW];
};

/* A cursor at the start of a gzip stream. */
int gz_cursor_new(struct gz_cursor **ret);
void gz_cursor_free(struct gz_cursor *c);
/* Makes sure at least one input byte is available. Returns 1, 0 at the end
 * of the compressed data, or -errno. */
int gz_cursor_fill(struct gz_cursor *c, struct store_reader *src);
/* The compressed offset of the next input byte inflate would consume. */
uint64_t gz_cursor_coff(const struct gz_cursor *c);
/* The index of the last point at or before uoff. */
size_t gz_find_point(const struct gzindex *idx, uint64_t uoff);
/* Positions c at point i, or, when i's window cannot be had, at the
 * nearest earlier point whose window can. */
int gz_cursor_seek_point(struct gz_cursor *c, const struct gzindex *idx, size_t i, struct store_reader *src);
/* Inflates forward from the cursor (whose upos must be <= uoff), discarding
 * output before uoff, then writes up to len bytes. Returns the count. */
ssize_t gz_cursor_read(struct gz_cursor *c, struct store_reader *src, uint64_t uoff, uint8_t *buf, size_t len);

/* ---- gz-serialize.c: the stored form --------------------------------------- */

size_t gzindex_n_points(const struct gzindex *idx);

/* Receives one window as stored, for access points with a window, in point
 * order. Returns 0 or -errno (which stops the serialisation). */
typedef int (*gzindex_window_put)(void *userdata, uint32_t point, const void *data, size_t len);

/* Serialises the access points into a new malloc()ed buffer, handing every
 * window to put_window on the way. A deserialised index fetches its windows
 * through its loader for this. Returns 0, -ENOMEM, or put_window's error. */
int gzindex_serialize(const struct gzindex *idx, gzindex_window_put put_window, void *userdata,
                      void **ret_buf, size_t *ret_len);

/* Parses and validates serialised access points; no window is loaded. On
 * success the index owns loader->userdata (released by gzindex_free()); on
 * failure it stays the caller's. Returns 0, -EBADMSG or -ENOMEM. */
int gzindex_deserialize(const void *buf, size_t len, const struct gzindex_loader *loader,
                        struct gzindex **ret_index);

/* ---- gz-build.c --------------------------------------------------------------- */

/* Returns 1 if r starts with the gzip magic, 0 if not, or -errno. */
int gzindex_probe(struct store_reader *r);

/* Reads up to len uncompressed bytes at uoff from gz, starting at the
 * nearest access point. Returns the count (short only at the end of the
 * data) or -errno. Thread-safe (no cursor is kept between calls). The daemon reads
 * through gzindex_reader_new(); tests check the index with this. */
ssize_t gzindex_read(const struct gzindex *idx, struct store_reader *gz, uint64_t uoff,
                     void *buf, size_t len);
