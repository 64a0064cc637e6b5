/* SPDX-License-Identifier: MIT */
/* store/containerd/cri-tar.c over a local content root (no containerd): the
 * members of cri.tar from a CRIU tar (a directory, a symlink, a path given
 * twice, stats-dump) and a gzip layer, read back by python's tarfile. A
 * checkpoint without a config blob has no dumps (the dumps themselves:
 * tests/store/core/test-cri-dump.c, test-cri-tar.sh). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "cleanup.h"
#include "cri-tar.h"
#include "db.h"

#define CRIU_DIGEST "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define RW_DIGEST "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static void put_blob(const char *dir, const char *digest, const struct th_buf *b) {
        _cleanup_free_ char *path = NULL;
        assert_int_not_equal(asprintf(&path, "%s/blobs/sha256/%s", dir, digest + 7), -1);
        assert_int_equal(th_write_file(path, b->p, b->len), 0);
}

static void test_members(void **state) {
        (void) state;
        char *dir = th_mkdtemp();
        assert_int_equal(th_sh("mkdir -p '%s/blobs/sha256'", dir), 0);
        struct th_buf criu = {}, layer = {}, gz = {};
        uint8_t pages[9000];
        uint64_t seed = 3;
        th_fill(&seed, pages, sizeof(pages), 100);
        th_tar_header(&criu, &(struct th_hdr) { .name = "./", .type = '5', .mode = 0755 });
        th_tar_file(&criu, "./pages-1.img", "old", 3);
        th_tar_file(&criu, "inventory.img", "INV", 3);
        th_tar_header(&criu, &(struct th_hdr) { .name = "link", .type = '2', .linkname = "inventory.img" });
        th_tar_file(&criu, "pages-1.img", pages, sizeof(pages)); /* the last of a path wins */
        th_tar_file(&criu, "stats-dump", "STATS", 5);
        th_tar_end(&criu);
        th_tar_file(&layer, "rw-marker", "rw\n", 3);
        th_tar_end(&layer);
        th_gzip(&gz, layer.p, layer.len, 6);
        put_blob(dir, CRIU_DIGEST, &criu);
        put_blob(dir, RW_DIGEST, &gz);

        _cleanup_free_ char *dbpath = NULL;
        assert_int_not_equal(asprintf(&dbpath, "%s/cache.db", dir), -1);
        struct store_db *db;
        store_blobs *blobs;
        store_views *v;
        assert_int_equal(store_db_open(dbpath, &db), 0);
        assert_int_equal(store_blobs_new(NULL, dir, &blobs), 0);
        assert_int_equal(store_views_new(db, blobs, &v), 0);
        store_desc kids[] = {
                { .digest = (char *) CRIU_DIGEST, .mediatype = (char *) MT_CRIU, .size = criu.len },
                { .digest = (char *) RW_DIGEST, .mediatype = (char *) MT_LAYER_GZIP, .size = gz.len },
        };
        store_descs d = { .v = kids, .n = 2 };
        store_ckpt ck = { .ns = (char *) "ns", .name = (char *) "x:1", .created_ns = 1700000000123456789LL };
        struct store_reader *r;
        assert_int_equal(store_cri_tar_open(v, NULL, blobs, &ck, &d, &r), 0);
        uint8_t *all = malloc(r->size);
        assert_non_null(all);
        assert_int_equal(store_reader_read_exact(r, all, r->size, 0), 0);
        _cleanup_free_ char *out = NULL, *want = NULL;
        assert_int_not_equal(asprintf(&out, "%s/cri.tar", dir), -1);
        assert_int_equal(th_write_file(out, all, r->size), 0);
        assert_int_not_equal(asprintf(&want, "%s/pages", dir), -1);
        assert_int_equal(th_write_file(want, pages, sizeof(pages)), 0);
        assert_int_equal(th_sh("cd '%s' && python3 -c '\n"
                               "import tarfile, gzip\n"
                               "t = tarfile.open(\"cri.tar\")\n"
                               "m = t.getmembers()\n"
                               "assert [x.name for x in m] == [\"checkpoint\", \"checkpoint/inventory.img\", "
                               "\"checkpoint/pages-1.img\", \"checkpoint/stats-dump\", \"rootfs-diff.tar\", "
                               "\"stats-dump\"], [x.name for x in m]\n"
                               "assert all(x.mtime == 1700000000 for x in m)\n"
                               "assert m[0].mode == 0o700 and all(x.mode == 0o600 for x in m[1:])\n"
                               "assert t.extractfile(m[2]).read() == open(\"pages\", \"rb\").read()\n"
                               "assert t.extractfile(m[1]).read() == b\"INV\"\n"
                               "assert t.extractfile(m[5]).read() == b\"STATS\"\n"
                               "assert t.extractfile(m[4]).read() == open(\"blobs/sha256/%s\", \"rb\").read()\n"
                               "'",
                               dir, RW_DIGEST + 7),
                         0);
        free(all);
        store_reader_free(r);

        /* No CRIU tar: no archive. */
        store_descs only_rw = { .v = kids + 1, .n = 1 };
        assert_int_equal(store_cri_tar_open(v, NULL, blobs, &ck, &only_rw, &r), -ENOENT);
        store_views_free(v);
        store_blobs_free(blobs);
        store_db_close(db);
        th_buf_free(&criu);
        th_buf_free(&layer);
        th_buf_free(&gz);
        th_rm_rf(dir);
        free(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_members),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
