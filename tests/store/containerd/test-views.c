/* SPDX-License-Identifier: MIT */
/* store_views over a local content root (no containerd): a gzip layer's
 * indexes are built once and stored; a later store_views (a fresh mount)
 * reads from the stored ones, and heals a damaged window row by indexing
 * again. */
#include <errno.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "helpers.h"
#include "blob.h"
#include "cleanup.h"
#include "db.h"
#include "gzindex.h"
#include "views.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define N_FILES 24

struct layer {
        char *dir, *dbpath;
        uint8_t *files[N_FILES];
        size_t sizes[N_FILES];
        store_desc desc;
};

/* A 6 MiB tar.gz of mostly random files (so windows are stored raw). */
static void make_layer(struct layer *l) {
        struct th_buf tar = {}, gz = {};
        _cleanup_free_ char *blobs = NULL, *path = NULL;
        uint64_t seed = 77;

        l->dir = th_mkdtemp();
        assert_int_not_equal(asprintf(&blobs, "%s/blobs/sha256", l->dir), -1);
        assert_int_equal(th_sh("mkdir -p '%s'", blobs), 0);
        assert_int_not_equal(asprintf(&l->dbpath, "%s/cache.db", l->dir), -1);
        for (int i = 0; i < N_FILES; i++) {
                char name[32];
                l->sizes[i] = i == N_FILES - 1 ? 4096 : 256 << 10;
                l->files[i] = malloc(l->sizes[i]);
                th_fill(&seed, l->files[i], l->sizes[i], 90);
                snprintf(name, sizeof(name), "f%02d", i);
                th_tar_file(&tar, name, l->files[i], l->sizes[i]);
        }
        th_tar_end(&tar);
        th_gzip(&gz, tar.p, tar.len, 6);
        assert_int_not_equal(asprintf(&path, "%s/%s", blobs, DIGEST + 7), -1);
        assert_int_equal(th_write_file(path, gz.p, gz.len), 0);
        l->desc = (store_desc) { .digest = DIGEST, .mediatype = "application/vnd.oci.image.layer.v1.tar+gzip",
                                 .size = gz.len };
        th_buf_free(&tar);
        th_buf_free(&gz);
}

/* Opens db, blobs and views as a mount would, reads the last member, checks
 * it, and closes everything. Returns whether the gzip index in use was
 * damaged after the read (before any repair). */
static bool read_last(struct layer *l, int n_reads) {
        _cleanup_store_db_ struct store_db *db = NULL;
        store_blobs *blobs = NULL;
        store_views *v = NULL;
        const struct tar_index *tar;
        uint8_t buf[4096];
        bool damaged = false;

        assert_int_equal(store_db_open(l->dbpath, &db), 0);
        assert_int_equal(store_blobs_new(NULL, l->dir, &blobs), 0);
        assert_int_equal(store_views_new(db, blobs, &v), 0);
        assert_int_equal(store_views_tar(v, "ns", &l->desc, &tar), 0);
        assert_int_equal(tar->n, N_FILES);
        for (int i = 0; i < n_reads; i++) {
                _cleanup_store_reader_ struct store_reader *r = NULL;
                assert_int_equal(store_views_member_reader(v, "ns", &l->desc, &tar->members[N_FILES - 1], &r), 0);
                assert_int_equal(store_reader_read_exact(r, buf, sizeof(buf), 0), 0);
                assert_memory_equal(buf, l->files[N_FILES - 1], sizeof(buf));
        }
        store_views_free(v);
        store_blobs_free(blobs);
        /* What the next mount will find. */
        {
                _cleanup_gzindex_ struct gzindex *gz = NULL;
                _cleanup_store_reader_ struct store_reader *blob = NULL;
                _cleanup_free_ char *path = NULL;
                assert_int_equal(store_db_get_gzindex(db, DIGEST, &gz), 0);
                assert_int_not_equal(asprintf(&path, "%s/blobs/sha256/%s", l->dir, DIGEST + 7), -1);
                assert_int_equal(th_reader_open(path, &blob), 0);
                _cleanup_store_reader_ struct store_reader *rd = NULL;
                assert_int_equal(gzindex_reader_new(gz, blob, 0, &rd), 0);
                assert_int_equal(store_reader_pread(rd, buf, 1024, gzindex_usize(gz) - 2048), 1024);
                damaged = gzindex_damaged(gz);
        }
        return damaged;
}

static void test_views_gzip_cache(void **state) {
        struct layer l = {};
        sqlite3 *h;

        (void) state;
        make_layer(&l);
        /* First mount: indexes built and stored. */
        assert_false(read_last(&l, 2));
        /* Fresh mount: from the stored indexes. */
        assert_false(read_last(&l, 2));

        /* A damaged window row: the read is still right; the next open of a
         * member indexes the layer again and stores healthy rows. */
        assert_int_equal(sqlite3_open(l.dbpath, &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, "UPDATE gz_windows SET window = zeroblob(length(window)) "
                                         "WHERE point = (SELECT max(point) FROM gz_windows)",
                                      NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_changes(h), 1);
        sqlite3_close(h);
        assert_false(read_last(&l, 2));

        /* Damaged, read once only: the rows stay damaged until the next open. */
        assert_int_equal(sqlite3_open(l.dbpath, &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, "DELETE FROM gz_windows WHERE point = (SELECT max(point) FROM gz_windows)",
                                      NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(h);
        assert_true(read_last(&l, 1));
        assert_false(read_last(&l, 2));

        for (int i = 0; i < N_FILES; i++)
                free(l.files[i]);
        th_rm_rf(l.dir);
        free(l.dir);
        free(l.dbpath);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_views_gzip_cache),
        };
        return cmocka_run_group_tests_name("store-views", tests, NULL, NULL);
}
