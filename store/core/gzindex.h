/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * gzindex: random access into a gzip stream (one or more concatenated
 * members, optionally followed by zero padding).
 *
 * gzindex_build() inflates the stream once (checking every member's CRC and
 * length) and records access points: one at the start of the stream, then,
 * whenever at least `span` uncompressed bytes were produced since the last
 * point, one at the next deflate block boundary (with the 32 KiB of history
 * needed to resume there) or member start. A read then inflates only from the
 * nearest point before the wanted offset: at most ~span bytes of extra work.
 *
 * The index is immutable once built and may be shared by any number of
 * threads (a deserialised one guards its window cache itself). It
 * serialises in two parts for storage in the database: the access
 * points (offsets, a CRC of each window) in one small self-checking blob, and
 * each point's 32 KiB window on its own (deflated when that is smaller). A
 * deserialised index holds only the points and fetches a window through its
 * loader when a read first needs it, keeping the last few in a small cache:
 * opening a big index costs one small blob, a read one window.
 *
 * A window that cannot be had (the loader fails, or its bytes do not match
 * their CRC) costs speed, not correctness: the read starts from an earlier
 * point instead (point 0 needs no window), and gzindex_damaged() turns true so
 * that the owner can rebuild the index.
 *
 * An index describes one exact compressed blob: reading with a different blob
 * gives -EBADMSG at best and wrong bytes at worst; gzindex_reader_new() checks
 * at least the compressed size. Errors: -EBADMSG (not gzip, corrupt or
 * truncated stream, corrupt serialised index), -ENOMEM, reader errors.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "reader.h"

#define GZINDEX_DEFAULT_SPAN (UINT64_C(1) << 20)

struct gzindex;

/* Builds an index of gz (the compressed blob). span 0 means the default.
 * Returns 0 or -errno. */
int gzindex_build(struct store_reader *gz, uint64_t span, struct gzindex **ret_index);

uint64_t gzindex_usize(const struct gzindex *idx);   /* total uncompressed bytes */
uint64_t gzindex_csize(const struct gzindex *idx);   /* size of the compressed blob */

/* True once a window failed to load or verify (see above). Thread-safe. */
bool gzindex_damaged(const struct gzindex *idx);

void gzindex_free(struct gzindex *idx);
static inline void gzindex_freep(struct gzindex **p) {
        if (*p)
                gzindex_free(*p);
}
#define _cleanup_gzindex_ __attribute__((cleanup(gzindex_freep)))

/* A store_reader presenting the uncompressed bytes (size = usize, fd = -1).
 * It keeps a few inflate cursors so that sequential reads (e.g. tarindex over
 * it, or a member read in chunks) continue where the last read stopped
 * instead of restarting from an access point; concurrent reads are safe and
 * each gets its own cursor.
 * Without the OWN flags, idx and gz are borrowed and must outlive the reader;
 * with them, the reader frees them when it is freed (only on success).
 * Returns 0, -EINVAL (gz's size differs from the indexed blob's), -ENOMEM. */
#define GZREADER_OWN_INDEX  0x1u
#define GZREADER_OWN_SOURCE 0x2u
int gzindex_reader_new(struct gzindex *idx, struct store_reader *gz, unsigned flags,
                       struct store_reader **ret_reader);
