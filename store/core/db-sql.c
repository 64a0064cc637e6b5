/* SPDX-License-Identifier: MIT */
/* Every SQL statement of the store, kept prepared per connection, and the
 * helpers that bind records to them and read rows back. */
#include "db-internal.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

#define IMAGE_COLS "ns, name, target_digest, target_mediatype, target_size, created, updated, labels_json"
#define DESC_COLS "parent_digest, idx, digest, mediatype, size, annotations_json, platform_json"
#define MEMBER_COLS                                                                     \
        "idx, path, type, mode, uid, gid, uname, gname, size, mtime_sec, mtime_nsec, "  \
        "devmajor, devminor, flags, header_offset, data_offset, link_target"

static const char *const sql[_DB_STMT_MAX] = {
        [DB_BEGIN] = "BEGIN IMMEDIATE",
        [DB_COMMIT] = "COMMIT",
        [DB_ROLLBACK] = "ROLLBACK",
        [DB_IMAGE_PUT] = "INSERT OR REPLACE INTO images (" IMAGE_COLS ") VALUES (?,?,?,?,?,?,?,?)",
        [DB_IMAGES_OF_NS] = "SELECT " IMAGE_COLS " FROM images WHERE ns = ? ORDER BY name",
        [DB_IMAGES_ALL] = "SELECT " IMAGE_COLS " FROM images ORDER BY ns, name",
        [DB_IMAGES_DELETE_NS] = "DELETE FROM images WHERE ns = ?",
        [DB_IMAGE_GET] = "SELECT " IMAGE_COLS " FROM images WHERE ns = ? AND name = ?",
        [DB_IMAGE_DELETE] = "DELETE FROM images WHERE ns = ? AND name = ?",
        [DB_BLOB_PUT] = "INSERT OR REPLACE INTO blobs (digest, mediatype, size) VALUES (?,?,?)",
        [DB_BLOB_GET] = "SELECT digest, mediatype, size FROM blobs WHERE digest = ?",
        [DB_BLOB_DELETE] = "DELETE FROM blobs WHERE digest = ?",
        [DB_DESCS_PUT] = "INSERT INTO descriptors (" DESC_COLS ") VALUES (?,?,?,?,?,?,?)",
        [DB_DESCS_LIST] = "SELECT " DESC_COLS " FROM descriptors WHERE parent_digest = ? ORDER BY idx",
        [DB_DESCS_DELETE] = "DELETE FROM descriptors WHERE parent_digest = ?",
        [DB_TAR_MARK] = "INSERT OR REPLACE INTO tar_indexes (blob_digest, n_members) VALUES (?,?)",
        [DB_TAR_COUNT] = "SELECT n_members FROM tar_indexes WHERE blob_digest = ?",
        [DB_TAR_MEMBERS_PUT] = "INSERT INTO tar_members (blob_digest, " MEMBER_COLS ") "
                               "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [DB_TAR_MEMBERS_LIST] = "SELECT " MEMBER_COLS " FROM tar_members WHERE blob_digest = ? ORDER BY idx",
        [DB_TAR_MEMBERS_DELETE] = "DELETE FROM tar_members WHERE blob_digest = ?",
        [DB_TAR_INDEX_DELETE] = "DELETE FROM tar_indexes WHERE blob_digest = ?",
        [DB_GZ_PUT] = "INSERT OR REPLACE INTO gz_indexes (blob_digest, usize, points) VALUES (?,?,?)",
        [DB_GZ_GET] = "SELECT usize, points FROM gz_indexes WHERE blob_digest = ?",
        [DB_GZ_DELETE] = "DELETE FROM gz_indexes WHERE blob_digest = ?",
        [DB_GZ_WINDOW_PUT] = "INSERT INTO gz_windows (blob_digest, point, window) VALUES (?,?,?)",
        [DB_GZ_WINDOW_GET] = "SELECT window FROM gz_windows WHERE blob_digest = ? AND point = ?",
        [DB_GZ_WINDOWS_DELETE] = "DELETE FROM gz_windows WHERE blob_digest = ?",
        [DB_EXTRA_PUT] = "INSERT OR REPLACE INTO blob_extras (blob_digest, name, data) VALUES (?,?,?)",
        [DB_EXTRA_GET] = "SELECT data FROM blob_extras WHERE blob_digest = ? AND name = ?",
        [DB_EXTRAS_DELETE] = "DELETE FROM blob_extras WHERE blob_digest = ?",
        /* Reached: image targets, then the children recorded for what is
         * reached. Candidates: every digest some row is about. */
        [DB_UNREACHED] =
                "WITH RECURSIVE reached(digest) AS ("
                "  SELECT target_digest FROM images"
                "  UNION SELECT d.digest FROM descriptors d JOIN reached r ON d.parent_digest = r.digest)"
                " SELECT digest FROM ("
                "  SELECT digest FROM blobs"
                "  UNION SELECT parent_digest FROM descriptors"
                "  UNION SELECT blob_digest FROM tar_indexes"
                "  UNION SELECT blob_digest FROM gz_indexes"
                "  UNION SELECT blob_digest FROM blob_extras)"
                " WHERE digest NOT IN (SELECT digest FROM reached) ORDER BY digest",
};

/* ---- the lock -------------------------------------------------------------- */

int db_lock(struct store_db *db) {
        int r;

        if (!db)
                return -EINVAL;
        r = pthread_mutex_lock(&db->lock);
        return -r;
}

void db_unlockp(struct store_db **db) {
        if (*db)
                pthread_mutex_unlock(&(*db)->lock);
}

/* ---- prepared statements --------------------------------------------------- */

int db_stmt(struct store_db *db, enum db_stmt id, sqlite3_stmt **ret) {
        if (!db->stmts[id]) {
                int rc = sqlite3_prepare_v3(db->h, sql[id], -1, SQLITE_PREPARE_PERSISTENT, &db->stmts[id], NULL);
                if (rc != SQLITE_OK)
                        return store_sqlite_errno(rc);
        }
        *ret = db->stmts[id];
        return 0;
}

void db_stmt_resetp(sqlite3_stmt **st) {
        if (*st) {
                (void) sqlite3_reset(*st);
                (void) sqlite3_clear_bindings(*st);
        }
}

void db_stmts_finalize(struct store_db *db) {
        for (size_t i = 0; i < _DB_STMT_MAX; i++) {
                sqlite3_finalize(db->stmts[i]);
                db->stmts[i] = NULL;
        }
}

int db_stmt_key(struct store_db *db, enum db_stmt id, const char *key, sqlite3_stmt **ret) {
        int k = db_stmt(db, id, ret);

        return k < 0 || !key ? k : db_bind_text(*ret, 1, key);
}

int db_stmt_row(struct store_db *db, enum db_stmt id, const char *key, sqlite3_stmt **ret) {
        int k = db_stmt_key(db, id, key, ret);

        return k ?: db_step_row(*ret);
}

int db_put_record(struct store_db *db, enum db_stmt id, const void *rec, const struct db_col *cols, size_t n) {
        int k;
        DB_LOCK_OR_RETURN(db);
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;

        if (!rec)
                return -EINVAL;
        k = db_stmt(db, id, &st);
        k = k ?: db_bind_record(st, 1, rec, cols, n);
        return k ?: db_step_done(st);
}

int db_replace_rows(struct store_db *db, enum db_stmt del_id, const char *key, enum db_stmt ins_id, size_t n,
                    int (*bind)(sqlite3_stmt *ins, size_t i, void *ctx), void *ctx) {
        _cleanup_db_stmt_ sqlite3_stmt *del = NULL, *ins = NULL;
        int k;

        k = db_stmt_key(db, del_id, key, &del);
        k = k ?: db_stmt(db, ins_id, &ins);
        k = k ?: db_txn_begin(db);
        if (k < 0)
                return k;
        k = db_step_done(del);
        for (size_t i = 0; k >= 0 && i < n; i++) {
                k = bind(ins, i, ctx);
                k = k ?: db_step_done(ins);
                sqlite3_reset(ins);
        }
        return db_txn_end(db, k);
}

int db_run(struct store_db *db, enum db_stmt id) {
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;
        int k = db_stmt(db, id, &st);

        return k ?: db_step_done(st);
}

int db_txn_begin(struct store_db *db) {
        return db_run(db, DB_BEGIN);
}

int db_txn_end(struct store_db *db, int k) {
        if (k >= 0) {
                int c = db_run(db, DB_COMMIT);
                if (c >= 0)
                        return k;
                k = c;
        }
        (void) db_run(db, DB_ROLLBACK);
        return k;
}

int db_delete_by(struct store_db *db, enum db_stmt id, const char *key) {
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;
        int k;

        if (!key)
                return -EINVAL;
        k = db_stmt_key(db, id, key, &st);
        k = k ?: db_step_done(st);
        if (k < 0)
                return k;
        return sqlite3_changes(db->h) > 0 ? 0 : -ENOENT;
}

/* ---- binding and reading --------------------------------------------------- */

int db_bind_text(sqlite3_stmt *st, int i, const char *s) {
        return store_sqlite_errno(s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)
                                    : sqlite3_bind_null(st, i));
}

int db_bind_i64(sqlite3_stmt *st, int i, int64_t v) {
        return store_sqlite_errno(sqlite3_bind_int64(st, i, v));
}

int db_bind_u64(sqlite3_stmt *st, int i, uint64_t v) {
        if (v > INT64_MAX)
                return -EINVAL;
        return db_bind_i64(st, i, (int64_t) v);
}

int db_step_done(sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        return rc == SQLITE_DONE ? 0 : (rc == SQLITE_ROW ? -EIO : store_sqlite_errno(rc));
}

int db_step_row(sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        return rc == SQLITE_ROW ? 0 : (rc == SQLITE_DONE ? -ENOENT : store_sqlite_errno(rc));
}

#define FIELD(rec, c, type) ((type *) ((const char *) (rec) + (c)->off))

int db_bind_record(sqlite3_stmt *st, int first, const void *rec, const struct db_col *cols, size_t n) {
        int k = 0;

        for (size_t i = 0; k >= 0 && i < n; i++) {
                const struct db_col *c = &cols[i];
                int p = first + (int) i;

                switch (c->type) {
                case DB_COL_TEXT_REQ:
                        if (!*FIELD(rec, c, const char *const))
                                return -EINVAL;
                        /* fall through */
                case DB_COL_TEXT: k = db_bind_text(st, p, *FIELD(rec, c, const char *const)); break;
                case DB_COL_I64: k = db_bind_i64(st, p, *FIELD(rec, c, const int64_t)); break;
                case DB_COL_U64: k = db_bind_u64(st, p, *FIELD(rec, c, const uint64_t)); break;
                case DB_COL_U32: k = db_bind_i64(st, p, *FIELD(rec, c, const uint32_t)); break;
                case DB_COL_INT: k = db_bind_i64(st, p, *FIELD(rec, c, const int)); break;
                }
        }
        return k;
}

/* Negative values (a damaged row) read as 0 rather than wrapping. */
static uint64_t col_u64(sqlite3_stmt *st, int i) {
        int64_t v = sqlite3_column_int64(st, i);
        return v < 0 ? 0 : (uint64_t) v;
}

void db_record_from_row(sqlite3_stmt *st, int first, void *rec, const struct db_col *cols, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const struct db_col *c = &cols[i];
                int col = first + (int) i;

                switch (c->type) {
                case DB_COL_TEXT:
                case DB_COL_TEXT_REQ:
                        *FIELD(rec, c, const char *) = (const char *) sqlite3_column_text(st, col);
                        break;
                case DB_COL_I64: *FIELD(rec, c, int64_t) = sqlite3_column_int64(st, col); break;
                case DB_COL_U64: *FIELD(rec, c, uint64_t) = col_u64(st, col); break;
                case DB_COL_U32: *FIELD(rec, c, uint32_t) = (uint32_t) sqlite3_column_int64(st, col); break;
                case DB_COL_INT: *FIELD(rec, c, int) = sqlite3_column_int(st, col); break;
                }
        }
}

static bool is_text(const struct db_col *c) {
        return c->type == DB_COL_TEXT || c->type == DB_COL_TEXT_REQ;
}

void *db_record_pack(const void *rec, size_t size, const struct db_col *cols, size_t n) {
        size_t total = size;
        char *out, *p;

        for (size_t i = 0; i < n; i++) {
                const char *s = is_text(&cols[i]) ? *FIELD(rec, &cols[i], const char *const) : NULL;
                if (s)
                        total += strlen(s) + 1;
        }
        out = malloc(total);
        if (!out)
                return NULL;
        memcpy(out, rec, size);
        p = out + size;
        for (size_t i = 0; i < n; i++) {
                const char **slot = FIELD(out, &cols[i], const char *);
                if (is_text(&cols[i]) && *slot) {
                        size_t l = strlen(*slot) + 1;
                        memcpy(p, *slot, l);
                        *slot = p;
                        p += l;
                }
        }
        return out;
}

int db_for_each_row(sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *ctx), void *ctx) {
        int n = 0, rc, k;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                k = row(st, ctx);
                if (k < 0)
                        return k;
                if (n < INT_MAX)
                        n++;
        }
        return rc == SQLITE_DONE ? n : store_sqlite_errno(rc);
}
