/* SPDX-License-Identifier: MIT */
/* Opening the cache: the file made private, checked for trust (moved aside
 * and started afresh when it cannot be trusted), WAL, the schema migrated;
 * and closing it. */
#include "db-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "schema.h"

#define BUSY_TIMEOUT_MS 5000

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

/* Runs a PRAGMA answering with one text: 1 if the answer is want, 0 if it
 * is another or none, or -errno. */
static int pragma_answers(sqlite3 *h, const char *sql, const char *want) {
        sqlite3_stmt *st = NULL;
        const char *res;
        int rc, k;

        rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return store_sqlite_errno(rc);
        rc = sqlite3_step(st);
        res = rc == SQLITE_ROW ? (const char *) sqlite3_column_text(st, 0) : NULL;
        k = rc == SQLITE_ROW || rc == SQLITE_DONE ? res && strcmp(res, want) == 0 : store_sqlite_errno(rc);
        sqlite3_finalize(st);
        return k;
}

/* Decides whether an open file can be trusted: -EBADMSG if not. */
static int check_trust(sqlite3 *h) {
        int64_t app, version, n_objects;
        int k;

        k = pragma_answers(h, "PRAGMA quick_check(1)", "ok");
        if (k <= 0)
                return k < 0 ? k : -EBADMSG;
        k = store_sqlite_query_int(h, "PRAGMA application_id", &app);
        k = k ?: store_sqlite_query_int(h, "PRAGMA user_version", &version);
        k = k ?: store_sqlite_query_int(h, "SELECT count(*) FROM sqlite_master", &n_objects);
        if (k < 0)
                return k;
        if (version > STORE_SCHEMA_LATEST || version < 0)
                return -EBADMSG; /* written by a newer ckptfs: do not guess */
        if (app != STORE_APPLICATION_ID && !(app == 0 && version == 0 && n_objects == 0))
                return -EBADMSG; /* somebody else's database */
        return 0;
}

/* journal_mode answers with the mode in effect: make sure it is WAL. */
static int use_wal(sqlite3 *h) {
        int k = pragma_answers(h, "PRAGMA journal_mode=WAL", "wal");
        return k < 0 ? k : (k ? 0 : -EIO);
}

/* Brings the schema to the latest version, saying so when an existing
 * cache is upgraded. A version newer than ours is untrusted (-EBADMSG). */
static int migrate(sqlite3 *h, const char *path) {
        int from, k;

        k = store_schema_version(h, &from);
        k = k ?: store_schema_migrate(h, STORE_SCHEMA_LATEST);
        if (k == -ESTALE)
                return -EBADMSG;
        if (k >= 0 && from > 0 && from < STORE_SCHEMA_LATEST)
                log_info("Cache %s: schema upgraded from version %d to %d.", path, from, STORE_SCHEMA_LATEST);
        return k;
}

/* Opens and checks path. Returns 0, -EBADMSG (untrusted), or another -errno. */
static int connect_db(const char *path, sqlite3 **ret) {
        sqlite3 *h = NULL;
        int rc, k;

        k = prepare_file(path);
        if (k < 0)
                return k;
        /* FULLMUTEX too: sqlite's own lock under ours costs nothing and
         * keeps the connection safe should a statement outlive our lock. */
        rc = sqlite3_open_v2(path, &h,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
        if (rc != SQLITE_OK) {
                sqlite3_close(h);
                return store_sqlite_errno(rc);
        }
        sqlite3_extended_result_codes(h, 1);
        sqlite3_busy_timeout(h, BUSY_TIMEOUT_MS);

        k = check_trust(h);
        k = k ?: use_wal(h);
        k = k ?: store_sqlite_errno(sqlite3_exec(h, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL));
        k = k ?: migrate(h, path);
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

static int db_new(const char *path, struct store_db **ret) {
        pthread_mutexattr_t attr;
        _cleanup_free_ struct store_db *db = NULL;
        int k;

        db = calloc(1, sizeof(*db));
        if (!db)
                return -ENOMEM;
        db->path = strdup(path);
        if (!db->path)
                return -ENOMEM;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
        k = -pthread_mutex_init(&db->lock, &attr);
        pthread_mutexattr_destroy(&attr);
        if (k < 0) {
                free(db->path);
                return k;
        }
        *ret = TAKE_PTR(db);
        return 0;
}

int store_db_open(const char *path, struct store_db **ret_db) {
        struct store_db *db = NULL;
        bool existed;
        int k;

        if (!path || !*path || !ret_db)
                return -EINVAL;
        k = db_new(path, &db);
        if (k < 0)
                return k;
        existed = access(path, F_OK) == 0;
        k = ensure_parent_dir(path);
        if (k >= 0)
                k = connect_db(path, &db->h);
        if (k == -EBADMSG) {
                k = move_aside(path, &db->moved_aside);
                if (k >= 0) {
                        log_warning("Cache %s could not be trusted (damaged, not ours, or from a newer ckptfs): "
                                    "moved to %s, starting an empty one.", path, db->moved_aside);
                        k = connect_db(path, &db->h);
                }
        } else if (k >= 0 && !existed)
                log_info("Cache %s did not exist: starting an empty one.", path);
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
        db_stmts_finalize(db);
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
