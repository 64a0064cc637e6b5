/* SPDX-License-Identifier: MIT */
/* Gzip indexes in the cache: the access points of a blob in one row, each
 * point's window in a row of its own, loaded when a read first needs it. */
#include "db-internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "gzindex-internal.h"
#include "schema.h"

/* gzindex_window_put over the prepared insert, whose ?1 is the digest. */
static int put_window(void *userdata, uint32_t point, const void *data, size_t len) {
        sqlite3_stmt *ins = userdata;
        int k;

        if (len > INT_MAX)
                return -E2BIG;
        k = db_bind_i64(ins, 2, point);
        k = k ?: store_sqlite_errno(sqlite3_bind_blob(ins, 3, data, (int) len, SQLITE_STATIC));
        k = k ?: db_step_done(ins);
        sqlite3_reset(ins);
        return k;
}

int store_db_put_gzindex(struct store_db *db, const char *blob_digest, const struct gzindex *idx) {
        _cleanup_free_ void *buf = NULL;
        size_t len = 0;
        int k;
        DB_LOCK_OR_RETURN(db);
        _cleanup_db_stmt_ sqlite3_stmt *del = NULL, *ins = NULL, *st = NULL;

        if (!blob_digest || !idx)
                return -EINVAL;
        k = db_stmt_key(db, DB_GZ_WINDOWS_DELETE, blob_digest, &del);
        k = k ?: db_stmt_key(db, DB_GZ_WINDOW_PUT, blob_digest, &ins);
        k = k ?: db_stmt_key(db, DB_GZ_PUT, blob_digest, &st);
        k = k ?: db_bind_u64(st, 2, gzindex_usize(idx));
        k = k ?: db_txn_begin(db);
        if (k < 0)
                return k;
        k = db_step_done(del);
        k = k ?: gzindex_serialize(idx, put_window, ins, &buf, &len);
        if (k >= 0 && len > INT_MAX)
                k = -E2BIG;
        k = k ?: store_sqlite_errno(sqlite3_bind_blob(st, 3, buf, (int) len, SQLITE_STATIC));
        k = k ?: db_step_done(st);
        return db_txn_end(db, k);
}

/* The loader of an index from store_db_get_gzindex(). */
struct window_loader {
        struct store_db *db;
        char digest[];
};

static int load_window(void *userdata, uint32_t point, void *buf, size_t len) {
        struct window_loader *l = userdata;
        const void *data;
        int k;
        DB_LOCK_OR_RETURN(l->db);
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;

        k = db_stmt_key(l->db, DB_GZ_WINDOW_GET, l->digest, &st);
        k = k ?: db_bind_i64(st, 2, point);
        k = k ?: db_step_row(st);
        if (k < 0)
                return k;
        data = sqlite3_column_blob(st, 0);
        if ((size_t) sqlite3_column_bytes(st, 0) != len)
                return -EBADMSG;
        if (len > 0 && !data)
                return -ENOMEM;
        memcpy(buf, data, len);
        return 0;
}

static int loader_new(struct store_db *db, const char *blob_digest, struct window_loader **ret) {
        size_t dlen = strlen(blob_digest) + 1;
        struct window_loader *l = malloc(sizeof(*l) + dlen);

        if (!l)
                return -ENOMEM;
        l->db = db;
        memcpy(l->digest, blob_digest, dlen);
        *ret = l;
        return 0;
}

int store_db_get_gzindex(struct store_db *db, const char *blob_digest, struct gzindex **ret_index) {
        _cleanup_gzindex_ struct gzindex *idx = NULL;
        _cleanup_free_ struct window_loader *l = NULL;
        const void *points;
        int k, len;
        DB_LOCK_OR_RETURN(db);
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;

        if (!blob_digest || !ret_index)
                return -EINVAL;
        /* Only the access points: each window is loaded when a read needs it. */
        k = db_stmt_row(db, DB_GZ_GET, blob_digest, &st);
        if (k < 0)
                return k;
        points = sqlite3_column_blob(st, 1);
        len = sqlite3_column_bytes(st, 1);
        if (!points || len <= 0)
                return -EBADMSG;
        k = loader_new(db, blob_digest, &l);
        k = k ?: gzindex_deserialize(points, (size_t) len,
                                     &(struct gzindex_loader) { .load = load_window, .free = free, .userdata = l },
                                     &idx);
        if (k < 0)
                return k;
        (void) TAKE_PTR(l); /* owned by idx now */
        if ((int64_t) gzindex_usize(idx) != sqlite3_column_int64(st, 0))
                return -EBADMSG;
        *ret_index = TAKE_PTR(idx);
        return 0;
}
