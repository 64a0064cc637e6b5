/* store_blobs: reading content-addressed blobs of containerd.
 *
 * Two ways to a blob: the content store's own file
 * `<root>/blobs/sha256/<hex>` when it is readable on this machine (the fast
 * path: a plain fd, so fs/ may splice from it or pass it through), else
 * Content.Read with offset and size over rpc/. The content root comes from
 * the caller (--content-root) or from containerd's Introspection.Plugins
 * (the content plugin exports "root").
 *
 * A local file is used only when its size is the blob's size; a file that
 * vanished (garbage collected) makes the read fail, and the next open falls
 * back to Content.Read.
 *
 * Integrity: store_blob_read_all() checks the sha256; whole sequential reads
 * through a reader are checked with a store_blob_verifier (fs/ keeps one per
 * open file): a mismatch is -EIO.
 *
 * Threads: a store_blobs is shared by any number of threads (immutable after
 * store_blobs_new/discover, which run before it is shared, except for the
 * verified-files memo, which has its own lock). Readers follow
 * reader.h. Errors: 0 or -errno (-ENOENT: no such blob; -EIO: corrupt or
 * short; rpc errors such as -ENOTCONN when the daemon is away). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "reader.h"
#include "rpc.h"
#include "verify.h"

typedef struct store_blobs store_blobs;

/* `rpc` is borrowed and must outlive the object. content_root: the
 * directory holding blobs/sha256 (NULL: none yet; see discover). */
int store_blobs_new(rpc_client *rpc, const char *content_root, store_blobs **ret);
store_blobs *store_blobs_free(store_blobs *b);

/* Asks containerd (Introspection.Plugins) where the content store lives and
 * keeps it when its blobs/sha256 directory can be read here. Returns 0 with
 * a root, -ENOENT without one (the API path is used then), or -errno. Not
 * thread-safe: call before sharing `b`. */
int store_blobs_discover_root(store_blobs *b);
/* The content root in use (given or discovered; NULL: Content.Read only),
 * borrowed from b. */
const char *store_blobs_root(const store_blobs *b);

/* A reader over the whole blob `digest` ("sha256:<hex>") of `size` bytes,
 * seen in namespace `ns`. Its fd is >= 0 on the fast path. */
int store_blob_open(store_blobs *b, const char *ns, const char *digest, uint64_t size,
                    struct store_reader **ret);

/* The whole blob in memory (NUL-terminated for convenience), checked
 * against its digest; blobs above `max` bytes are refused with -EFBIG. */
int store_blob_read_all(store_blobs *b, const char *ns, const char *digest, uint64_t size, uint64_t max,
                        uint8_t **ret, size_t *ret_len);

/* Checks the local file fd of blob `digest` by reading it whole, once: a
 * match is remembered for the life of `b`, keyed by digest and the file's
 * identity (device, inode, size, ctime), so a changed or replaced file is
 * checked again. For opens whose reads may not reach us to be checked (FUSE
 * passthrough) or may come in any order. Blocks for one read of the file.
 * Thread-safe. Returns 0, -EIO (mismatch, or shorter than it says), -errno. */
int store_blobs_verify_file(store_blobs *b, const char *digest, int fd);



