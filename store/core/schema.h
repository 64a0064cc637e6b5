/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The database schema as an ordered list of migrations. The version of a
 * database is `PRAGMA user_version` (0 = empty); migration N takes a
 * database from version N-1 to N inside one transaction, so a crash leaves
 * either the old or the new version. `PRAGMA application_id` marks the file
 * as ours.
 *
 * Internal to store/core (db-*.c and tests); callers use db.h. The caller owns the
 * connection and must not use it from another thread meanwhile.
 */

#include <sqlite3.h>
#include <stdint.h>

#define STORE_SCHEMA_LATEST 4
#define STORE_APPLICATION_ID 0x636b7074 /* "ckpt" */

/* Reads user_version. Returns 0 or -errno (-EBADMSG for a corrupt file). */
int store_schema_version(sqlite3 *db, int *ret_version);

/* Applies migrations until the database is at version target
 * (1..STORE_SCHEMA_LATEST). Returns 0; -ESTALE if the database is already
 * newer than target; -EBADMSG if it is corrupt; other -errno. */
int store_schema_migrate(sqlite3 *db, int target);

/* Maps an sqlite result code to a negative errno. */
int store_sqlite_errno(int rc);
/* The first column of the first row of `sql` as an integer; -EBADMSG when
 * there is no row, else -errno from sqlite. */
int store_sqlite_query_int(sqlite3 *db, const char *sql, int64_t *ret);
