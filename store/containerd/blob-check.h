/* store_opened_blob: a file served from a store_reader, opened once per
 * open(2), with the integrity policy of ckptfs's blobs.
 *
 * A whole blob (opened with its digest) is never served unchecked:
 * - when the reader is the blob's own local file (fd, offset 0), the file
 *   is checked whole at open (store_blobs_verify_file: once per file and
 *   mount, again when the file changed); a mismatch fails the open with
 *   -EIO. Its reads need not pass through us: the kernel may keep its pages
 *   and may read the file itself (FUSE passthrough);
 * - otherwise (Content.Read) a streaming verifier checks reads front to
 *   back: the read that completes a mismatching blob fails with -EIO, and
 *   so does every later read of this open. Its pages must not outlive the
 *   open in the kernel's cache: a failed check must not leave them served.
 * A member of a tar (opened without a digest) is immutable data of a blob
 * already known by digest, and is not checked.
 *
 * Threads: reads of one object may run concurrently (the verifier has its
 * own lock); close must not race with them. Errors: 0 or -errno. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "blob.h"
#include "reader.h"

typedef struct store_opened_blob store_opened_blob;

/* Opens `rd` (taken on success, the caller's on failure) for serving.
 * digest: the blob rd reads whole, or NULL for data that is not a whole
 * blob. May block for one read of the local file (the check). */
int store_opened_blob_open(store_blobs *blobs, struct store_reader *rd, const char *digest,
                           store_opened_blob **ret);
/* NULL-safe; returns NULL. */
store_opened_blob *store_opened_blob_close(store_opened_blob *o);

uint64_t store_opened_blob_size(const store_opened_blob *o);
/* The reader it serves (borrowed: lives as long as o). */
const struct store_reader *store_opened_blob_reader(const store_opened_blob *o);

/* Reads up to len bytes at off (clamped to the size) into buf, feeding the
 * verifier if one is attached. Returns the byte count or -errno (-EIO for
 * a mismatch, also for data shorter than the blob says). */
ssize_t store_opened_blob_read(store_opened_blob *o, void *buf, size_t len, uint64_t off);

/* Whether reads may bypass store_opened_blob_read() (no verifier): then
 * *ret_fd and *ret_offset say where byte 0 of the data lies in a file
 * (to splice from it). False when they must be checked or there is no fd. */
bool store_opened_blob_direct_fd(const store_opened_blob *o, int *ret_fd, uint64_t *ret_offset);

/* Whether the kernel may keep the pages it read across opens. */
bool store_opened_blob_may_keep_pages(const store_opened_blob *o);

/* Whether this file takes part in FUSE passthrough (whole blobs: every open
 * of its inode must be counted, see fs/passthrough.h), and the fd the
 * kernel may read for it: the checked whole local file, else -1. */
bool store_opened_blob_passthrough(const store_opened_blob *o, int *ret_fd);
