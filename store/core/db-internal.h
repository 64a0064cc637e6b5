/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the db-*.c files share behind db.h: the store_db object, its lock,
 * the statements it keeps prepared, and the helpers binding records to
 * statements and rows back to records. Internal to store/core.
 *
 * Locking: every function here expects db->lock held by the caller (taken
 * with DB_LOCK_OR_RETURN()), except db_lock and db_put_record, which take
 * it.
 *
 * Statements: each SQL text of the store has a db_stmt id and is prepared
 * once per connection, on first use (db_stmt()). The caller declares the
 * statement with _cleanup_db_stmt_ *after* DB_LOCK_OR_RETURN(), so that it
 * is reset (and its bindings cleared: they point into the caller's
 * strings) before the lock is released.
 */

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct db_col;

enum db_stmt {
        DB_BEGIN,
        DB_COMMIT,
        DB_ROLLBACK,
        DB_IMAGE_PUT,
        DB_IMAGES_OF_NS,
        DB_IMAGES_ALL,
        DB_IMAGES_DELETE_NS,
        DB_IMAGE_GET,
        DB_IMAGE_DELETE,
        DB_BLOB_PUT,
        DB_BLOB_GET,
        DB_BLOB_DELETE,
        DB_DESCS_PUT,
        DB_DESCS_LIST,
        DB_DESCS_DELETE,
        DB_TAR_MARK,
        DB_TAR_COUNT,
        DB_TAR_MEMBERS_PUT,
        DB_TAR_MEMBERS_LIST,
        DB_TAR_MEMBERS_DELETE,
        DB_TAR_INDEX_DELETE,
        DB_GZ_PUT,
        DB_GZ_GET,
        DB_GZ_DELETE,
        DB_GZ_WINDOW_PUT,
        DB_GZ_WINDOW_GET,
        DB_GZ_WINDOWS_DELETE,
        DB_EXTRA_PUT,
        DB_EXTRA_GET,
        DB_EXTRAS_DELETE,
        DB_UNREACHED,
        _DB_STMT_MAX,
};

struct store_db {
        pthread_mutex_t lock; /* error-checking: re-entry gives EDEADLK */
        sqlite3 *h;
        char *path;
        char *moved_aside;
        sqlite3_stmt *stmts[_DB_STMT_MAX]; /* prepared on first use; guarded by lock */
};

/* Locks db's mutex; returns 0 or -errno (-EINVAL for NULL, -EDEADLK when
 * this thread holds it already). */
int db_lock(struct store_db *db);
void db_unlockp(struct store_db **db);

/* Holds db's mutex until the end of the enclosing scope. */
#define DB_LOCK_OR_RETURN(db)                                                   \
        __attribute__((cleanup(db_unlockp))) struct store_db *_locked_ = NULL;  \
        do {                                                                    \
                int _r_ = db_lock(db);                                          \
                if (_r_ < 0)                                                    \
                        return _r_;                                             \
                _locked_ = (db);                                                \
        } while (0)

/* The prepared statement `id`, ready to bind (prepared now if this is its
 * first use on the connection). */
int db_stmt(struct store_db *db, enum db_stmt id, sqlite3_stmt **ret);
void db_stmt_resetp(sqlite3_stmt **st);
#define _cleanup_db_stmt_ __attribute__((cleanup(db_stmt_resetp)))
/* Finalises every prepared statement (before the connection closes). */
void db_stmts_finalize(struct store_db *db);

/* Statement id with its text key bound to ?1 (nothing bound when key is
 * NULL). *ret is set also on failure, for the caller's cleanup. */
int db_stmt_key(struct store_db *db, enum db_stmt id, const char *key, sqlite3_stmt **ret);
/* db_stmt_key() stepped to the one row the query wants: 0, -ENOENT, -errno. */
int db_stmt_row(struct store_db *db, enum db_stmt id, const char *key, sqlite3_stmt **ret);
/* Takes the lock, runs INSERT id with the columns of rec bound from ?1 on.
 * -EINVAL for a NULL rec. */
int db_put_record(struct store_db *db, enum db_stmt id, const void *rec, const struct db_col *cols, size_t n);
/* In one transaction: DELETE del_id with key ?1, then INSERT ins_id once
 * per row i < n, bound by bind(ins, i, ctx). All or nothing. */
int db_replace_rows(struct store_db *db, enum db_stmt del_id, const char *key, enum db_stmt ins_id, size_t n,
                    int (*bind)(sqlite3_stmt *ins, size_t i, void *ctx), void *ctx);
/* Runs statement id to completion and resets it. */
int db_run(struct store_db *db, enum db_stmt id);
int db_txn_begin(struct store_db *db);
/* Commits if k >= 0, otherwise rolls back; returns k or the commit error. */
int db_txn_end(struct store_db *db, int k);

/* ---- binding and reading -------------------------------------------------- */

/* NULL binds SQL NULL. */
int db_bind_text(sqlite3_stmt *st, int i, const char *s);
int db_bind_i64(sqlite3_stmt *st, int i, int64_t v);
/* sqlite integers are signed: values over INT64_MAX give -EINVAL. */
int db_bind_u64(sqlite3_stmt *st, int i, uint64_t v);
/* Steps a statement that returns no row: 0 or -errno. */
int db_step_done(sqlite3_stmt *st);
/* Steps to the one row a query wants: 0, -ENOENT (none), -errno. */
int db_step_row(sqlite3_stmt *st);

/* One column of a record: where it is in the struct, and its C type. */
enum db_col_type {
        DB_COL_TEXT,     /* const char * (NULL: SQL NULL) */
        DB_COL_TEXT_REQ, /* const char *, NULL refused with -EINVAL */
        DB_COL_I64,      /* int64_t */
        DB_COL_U64,      /* uint64_t */
        DB_COL_U32,      /* uint32_t */
        DB_COL_INT,      /* int or an enum of int size */
};
struct db_col {
        size_t off;
        enum db_col_type type;
};
#define DB_COL(type_, struct_, field) { offsetof(struct_, field), DB_COL_##type_ }

/* Binds the columns cols[0..n) of rec to parameters first, first + 1, ... */
int db_bind_record(sqlite3_stmt *st, int first, const void *rec, const struct db_col *cols, size_t n);
/* Fills the columns of rec from the current row, columns first, first + 1,
 * ...; strings point into the row (valid until the next step or reset). */
void db_record_from_row(sqlite3_stmt *st, int first, void *rec, const struct db_col *cols, size_t n);
/* Copies a record of string pointers into one allocation (struct first,
 * strings after it) so that the caller frees it with free(). Only the
 * DB_COL_TEXT* columns of cols are strings. NULL on out-of-memory. */
void *db_record_pack(const void *rec, size_t size, const struct db_col *cols, size_t n);

/* Runs a SELECT and calls row(st, ctx) for each row (stopping at its first
 * negative return, which is returned). Returns the row count. */
int db_for_each_row(sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *ctx), void *ctx);

/* Runs DELETE statement id with text key ?1; -ENOENT when nothing matched. */
int db_delete_by(struct store_db *db, enum db_stmt id, const char *key);
