/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * store_db: the sqlite metadata cache (images, blobs, index descriptors,
 * tar member indexes, gzip access points and their windows).
 *
 * It is a cache: everything in it can be recomputed from containerd, so a
 * file that cannot be trusted is moved aside and rebuilt empty rather than
 * repaired (see store_db_open()).
 *
 * Threads: one connection guarded by a mutex, its statements prepared once
 * and kept for the connection's life. Every function may be called from any
 * thread; calls are serialised. List callbacks run with that mutex
 * held: keep them short, and do not call store_db functions from them (such
 * calls fail with -EDEADLK). Return a negative errno from a callback to stop
 * the listing; the list function then returns it.
 *
 * Strings: records passed to callbacks point into sqlite's row buffers and are
 * valid only during the call. Records returned by get functions are one
 * allocation each (strings included): release them with free().
 *
 * Conventions: functions return 0 (list functions: the number of records) or
 * a negative errno: -ENOENT (no such record), -EINVAL (bad argument, or a
 * value violating the schema, e.g. JSON that is not valid, a size > INT64_MAX),
 * -EBUSY (another process holds the database locked beyond the busy timeout),
 * -ENOMEM, -EIO/-ENOSPC/-EBADMSG (storage trouble). Writes are atomic: a
 * failed put/replace leaves the previous contents.
 *
 * Times are nanoseconds since the epoch. *_json fields are JSON text (labels
 * and annotations objects, an OCI platform object) or NULL.
 */

#include <stddef.h>
#include <stdint.h>

#include "gzindex.h"
#include "tarindex.h"

struct store_db;

/* Opens (creating if missing) the database at path. The parent directory is
 * created with mode 0700 if missing (an existing one is left alone); the
 * file gets mode 0600 (tightened if it was wider). WAL journal, 5 s busy
 * timeout, schema migrated to the latest version.
 *
 * A file that is not an sqlite database, fails `PRAGMA quick_check`, belongs
 * to another application, or has a schema newer than this code knows is
 * renamed to "PATH.corrupt-YYYYmmddTHHMMSSZ" (its -wal/-journal alongside, the
 * -shm removed) and an empty database is created in its place, with one
 * warning logged (the file and its new name); store_db_moved_aside() then
 * returns the new name. A missing file (info) and a schema upgrade (info)
 * are logged once too. Only one process should open a given file at a time.
 * Returns 0 or -errno. */
int store_db_open(const char *path, struct store_db **ret_db);

/* Closes the connection (checkpointing the WAL). NULL is a no-op. */
void store_db_close(struct store_db *db);
static inline void store_db_closep(struct store_db **db) {
        if (*db)
                store_db_close(*db);
}
#define _cleanup_store_db_ __attribute__((cleanup(store_db_closep)))

/* The name the untrusted file was moved to by store_db_open(), or NULL. The
 * string lives as long as db. */
const char *store_db_moved_aside(const struct store_db *db);

/* ---- images ------------------------------------------------------------ */

struct store_image {
        const char *ns;
        const char *name;
        const char *target_digest;
        const char *target_mediatype;
        uint64_t target_size;
        int64_t created;
        int64_t updated;
        const char *labels_json;
};
typedef int (*store_image_cb)(const struct store_image *img, void *userdata);

/* Inserts or replaces the image (ns, name). */
int store_db_put_image(struct store_db *db, const struct store_image *img);
/* The image (ns, name): one allocation, free() it. -ENOENT if absent. */
int store_db_get_image(struct store_db *db, const char *ns, const char *name, struct store_image **ret_image);
/* Removes the image (ns, name); an absent one is success. */
int store_db_delete_image(struct store_db *db, const char *ns, const char *name);
/* Images of ns (all namespaces if ns is NULL), ordered by ns, name. */
int store_db_list_images(struct store_db *db, const char *ns, store_image_cb cb, void *userdata);
/* Makes ns hold exactly these images (full resync), in one transaction.
 * Every images[i].ns must equal ns. */
int store_db_replace_images(struct store_db *db, const char *ns,
                            const struct store_image *images, size_t n);

/* ---- blobs ------------------------------------------------------------- */

struct store_blob {
        const char *digest;
        const char *mediatype; /* may be NULL */
        uint64_t size;
};

int store_db_put_blob(struct store_db *db, const struct store_blob *blob);
int store_db_get_blob(struct store_db *db, const char *digest, struct store_blob **ret_blob);
/* Deletes the blob row and whatever was computed from the blob (its tar
 * members, gzip index, and the descriptors it lists). */
int store_db_delete_blob(struct store_db *db, const char *digest);

/* ---- descriptors (children of an index or manifest blob) ---------------- */

struct store_descriptor {
        const char *parent_digest;
        uint32_t idx;           /* position in the parent's list */
        const char *digest;
        const char *mediatype;
        uint64_t size;
        const char *annotations_json;
        const char *platform_json;
};
typedef int (*store_descriptor_cb)(const struct store_descriptor *d, void *userdata);

/* Makes parent_digest's children exactly descs[0..n) in one transaction;
 * descs[i].idx is ignored and set to i, descs[i].parent_digest is ignored. */
int store_db_put_descriptors(struct store_db *db, const char *parent_digest,
                             const struct store_descriptor *descs, size_t n);
/* Children in idx order. Returns their count (0 if none are known). */
int store_db_list_descriptors(struct store_db *db, const char *parent_digest,
                              store_descriptor_cb cb, void *userdata);

/* ---- tar member indexes ------------------------------------------------ */

/* Records members[0..n) as the full index of blob_digest (replacing any
 * previous one) in one transaction. members[i] is stored with idx i. */
int store_db_put_tar_members(struct store_db *db, const char *blob_digest,
                             const struct tar_member *members, size_t n);
/* The whole index in archive order; -ENOENT if the blob was never indexed
 * (an indexed empty archive gives n == 0). */
int store_db_get_tar_members(struct store_db *db, const char *blob_digest,
                             struct tar_index **ret_index);

/* ---- data derived from a blob by other libraries ------------------------ */

/* Stores len bytes at data as `name` of blob_digest, replacing any (the
 * bytes are opaque here; their owner checks them when it reads them). They
 * go with the blob (store_db_delete_blob). */
int store_db_put_extra(struct store_db *db, const char *blob_digest, const char *name, const void *data,
                       size_t len);
/* The bytes (malloc'ed) stored as `name` of blob_digest; -ENOENT if none. */
int store_db_get_extra(struct store_db *db, const char *blob_digest, const char *name, void **ret_data,
                       size_t *ret_len);

/* ---- gzip indexes ------------------------------------------------------ */

/* Stores idx as the gzip index of blob_digest, replacing any: its access
 * points in one row, each window in a row of its own, in one transaction.
 * idx must not be an index loaded from this db (its windows would be loaded
 * through db meanwhile: -EDEADLK). */
int store_db_put_gzindex(struct store_db *db, const char *blob_digest, const struct gzindex *idx);
/* Loads the access points only: the index loads each window from db when a
 * read first needs it, so db must outlive the index (and may be used from
 * any thread meanwhile). -ENOENT if none; -EBADMSG if the stored points do
 * not parse (the caller should rebuild the index and put it again). A
 * missing or damaged window shows later, as gzindex_damaged(). */
int store_db_get_gzindex(struct store_db *db, const char *blob_digest, struct gzindex **ret_index);

/* ---- garbage collection ------------------------------------------------ */

typedef int (*store_digest_cb)(const char *digest, void *userdata);

/* Digests the cache holds rows about (a blob row, descriptors, a tar member
 * or gzip index) that no image of any namespace reaches any more: reached
 * are the images' targets and, recursively, the children recorded for them
 * in descriptors. Returns their count. Delete each with
 * store_db_delete_blob() (after the listing: not from the callback). */
int store_db_list_unreached_blobs(struct store_db *db, store_digest_cb cb, void *userdata);
