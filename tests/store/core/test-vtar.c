/* store/core/vtar.c: a tar made of generated headers and member readers.
 * What it serves is read back by python's tarfile and GNU tar (written to
 * a temporary file), and by the project's own tar index for a member too
 * big to write out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "tarindex.h"
#include "vtar.h"

static uint8_t *read_all(struct store_reader *r) {
        uint8_t *buf = malloc(r->size + 1);
        assert_non_null(buf);
        assert_int_equal(store_reader_read_exact(r, buf, r->size, 0), 0);
        return buf;
}

/* Members: a dir, a file from a reader, bytes, an empty file, a path that
 * splits into prefix + name, a component too long to split (pax path). */
static struct store_reader *sample(char **ret_long, char **ret_split, uint8_t **ret_data, size_t *ret_len) {
        static const size_t len = 70000;
        uint64_t seed = 7;
        uint8_t *data = malloc(len);
        assert_non_null(data);
        th_fill(&seed, data, len, 50);
        char *split = malloc(300), *lng = malloc(300);
        assert_non_null(split);
        assert_non_null(lng);
        snprintf(split, 300, "%s/%s", "checkpoint/dir-with-a-longish-name-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                 "file-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.img");
        memset(lng, 'c', 150);
        lng[150] = '\0';
        vtar *t;
        assert_int_equal(vtar_new(&t), 0);
        struct store_reader *m;
        assert_int_equal(th_reader_from_memory(data, len, NULL, &m), 0);
        assert_int_equal(vtar_add_dir(t, "checkpoint", 0700, 1700000000), 0);
        assert_int_equal(vtar_add_file(t, "checkpoint/pages-1.img", 0600, 1700000000, m), 0);
        assert_int_equal(vtar_add_bytes(t, "config.dump", 0600, 1700000001, "{\"id\":\"x\"}", 10), 0);
        assert_int_equal(vtar_add_bytes(t, "empty", 0600, 1700000001, NULL, 0), 0);
        assert_int_equal(th_reader_from_memory(data, 1234, NULL, &m), 0);
        assert_int_equal(vtar_add_file(t, split, 0644, 1700000002, m), 0);
        assert_int_equal(vtar_add_bytes(t, lng, 0644, 1700000003, "long", 4), 0);
        uint64_t size = vtar_size(t);
        struct store_reader *r;
        assert_int_equal(vtar_finish(t, &r), 0);
        assert_int_equal(r->size, size);
        assert_int_equal(r->size % 512, 0);
        assert_int_equal(r->fd, -1);
        *ret_long = lng;
        *ret_split = split;
        *ret_data = data;
        *ret_len = len;
        return r;
}

static void test_read_back(void **state) {
        char *lng, *split;
        uint8_t *data;
        size_t len;
        struct store_reader *r = sample(&lng, &split, &data, &len);
        uint8_t *all = read_all(r);
        char *dir = th_mkdtemp(), path[4096];
        snprintf(path, sizeof(path), "%s/a.tar", dir);
        assert_int_equal(th_write_file(path, all, r->size), 0);
        snprintf(path, sizeof(path), "%s/expect", dir);
        assert_int_equal(th_write_file(path, data, len), 0);
        /* python's tarfile: names, types, modes, mtimes, sizes and data. */
        assert_int_equal(th_sh("cd '%s' && python3 -c '\n"
                               "import tarfile\n"
                               "t = tarfile.open(\"a.tar\")\n"
                               "m = t.getmembers()\n"
                               "e = open(\"expect\", \"rb\").read()\n"
                               "assert [x.name for x in m] == [\"checkpoint\", \"checkpoint/pages-1.img\", "
                               "\"config.dump\", \"empty\", \"%s\", \"%s\"], [x.name for x in m]\n"
                               "assert m[0].isdir() and m[0].mode == 0o700 and m[0].mtime == 1700000000\n"
                               "assert m[1].isfile() and m[1].mode == 0o600 and m[1].size == len(e)\n"
                               "assert t.extractfile(m[1]).read() == e\n"
                               "assert t.extractfile(m[2]).read() == b\"{\\\"id\\\":\\\"x\\\"}\"\n"
                               "assert m[3].size == 0 and m[4].size == 1234 and m[5].mtime == 1700000003\n"
                               "assert t.extractfile(m[4]).read() == e[:1234]\n"
                               "assert t.extractfile(m[5]).read() == b\"long\"\n"
                               "'",
                               dir, split, lng),
                         0);
        /* GNU tar: lists and extracts the same, without a warning. */
        assert_int_equal(th_sh("cd '%s' && mkdir x && tar -xf a.tar -C x 2>err && ! test -s err && "
                               "cmp x/checkpoint/pages-1.img expect && test \"$(cat x/config.dump)\" = '{\"id\":\"x\"}' && "
                               "test \"$(cat x/%s)\" = long && test $(tar -tf a.tar | wc -l) = 6",
                               dir, lng),
                         0);
        th_rm_rf(dir);
        free(dir);
        free(all);
        free(lng);
        free(split);
        free(data);
        store_reader_free(r);
}

/* Reads at every offset of a window across segment boundaries equal the
 * whole archive's bytes; reads past the end are short or empty. */
static void test_offsets(void **state) {
        char *lng, *split;
        uint8_t *data;
        size_t len;
        struct store_reader *r = sample(&lng, &split, &data, &len);
        uint8_t *all = read_all(r), buf[1500];
        for (uint64_t off = 0; off < r->size; off += 97) {
                size_t want = off + sizeof(buf) <= r->size ? sizeof(buf) : (size_t) (r->size - off);
                ssize_t k = r->pread(r->ctx, buf, sizeof(buf), off);
                assert_int_equal(k, want);
                assert_memory_equal(buf, all + off, want);
        }
        assert_int_equal(r->pread(r->ctx, buf, 10, r->size), 0);
        free(all);
        free(lng);
        free(split);
        free(data);
        store_reader_free(r);
}

/* A member reader that yields pattern bytes, of any size. */
static ssize_t pattern_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        for (size_t i = 0; i < len; i++)
                ((uint8_t *) buf)[i] = (uint8_t) ((off + i) * 31);
        return (ssize_t) len;
}

/* A member of 9 GiB: its size goes into a pax header, and the project's
 * tar index (which reads headers by offset) finds it and the next member. */
static void test_big_member(void **state) {
        const uint64_t big = 9ull << 30;
        vtar *t;
        struct store_reader *m, *r;
        assert_int_equal(vtar_new(&t), 0);
        assert_int_equal(store_reader_new(pattern_pread, NULL, NULL, big, &m), 0);
        assert_int_equal(vtar_add_file(t, "checkpoint/pages-1.img", 0600, 5, m), 0);
        assert_int_equal(vtar_add_bytes(t, "after", 0600, 5, "z", 1), 0);
        assert_int_equal(vtar_finish(t, &r), 0);
        struct tar_index *idx;
        assert_int_equal(tarindex_build(r, &idx), 0);
        const struct tar_member *p = tar_index_find(idx, "checkpoint/pages-1.img");
        assert_non_null(p);
        assert_int_equal(p->size, big);
        uint8_t b[4];
        assert_int_equal(store_reader_read_exact(r, b, 4, p->data_offset + big - 4), 0);
        assert_int_equal(b[3], (uint8_t) ((big - 1) * 31));
        const struct tar_member *a = tar_index_find(idx, "after");
        assert_non_null(a);
        assert_int_equal(store_reader_read_exact(r, b, 1, a->data_offset), 0);
        assert_int_equal(b[0], 'z');
        tar_index_free(idx);
        store_reader_free(r);
}

static ssize_t failing_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        return -EIO;
}

static void test_errors(void **state) {
        vtar *t;
        struct store_reader *m, *r;
        assert_int_equal(vtar_new(&t), 0);
        assert_int_equal(vtar_add_dir(t, "", 0700, 0), -EINVAL);
        assert_int_equal(vtar_add_bytes(t, "", 0600, 0, "x", 1), -EINVAL);
        assert_int_equal(store_reader_new(failing_pread, NULL, NULL, 100, &m), 0);
        assert_int_equal(vtar_add_file(t, "bad", 0600, 0, m), 0);
        assert_int_equal(vtar_finish(t, &r), 0);
        uint8_t buf[2048];
        /* The header reads; the data's error comes with the first read that
         * starts in it. */
        assert_int_equal(r->pread(r->ctx, buf, sizeof(buf), 0), 512);
        assert_int_equal(r->pread(r->ctx, buf, sizeof(buf), 512), -EIO);
        store_reader_free(r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_back),
                cmocka_unit_test(test_offsets),
                cmocka_unit_test(test_big_member),
                cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
