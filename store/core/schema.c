/* SPDX-License-Identifier: MIT */
#include "schema.h"

#include <errno.h>
#include <stdio.h>

#include "cleanup.h"

/* Times are nanoseconds since the epoch; *_json columns hold JSON objects.
 * Sizes and offsets are non-negative int64. */
static const char migration_1[] =
        /* v1: the catalogue, i.e. what containerd told us. */
        "CREATE TABLE images ("
        "  ns TEXT NOT NULL,"
        "  name TEXT NOT NULL,"
        "  target_digest TEXT NOT NULL,"
        "  target_mediatype TEXT NOT NULL,"
        "  target_size INTEGER NOT NULL CHECK (target_size >= 0),"
        "  created INTEGER NOT NULL DEFAULT 0,"
        "  updated INTEGER NOT NULL DEFAULT 0,"
        "  labels_json TEXT CHECK (labels_json IS NULL OR json_valid(labels_json)),"
        "  PRIMARY KEY (ns, name)"
        ") WITHOUT ROWID;"
        "CREATE INDEX images_by_target ON images (target_digest);"
        "CREATE TABLE blobs ("
        "  digest TEXT NOT NULL PRIMARY KEY,"
        "  mediatype TEXT,"
        "  size INTEGER NOT NULL CHECK (size >= 0)"
        ") WITHOUT ROWID;"
        "CREATE TABLE descriptors ("
        "  parent_digest TEXT NOT NULL,"
        "  idx INTEGER NOT NULL CHECK (idx >= 0),"
        "  digest TEXT NOT NULL,"
        "  mediatype TEXT NOT NULL,"
        "  size INTEGER NOT NULL CHECK (size >= 0),"
        "  annotations_json TEXT CHECK (annotations_json IS NULL OR json_valid(annotations_json)),"
        "  platform_json TEXT CHECK (platform_json IS NULL OR json_valid(platform_json)),"
        "  PRIMARY KEY (parent_digest, idx)"
        ") WITHOUT ROWID;"
        "CREATE INDEX descriptors_by_digest ON descriptors (digest);"
        "CREATE TABLE containers ("
        "  ns TEXT NOT NULL,"
        "  id TEXT NOT NULL,"
        "  image TEXT,"
        "  runtime TEXT,"
        "  snapshotter TEXT,"
        "  snapshot_key TEXT,"
        "  created INTEGER NOT NULL DEFAULT 0,"
        "  updated INTEGER NOT NULL DEFAULT 0,"
        "  labels_json TEXT CHECK (labels_json IS NULL OR json_valid(labels_json)),"
        "  PRIMARY KEY (ns, id)"
        ") WITHOUT ROWID;";

static const char migration_2[] =
        /* v2: indexes we computed from blobs (tar members, gzip access points).
         * tar_indexes says a blob was indexed (an empty tar has no members). */
        "CREATE TABLE tar_indexes ("
        "  blob_digest TEXT NOT NULL PRIMARY KEY,"
        "  n_members INTEGER NOT NULL CHECK (n_members >= 0)"
        ") WITHOUT ROWID;"
        "CREATE TABLE tar_members ("
        "  blob_digest TEXT NOT NULL,"
        "  idx INTEGER NOT NULL CHECK (idx >= 0),"
        "  path TEXT NOT NULL,"
        "  type INTEGER NOT NULL CHECK (type BETWEEN 0 AND 6),"
        "  mode INTEGER NOT NULL CHECK (mode BETWEEN 0 AND 4095),"
        "  uid INTEGER NOT NULL CHECK (uid >= 0),"
        "  gid INTEGER NOT NULL CHECK (gid >= 0),"
        "  uname TEXT,"
        "  gname TEXT,"
        "  size INTEGER NOT NULL CHECK (size >= 0),"
        "  mtime_sec INTEGER NOT NULL,"
        "  mtime_nsec INTEGER NOT NULL CHECK (mtime_nsec BETWEEN 0 AND 999999999),"
        "  devmajor INTEGER NOT NULL DEFAULT 0,"
        "  devminor INTEGER NOT NULL DEFAULT 0,"
        "  flags INTEGER NOT NULL DEFAULT 0,"
        "  header_offset INTEGER NOT NULL CHECK (header_offset >= 0),"
        "  data_offset INTEGER NOT NULL CHECK (data_offset >= 0),"
        "  link_target TEXT,"
        "  PRIMARY KEY (blob_digest, idx)"
        ") WITHOUT ROWID;"
        "CREATE INDEX tar_members_by_path ON tar_members (blob_digest, path);"
        "CREATE TABLE gz_index ("
        "  blob_digest TEXT NOT NULL PRIMARY KEY,"
        "  usize INTEGER NOT NULL CHECK (usize >= 0),"
        "  index_blob BLOB NOT NULL"
        ");";

static const char migration_3[] =
        /* v3: gzip indexes in two parts, so that a read loads only the window
         * it needs: the access points (small), and each point's window. The
         * v2 single blobs are dropped, not converted: they are rebuilt on use. */
        "DROP TABLE gz_index;"
        "CREATE TABLE gz_indexes ("
        "  blob_digest TEXT NOT NULL PRIMARY KEY,"
        "  usize INTEGER NOT NULL CHECK (usize >= 0),"
        "  points BLOB NOT NULL"
        ");"
        /* A rowid table: windows are up to 32 KiB, too big for WITHOUT ROWID. */
        "CREATE TABLE gz_windows ("
        "  blob_digest TEXT NOT NULL,"
        "  point INTEGER NOT NULL CHECK (point >= 0),"
        "  window BLOB NOT NULL,"
        "  PRIMARY KEY (blob_digest, point)"
        ");";

static const char migration_4[] =
        /* v4: data other libraries derive from a blob, opaque here (store/criu's
         * memory index of one process of a CRIU tar: "criu-mem/<pid>"), kept
         * so that it is computed once per blob. A rowid table: values may be
         * large. */
        "CREATE TABLE blob_extras ("
        "  blob_digest TEXT NOT NULL,"
        "  name TEXT NOT NULL,"
        "  data BLOB NOT NULL,"
        "  PRIMARY KEY (blob_digest, name)"
        ");";

/* Index i holds the migration to version i + 1. Append only; never edit a
 * migration that has shipped. */
static const char *const migrations[] = {
        migration_1,
        migration_2,
        migration_3,
        migration_4,
};
_Static_assert(ELEMENTSOF(migrations) == STORE_SCHEMA_LATEST, "one migration per version");

int store_sqlite_errno(int rc) {
        switch (rc & 0xff) {
        case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE: return 0;
        case SQLITE_NOMEM: return -ENOMEM;
        case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
        case SQLITE_CORRUPT: case SQLITE_NOTADB: case SQLITE_FORMAT: return -EBADMSG;
        case SQLITE_FULL: return -ENOSPC;
        case SQLITE_READONLY: return -EROFS;
        case SQLITE_PERM: case SQLITE_AUTH: return -EPERM;
        case SQLITE_CANTOPEN: return -ENOENT;
        case SQLITE_CONSTRAINT: case SQLITE_MISMATCH: case SQLITE_RANGE: return -EINVAL;
        case SQLITE_TOOBIG: return -E2BIG;
        case SQLITE_INTERRUPT: return -EINTR;
        case SQLITE_NOLFS: return -EFBIG;
        default: return -EIO;
        }
}

int store_sqlite_query_int(sqlite3 *db, const char *sql, int64_t *ret) {
        sqlite3_stmt *st = NULL;
        int rc, k;

        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return store_sqlite_errno(rc);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *ret = sqlite3_column_int64(st, 0);
                k = 0;
        } else
                k = rc == SQLITE_DONE ? -EBADMSG : store_sqlite_errno(rc);
        sqlite3_finalize(st);
        return k;
}

int store_schema_version(sqlite3 *db, int *ret_version) {
        int64_t v;
        int k = store_sqlite_query_int(db, "PRAGMA user_version", &v);
        if (k < 0)
                return k;
        *ret_version = (int) v;
        return 0;
}

/* One step in one transaction. The version is read inside the transaction so
 * that two processes opening the same file do not apply a step twice.
 * Returns 1 if a step was applied, 0 if already at target, or -errno. */
static int step(sqlite3 *db, int target) {
        char tail[96];
        int v, k, rc;

        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_sqlite_errno(rc);
        k = store_schema_version(db, &v);
        if (k >= 0 && v > target)
                k = -ESTALE;
        if (k >= 0 && v < target) {
                rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL);
                if (rc == SQLITE_OK) {
                        /* Header fields are transactional: they commit with the tables. */
                        snprintf(tail, sizeof(tail), "PRAGMA user_version = %d; PRAGMA application_id = %d;",
                                 v + 1, STORE_APPLICATION_ID);
                        rc = sqlite3_exec(db, tail, NULL, NULL, NULL);
                }
                k = rc == SQLITE_OK ? 1 : store_sqlite_errno(rc);
        }
        if (k >= 0) {
                rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
                if (rc != SQLITE_OK)
                        k = store_sqlite_errno(rc);
        }
        if (k < 0)
                (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return k;
}

int store_schema_migrate(sqlite3 *db, int target) {
        int k;

        if (!db || target < 1 || target > STORE_SCHEMA_LATEST)
                return -EINVAL;
        do
                k = step(db, target);
        while (k > 0);
        return k;
}
