/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "cleanup.h"
#include "reader.h"
#include "tarindex-internal.h"

/* Indexes an in-memory archive. */
static int index_mem(const struct th_buf *tar, struct tar_index **ret) {
        _cleanup_store_reader_ struct store_reader *r = NULL;
        int k = th_reader_from_memory(tar->p, tar->len, NULL, &r);
        if (k < 0)
                return k;
        return tarindex_build(r, ret);
}

static void assert_data(const struct th_buf *tar, const struct tar_member *m, const void *want, size_t len) {
        assert_int_equal(m->size, len);
        assert_true(m->data_offset + len <= tar->len);
        assert_memory_equal(tar->p + m->data_offset, want, len);
}

static void test_ustar_types(void **state) {
        struct th_buf tar = {};
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        const struct tar_member *m;
        char prefix[156], name[101];

        (void) state;
        th_tar_header(&tar, &(struct th_hdr) { .name = "./", .type = '5', .mode = 0755, .mtime = 1 });
        th_tar_header(&tar, &(struct th_hdr) { .name = "./etc/", .type = '5', .mode = 040755 });
        th_tar_header(&tar, &(struct th_hdr) { .name = "./etc/passwd", .size = 5, .mode = 0100640,
                                               .uid = 1000, .gid = 100, .mtime = 1700000000,
                                               .uname = "alice", .gname = "users" });
        th_tar_data(&tar, "root\n", 5);
        th_tar_header(&tar, &(struct th_hdr) { .name = "etc/link", .type = '2', .linkname = "../x/y" });
        th_tar_header(&tar, &(struct th_hdr) { .name = "etc/hard", .type = '1', .linkname = "./etc/passwd" });
        th_tar_header(&tar, &(struct th_hdr) { .name = "dev/null", .type = '3', .devmajor = 1, .devminor = 3,
                                               .mode = 0666 });
        th_tar_header(&tar, &(struct th_hdr) { .name = "dev/sda", .type = '4', .devmajor = 8, .devminor = 0 });
        th_tar_header(&tar, &(struct th_hdr) { .name = "run/fifo", .type = '6', .mode = 04755 });
        th_tar_header(&tar, &(struct th_hdr) { .name = "old/contig", .type = '7', .size = 3 });
        th_tar_data(&tar, "abc", 3);
        /* A 250-byte path split over prefix and name. */
        memset(prefix, 'p', 150);
        prefix[150] = '\0';
        memset(name, 'n', 99);
        name[99] = '\0';
        th_tar_header(&tar, &(struct th_hdr) { .name = name, .prefix = prefix, .size = 1 });
        th_tar_data(&tar, "z", 1);
        th_tar_end(&tar);

        assert_int_equal(index_mem(&tar, &idx), 0);
        assert_int_equal(idx->n, 10);

        m = &idx->members[0];
        assert_string_equal(m->path, "");
        assert_int_equal(m->type, TAR_TYPE_DIR);
        assert_int_equal(m->mode, 0755);
        assert_int_equal(m->mtime_sec, 1);
        assert_int_equal(m->header_offset, 0);
        assert_string_equal(idx->members[1].path, "etc");
        assert_int_equal(idx->members[1].mode, 0755);

        m = tar_index_find(idx, "etc/passwd");
        assert_non_null(m);
        assert_int_equal(m->type, TAR_TYPE_REG);
        assert_int_equal(m->mode, 0640);
        assert_int_equal(m->uid, 1000);
        assert_int_equal(m->gid, 100);
        assert_int_equal(m->mtime_sec, 1700000000);
        assert_int_equal(m->mtime_nsec, 0);
        assert_string_equal(m->uname, "alice");
        assert_string_equal(m->gname, "users");
        assert_int_equal(m->header_offset, 1024);
        assert_int_equal(m->data_offset, 1536);
        assert_data(&tar, m, "root\n", 5);

        m = tar_index_find(idx, "etc/link");
        assert_int_equal(m->type, TAR_TYPE_SYMLINK);
        assert_string_equal(m->link_target, "../x/y"); /* symlink targets are verbatim */
        assert_int_equal(m->size, 0);
        m = tar_index_find(idx, "etc/hard");
        assert_int_equal(m->type, TAR_TYPE_HARDLINK);
        assert_string_equal(m->link_target, "etc/passwd"); /* hardlink targets are normalised */
        m = tar_index_find(idx, "dev/null");
        assert_int_equal(m->type, TAR_TYPE_CHAR);
        assert_int_equal(m->devmajor, 1);
        assert_int_equal(m->devminor, 3);
        m = tar_index_find(idx, "dev/sda");
        assert_int_equal(m->type, TAR_TYPE_BLOCK);
        assert_int_equal(m->devmajor, 8);
        m = tar_index_find(idx, "run/fifo");
        assert_int_equal(m->type, TAR_TYPE_FIFO);
        assert_int_equal(m->mode, 04755);
        assert_null(m->uname);
        m = tar_index_find(idx, "old/contig");
        assert_int_equal(m->type, TAR_TYPE_REG);
        assert_data(&tar, m, "abc", 3);

        m = &idx->members[9];
        assert_int_equal(strlen(m->path), 250);
        assert_memory_equal(m->path, prefix, 150);
        assert_int_equal(m->path[150], '/');
        assert_string_equal(m->path + 151, name);
        assert_data(&tar, m, "z", 1);
        th_buf_free(&tar);
}

static void test_pax(void **state) {
        struct th_buf tar = {};
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        char longpath[400], longlink[300];
        const struct tar_member *m;

        (void) state;
        for (int i = 0; i < 399; i++)
                longpath[i] = i % 50 == 49 ? '/' : 'a' + i % 26;
        longpath[399] = '\0';
        memset(longlink, 'L', 299);
        longlink[299] = '\0';

        th_tar_pax(&tar, true, (const char *const[]) { "path", "global/ignored", "uid", "7", NULL }, NULL);
        th_tar_pax(&tar, false, (const char *const[]) {
                "path", longpath, "mtime", "1700000000.123456789", "uid", "3000000", "gid", "4000000",
                "uname", "a-very-long-user-name-that-does-not-fit-in-32-bytes", "gname", "g",
                "atime", "1.5", "SCHILY.xattr.user.x", "y", "size", "6", NULL }, NULL);
        /* The ustar size field says 2; pax says 6 and wins. */
        th_tar_header(&tar, &(struct th_hdr) { .name = "short-name", .size = 2, .uid = 1 });
        th_tar_data(&tar, "sixsix", 6);
        th_tar_pax(&tar, false, (const char *const[]) { "linkpath", longlink, "mtime", "-1.25", NULL }, NULL);
        th_tar_header(&tar, &(struct th_hdr) { .name = "sym", .type = '2', .linkname = "short" });
        /* An empty pax value unsets the key: the ustar name is used. */
        th_tar_pax(&tar, false, (const char *const[]) { "path", "ignored", "path", "", "mtime", "5", NULL }, NULL);
        th_tar_header(&tar, &(struct th_hdr) { .name = "plain", .size = 1, .mtime = 9 });
        th_tar_data(&tar, "p", 1);
        th_tar_end(&tar);

        assert_int_equal(index_mem(&tar, &idx), 0);
        assert_int_equal(idx->n, 3);
        m = &idx->members[0];
        assert_string_equal(m->path, longpath);
        assert_int_equal(m->mtime_sec, 1700000000);
        assert_int_equal(m->mtime_nsec, 123456789);
        assert_int_equal(m->uid, 3000000);
        assert_int_equal(m->gid, 4000000);
        assert_string_equal(m->uname, "a-very-long-user-name-that-does-not-fit-in-32-bytes");
        assert_string_equal(m->gname, "g");
        assert_int_equal(m->header_offset, 1024); /* the global header is not part of it */
        assert_data(&tar, m, "sixsix", 6);

        m = &idx->members[1];
        assert_string_equal(m->path, "sym");
        assert_string_equal(m->link_target, longlink);
        assert_int_equal(m->mtime_sec, -2);
        assert_int_equal(m->mtime_nsec, 750000000);

        m = &idx->members[2];
        assert_string_equal(m->path, "plain");
        assert_int_equal(m->mtime_sec, 5);
        assert_data(&tar, m, "p", 1);
        th_buf_free(&tar);
}

static void test_gnu_longnames(void **state) {
        struct th_buf tar = {};
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        char longname[600], longlink[200];

        (void) state;
        for (int i = 0; i < 599; i++)
                longname[i] = i % 100 == 99 ? '/' : 'g';
        longname[599] = '\0';
        memset(longlink, 'k', 199);
        longlink[199] = '\0';
        th_tar_gnu_long(&tar, 'L', longname);
        th_tar_header(&tar, &(struct th_hdr) { .name = "truncated-name", .size = 4, .gnu_magic = true,
                                               .uname = "u", .gname = "g" });
        th_tar_data(&tar, "gnu!", 4);
        th_tar_gnu_long(&tar, 'K', longlink);
        th_tar_gnu_long(&tar, 'L', "dir/hardlink");
        th_tar_header(&tar, &(struct th_hdr) { .name = "x", .type = '1', .linkname = "y", .gnu_magic = true });
        th_tar_end(&tar);

        assert_int_equal(index_mem(&tar, &idx), 0);
        assert_int_equal(idx->n, 2);
        assert_string_equal(idx->members[0].path, longname);
        assert_string_equal(idx->members[0].uname, "u");
        assert_int_equal(idx->members[0].header_offset, 0);
        assert_data(&tar, &idx->members[0], "gnu!", 4);
        assert_string_equal(idx->members[1].path, "dir/hardlink");
        assert_string_equal(idx->members[1].link_target, longlink);
        th_buf_free(&tar);
}

static void test_base256(void **state) {
        struct th_buf tar = {};
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        uint8_t data[1000];

        (void) state;
        memset(data, 'B', sizeof(data));
        th_tar_header(&tar, &(struct th_hdr) { .name = "big", .size = sizeof(data), .b256_size = true,
                                               .uid = 0x7fffffff, .b256_uid = true, .mtime = -86400 });
        th_tar_data(&tar, data, sizeof(data));
        th_tar_header(&tar, &(struct th_hdr) { .name = "future", .mtime = 0x1ffffffffffll, .b256_mtime = true });
        th_tar_end(&tar);

        assert_int_equal(index_mem(&tar, &idx), 0);
        assert_int_equal(idx->n, 2);
        assert_int_equal(idx->members[0].uid, 0x7fffffff);
        assert_int_equal(idx->members[0].mtime_sec, -86400);
        assert_data(&tar, &idx->members[0], data, sizeof(data));
        assert_int_equal(idx->members[1].mtime_sec, 0x1ffffffffffll);
        th_buf_free(&tar);

        /* A negative base-256 size is corrupt. */
        th_tar_header(&tar, &(struct th_hdr) { .name = "neg" });
        memset(tar.p + 124, 0xff, 12);
        th_tar_fix_checksum(tar.p);
        th_tar_end(&tar);
        assert_int_equal(index_mem(&tar, &idx), -EBADMSG);
        th_buf_free(&tar);
}

static void test_whiteouts_and_v7(void **state) {
        struct th_buf tar = {};
        _cleanup_tar_index_ struct tar_index *idx = NULL;

        (void) state;
        th_tar_header(&tar, &(struct th_hdr) { .name = "a/.wh.deleted" });
        th_tar_header(&tar, &(struct th_hdr) { .name = "b/.wh..wh..opq" });
        th_tar_header(&tar, &(struct th_hdr) { .name = "c/not.wh.x" });
        th_tar_header(&tar, &(struct th_hdr) { .name = "olddir/", .v7 = true, .uname = "ignored" });
        th_tar_header(&tar, &(struct th_hdr) { .name = "/abs//./path/", .type = '5' });
        th_tar_end(&tar);
        assert_int_equal(index_mem(&tar, &idx), 0);
        assert_int_equal(idx->n, 5);
        assert_string_equal(idx->members[0].path, "a/.wh.deleted");
        assert_int_equal(idx->members[0].flags, TAR_MEMBER_WHITEOUT);
        assert_int_equal(idx->members[1].flags, TAR_MEMBER_OPAQUE);
        assert_int_equal(idx->members[2].flags, 0);
        assert_int_equal(idx->members[3].type, TAR_TYPE_DIR);
        assert_string_equal(idx->members[3].path, "olddir");
        assert_null(idx->members[3].uname);
        assert_string_equal(idx->members[4].path, "abs/path");
        th_buf_free(&tar);
}

/* Lookups: the last duplicate wins, finished or not. */
static void test_find(void **state) {
        struct th_buf tar = {};
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        static const char *const names[] = { "b", "a/x", "c", "a", "b", "a/x", "./b", "z" };
        struct tar_member extra = { .path = (char *) "b", .type = TAR_TYPE_FIFO };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                th_tar_header(&tar, &(struct th_hdr) { .name = names[i], .mtime = (int64_t) i });
        th_tar_end(&tar);
        assert_int_equal(index_mem(&tar, &idx), 0);
        assert_non_null(idx->tree);
        assert_int_equal(tar_index_find(idx, "b")->mtime_sec, 6);
        assert_int_equal(tar_index_find(idx, "a/x")->mtime_sec, 5);
        assert_int_equal(tar_index_find(idx, "a")->mtime_sec, 3);
        assert_int_equal(tar_index_find(idx, "z")->mtime_sec, 7);
        assert_null(tar_index_find(idx, ""));
        assert_null(tar_index_find(idx, "a/"));
        assert_null(tar_index_find(idx, "zz"));
        assert_null(tar_index_find(idx, "0"));
        /* Appending unfinishes; lookups stay right (linear) and finish again. */
        assert_int_equal(tar_index_append(idx, &extra), 0);
        assert_null(idx->tree);
        assert_int_equal(tar_index_find(idx, "b")->type, TAR_TYPE_FIFO);
        assert_int_equal(tar_index_finish(idx), 0);
        assert_int_equal(tar_index_find(idx, "b")->type, TAR_TYPE_FIFO);
        assert_int_equal(tar_index_find(idx, "c")->mtime_sec, 2);
        th_buf_free(&tar);

        /* The root may only be a directory. */
        th_tar_header(&tar, &(struct th_hdr) { .name = ".", .type = '2', .linkname = "/" });
        th_tar_end(&tar);
        tar_index_free(TAKE_PTR(idx));
        assert_int_equal(index_mem(&tar, &idx), -EINVAL);
        th_buf_free(&tar);
}

static void test_normalize(void **state) {
        static const struct {
                const char *in, *out;
                int ret;
        } cases[] = {
                { "a", "a", 0 },           { "./a/b", "a/b", 0 },    { "/a//b/", "a/b", 0 },
                { ".", "", 0 },            { "./", "", 0 },          { "/", "", 0 },
                { "a/./b/.", "a/b", 0 },   { "..", NULL, -EINVAL },  { "a/../b", NULL, -EINVAL },
                { "a/..", NULL, -EINVAL }, { "", NULL, -EINVAL },    { "..a/b..", "..a/b..", 0 },
                { ".wh..wh..opq", ".wh..wh..opq", 0 },
        };
        char longc[300];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *out = NULL;
                assert_int_equal(tar_path_normalize(cases[i].in, &out), cases[i].ret);
                if (cases[i].out)
                        assert_string_equal(out, cases[i].out);
                else
                        assert_null(out);
                free(out);
        }
        memset(longc, 'c', 299);
        longc[299] = '\0';
        char *out = NULL;
        assert_int_equal(tar_path_normalize(longc, &out), -EINVAL); /* component > 255 */
}

/* Builds a small valid archive: used as the base of corruption tests. */
static void small_archive(struct th_buf *tar) {
        uint8_t data[3000];
        memset(data, 'd', sizeof(data));
        th_tar_pax(tar, false, (const char *const[]) { "path", "dir/pax-named", NULL }, NULL);
        th_tar_file(tar, "ignored", data, 700);
        th_tar_gnu_long(tar, 'L', "gnu/long");
        th_tar_file(tar, "ignored", data, 3000);
        th_tar_file(tar, "last", data, 1);
        th_tar_end(tar);
}

static void test_corrupt_checksum(void **state) {
        struct th_buf tar = {};
        _cleanup_tar_index_ struct tar_index *idx = NULL;

        (void) state;
        th_tar_header(&tar, &(struct th_hdr) { .name = "f", .checksum_delta = 1 });
        th_tar_end(&tar);
        assert_int_equal(index_mem(&tar, &idx), -EBADMSG);
        assert_null(idx);
        th_buf_free(&tar);

        /* A valid archive whose second member header has one flipped bit. */
        small_archive(&tar);
        tar.p[512 * 2 + 10] ^= 0x01;
        assert_int_equal(index_mem(&tar, &idx), -EBADMSG);
        th_buf_free(&tar);

        /* A checksum field that is not octal. */
        th_tar_header(&tar, &(struct th_hdr) { .name = "f" });
        memcpy(tar.p + 148, "9999999", 7);
        th_tar_end(&tar);
        assert_int_equal(index_mem(&tar, &idx), -EBADMSG);
        th_buf_free(&tar);
}

static void test_truncated(void **state) {
        struct th_buf tar = {};
        size_t full;
        int n_ok = 0;

        (void) state;
        small_archive(&tar);
        full = tar.len;
        /* Every prefix ending before the end marker must fail cleanly. */
        for (size_t len = 0; len < full - 1024; len += (len % 512 == 0 ? 1 : 511)) {
                _cleanup_tar_index_ struct tar_index *idx = NULL;
                struct th_buf cut = { .p = tar.p, .len = len };
                int k = index_mem(&cut, &idx);
                assert_int_equal(k, -EBADMSG);
        }
        /* With one or two zero blocks at the end it is complete. */
        for (size_t len = full - 512; len <= full; len += 512) {
                _cleanup_tar_index_ struct tar_index *idx = NULL;
                struct th_buf cut = { .p = tar.p, .len = len };
                assert_int_equal(index_mem(&cut, &idx), 0);
                assert_int_equal(idx->n, 3);
                n_ok++;
        }
        assert_int_equal(n_ok, 2);
        /* Trailing record padding after the marker is ignored. */
        th_buf_zero(&tar, 8192);
        {
                _cleanup_tar_index_ struct tar_index *idx = NULL;
                assert_int_equal(index_mem(&tar, &idx), 0);
                assert_int_equal(idx->n, 3);
        }
        th_buf_free(&tar);
}

static void expect_fail(struct th_buf *tar, int want) {
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        th_tar_end(tar);
        assert_int_equal(index_mem(tar, &idx), want);
        assert_null(idx);
        th_buf_free(tar);
}

static void test_absurd(void **state) {
        struct th_buf tar = {};

        (void) state;
        /* A member claiming more data than the stream has. */
        th_tar_header(&tar, &(struct th_hdr) { .name = "huge", .size = 077777777777ull });
        expect_fail(&tar, -EBADMSG);
        th_tar_header(&tar, &(struct th_hdr) { .name = "huge", .size = 1ull << 62, .b256_size = true });
        expect_fail(&tar, -EBADMSG);
        /* Extension payloads are capped (and must fit in the stream). */
        th_tar_header(&tar, &(struct th_hdr) { .name = "x", .type = 'x', .size = 64ull << 20 });
        expect_fail(&tar, -EBADMSG);
        th_tar_header(&tar, &(struct th_hdr) { .name = "L", .type = 'L', .size = 4096, .gnu_magic = true });
        expect_fail(&tar, -EBADMSG);
        /* An extension header with nothing after it. */
        th_tar_gnu_long(&tar, 'L', "dangling");
        expect_fail(&tar, -EBADMSG);
        /* A zero block followed by garbage instead of a second zero block. */
        th_buf_zero(&tar, 512);
        th_tar_header(&tar, &(struct th_hdr) { .name = "after-end" });
        expect_fail(&tar, -EBADMSG);
        /* Bad numeric fields. */
        th_tar_header(&tar, &(struct th_hdr) { .name = "f" });
        memcpy(tar.p + 124, "12x", 3);
        th_tar_fix_checksum(tar.p);
        expect_fail(&tar, -EBADMSG);
        th_tar_header(&tar, &(struct th_hdr) { .name = "f", .uid = 1ull << 40, .b256_uid = true });
        expect_fail(&tar, -EBADMSG);
        /* Sparse and multi-volume members cannot be served by offset. */
        th_tar_header(&tar, &(struct th_hdr) { .name = "s", .type = 'S', .gnu_magic = true });
        expect_fail(&tar, -EOPNOTSUPP);
        th_tar_pax(&tar, false, (const char *const[]) { "GNU.sparse.major", "1", NULL }, NULL);
        th_tar_file(&tar, "s", "", 0);
        expect_fail(&tar, -EOPNOTSUPP);
}

static void test_bad_names(void **state) {
        struct th_buf tar = {};
        static const char nul_path[] = "evil\0/etc/passwd";
        static const char *const bad_pax[] = {
                "3 a\n", "11 path=x\n", "9 path=x\n\n", "8 path=x", "x path=y\n", "9 path x\n", "7 =abc\n", "99999999999999999999 a=b\n",
        };

        (void) state;
        th_tar_header(&tar, &(struct th_hdr) { .name = "../etc/passwd" });
        expect_fail(&tar, -EINVAL);
        th_tar_header(&tar, &(struct th_hdr) { .name = "a/../../b" });
        expect_fail(&tar, -EINVAL);
        th_tar_header(&tar, &(struct th_hdr) { .name = "" });
        expect_fail(&tar, -EINVAL);
        th_tar_header(&tar, &(struct th_hdr) { .name = "h", .type = '1', .linkname = "../../etc/shadow" });
        expect_fail(&tar, -EINVAL);
        th_tar_pax(&tar, false, (const char *const[]) { "path", "x/../../y", NULL }, NULL);
        th_tar_file(&tar, "ok", "", 0);
        expect_fail(&tar, -EINVAL);
        /* NUL inside a pax path / linkpath. */
        th_tar_pax(&tar, false, (const char *const[]) { "path", nul_path, NULL },
                   (const size_t[]) { sizeof(nul_path) - 1 });
        th_tar_file(&tar, "ok", "", 0);
        expect_fail(&tar, -EINVAL);
        th_tar_pax(&tar, false, (const char *const[]) { "linkpath", nul_path, NULL },
                   (const size_t[]) { sizeof(nul_path) - 1 });
        th_tar_header(&tar, &(struct th_hdr) { .name = "s", .type = '2' });
        expect_fail(&tar, -EINVAL);
        /* NUL inside a GNU long name. */
        th_tar_header(&tar, &(struct th_hdr) { .name = "././@LongLink", .type = 'L', .size = sizeof(nul_path),
                                               .gnu_magic = true });
        th_tar_data(&tar, nul_path, sizeof(nul_path));
        th_tar_file(&tar, "ok", "", 0);
        expect_fail(&tar, -EINVAL);
        /* Malformed pax records. */
        for (size_t i = 0; i < ELEMENTSOF(bad_pax); i++) {
                size_t len = strlen(bad_pax[i]);
                th_tar_header(&tar, &(struct th_hdr) { .name = "p", .type = 'x', .size = len });
                th_tar_data(&tar, bad_pax[i], len);
                th_tar_file(&tar, "ok", "", 0);
                expect_fail(&tar, -EBADMSG);
        }
        th_tar_pax(&tar, false, (const char *const[]) { "mtime", "12.x", NULL }, NULL);
        th_tar_file(&tar, "ok", "", 0);
        expect_fail(&tar, -EBADMSG);
        th_tar_pax(&tar, false, (const char *const[]) { "size", "99999999999999999999", NULL }, NULL);
        th_tar_file(&tar, "ok", "", 0);
        expect_fail(&tar, -EBADMSG);
}

static int stop_at_second(const struct tar_member *m, void *userdata) {
        int *seen = userdata;
        (void) m;
        return ++*seen == 2 ? -ECANCELED : 0;
}

static void test_callback_stop(void **state) {
        struct th_buf tar = {};
        _cleanup_store_reader_ struct store_reader *r = NULL;
        int seen = 0;

        (void) state;
        small_archive(&tar);
        assert_int_equal(th_reader_from_memory(tar.p, tar.len, NULL, &r), 0);
        assert_int_equal(tarindex_scan(r, stop_at_second, &seen), -ECANCELED);
        assert_int_equal(seen, 2);
        th_buf_free(&tar);
}

/* Random single-byte mutations (with the checksum made valid again, so that
 * the parser goes deeper): never a crash, only clean errors, and every
 * reported extent stays inside the stream. */
static void test_mutations(void **state) {
        struct th_buf base = {};
        uint64_t seed = 42;

        (void) state;
        small_archive(&base);
        for (int iter = 0; iter < 20000; iter++) {
                _cleanup_tar_index_ struct tar_index *idx = NULL;
                struct th_buf t = {};
                size_t pos, blk;
                int k;

                th_buf_put(&t, base.p, base.len);
                for (int j = 0; j < 1 + (int) (th_rand(&seed) % 3); j++) {
                        pos = th_rand(&seed) % t.len;
                        t.p[pos] = (uint8_t) th_rand(&seed);
                        blk = pos & ~(size_t) 511;
                        if (th_rand(&seed) % 4)
                                th_tar_fix_checksum(t.p + blk);
                }
                k = index_mem(&t, &idx);
                assert_true(k == 0 || k == -EBADMSG || k == -EINVAL || k == -EOPNOTSUPP);
                if (k == 0)
                        for (size_t i = 0; i < idx->n; i++)
                                assert_true(idx->members[i].data_offset + idx->members[i].size <= t.len);
                th_buf_free(&t);
        }
        th_buf_free(&base);
}

/* Real archives written by GNU tar in each format, read back by offset. */
static void test_system_tar(void **state) {
        static const char *const formats[] = { "gnu", "pax", "ustar", "posix", "oldgnu" };
        _cleanup_free_ char *dir = th_mkdtemp(), *src = NULL, *deep = NULL, *longname = NULL;
        uint8_t data[70000];
        uint64_t seed = 7;
        char lname[201];

        (void) state;
        if (th_sh("tar --version >/dev/null 2>&1") != 0)
                skip();
        assert_int_not_equal(asprintf(&src, "%s/src", dir), -1);
        assert_int_not_equal(asprintf(&deep, "%s/d1/d2", src), -1);
        assert_int_equal(th_sh("mkdir -p '%s'", deep), 0);
        th_fill(&seed, data, sizeof(data), 30);
        memset(lname, 'N', 200);
        lname[200] = '\0';
        assert_int_not_equal(asprintf(&longname, "%s/%s", deep, lname), -1);
        for (int i = 0; i < 5; i++) {
                _cleanup_free_ char *p = NULL;
                assert_int_not_equal(asprintf(&p, "%s/f%d", deep, i), -1);
                assert_int_equal(th_write_file(p, data + i * 1000, (size_t) i * 7919 % 20000), 0);
        }
        assert_int_equal(th_write_file(longname, data, sizeof(data)), 0);
        assert_int_equal(th_sh("cd '%s' && ln -s d1/d2/f1 sym && ln d1/d2/f2 hard && mkfifo fifo && "
                               "touch -d @1700000000.5 d1/d2/f3", src), 0);

        for (size_t f = 0; f < ELEMENTSOF(formats); f++) {
                _cleanup_free_ char *tarpath = NULL, *want = NULL;
                _cleanup_store_reader_ struct store_reader *r = NULL;
                _cleanup_tar_index_ struct tar_index *idx = NULL;
                const struct tar_member *m;
                bool long_ok = strcmp(formats[f], "ustar") != 0;
                uint8_t buf[sizeof(data)];

                assert_int_not_equal(asprintf(&tarpath, "%s/t-%s.tar", dir, formats[f]), -1);
                assert_int_equal(th_sh("cd '%s' && tar --format=%s -cf '%s' %s . 2>/dev/null", src, formats[f],
                                       tarpath, long_ok ? "" : "--exclude='NNNN*'"), 0);
                assert_int_equal(th_reader_open(tarpath, &r), 0);
                assert_int_equal(tarindex_build(r, &idx), 0);

                assert_non_null(m = tar_index_find(idx, ""));
                assert_int_equal(m->type, TAR_TYPE_DIR);
                for (int i = 0; i < 5; i++) {
                        char p[32];
                        size_t len = (size_t) i * 7919 % 20000;
                        snprintf(p, sizeof(p), "d1/d2/f%d", i);
                        m = tar_index_find(idx, p);
                        assert_non_null(m);
                        if (i == 2 && m->type == TAR_TYPE_HARDLINK)
                                continue; /* "hard" came first in the walk */
                        assert_int_equal(m->type, TAR_TYPE_REG);
                        assert_int_equal(m->size, len);
                        assert_int_equal(store_reader_read_exact(r, buf, len, m->data_offset), 0);
                        assert_memory_equal(buf, data + i * 1000, len);
                }
                m = tar_index_find(idx, "d1/d2/f3");
                assert_int_equal(m->mtime_sec, 1700000000);
                if (strcmp(formats[f], "pax") == 0 || strcmp(formats[f], "posix") == 0)
                        assert_int_equal(m->mtime_nsec, 500000000);
                m = tar_index_find(idx, "sym");
                assert_int_equal(m->type, TAR_TYPE_SYMLINK);
                assert_string_equal(m->link_target, "d1/d2/f1");
                m = tar_index_find(idx, "fifo");
                assert_int_equal(m->type, TAR_TYPE_FIFO);
                {
                        const struct tar_member *h = tar_index_find(idx, "hard");
                        const struct tar_member *f2 = tar_index_find(idx, "d1/d2/f2");
                        assert_true(h->type == TAR_TYPE_HARDLINK || f2->type == TAR_TYPE_HARDLINK);
                }
                if (long_ok) {
                        assert_int_not_equal(asprintf(&want, "d1/d2/%s", lname), -1);
                        m = tar_index_find(idx, want);
                        assert_non_null(m);
                        assert_int_equal(m->size, sizeof(data));
                        assert_int_equal(store_reader_read_exact(r, buf, sizeof(data), m->data_offset), 0);
                        assert_memory_equal(buf, data, sizeof(data));
                }
        }
        th_rm_rf(dir);
}

/* ---- the tree: listings against the old linear scan ---- */

/* One child as listed: its name and the last member of its path. */
struct child {
        char *name;
        const struct tar_member *m;
};
struct listing {
        struct child *v;
        size_t n;
};

static void listing_add(struct listing *l, const char *name, size_t len, const struct tar_member *m) {
        l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
        assert_non_null(l->v);
        l->v[l->n++] = (struct child) { .name = strndup(name, len), .m = m };
}

static void listing_free(struct listing *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i].name);
        free(l->v);
        *l = (struct listing) {};
}

/* The listing as fs/ computed it before the tree: a scan of every member,
 * children in order of first mention, the last member of a path winning. */
static void scan_list(const struct tar_index *idx, const char *dir, struct listing *out) {
        size_t plen = strlen(dir);

        for (size_t i = 0; i < idx->n; i++) {
                const char *rest = idx->members[i].path, *slash;
                size_t len, j;

                if (plen) {
                        if (strncmp(rest, dir, plen) != 0 || rest[plen] != '/')
                                continue;
                        rest += plen + 1;
                }
                if (!*rest)
                        continue;
                slash = strchr(rest, '/');
                len = slash ? (size_t) (slash - rest) : strlen(rest);
                for (j = 0; j < out->n; j++)
                        if (strlen(out->v[j].name) == len && memcmp(out->v[j].name, rest, len) == 0)
                                break;
                if (j == out->n)
                        listing_add(out, rest, len, NULL);
                if (!slash)
                        out->v[j].m = &idx->members[i];
        }
}

static int collect_child(const char *name, const struct tar_member *m, void *userdata) {
        listing_add(userdata, name, strlen(name), m);
        return 0;
}

static void assert_same_listing(const struct tar_index *idx, const char *dir) {
        struct listing want = {}, got = {};

        scan_list(idx, dir, &want);
        assert_int_equal(tar_index_foreach_child(idx, dir, collect_child, &got), 0);
        assert_int_equal(got.n, want.n);
        for (size_t i = 0; i < want.n; i++) {
                _cleanup_free_ char *path = NULL;
                const struct tar_member *m = (void *) 1;

                assert_string_equal(got.v[i].name, want.v[i].name);
                assert_ptr_equal(got.v[i].m, want.v[i].m);
                assert_int_not_equal(asprintf(&path, "%s%s%s", dir, *dir ? "/" : "", want.v[i].name), -1);
                assert_int_equal(tar_index_lookup(idx, path, &m), 0);
                assert_ptr_equal(m, want.v[i].m);
                assert_ptr_equal(tar_index_find(idx, path), want.v[i].m);
        }
        listing_free(&want);
        listing_free(&got);
}

/* Every directory of the tree (every proper prefix of a member path, and
 * every member path) lists as the scan did. */
static void assert_same_tree(const struct tar_index *idx) {
        assert_same_listing(idx, "");
        for (size_t i = 0; i < idx->n; i++) {
                _cleanup_free_ char *p = strdup(idx->members[i].path);
                char *slash;

                assert_same_listing(idx, p);
                while ((slash = strrchr(p, '/'))) {
                        *slash = '\0';
                        assert_same_listing(idx, p);
                }
        }
}

static void assert_children(const struct tar_index *idx, const char *dir, const char *want) {
        struct listing got = {};
        _cleanup_free_ char *names = calloc(1, 1);

        assert_int_equal(tar_index_foreach_child(idx, dir, collect_child, &got), 0);
        for (size_t i = 0; i < got.n; i++) {
                char *s = NULL;
                assert_int_not_equal(asprintf(&s, "%s%s%s", names, i ? " " : "", got.v[i].name), -1);
                free(names);
                names = s;
        }
        assert_string_equal(names, want);
        listing_free(&got);
}

static void assert_implicit(const struct tar_index *idx, const char *path) {
        const struct tar_member *m = (void *) 1;

        assert_int_equal(tar_index_lookup(idx, path, &m), 0);
        assert_null(m);
}

static int stop_at_second_child(const char *name, const struct tar_member *m, void *userdata) {
        int *calls = userdata;

        (void) name;
        (void) m;
        return ++*calls == 2 ? -ECANCELED : 0;
}

/* Parents the archive does not list, "./" prefixes, duplicates (the last
 * wins), a file that later gets children, hard links, whiteouts, names that
 * share a prefix. */
static void test_tree_edge_cases(void **state) {
        struct th_buf tar = {};
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        const struct tar_member *m;
        int calls = 0;
        static const struct th_hdr hdrs[] = {
                { .name = "a/b/c", .mtime = 1 },         /* a, a/b implicit */
                { .name = "./x", .mtime = 2 },
                { .name = "./", .type = '5' },           /* the root, listed late */
                { .name = "./d/y", .mtime = 3 },         /* d implicit ... */
                { .name = "./d/", .type = '5', .mtime = 4 }, /* ... until here */
                { .name = "x", .type = '6', .mtime = 5 }, /* a duplicate: the fifo wins */
                { .name = "a-b", .mtime = 6 },           /* sorts between "a" and "a/" */
                { .name = "ab/", .type = '5' },
                { .name = "a/b/c/deep/er", .mtime = 7 }, /* a file with children */
                { .name = "h", .type = '1', .linkname = "./a-b" },
                { .name = "d/.wh.gone" },
                { .name = "d/.wh..wh..opq" },
                { .name = "a/b/c", .type = '5', .mtime = 8 }, /* now a directory */
                { .name = "s", .type = '2', .linkname = "a/b/c/deep" },
                { .name = "d/", .type = '5', .mtime = 9 },
                { .name = "e/f/g/", .type = '5' },       /* implicit parents of a dir */
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(hdrs); i++)
                th_tar_header(&tar, &hdrs[i]);
        th_tar_end(&tar);
        assert_int_equal(index_mem(&tar, &idx), 0);
        assert_same_tree(idx);

        assert_children(idx, "", "a x d a-b ab h s e");
        assert_children(idx, "a", "b");
        assert_children(idx, "a/b", "c");
        assert_children(idx, "a/b/c", "deep");
        assert_children(idx, "d", "y .wh.gone .wh..wh..opq");
        assert_children(idx, "e/f", "g");
        assert_children(idx, "e/f/g", "");
        assert_children(idx, "x", "");
        assert_implicit(idx, "a");
        assert_implicit(idx, "a/b");
        assert_implicit(idx, "a/b/c/deep");
        assert_implicit(idx, "e");
        assert_null(tar_index_find(idx, "a"));
        assert_int_equal(tar_index_find(idx, "x")->type, TAR_TYPE_FIFO);
        assert_int_equal(tar_index_find(idx, "d")->mtime_sec, 9);
        assert_int_equal(tar_index_find(idx, "a/b/c")->type, TAR_TYPE_DIR);
        assert_int_equal(tar_index_find(idx, "a/b/c/deep/er")->mtime_sec, 7);
        assert_string_equal(tar_index_find(idx, "h")->link_target, "a-b");
        assert_int_equal(tar_index_find(idx, "d/.wh.gone")->flags, TAR_MEMBER_WHITEOUT);
        assert_non_null(m = tar_index_find(idx, ""));
        assert_int_equal(m->type, TAR_TYPE_DIR);
        assert_int_equal(tar_index_lookup(idx, "", &m), 0);
        assert_ptr_equal(m, tar_index_find(idx, ""));

        /* Not in the tree: unnormalised and missing paths. */
        assert_int_equal(tar_index_lookup(idx, "a/", &m), -ENOENT);
        assert_int_equal(tar_index_lookup(idx, "./x", &m), -ENOENT);
        assert_int_equal(tar_index_lookup(idx, "a/b/c/d", &m), -ENOENT);
        assert_int_equal(tar_index_lookup(idx, "e/f/g/h", &m), -ENOENT);
        assert_int_equal(tar_index_foreach_child(idx, "nope", collect_child, NULL), -ENOENT);
        assert_int_equal(tar_index_foreach_child(idx, "", stop_at_second_child, &calls), -ECANCELED);
        assert_int_equal(calls, 2);

        /* Appending unfinishes: the tree needs tar_index_finish() again. */
        assert_int_equal(tar_index_append(idx, &(struct tar_member) { .path = (char *) "n/o" }), 0);
        assert_int_equal(tar_index_lookup(idx, "x", &m), -EINVAL);
        assert_int_equal(tar_index_foreach_child(idx, "", collect_child, NULL), -EINVAL);
        assert_int_equal(tar_index_finish(idx), 0);
        assert_children(idx, "", "a x d a-b ab h s e n");
        assert_implicit(idx, "n");
        assert_same_tree(idx);
        th_buf_free(&tar);

        /* An empty archive has a root without children. */
        th_tar_end(&tar);
        tar_index_free(TAKE_PTR(idx));
        assert_int_equal(index_mem(&tar, &idx), 0);
        assert_children(idx, "", "");
        assert_implicit(idx, "");
        th_buf_free(&tar);
}

/* 50,000 members in 500 directories, interleaved (the members of a
 * directory are spread over the whole archive), some parents implicit. */
static void test_tree_big(void **state) {
        enum { DIRS = 500, FILES = 50000 };
        struct th_buf tar = {};
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        char name[64];

        (void) state;
        for (int d = 0; d < DIRS; d++)
                if (d % 2 == 0) {
                        snprintf(name, sizeof(name), "g%d/d%03d/", d % 10, d);
                        th_tar_header(&tar, &(struct th_hdr) { .name = name, .type = '5' });
                }
        for (int i = 0; i < FILES; i++) {
                snprintf(name, sizeof(name), "./g%d/d%03d/f%05d", i % DIRS % 10, i % DIRS, i);
                th_tar_header(&tar, &(struct th_hdr) { .name = name, .mtime = i });
        }
        th_tar_end(&tar);
        assert_int_equal(index_mem(&tar, &idx), 0);
        assert_int_equal(idx->n, DIRS / 2 + FILES);

        assert_children(idx, "", "g0 g2 g4 g6 g8 g1 g3 g5 g7 g9");
        for (int d = 0; d < DIRS; d++) {
                struct listing got = {};
                const struct tar_member *m;
                char dir[32];

                snprintf(dir, sizeof(dir), "g%d/d%03d", d % 10, d);
                assert_int_equal(tar_index_foreach_child(idx, dir, collect_child, &got), 0);
                assert_int_equal(got.n, FILES / DIRS);
                for (size_t j = 0; j < got.n; j++) {
                        int i = d + (int) j * DIRS;
                        snprintf(name, sizeof(name), "f%05d", i);
                        assert_string_equal(got.v[j].name, name);
                        assert_int_equal(got.v[j].m->mtime_sec, i);
                        assert_int_equal(got.v[j].m->type, TAR_TYPE_REG);
                }
                assert_int_equal(tar_index_lookup(idx, dir, &m), 0);
                if (d % 2)
                        assert_null(m);
                else
                        assert_int_equal(m->type, TAR_TYPE_DIR);
                if (d % 50 == 0)
                        assert_same_listing(idx, dir);
                listing_free(&got);
        }
        for (int g = 0; g < 10; g++) {
                snprintf(name, sizeof(name), "g%d", g);
                assert_same_listing(idx, name);
                assert_implicit(idx, name);
        }
        th_buf_free(&tar);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ustar_types),
                cmocka_unit_test(test_pax),
                cmocka_unit_test(test_gnu_longnames),
                cmocka_unit_test(test_base256),
                cmocka_unit_test(test_whiteouts_and_v7),
                cmocka_unit_test(test_find),
                cmocka_unit_test(test_normalize),
                cmocka_unit_test(test_corrupt_checksum),
                cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_absurd),
                cmocka_unit_test(test_bad_names),
                cmocka_unit_test(test_callback_stop),
                cmocka_unit_test(test_mutations),
                cmocka_unit_test(test_system_tar),
                cmocka_unit_test(test_tree_edge_cases),
                cmocka_unit_test(test_tree_big),
        };
        return cmocka_run_group_tests_name("store-tarindex", tests, NULL, NULL);
}
