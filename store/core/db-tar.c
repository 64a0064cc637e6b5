/* SPDX-License-Identifier: MIT */
/* Tar member indexes in the cache: one marker row per indexed blob (an
 * empty archive has no members) and one row per member. */
#include "db-internal.h"

#include <errno.h>
#include <stdlib.h>

#include "cleanup.h"
#include "tarindex-internal.h"

/* The columns after blob_digest and idx, in the order of MEMBER_COLS. */
static const struct db_col member_cols[] = {
        DB_COL(TEXT_REQ, struct tar_member, path),
        DB_COL(INT, struct tar_member, type),
        DB_COL(U32, struct tar_member, mode),
        DB_COL(U64, struct tar_member, uid),
        DB_COL(U64, struct tar_member, gid),
        DB_COL(TEXT, struct tar_member, uname),
        DB_COL(TEXT, struct tar_member, gname),
        DB_COL(U64, struct tar_member, size),
        DB_COL(I64, struct tar_member, mtime_sec),
        DB_COL(U32, struct tar_member, mtime_nsec),
        DB_COL(U32, struct tar_member, devmajor),
        DB_COL(U32, struct tar_member, devminor),
        DB_COL(U32, struct tar_member, flags),
        DB_COL(U64, struct tar_member, header_offset),
        DB_COL(U64, struct tar_member, data_offset),
        DB_COL(TEXT, struct tar_member, link_target),
};
_Static_assert(sizeof(enum tar_type) == sizeof(int), "DB_COL_INT reads an int");

static int put_member(sqlite3_stmt *ins, const char *digest, size_t i, const struct tar_member *m) {
        int k;

        if ((unsigned) m->type >= _TAR_TYPE_MAX)
                return -EINVAL;
        k = db_bind_text(ins, 1, digest);
        k = k ?: db_bind_u64(ins, 2, i);
        k = k ?: db_bind_record(ins, 3, m, member_cols, ELEMENTSOF(member_cols));
        k = k ?: db_step_done(ins);
        sqlite3_reset(ins);
        return k;
}

int store_db_put_tar_members(struct store_db *db, const char *blob_digest,
                             const struct tar_member *members, size_t n) {
        int k;
        DB_LOCK_OR_RETURN(db);
        _cleanup_db_stmt_ sqlite3_stmt *del = NULL, *mark = NULL, *ins = NULL;

        if (!blob_digest || (!members && n > 0) || n > INT64_MAX)
                return -EINVAL;
        k = db_stmt_key(db, DB_TAR_MEMBERS_DELETE, blob_digest, &del);
        k = k ?: db_stmt_key(db, DB_TAR_MARK, blob_digest, &mark);
        k = k ?: db_stmt(db, DB_TAR_MEMBERS_PUT, &ins);
        k = k ?: db_bind_u64(mark, 2, n);
        k = k ?: db_txn_begin(db);
        if (k < 0)
                return k;
        k = db_step_done(del);
        k = k ?: db_step_done(mark);
        for (size_t i = 0; k >= 0 && i < n; i++)
                k = put_member(ins, blob_digest, i, &members[i]);
        return db_txn_end(db, k);
}

/* The member count the marker row of blob_digest records; -ENOENT if none. */
static int count_members(struct store_db *db, const char *blob_digest, int64_t *ret) {
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;
        int k;

        k = db_stmt_row(db, DB_TAR_COUNT, blob_digest, &st);
        if (k < 0)
                return k;
        *ret = sqlite3_column_int64(st, 0);
        return 0;
}

static int member_row(sqlite3_stmt *st, void *ctx) {
        struct tar_member m;

        /* Column 0 is idx: the rows come in its order. */
        db_record_from_row(st, 1, &m, member_cols, ELEMENTSOF(member_cols));
        return m.path ? tar_index_append(ctx, &m) : -ENOMEM;
}

int store_db_get_tar_members(struct store_db *db, const char *blob_digest,
                             struct tar_index **ret_index) {
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        int64_t n_members;
        int k;
        DB_LOCK_OR_RETURN(db);
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;

        if (!blob_digest || !ret_index)
                return -EINVAL;
        k = count_members(db, blob_digest, &n_members);
        if (k < 0)
                return k;
        k = tar_index_new((uint64_t) n_members, &idx);
        k = k ?: db_stmt_key(db, DB_TAR_MEMBERS_LIST, blob_digest, &st);
        if (k >= 0)
                k = db_for_each_row(st, member_row, idx);
        if (k < 0)
                return k;
        /* The marker and the rows are written in one transaction: a mismatch is damage. */
        if ((int64_t) idx->n != n_members)
                return -EBADMSG;
        k = tar_index_finish(idx);
        if (k < 0)
                return k;
        *ret_index = TAKE_PTR(idx);
        return 0;
}
