/* SPDX-License-Identifier: MIT */
/* Garbage collection of the cache: which blobs no image reaches any more,
 * and deleting a blob with all that was computed from it. */
#include "db-internal.h"

#include <errno.h>

#include "cleanup.h"

int store_db_delete_blob(struct store_db *db, const char *digest) {
        static const enum db_stmt derived[] = {
                DB_TAR_MEMBERS_DELETE, DB_TAR_INDEX_DELETE, DB_GZ_DELETE, DB_GZ_WINDOWS_DELETE, DB_DESCS_DELETE, DB_EXTRAS_DELETE,
        };
        int k;
        DB_LOCK_OR_RETURN(db);

        if (!digest)
                return -EINVAL;
        k = db_txn_begin(db);
        if (k < 0)
                return k;
        k = db_delete_by(db, DB_BLOB_DELETE, digest);
        for (size_t i = 0; i < ELEMENTSOF(derived) && (k >= 0 || k == -ENOENT); i++) {
                int r = db_delete_by(db, derived[i], digest);
                if (r >= 0)
                        k = 0; /* something existed */
                else if (r != -ENOENT)
                        k = r;
        }
        /* -ENOENT: nothing at all was known about the blob; nothing to commit. */
        return db_txn_end(db, k);
}

struct digest_list {
        store_digest_cb cb;
        void *userdata;
};

static int digest_row(sqlite3_stmt *st, void *ctx) {
        const struct digest_list *l = ctx;
        const char *d = (const char *) sqlite3_column_text(st, 0);

        return d ? l->cb(d, l->userdata) : -ENOMEM;
}

int store_db_list_unreached_blobs(struct store_db *db, store_digest_cb cb, void *userdata) {
        struct digest_list l = { .cb = cb, .userdata = userdata };
        int k;
        DB_LOCK_OR_RETURN(db);
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;

        if (!cb)
                return -EINVAL;
        k = db_stmt(db, DB_UNREACHED, &st);
        return k < 0 ? k : db_for_each_row(st, digest_row, &l);
}
