/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * store_reader: random access to an immutable byte string of known size (a
 * blob, a range of a blob, or the uncompressed view of a gzip blob).
 *
 * Ownership: a reader is heap-allocated by one of the constructors below and
 * released with store_reader_free(), which also releases what the reader owns
 * (its ctx via free_ctx, its fd).
 *
 * Threads: pread callbacks must be safe to call concurrently from several
 * threads (all implementations here are: they keep no cursor, or lock it).
 * store_reader_free() must not race with any use of the same reader.
 *
 * Zero-copy: when `fd >= 0`, bytes [0, size) of the reader are exactly bytes
 * [fd_offset, fd_offset + size) of that fd, so a caller may splice from or pass
 * through the fd instead of calling pread. The fd belongs to the reader (or to
 * the reader it was sliced from): never close it, and only use it with
 * pread()-style calls that leave the file offset alone.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct store_reader {
        /* Reads up to len bytes at off (off < size is not guaranteed by
         * callers of the raw callback; store_reader_pread() clamps). Returns
         * the number of bytes read (0 only at end of data; may be short) or
         * -errno. */
        ssize_t (*pread)(void *ctx, void *buf, size_t len, uint64_t off);
        /* Releases ctx; NULL when there is nothing to release. */
        void (*free_ctx)(void *ctx);
        void *ctx;
        uint64_t size;
        int fd;             /* -1 when the data is not a plain range of a file */
        uint64_t fd_offset; /* meaningful only when fd >= 0 */
};

/* Generic constructor for other backends (e.g. a Content.Read-backed one).
 * On success the reader owns ctx and calls free_ctx(ctx) when freed (free_ctx
 * may be NULL); on failure ctx is untouched and still the caller's.
 * Returns 0, -EINVAL (pread NULL) or -ENOMEM. */
int store_reader_new(ssize_t (*pread)(void *ctx, void *buf, size_t len, uint64_t off),
                     void (*free_ctx)(void *ctx), void *ctx, uint64_t size,
                     struct store_reader **ret_reader);

/* A reader over a regular file's whole contents; size is taken from fstat()
 * now (blobs are immutable). Takes ownership of fd on success only.
 * Returns 0, -ESPIPE (not a regular file), -EBADF, -ENOMEM. */
int store_reader_from_fd(int fd, struct store_reader **ret_reader);

/* A reader over bytes [off, off + size) of parent, which it owns on
 * success (frees it when freed); on failure parent stays the caller's.
 * Inherits parent's fd (with the offset adjusted). Returns -EINVAL when the
 * range is not inside parent. */
int store_reader_slice_owning(struct store_reader *parent, uint64_t off, uint64_t size,
                              struct store_reader **ret_reader);

/* Reads up to len bytes at off, retrying short reads, never past size.
 * Returns the byte count (less than len only at end of data) or -errno. */
ssize_t store_reader_pread(struct store_reader *r, void *buf, size_t len, uint64_t off);

/* Reads exactly len bytes at off. Returns 0, -ENODATA if the data ends first,
 * or -errno. */
int store_reader_read_exact(struct store_reader *r, void *buf, size_t len, uint64_t off);

void store_reader_free(struct store_reader *r);

static inline void store_reader_freep(struct store_reader **r) {
        if (*r)
                store_reader_free(*r);
}
#define _cleanup_store_reader_ __attribute__((cleanup(store_reader_freep)))
