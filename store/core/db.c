/* SPDX-License-Identifier: MIT */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "schema.h"

#define BUSY_TIMEOUT_MS 5000

struct store_db {
        pthread_mutex_t lock; /* error-checking: re-entry gives EDEADLK */
        sqlite3 *h;
        char *path;
        char *moved_aside;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3_stmt *, sqlite3_finalize)
#define _cleanup_stmt_ _cleanup_(sqlite3_finalizep)

/* ---- locking ----------------------------------------------------------- */

static void unlockp(struct store_db **db) {
        if (*db)
                pthread_mutex_unlock(&(*db)->lock);
}

/* Holds db's mutex until the end of the enclosing scope. Declare statements
 * after it so that they are finalised before the mutex is released. */
#define LOCK_OR_RETURN(db)                                                      \
        _cleanup_(unlockp) struct store_db *_locked_ = NULL;                    \
        do {                                                                    \
                int _r_;                                                        \
                if (!(db))                                                      \
                        return -EINVAL;                                         \
                _r_ = pthread_mutex_lock(&(db)->lock);                          \
                if (_r_ != 0)                                                   \
                        return -_r_;                                            \
                _locked_ = (db);                                                \
        } while (0)

/* ---- small sqlite helpers ---------------------------------------------- */

static int prep(struct store_db *db, const char *sql, sqlite3_stmt **ret) {
        return store_sqlite_errno(sqlite3_prepare_v2(db->h, sql, -1, ret, NULL));
}

static int bind_text(sqlite3_stmt *st, int i, const char *s) {
        return store_sqlite_errno(s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)
                                    : sqlite3_bind_null(st, i));
}

static int bind_i64(sqlite3_stmt *st, int i, int64_t v) {
        return store_sqlite_errno(sqlite3_bind_int64(st, i, v));
}

/* sqlite integers are signed: larger unsigned values are refused, not wrapped. */
static int bind_u64(sqlite3_stmt *st, int i, uint64_t v) {
        if (v > INT64_MAX)
                return -EINVAL;
        return bind_i64(st, i, (int64_t) v);
}

static int step_done(sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        return rc == SQLITE_DONE ? 0 : (rc == SQLITE_ROW ? -EIO : store_sqlite_errno(rc));
}

/* Steps to the one row a query wants: 0, -ENOENT (none), -errno. */
static int step_row(sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        return rc == SQLITE_ROW ? 0 : (rc == SQLITE_DONE ? -ENOENT : store_sqlite_errno(rc));
}

static const char *col_text(sqlite3_stmt *st, int i) {
        return (const char *) sqlite3_column_text(st, i);
}

static uint64_t col_u64(sqlite3_stmt *st, int i) {
        int64_t v = sqlite3_column_int64(st, i);
        return v < 0 ? 0 : (uint64_t) v;
}

static int exec(struct store_db *db, const char *sql) {
        return store_sqlite_errno(sqlite3_exec(db->h, sql, NULL, NULL, NULL));
}

static int txn_begin(struct store_db *db) {
        return exec(db, "BEGIN IMMEDIATE");
}

/* Commits if k >= 0, otherwise rolls back; returns k or the commit error. */
static int txn_end(struct store_db *db, int k) {
        if (k >= 0) {
                int c = exec(db, "COMMIT");
                if (c >= 0)
                        return k;
                k = c;
        }
        (void) exec(db, "ROLLBACK");
        return k;
}

/* Copies a record of string pointers into one allocation (struct first,
 * strings after it) so that the caller frees it with free(). offs are the
 * offsets of the `const char *` members. */
static void *pack_record(const void *rec, size_t size, const size_t *offs, size_t n) {
        size_t total = size;
        char *out, *p;

        for (size_t i = 0; i < n; i++) {
                const char *s = *(const char *const *) ((const char *) rec + offs[i]);
                if (s)
                        total += strlen(s) + 1;
        }
        out = malloc(total);
        if (!out)
                return NULL;
        memcpy(out, rec, size);
        p = out + size;
        for (size_t i = 0; i < n; i++) {
                const char **slot = (const char **) (out + offs[i]);
                if (*slot) {
                        size_t l = strlen(*slot) + 1;
                        memcpy(p, *slot, l);
                        *slot = p;
                        p += l;
                }
        }
        return out;
}

/* Runs a prepared SELECT and feeds each row to fill+cb. Returns the count. */
static int for_each_row(sqlite3_stmt *st, int (*fill_and_call)(sqlite3_stmt *st, void *cb, void *ud),
                        void *cb, void *ud) {
        int n = 0, rc, k;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                k = fill_and_call(st, cb, ud);
                if (k < 0)
                        return k;
                if (n < INT_MAX)
                        n++;
        }
        return rc == SQLITE_DONE ? n : store_sqlite_errno(rc);
}

/* ---- opening ----------------------------------------------------------- */

/* mkdir -p with 0700 for the directories we create. */
static int ensure_parent_dir(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        for (char *p = dir + 1;; p++) {
                bool last = *p == '\0';
                if (*p == '/' || last) {
                        char saved = *p;
                        *p = '\0';
                        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                                return -errno;
                        *p = saved;
                }
                if (last)
                        return 0;
        }
}

/* Creates the file if needed and makes it private: sqlite creates -wal and
 * -shm with the mode of the database file. A non-empty file without the
 * sqlite header is refused here, before sqlite touches it or its WAL.
 * Returns 0, -EBADMSG (not a database), or -errno. */
static int prepare_file(const char *path) {
        static const char magic[16] = "SQLite format 3";
        _cleanup_close_ int fd = -1;
        char hdr[100];
        struct stat st;
        ssize_t n;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0)
                return -errno;
        if (st.st_size == 0)
                return 0;
        n = pread(fd, hdr, sizeof(hdr), 0);
        if (n < 0)
                return -errno;
        if ((size_t) n < sizeof(hdr) || memcmp(hdr, magic, sizeof(magic)) != 0)
                return -EBADMSG;
        return 0;
}

/* Decides whether an open file can be trusted: -EBADMSG if not. */
static int check_trust(sqlite3 *h) {
        sqlite3_stmt *st = NULL;
        int64_t app, version, n_objects;
        const char *res;
        int rc, k;

        rc = sqlite3_prepare_v2(h, "PRAGMA quick_check(1)", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return store_sqlite_errno(rc);
        rc = sqlite3_step(st);
        res = rc == SQLITE_ROW ? (const char *) sqlite3_column_text(st, 0) : NULL;
        k = rc == SQLITE_ROW ? (res && strcmp(res, "ok") == 0 ? 0 : -EBADMSG)
                             : (rc == SQLITE_DONE ? -EBADMSG : store_sqlite_errno(rc));
        sqlite3_finalize(st);
        if (k < 0)
                return k;

        k = store_sqlite_query_int(h, "PRAGMA application_id", &app);
        if (k >= 0)
                k = store_sqlite_query_int(h, "PRAGMA user_version", &version);
        if (k >= 0)
                k = store_sqlite_query_int(h, "SELECT count(*) FROM sqlite_master", &n_objects);
        if (k < 0)
                return k;
        if (version > STORE_SCHEMA_LATEST || version < 0)
                return -EBADMSG; /* written by a newer ckptfs: do not guess */
        if (app != STORE_APPLICATION_ID && !(app == 0 && version == 0 && n_objects == 0))
                return -EBADMSG; /* somebody else's database */
        return 0;
}

/* Opens and checks path. Returns 0, -EBADMSG (untrusted), or another -errno. */
static int connect_db(const char *path, sqlite3 **ret) {
        sqlite3 *h = NULL;
        int64_t wal;
        int rc, k;

        k = prepare_file(path);
        if (k < 0)
                return k;
        /* FULLMUTEX too: cleanup-finalised statements never race even if a
         * caller's scope ends after our own mutex was released. */
        rc = sqlite3_open_v2(path, &h,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
        if (rc != SQLITE_OK) {
                sqlite3_close(h);
                return store_sqlite_errno(rc);
        }
        sqlite3_extended_result_codes(h, 1);
        sqlite3_busy_timeout(h, BUSY_TIMEOUT_MS);

        k = check_trust(h);
        if (k >= 0) {
                /* journal_mode answers with the mode in effect: make sure it is WAL. */
                sqlite3_stmt *st = NULL;
                rc = sqlite3_prepare_v2(h, "PRAGMA journal_mode=WAL", -1, &st, NULL);
                if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
                        wal = sqlite3_column_text(st, 0) &&
                              strcmp((const char *) sqlite3_column_text(st, 0), "wal") == 0;
                else
                        wal = 0;
                k = rc != SQLITE_OK ? store_sqlite_errno(rc) : (wal ? 0 : -EIO);
                sqlite3_finalize(st);
        }
        if (k >= 0)
                k = store_sqlite_errno(sqlite3_exec(h, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL));
        if (k >= 0) {
                k = store_schema_migrate(h, STORE_SCHEMA_LATEST);
                if (k == -ESTALE)
                        k = -EBADMSG;
        }
        if (k < 0) {
                sqlite3_close(h);
                return k;
        }
        *ret = h;
        return 0;
}

static int rename_noreplace(const char *from, const char *to) {
        if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
                return 0;
        if (errno != EINVAL && errno != ENOSYS)
                return -errno;
        /* File systems without RENAME_NOREPLACE: check, then rename. */
        if (access(to, F_OK) == 0)
                return -EEXIST;
        return rename(from, to) < 0 ? -errno : 0;
}

/* Renames path to path.corrupt-<UTC time>[.N], with its journal files. */
static int move_aside(const char *path, char **ret_name) {
        static const char *const carry[] = { "-wal", "-journal" };
        char ts[32];
        struct tm tm;
        time_t now = time(NULL);
        _cleanup_free_ char *name = NULL;
        int k = -EEXIST;

        if (!gmtime_r(&now, &tm) || strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm) == 0)
                return -EINVAL;
        for (int i = 0; i < 100 && k == -EEXIST; i++) {
                free(name);
                name = NULL;
                if ((i == 0 ? asprintf(&name, "%s.corrupt-%s", path, ts)
                            : asprintf(&name, "%s.corrupt-%s.%d", path, ts, i)) < 0) {
                        name = NULL;
                        return -ENOMEM;
                }
                k = rename_noreplace(path, name);
        }
        if (k < 0)
                return k;
        /* A stale WAL must never be replayed into the new database. */
        for (size_t i = 0; i < ELEMENTSOF(carry); i++) {
                _cleanup_free_ char *from = NULL, *to = NULL;

                if (asprintf(&from, "%s%s", path, carry[i]) < 0 ||
                    asprintf(&to, "%s%s", name, carry[i]) < 0)
                        return -ENOMEM;
                if (rename(from, to) < 0 && errno != ENOENT && unlink(from) < 0 && errno != ENOENT)
                        return -errno;
        }
        {
                _cleanup_free_ char *shm = NULL;
                if (asprintf(&shm, "%s-shm", path) < 0)
                        return -ENOMEM;
                if (unlink(shm) < 0 && errno != ENOENT)
                        return -errno;
        }
        *ret_name = TAKE_PTR(name);
        return 0;
}

int store_db_open(const char *path, struct store_db **ret_db) {
        pthread_mutexattr_t attr;
        struct store_db *db;
        int k;

        if (!path || !*path || !ret_db)
                return -EINVAL;
        db = calloc(1, sizeof(*db));
        if (!db)
                return -ENOMEM;
        db->path = strdup(path);
        if (!db->path) {
                free(db);
                return -ENOMEM;
        }
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
        k = -pthread_mutex_init(&db->lock, &attr);
        pthread_mutexattr_destroy(&attr);
        if (k < 0) {
                free(db->path);
                free(db);
                return k;
        }

        k = ensure_parent_dir(path);
        if (k >= 0)
                k = connect_db(path, &db->h);
        if (k == -EBADMSG) {
                k = move_aside(path, &db->moved_aside);
                if (k >= 0)
                        k = connect_db(path, &db->h);
        }
        if (k < 0) {
                store_db_close(db);
                return k;
        }
        *ret_db = db;
        return 0;
}

void store_db_close(struct store_db *db) {
        if (!db)
                return;
        if (db->h)
                sqlite3_close(db->h);
        pthread_mutex_destroy(&db->lock);
        free(db->path);
        free(db->moved_aside);
        free(db);
}

const char *store_db_moved_aside(const struct store_db *db) {
        return db ? db->moved_aside : NULL;
}

int store_db_schema_version(struct store_db *db) {
        int v, k;
        LOCK_OR_RETURN(db);

        k = store_schema_version(db->h, &v);
        return k < 0 ? k : v;
}

/* ---- keyed tables (images, containers) --------------------------------- */

/* DELETE with one (b NULL) or two text keys; -ENOENT when nothing matched. */
static int delete_by(struct store_db *db, const char *sql, const char *a, const char *b) {
        int k;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (!a)
                return -EINVAL;
        k = prep(db, sql, &st);
        k = k ?: bind_text(st, 1, a);
        if (k >= 0 && b)
                k = bind_text(st, 2, b);
        k = k ?: step_done(st);
        if (k < 0)
                return k;
        return sqlite3_changes(db->h) > 0 ? 0 : -ENOENT;
}

/* images and containers are both rows keyed by (ns, key) with the same
 * operations; only the columns and their binding differ. */
struct keyed_table {
        const char *insert, *select_one, *select_ns, *select_all, *delete_ns, *delete_one;
        size_t rec_size;
        size_t ns_off;       /* offset of the record's `const char *ns` */
        const size_t *strs;  /* offsets of its strings, for pack_record() */
        size_t n_strs;
        int (*bind)(sqlite3_stmt *st, const void *rec); /* -EINVAL on a bad record */
        void (*from_row)(sqlite3_stmt *st, void *rec);
        int (*call)(void *cb, const void *rec, void *ud); /* the typed list callback */
};

/* Built at compile time so that every statement is a constant string. */
#define KEYED_SQL(table, key, cols, qs)                                                 \
        .insert = "INSERT OR REPLACE INTO " table " (" cols ") VALUES (" qs ")",        \
        .select_one = "SELECT " cols " FROM " table " WHERE ns = ? AND " key " = ?",    \
        .select_ns = "SELECT " cols " FROM " table " WHERE ns = ? ORDER BY " key,       \
        .select_all = "SELECT " cols " FROM " table " ORDER BY ns, " key,               \
        .delete_ns = "DELETE FROM " table " WHERE ns = ?",                              \
        .delete_one = "DELETE FROM " table " WHERE ns = ? AND " key " = ?"

/* Room for a record of any keyed table. */
union keyed_rec {
        struct store_image image;
        struct store_container container;
};

static int keyed_put(struct store_db *db, const struct keyed_table *t, const void *rec) {
        int k;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (!rec)
                return -EINVAL;
        k = prep(db, t->insert, &st);
        k = k ?: t->bind(st, rec);
        return k ?: step_done(st);
}

/* ret is NULL when the caller passed no result pointer (-EINVAL, after locking). */
static int keyed_get(struct store_db *db, const struct keyed_table *t, const char *ns,
                     const char *key, void **ret) {
        union keyed_rec rec;
        void *copy;
        int k, rc;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (!ns || !key || !ret)
                return -EINVAL;
        k = prep(db, t->select_one, &st);
        k = k ?: bind_text(st, 1, ns);
        k = k ?: bind_text(st, 2, key);
        if (k < 0)
                return k;
        if ((rc = step_row(st)) < 0)
                return rc;
        t->from_row(st, &rec);
        copy = pack_record(&rec, t->rec_size, t->strs, t->n_strs);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

struct keyed_list_ctx {
        const struct keyed_table *t;
        void *cb;
        void *ud;
};

static int keyed_row_cb(sqlite3_stmt *st, void *ctx_, void *unused) {
        const struct keyed_list_ctx *ctx = ctx_;
        union keyed_rec rec;

        (void) unused;
        ctx->t->from_row(st, &rec);
        return ctx->t->call(ctx->cb, &rec, ctx->ud);
}

static int keyed_list(struct store_db *db, const struct keyed_table *t, const char *ns, void *cb,
                      void *userdata) {
        struct keyed_list_ctx ctx = { .t = t, .cb = cb, .ud = userdata };
        int k;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (!cb)
                return -EINVAL;
        k = prep(db, ns ? t->select_ns : t->select_all, &st);
        if (k >= 0 && ns)
                k = bind_text(st, 1, ns);
        return k < 0 ? k : for_each_row(st, keyed_row_cb, &ctx, NULL);
}

static const void *keyed_at(const struct keyed_table *t, const void *recs, size_t i) {
        return (const char *) recs + i * t->rec_size;
}

static int keyed_replace(struct store_db *db, const struct keyed_table *t, const char *ns,
                         const void *recs, size_t n) {
        int k;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *del = NULL, *ins = NULL;

        if (!ns || (!recs && n > 0))
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                const char *rns = *(const char *const *) ((const char *) keyed_at(t, recs, i) + t->ns_off);
                if (!rns || strcmp(rns, ns) != 0)
                        return -EINVAL;
        }
        k = prep(db, t->delete_ns, &del);
        k = k ?: prep(db, t->insert, &ins);
        k = k ?: bind_text(del, 1, ns);
        k = k ?: txn_begin(db);
        if (k < 0)
                return k;
        k = step_done(del);
        for (size_t i = 0; k >= 0 && i < n; i++) {
                k = t->bind(ins, keyed_at(t, recs, i));
                k = k ?: step_done(ins);
                sqlite3_reset(ins);
        }
        return txn_end(db, k);
}

static int keyed_delete(struct store_db *db, const struct keyed_table *t, const char *ns,
                        const char *key) {
        LOCK_OR_RETURN(db);
        if (!ns || !key)
                return -EINVAL;
        return delete_by(db, t->delete_one, ns, key);
}

/* ---- images ------------------------------------------------------------ */

static int bind_image(sqlite3_stmt *st, const void *rec) {
        const struct store_image *img = rec;
        int k;

        if (!img->ns || !img->name || !img->target_digest || !img->target_mediatype)
                return -EINVAL;
        k = bind_text(st, 1, img->ns);
        k = k ?: bind_text(st, 2, img->name);
        k = k ?: bind_text(st, 3, img->target_digest);
        k = k ?: bind_text(st, 4, img->target_mediatype);
        k = k ?: bind_u64(st, 5, img->target_size);
        k = k ?: bind_i64(st, 6, img->created);
        k = k ?: bind_i64(st, 7, img->updated);
        k = k ?: bind_text(st, 8, img->labels_json);
        return k;
}

static void image_from_row(sqlite3_stmt *st, void *rec) {
        *(struct store_image *) rec = (struct store_image) {
                .ns = col_text(st, 0),
                .name = col_text(st, 1),
                .target_digest = col_text(st, 2),
                .target_mediatype = col_text(st, 3),
                .target_size = col_u64(st, 4),
                .created = sqlite3_column_int64(st, 5),
                .updated = sqlite3_column_int64(st, 6),
                .labels_json = col_text(st, 7),
        };
}

static int call_image_cb(void *cb, const void *rec, void *ud) {
        return ((store_image_cb) cb)(rec, ud);
}

static const size_t image_strs[] = {
        offsetof(struct store_image, ns), offsetof(struct store_image, name),
        offsetof(struct store_image, target_digest), offsetof(struct store_image, target_mediatype),
        offsetof(struct store_image, labels_json),
};

static const struct keyed_table image_table = {
        KEYED_SQL("images", "name",
                  "ns, name, target_digest, target_mediatype, target_size, created, updated, labels_json",
                  "?,?,?,?,?,?,?,?"),
        .rec_size = sizeof(struct store_image),
        .ns_off = offsetof(struct store_image, ns),
        .strs = image_strs,
        .n_strs = ELEMENTSOF(image_strs),
        .bind = bind_image,
        .from_row = image_from_row,
        .call = call_image_cb,
};

int store_db_put_image(struct store_db *db, const struct store_image *img) {
        return keyed_put(db, &image_table, img);
}

int store_db_get_image(struct store_db *db, const char *ns, const char *name,
                       struct store_image **ret_image) {
        void *p;
        int k = keyed_get(db, &image_table, ns, name, ret_image ? &p : NULL);

        if (k >= 0)
                *ret_image = p;
        return k;
}

int store_db_list_images(struct store_db *db, const char *ns, store_image_cb cb, void *userdata) {
        return keyed_list(db, &image_table, ns, (void *) cb, userdata);
}

int store_db_replace_images(struct store_db *db, const char *ns,
                            const struct store_image *images, size_t n) {
        return keyed_replace(db, &image_table, ns, images, n);
}

int store_db_delete_image(struct store_db *db, const char *ns, const char *name) {
        return keyed_delete(db, &image_table, ns, name);
}

/* ---- blobs ------------------------------------------------------------- */

int store_db_put_blob(struct store_db *db, const struct store_blob *blob) {
        int k;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (!blob || !blob->digest)
                return -EINVAL;
        k = prep(db, "INSERT OR REPLACE INTO blobs (digest, mediatype, size) VALUES (?,?,?)", &st);
        k = k ?: bind_text(st, 1, blob->digest);
        k = k ?: bind_text(st, 2, blob->mediatype);
        k = k ?: bind_u64(st, 3, blob->size);
        return k ?: step_done(st);
}

int store_db_get_blob(struct store_db *db, const char *digest, struct store_blob **ret_blob) {
        static const size_t strs[] = { offsetof(struct store_blob, digest),
                                       offsetof(struct store_blob, mediatype) };
        struct store_blob b, *copy;
        int k, rc;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (!digest || !ret_blob)
                return -EINVAL;
        k = prep(db, "SELECT digest, mediatype, size FROM blobs WHERE digest = ?", &st);
        k = k ?: bind_text(st, 1, digest);
        if (k < 0)
                return k;
        if ((rc = step_row(st)) < 0)
                return rc;
        b = (struct store_blob) { .digest = col_text(st, 0), .mediatype = col_text(st, 1),
                                  .size = col_u64(st, 2) };
        copy = pack_record(&b, sizeof(b), strs, ELEMENTSOF(strs));
        if (!copy)
                return -ENOMEM;
        *ret_blob = copy;
        return 0;
}

int store_db_delete_blob(struct store_db *db, const char *digest) {
        static const char *const derived[] = {
                "DELETE FROM tar_members WHERE blob_digest = ?",
                "DELETE FROM tar_indexes WHERE blob_digest = ?",
                "DELETE FROM gz_indexes WHERE blob_digest = ?",
                "DELETE FROM gz_windows WHERE blob_digest = ?",
                "DELETE FROM descriptors WHERE parent_digest = ?",
        };
        int k;
        LOCK_OR_RETURN(db);

        if (!digest)
                return -EINVAL;
        k = txn_begin(db);
        if (k < 0)
                return k;
        k = delete_by(db, "DELETE FROM blobs WHERE digest = ?", digest, NULL);
        for (size_t i = 0; i < ELEMENTSOF(derived) && (k >= 0 || k == -ENOENT); i++) {
                int r = delete_by(db, derived[i], digest, NULL);
                if (r >= 0)
                        k = 0; /* something existed */
                else if (r != -ENOENT)
                        k = r;
        }
        /* -ENOENT: nothing at all was known about the blob; nothing to commit. */
        return txn_end(db, k);
}

/* ---- descriptors ------------------------------------------------------- */

#define DESC_COLS "parent_digest, idx, digest, mediatype, size, annotations_json, platform_json"

int store_db_put_descriptors(struct store_db *db, const char *parent_digest,
                             const struct store_descriptor *descs, size_t n) {
        int k;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *del = NULL, *ins = NULL;

        if (!parent_digest || (!descs && n > 0) || n > UINT32_MAX)
                return -EINVAL;
        k = prep(db, "DELETE FROM descriptors WHERE parent_digest = ?", &del);
        k = k ?: prep(db, "INSERT INTO descriptors (" DESC_COLS ") VALUES (?,?,?,?,?,?,?)", &ins);
        k = k ?: bind_text(del, 1, parent_digest);
        k = k ?: txn_begin(db);
        if (k < 0)
                return k;
        k = step_done(del);
        for (size_t i = 0; k >= 0 && i < n; i++) {
                const struct store_descriptor *d = &descs[i];

                if (!d->digest || !d->mediatype) {
                        k = -EINVAL;
                        break;
                }
                k = bind_text(ins, 1, parent_digest);
                k = k ?: bind_i64(ins, 2, (int64_t) i);
                k = k ?: bind_text(ins, 3, d->digest);
                k = k ?: bind_text(ins, 4, d->mediatype);
                k = k ?: bind_u64(ins, 5, d->size);
                k = k ?: bind_text(ins, 6, d->annotations_json);
                k = k ?: bind_text(ins, 7, d->platform_json);
                k = k ?: step_done(ins);
                sqlite3_reset(ins);
        }
        return txn_end(db, k);
}

static int descriptor_row_cb(sqlite3_stmt *st, void *cb, void *ud) {
        struct store_descriptor d = {
                .parent_digest = col_text(st, 0),
                .idx = (uint32_t) sqlite3_column_int64(st, 1),
                .digest = col_text(st, 2),
                .mediatype = col_text(st, 3),
                .size = col_u64(st, 4),
                .annotations_json = col_text(st, 5),
                .platform_json = col_text(st, 6),
        };
        return ((store_descriptor_cb) cb)(&d, ud);
}

int store_db_list_descriptors(struct store_db *db, const char *parent_digest,
                              store_descriptor_cb cb, void *userdata) {
        int k;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (!parent_digest || !cb)
                return -EINVAL;
        k = prep(db, "SELECT " DESC_COLS " FROM descriptors WHERE parent_digest = ? ORDER BY idx", &st);
        k = k ?: bind_text(st, 1, parent_digest);
        return k < 0 ? k : for_each_row(st, descriptor_row_cb, (void *) cb, userdata);
}

/* ---- containers -------------------------------------------------------- */

static int bind_container(sqlite3_stmt *st, const void *rec) {
        const struct store_container *c = rec;
        int k;

        if (!c->ns || !c->id)
                return -EINVAL;
        k = bind_text(st, 1, c->ns);
        k = k ?: bind_text(st, 2, c->id);
        k = k ?: bind_text(st, 3, c->image);
        k = k ?: bind_text(st, 4, c->runtime);
        k = k ?: bind_text(st, 5, c->snapshotter);
        k = k ?: bind_text(st, 6, c->snapshot_key);
        k = k ?: bind_i64(st, 7, c->created);
        k = k ?: bind_i64(st, 8, c->updated);
        k = k ?: bind_text(st, 9, c->labels_json);
        return k;
}

static void container_from_row(sqlite3_stmt *st, void *rec) {
        *(struct store_container *) rec = (struct store_container) {
                .ns = col_text(st, 0),
                .id = col_text(st, 1),
                .image = col_text(st, 2),
                .runtime = col_text(st, 3),
                .snapshotter = col_text(st, 4),
                .snapshot_key = col_text(st, 5),
                .created = sqlite3_column_int64(st, 6),
                .updated = sqlite3_column_int64(st, 7),
                .labels_json = col_text(st, 8),
        };
}

static int call_container_cb(void *cb, const void *rec, void *ud) {
        return ((store_container_cb) cb)(rec, ud);
}

static const size_t container_strs[] = {
        offsetof(struct store_container, ns), offsetof(struct store_container, id),
        offsetof(struct store_container, image), offsetof(struct store_container, runtime),
        offsetof(struct store_container, snapshotter),
        offsetof(struct store_container, snapshot_key),
        offsetof(struct store_container, labels_json),
};

static const struct keyed_table container_table = {
        KEYED_SQL("containers", "id",
                  "ns, id, image, runtime, snapshotter, snapshot_key, created, updated, labels_json",
                  "?,?,?,?,?,?,?,?,?"),
        .rec_size = sizeof(struct store_container),
        .ns_off = offsetof(struct store_container, ns),
        .strs = container_strs,
        .n_strs = ELEMENTSOF(container_strs),
        .bind = bind_container,
        .from_row = container_from_row,
        .call = call_container_cb,
};

int store_db_put_container(struct store_db *db, const struct store_container *c) {
        return keyed_put(db, &container_table, c);
}

int store_db_get_container(struct store_db *db, const char *ns, const char *id,
                           struct store_container **ret_container) {
        void *p;
        int k = keyed_get(db, &container_table, ns, id, ret_container ? &p : NULL);

        if (k >= 0)
                *ret_container = p;
        return k;
}

int store_db_list_containers(struct store_db *db, const char *ns, store_container_cb cb,
                             void *userdata) {
        return keyed_list(db, &container_table, ns, (void *) cb, userdata);
}

int store_db_replace_containers(struct store_db *db, const char *ns,
                                const struct store_container *cs, size_t n) {
        return keyed_replace(db, &container_table, ns, cs, n);
}

int store_db_delete_container(struct store_db *db, const char *ns, const char *id) {
        return keyed_delete(db, &container_table, ns, id);
}

/* ---- tar members ------------------------------------------------------- */

#define MEMBER_COLS                                                                     \
        "idx, path, type, mode, uid, gid, uname, gname, size, mtime_sec, mtime_nsec, "  \
        "devmajor, devminor, flags, header_offset, data_offset, link_target"

static int bind_member(sqlite3_stmt *st, const char *digest, size_t i, const struct tar_member *m) {
        int k;

        if (!m->path || (unsigned) m->type >= _TAR_TYPE_MAX)
                return -EINVAL;
        k = bind_text(st, 1, digest);
        k = k ?: bind_u64(st, 2, i);
        k = k ?: bind_text(st, 3, m->path);
        k = k ?: bind_i64(st, 4, m->type);
        k = k ?: bind_i64(st, 5, m->mode);
        k = k ?: bind_u64(st, 6, m->uid);
        k = k ?: bind_u64(st, 7, m->gid);
        k = k ?: bind_text(st, 8, m->uname);
        k = k ?: bind_text(st, 9, m->gname);
        k = k ?: bind_u64(st, 10, m->size);
        k = k ?: bind_i64(st, 11, m->mtime_sec);
        k = k ?: bind_i64(st, 12, m->mtime_nsec);
        k = k ?: bind_i64(st, 13, m->devmajor);
        k = k ?: bind_i64(st, 14, m->devminor);
        k = k ?: bind_i64(st, 15, m->flags);
        k = k ?: bind_u64(st, 16, m->header_offset);
        k = k ?: bind_u64(st, 17, m->data_offset);
        k = k ?: bind_text(st, 18, m->link_target);
        return k;
}

/* A member whose strings point into the current row (column 0 is idx). */
static void member_from_row(sqlite3_stmt *st, struct tar_member *m) {
        *m = (struct tar_member) {
                .path = (char *) col_text(st, 1),
                .type = (enum tar_type) sqlite3_column_int(st, 2),
                .mode = (uint32_t) sqlite3_column_int64(st, 3),
                .uid = col_u64(st, 4),
                .gid = col_u64(st, 5),
                .uname = (char *) col_text(st, 6),
                .gname = (char *) col_text(st, 7),
                .size = col_u64(st, 8),
                .mtime_sec = sqlite3_column_int64(st, 9),
                .mtime_nsec = (uint32_t) sqlite3_column_int64(st, 10),
                .devmajor = (uint32_t) sqlite3_column_int64(st, 11),
                .devminor = (uint32_t) sqlite3_column_int64(st, 12),
                .flags = (uint32_t) sqlite3_column_int64(st, 13),
                .header_offset = col_u64(st, 14),
                .data_offset = col_u64(st, 15),
                .link_target = (char *) col_text(st, 16),
        };
}

int store_db_put_tar_members(struct store_db *db, const char *blob_digest,
                             const struct tar_member *members, size_t n) {
        int k;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *del = NULL, *mark = NULL, *ins = NULL;

        if (!blob_digest || (!members && n > 0) || n > INT64_MAX)
                return -EINVAL;
        k = prep(db, "DELETE FROM tar_members WHERE blob_digest = ?", &del);
        k = k ?: prep(db, "INSERT OR REPLACE INTO tar_indexes (blob_digest, n_members) VALUES (?,?)", &mark);
        k = k ?: prep(db, "INSERT INTO tar_members (blob_digest, " MEMBER_COLS ") "
                          "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &ins);
        k = k ?: bind_text(del, 1, blob_digest);
        k = k ?: bind_text(mark, 1, blob_digest);
        k = k ?: bind_u64(mark, 2, n);
        k = k ?: txn_begin(db);
        if (k < 0)
                return k;
        k = step_done(del);
        k = k ?: step_done(mark);
        for (size_t i = 0; k >= 0 && i < n; i++) {
                k = bind_member(ins, blob_digest, i, &members[i]);
                k = k ?: step_done(ins);
                sqlite3_reset(ins);
        }
        return txn_end(db, k);
}

int store_db_get_tar_members(struct store_db *db, const char *blob_digest,
                             struct tar_index **ret_index) {
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        int64_t n_members;
        int k, rc;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *count = NULL, *st = NULL;

        if (!blob_digest || !ret_index)
                return -EINVAL;
        k = prep(db, "SELECT n_members FROM tar_indexes WHERE blob_digest = ?", &count);
        k = k ?: bind_text(count, 1, blob_digest);
        if (k < 0)
                return k;
        if ((rc = step_row(count)) < 0)
                return rc;
        n_members = sqlite3_column_int64(count, 0);

        idx = calloc(1, sizeof(*idx));
        if (!idx)
                return -ENOMEM;
        if (n_members > 0 && (uint64_t) n_members < SIZE_MAX / sizeof(struct tar_member)) {
                idx->members = calloc((size_t) n_members, sizeof(struct tar_member));
                if (!idx->members)
                        return -ENOMEM;
                idx->n_allocated = (size_t) n_members;
        }
        k = prep(db, "SELECT " MEMBER_COLS " FROM tar_members WHERE blob_digest = ? ORDER BY idx", &st);
        k = k ?: bind_text(st, 1, blob_digest);
        if (k < 0)
                return k;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct tar_member m;

                member_from_row(st, &m);
                if (!m.path)
                        return -ENOMEM;
                k = tar_index_append(idx, &m);
                if (k < 0)
                        return k;
        }
        if (rc != SQLITE_DONE)
                return store_sqlite_errno(rc);
        /* The marker and the rows are written in one transaction: a mismatch is damage. */
        if ((int64_t) idx->n != n_members)
                return -EBADMSG;
        k = tar_index_finish(idx);
        if (k < 0)
                return k;
        *ret_index = TAKE_PTR(idx);
        return 0;
}

int store_db_find_tar_member(struct store_db *db, const char *blob_digest, const char *path,
                             struct tar_member *ret_member) {
        struct tar_member m;
        int k, rc;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (!blob_digest || !path || !ret_member)
                return -EINVAL;
        k = prep(db, "SELECT " MEMBER_COLS " FROM tar_members WHERE blob_digest = ? AND path = ? "
                     "ORDER BY idx DESC LIMIT 1", &st);
        k = k ?: bind_text(st, 1, blob_digest);
        k = k ?: bind_text(st, 2, path);
        if (k < 0)
                return k;
        if ((rc = step_row(st)) < 0)
                return rc;
        member_from_row(st, &m);
        if (!m.path)
                return -ENOMEM;
        return tar_member_copy(&m, ret_member);
}

/* Deletes an index of blob_digest stored as one row saying it exists
 * (-ENOENT if none) plus any number of rows, in one transaction. Called with
 * the lock held. */
static int delete_index(struct store_db *db, const char *marker_sql, const char *rows_sql,
                        const char *blob_digest) {
        int k;

        if (!blob_digest)
                return -EINVAL;
        k = txn_begin(db);
        if (k < 0)
                return k;
        k = delete_by(db, marker_sql, blob_digest, NULL);
        if (k >= 0) {
                int r = delete_by(db, rows_sql, blob_digest, NULL);
                if (r < 0 && r != -ENOENT)
                        k = r;
        }
        return txn_end(db, k);
}

int store_db_delete_tar_members(struct store_db *db, const char *blob_digest) {
        LOCK_OR_RETURN(db);
        return delete_index(db, "DELETE FROM tar_indexes WHERE blob_digest = ?",
                            "DELETE FROM tar_members WHERE blob_digest = ?", blob_digest);
}

/* ---- gzip indexes ------------------------------------------------------ */

/* gzindex_window_put over a prepared insert whose ?1 is the digest. */
static int put_window(void *userdata, uint32_t point, const void *data, size_t len) {
        sqlite3_stmt *ins = userdata;
        int k;

        if (len > INT_MAX)
                return -E2BIG;
        k = bind_i64(ins, 2, point);
        k = k ?: store_sqlite_errno(sqlite3_bind_blob(ins, 3, data, (int) len, SQLITE_STATIC));
        k = k ?: step_done(ins);
        sqlite3_reset(ins);
        return k;
}

int store_db_put_gzindex(struct store_db *db, const char *blob_digest, const struct gzindex *idx) {
        _cleanup_free_ void *buf = NULL;
        size_t len = 0;
        int k;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *del = NULL, *ins = NULL, *st = NULL;

        if (!blob_digest || !idx)
                return -EINVAL;
        k = prep(db, "DELETE FROM gz_windows WHERE blob_digest = ?", &del);
        k = k ?: prep(db, "INSERT INTO gz_windows (blob_digest, point, window) VALUES (?,?,?)", &ins);
        k = k ?: prep(db, "INSERT OR REPLACE INTO gz_indexes (blob_digest, usize, points) VALUES (?,?,?)", &st);
        k = k ?: bind_text(del, 1, blob_digest);
        k = k ?: bind_text(ins, 1, blob_digest);
        k = k ?: bind_text(st, 1, blob_digest);
        k = k ?: bind_u64(st, 2, gzindex_usize(idx));
        k = k ?: txn_begin(db);
        if (k < 0)
                return k;
        k = step_done(del);
        k = k ?: gzindex_serialize(idx, put_window, ins, &buf, &len);
        if (k >= 0 && len > INT_MAX)
                k = -E2BIG;
        k = k ?: store_sqlite_errno(sqlite3_bind_blob(st, 3, buf, (int) len, SQLITE_STATIC));
        k = k ?: step_done(st);
        return txn_end(db, k);
}

/* The loader of an index from store_db_get_gzindex(). */
struct window_loader {
        struct store_db *db;
        char digest[];
};

static int load_window(void *userdata, uint32_t point, void *buf, size_t len) {
        struct window_loader *l = userdata;
        const void *data;
        int k, rc;
        LOCK_OR_RETURN(l->db);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        k = prep(l->db, "SELECT window FROM gz_windows WHERE blob_digest = ? AND point = ?", &st);
        k = k ?: bind_text(st, 1, l->digest);
        k = k ?: bind_i64(st, 2, point);
        if (k < 0)
                return k;
        if ((rc = step_row(st)) < 0)
                return rc;
        data = sqlite3_column_blob(st, 0);
        if ((size_t) sqlite3_column_bytes(st, 0) != len)
                return -EBADMSG;
        if (len > 0 && !data)
                return -ENOMEM;
        memcpy(buf, data, len);
        return 0;
}

int store_db_get_gzindex(struct store_db *db, const char *blob_digest, struct gzindex **ret_index) {
        _cleanup_gzindex_ struct gzindex *idx = NULL;
        _cleanup_free_ struct window_loader *l = NULL;
        const void *points;
        size_t dlen;
        int k, rc, len;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (!blob_digest || !ret_index)
                return -EINVAL;
        /* Only the access points: each window is loaded when a read needs it. */
        k = prep(db, "SELECT usize, points FROM gz_indexes WHERE blob_digest = ?", &st);
        k = k ?: bind_text(st, 1, blob_digest);
        if (k < 0)
                return k;
        if ((rc = step_row(st)) < 0)
                return rc;
        points = sqlite3_column_blob(st, 1);
        len = sqlite3_column_bytes(st, 1);
        if (!points || len <= 0)
                return -EBADMSG;
        dlen = strlen(blob_digest) + 1;
        l = malloc(sizeof(*l) + dlen);
        if (!l)
                return -ENOMEM;
        l->db = db;
        memcpy(l->digest, blob_digest, dlen);
        k = gzindex_deserialize(points, (size_t) len,
                                &(struct gzindex_loader) { .load = load_window, .free = free, .userdata = l },
                                &idx);
        if (k < 0)
                return k;
        l = NULL; /* owned by idx now */
        if ((int64_t) gzindex_usize(idx) != sqlite3_column_int64(st, 0))
                return -EBADMSG;
        *ret_index = TAKE_PTR(idx);
        return 0;
}

int store_db_delete_gzindex(struct store_db *db, const char *blob_digest) {
        LOCK_OR_RETURN(db);
        return delete_index(db, "DELETE FROM gz_indexes WHERE blob_digest = ?",
                            "DELETE FROM gz_windows WHERE blob_digest = ?", blob_digest);
}

/* ---- garbage collection ------------------------------------------------ */

static int digest_row_cb(sqlite3_stmt *st, void *cb, void *ud) {
        const char *d = col_text(st, 0);
        return d ? ((store_digest_cb) cb)(d, ud) : -ENOMEM;
}

int store_db_list_unreached_blobs(struct store_db *db, store_digest_cb cb, void *userdata) {
        /* Reached: image targets, then the children recorded for what is
         * reached. Candidates: every digest some row is about. */
        static const char sql[] =
                "WITH RECURSIVE reached(digest) AS ("
                "  SELECT target_digest FROM images"
                "  UNION SELECT d.digest FROM descriptors d JOIN reached r ON d.parent_digest = r.digest)"
                " SELECT digest FROM ("
                "  SELECT digest FROM blobs"
                "  UNION SELECT parent_digest FROM descriptors"
                "  UNION SELECT blob_digest FROM tar_indexes"
                "  UNION SELECT blob_digest FROM gz_indexes)"
                " WHERE digest NOT IN (SELECT digest FROM reached) ORDER BY digest";
        int k;
        LOCK_OR_RETURN(db);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (!cb)
                return -EINVAL;
        k = prep(db, sql, &st);
        return k < 0 ? k : for_each_row(st, digest_row_cb, (void *) cb, userdata);
}
