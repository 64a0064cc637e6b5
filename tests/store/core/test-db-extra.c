/* SPDX-License-Identifier: MIT */
/* store/core: blob_extras, the opaque data other libraries derive from a
 * blob (store/criu's memory index per process): put, get, replace, and
 * going with the blob (store_db_delete_blob, the unreached list). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "db.h"
#include "helpers.h"

static int count_unreached(const char *digest, void *userdata) {
        int *n = userdata;
        (*n) += !strcmp(digest, "sha256:aa");
        return 0;
}

static void test_extras(void **state) {
        (void) state;
        _cleanup_free_ char *dir = th_mkdtemp(), *path = NULL;
        assert_true(asprintf(&path, "%s/ckptfs.db", dir) > 0);
        struct store_db *db = NULL;
        assert_int_equal(store_db_open(path, &db), 0);
        void *data = NULL;
        size_t len = 0;
        assert_int_equal(store_db_get_extra(db, "sha256:aa", "criu-mem/1", &data, &len), -ENOENT);
        assert_int_equal(store_db_put_extra(db, "sha256:aa", "criu-mem/1", "one\0two", 7), 0);
        assert_int_equal(store_db_put_extra(db, "sha256:aa", "criu-mem/2", "", 0), 0);
        assert_int_equal(store_db_get_extra(db, "sha256:aa", "criu-mem/1", &data, &len), 0);
        assert_int_equal(len, 7);
        assert_memory_equal(data, "one\0two", 7);
        free(data);
        assert_int_equal(store_db_get_extra(db, "sha256:aa", "criu-mem/2", &data, &len), 0);
        assert_int_equal(len, 0);
        free(data);
        assert_int_equal(store_db_put_extra(db, "sha256:aa", "criu-mem/1", "new", 3), 0);   /* replaces */
        assert_int_equal(store_db_get_extra(db, "sha256:aa", "criu-mem/1", &data, &len), 0);
        assert_int_equal(len, 3);
        free(data);
        assert_int_equal(store_db_get_extra(db, "sha256:bb", "criu-mem/1", &data, &len), -ENOENT);
        assert_int_equal(store_db_put_extra(db, NULL, "x", "", 0), -EINVAL);
        /* No image reaches the blob: it is listed, and deleting it takes the extras. */
        int n = 0;
        assert_int_equal(store_db_list_unreached_blobs(db, count_unreached, &n), 1);
        assert_int_equal(n, 1);
        assert_int_equal(store_db_delete_blob(db, "sha256:aa"), 0);
        assert_int_equal(store_db_get_extra(db, "sha256:aa", "criu-mem/2", &data, &len), -ENOENT);
        store_db_close(db);
        /* Kept across opens. */
        assert_int_equal(store_db_open(path, &db), 0);
        assert_int_equal(store_db_put_extra(db, "sha256:cc", "k", "v", 1), 0);
        store_db_close(db);
        assert_int_equal(store_db_open(path, &db), 0);
        assert_int_equal(store_db_get_extra(db, "sha256:cc", "k", &data, &len), 0);
        assert_int_equal(len, 1);
        free(data);
        store_db_close(db);
        th_rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_extras),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
