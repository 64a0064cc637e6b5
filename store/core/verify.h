/* store_blob_verifier: the sha256 check of a blob read front to back, for
 * readers whose chunks arrive in any order (FUSE's threads). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Checks the sha256 of a blob read front to back. Feed every chunk handed
 * out, in any order: chunks ahead of the checked prefix are kept (up to
 * 32 MiB) until the gap is filled; rereads are ignored. A reader that skips
 * ahead further makes the verifier give up (random access is not checked).
 * Once the last byte arrived, store_blob_verifier_feed() returns -EIO on a
 * mismatch. Not thread-safe: callers serialise feeds. */
typedef struct store_blob_verifier store_blob_verifier;
int store_blob_verifier_new(const char *digest, uint64_t size, store_blob_verifier **ret);
/* Returns 0, or -EIO when the completed blob does not match its digest. */
int store_blob_verifier_feed(store_blob_verifier *v, const void *buf, size_t len, uint64_t off);
/* True once the verifier saw the whole blob and it matched. */
bool store_blob_verifier_matched(const store_blob_verifier *v);
store_blob_verifier *store_blob_verifier_free(store_blob_verifier *v);
