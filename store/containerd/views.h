/* store_views: what is derived from checkpoint blobs to browse them.
 *
 * - member indexes of tar blobs (the CRIU tar, the rw layer), built once by
 *   tarindex over the blob (for a gzip layer: over its gzindex view, whose
 *   seek points are stored too) and kept in the database, so a remount
 *   never rescans a blob;
 * - readers of one member, by offset (for an uncompressed tar, a slice of
 *   the blob with its fd: fs/ can splice from it);
 * - config.json / options.json decoded from the protobuf blobs.
 *
 * Everything is keyed by digest, so immutable: kept in memory for the
 * life of the object once built. Thread-safe; indexes returned are shared
 * and live as long as the store_views. Errors: 0 or -errno. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "blob.h"
#include "catalog.h"
#include "reader.h"
#include "tarindex.h"

struct store_db;
typedef struct store_views store_views;

int store_views_new(struct store_db *db, store_blobs *blobs, store_views **ret);
store_views *store_views_free(store_views *v);

/* The member index of tar blob `d` (gzip-compressed per its media type),
 * from memory, the database, or a scan. Borrowed: lives as long as `v`. */
int store_views_tar(store_views *v, const char *ns, const store_desc *d, const struct tar_index **ret);

/* A reader over the data of member `m` of `d` (owned by the caller). */
int store_views_member_reader(store_views *v, const char *ns, const store_desc *d, const struct tar_member *m,
                              struct store_reader **ret);
