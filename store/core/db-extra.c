/* SPDX-License-Identifier: MIT */
/* Opaque data other libraries derive from a blob, by (digest, name). */
#include "db-internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "schema.h"

int store_db_put_extra(struct store_db *db, const char *blob_digest, const char *name, const void *data,
                       size_t len) {
        int k;
        DB_LOCK_OR_RETURN(db);
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;

        if (!blob_digest || !name || (!data && len))
                return -EINVAL;
        if (len > INT_MAX)
                return -E2BIG;
        k = db_stmt_key(db, DB_EXTRA_PUT, blob_digest, &st);
        k = k ?: db_bind_text(st, 2, name);
        /* A zero-length blob must not bind as NULL (the column is NOT NULL). */
        k = k ?: store_sqlite_errno(sqlite3_bind_blob(st, 3, len ? data : "", (int) len, SQLITE_STATIC));
        return k ?: db_step_done(st);
}

int store_db_get_extra(struct store_db *db, const char *blob_digest, const char *name, void **ret_data,
                       size_t *ret_len) {
        int k;
        DB_LOCK_OR_RETURN(db);
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;

        if (!blob_digest || !name || !ret_data || !ret_len)
                return -EINVAL;
        k = db_stmt_key(db, DB_EXTRA_GET, blob_digest, &st);
        k = k ?: db_bind_text(st, 2, name);
        k = k ?: db_step_row(st);
        if (k < 0)
                return k;
        int len = sqlite3_column_bytes(st, 0);
        const void *p = sqlite3_column_blob(st, 0);
        if (len < 0 || (len > 0 && !p))
                return len < 0 ? -EBADMSG : -ENOMEM;
        void *copy = malloc(len ? (size_t) len : 1);
        if (!copy)
                return -ENOMEM;
        if (len)
                memcpy(copy, p, (size_t) len);
        *ret_data = copy;
        *ret_len = (size_t) len;
        return 0;
}
