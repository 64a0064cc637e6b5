/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "cleanup.h"
#include "gzindex-internal.h"
#include "reader.h"
#include "tarindex.h"

/* Compares reads at many random offsets (and the edges) against plain. */
static void check_random_reads(const struct gzindex *idx, struct store_reader *gz, const uint8_t *plain,
                               size_t plen, uint64_t seed, int n) {
        uint8_t *buf = malloc(300000);

        assert_non_null(buf);
        for (int i = 0; i < n; i++) {
                uint64_t off = i == 0 ? 0 : i == 1 ? plen - 1 : th_rand(&seed) % (plen + 10);
                size_t len = i < 2 ? 1 : th_rand(&seed) % (i % 10 == 0 ? 300000 : 5000);
                size_t want = off >= plen ? 0 : (len < plen - off ? len : plen - off);
                ssize_t got = gzindex_read(idx, gz, off, buf, len);

                assert_int_equal(got, want);
                if (want)
                        assert_memory_equal(buf, plain + off, want);
        }
        free(buf);
}

static void make_plain(uint8_t **ret, size_t len, uint64_t seed, unsigned random_percent) {
        uint8_t *p = malloc(len);
        assert_non_null(p);
        th_fill(&seed, p, len, random_percent);
        *ret = p;
}

/* Windows kept in memory by point, with a loader that counts its calls and
 * can be told to fail. */
struct windows {
        pthread_mutex_t lock;
        struct th_buf *w;
        size_t n;
        int *loads;      /* per point */
        int fail_point;  /* -1: none */
        int fail_errno;  /* its load returns this (0: flips a byte instead) */
        int freed;
};

static void windows_init(struct windows *ws, size_t n_points) {
        *ws = (struct windows) { .n = n_points, .fail_point = -1 };
        pthread_mutex_init(&ws->lock, NULL);
        ws->w = calloc(n_points, sizeof(*ws->w));
        ws->loads = calloc(n_points, sizeof(*ws->loads));
        assert_non_null(ws->w);
        assert_non_null(ws->loads);
}

static void windows_done(struct windows *ws) {
        for (size_t i = 0; i < ws->n; i++)
                th_buf_free(&ws->w[i]);
        free(ws->w);
        free(ws->loads);
        pthread_mutex_destroy(&ws->lock);
}

static int windows_put(void *userdata, uint32_t point, const void *data, size_t len) {
        struct windows *ws = userdata;

        assert_true(point < ws->n);
        assert_int_equal(ws->w[point].len, 0); /* once each */
        assert_true(len > 0 && len <= 32768);
        th_buf_put(&ws->w[point], data, len);
        return 0;
}

static int windows_load(void *userdata, uint32_t point, void *buf, size_t len) {
        struct windows *ws = userdata;
        int k = 0;

        pthread_mutex_lock(&ws->lock);
        if (point >= ws->n || ws->w[point].len == 0)
                k = -ENOENT;
        else if (ws->w[point].len != len)
                k = -EBADMSG;
        else if ((int) point == ws->fail_point && ws->fail_errno)
                k = ws->fail_errno;
        else {
                memcpy(buf, ws->w[point].p, len);
                if ((int) point == ws->fail_point)
                        ((uint8_t *) buf)[len / 2] ^= 0x01; /* damaged on the way */
        }
        ws->loads[point < ws->n ? point : 0]++;
        pthread_mutex_unlock(&ws->lock);
        return k;
}

static void windows_free(void *userdata) {
        ((struct windows *) userdata)->freed++;
}

static const struct gzindex_loader *windows_loader(struct windows *ws) {
        static _Thread_local struct gzindex_loader l;
        l = (struct gzindex_loader) { .load = windows_load, .free = windows_free, .userdata = ws };
        return &l;
}

static int windows_total_loads(struct windows *ws) {
        int t = 0;
        for (size_t i = 0; i < ws->n; i++)
                t += ws->loads[i];
        return t;
}

static void test_single_member(void **state) {
        static const int levels[] = { 1, 6, 9, 0 };
        const size_t plen = 6 << 20;
        uint8_t *plain;

        (void) state;
        make_plain(&plain, plen, 3, 20);
        for (size_t l = 0; l < ELEMENTSOF(levels); l++) {
                struct th_buf gz = {};
                _cleanup_store_reader_ struct store_reader *r = NULL;
                _cleanup_gzindex_ struct gzindex *idx = NULL;

                th_gzip(&gz, plain, plen, levels[l]);
                assert_int_equal(th_reader_from_memory(gz.p, gz.len, NULL, &r), 0);
                assert_int_equal(gzindex_build(r, 256 << 10, &idx), 0);
                assert_int_equal(gzindex_usize(idx), plen);
                assert_int_equal(gzindex_csize(idx), gz.len);
                assert_true(gzindex_n_points(idx) >= 15);
                check_random_reads(idx, r, plain, plen, 100 + l, 400);
                th_buf_free(&gz);
        }
        free(plain);
}

static void test_multi_member(void **state) {
        const size_t sizes[] = { 3 << 20, 0, 1, 700000, 2 << 20 };
        struct th_buf gz = {}, all = {};
        _cleanup_store_reader_ struct store_reader *r = NULL;
        _cleanup_gzindex_ struct gzindex *idx = NULL, *idx2 = NULL;
        uint64_t seed = 9;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                uint8_t *p = malloc(sizes[i] + 1);
                th_fill(&seed, p, sizes[i], i * 20);
                th_buf_put(&all, p, sizes[i]);
                th_gzip(&gz, p, sizes[i], (int) (i % 9) + 1);
                free(p);
        }
        th_buf_zero(&gz, 1000); /* zero padding after the last member is accepted */
        assert_int_equal(th_reader_from_memory(gz.p, gz.len, NULL, &r), 0);
        /* A small span puts points inside members and at member starts. */
        assert_int_equal(gzindex_build(r, 100000, &idx), 0);
        assert_int_equal(gzindex_usize(idx), all.len);
        check_random_reads(idx, r, all.p, all.len, 5, 600);
        /* Member-start points survive serialisation. */
        {
                _cleanup_free_ void *blob = NULL;
                struct gzindex *back = NULL;
                struct windows ws;
                size_t len;

                windows_init(&ws, gzindex_n_points(idx));
                assert_int_equal(gzindex_serialize(idx, windows_put, &ws, &blob, &len), 0);
                assert_int_equal(gzindex_deserialize(blob, len, windows_loader(&ws), &back), 0);
                check_random_reads(back, r, all.p, all.len, 7, 300);
                gzindex_free(back);
                windows_done(&ws);
        }
        /* A huge span: one point; reads cross every member boundary. */
        assert_int_equal(gzindex_build(r, UINT64_MAX, &idx2), 0);
        assert_int_equal(gzindex_n_points(idx2), 1);
        check_random_reads(idx2, r, all.p, all.len, 6, 40);
        th_buf_free(&gz);
        th_buf_free(&all);
}

static void test_serialize(void **state) {
        const size_t plen = 3 << 20;
        struct th_buf gz = {};
        _cleanup_store_reader_ struct store_reader *r = NULL;
        _cleanup_gzindex_ struct gzindex *idx = NULL;
        struct gzindex *back;
        _cleanup_free_ void *blob = NULL, *blob2 = NULL;
        struct windows ws, ws2;
        size_t len, len2, stored = 0, n;
        uint8_t *plain;

        (void) state;
        make_plain(&plain, plen, 11, 10);
        th_gzip(&gz, plain, plen, 6);
        assert_int_equal(th_reader_from_memory(gz.p, gz.len, NULL, &r), 0);
        assert_int_equal(gzindex_build(r, 128 << 10, &idx), 0);
        n = gzindex_n_points(idx);
        windows_init(&ws, n);
        assert_int_equal(gzindex_serialize(idx, windows_put, &ws, &blob, &len), 0);
        /* The points are small; windows of compressible data are stored compressed. */
        assert_true(len <= 64 + n * 32);
        for (size_t i = 0; i < n; i++)
                stored += ws.w[i].len;
        assert_int_equal(ws.w[0].len, 0); /* the start of the stream needs none */
        assert_true(stored > 0 && stored < n * 32768 / 2);

        /* Deserialising loads no window; a read loads the one it needs. */
        assert_int_equal(gzindex_deserialize(blob, len, windows_loader(&ws), &back), 0);
        assert_int_equal(windows_total_loads(&ws), 0);
        assert_int_equal(gzindex_usize(back), plen);
        assert_int_equal(gzindex_csize(back), gz.len);
        assert_int_equal(gzindex_n_points(back), n);
        {
                uint8_t buf[4096];
                assert_int_equal(gzindex_read(back, r, plen - sizeof(buf), buf, sizeof(buf)), sizeof(buf));
                assert_memory_equal(buf, plain + plen - sizeof(buf), sizeof(buf));
                assert_int_equal(windows_total_loads(&ws), 1);
                assert_int_equal(ws.loads[n - 1], 1);
                /* Again: from the cache. */
                assert_int_equal(gzindex_read(back, r, plen - sizeof(buf), buf, sizeof(buf)), sizeof(buf));
                assert_int_equal(windows_total_loads(&ws), 1);
        }
        check_random_reads(back, r, plain, plen, 12, 200);
        assert_false(gzindex_damaged(back));
        /* The cache is bounded: reading everything again loads windows again. */
        {
                int before = windows_total_loads(&ws);
                check_random_reads(back, r, plain, plen, 12, 200);
                assert_true(windows_total_loads(&ws) > before);
        }

        /* A deserialised index serialises to the same points and windows. */
        windows_init(&ws2, n);
        assert_int_equal(gzindex_serialize(back, windows_put, &ws2, &blob2, &len2), 0);
        assert_int_equal(len2, len);
        assert_memory_equal(blob2, blob, len);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(ws2.w[i].len, ws.w[i].len);
                if (ws.w[i].len)
                        assert_memory_equal(ws2.w[i].p, ws.w[i].p, ws.w[i].len);
        }
        windows_done(&ws2);
        assert_int_equal(ws.freed, 0);
        gzindex_free(back);
        assert_int_equal(ws.freed, 1); /* the index owned the loader */

        /* Any damage is detected, never trusted; the loader stays the caller's. */
        for (size_t i = 0; i < len; i++) {
                struct gzindex *bad = NULL;
                ((uint8_t *) blob)[i] ^= 0x20;
                assert_int_equal(gzindex_deserialize(blob, len, windows_loader(&ws), &bad), -EBADMSG);
                assert_null(bad);
                ((uint8_t *) blob)[i] ^= 0x20;
        }
        for (size_t cut = 0; cut < len; cut++) {
                struct gzindex *bad = NULL;
                assert_int_equal(gzindex_deserialize(blob, cut, windows_loader(&ws), &bad), -EBADMSG);
        }
        assert_int_equal(ws.freed, 1);
        windows_done(&ws);
        th_buf_free(&gz);
        free(plain);
}

/* A window that cannot be had: reads stay right (from an earlier point), the
 * index says it is damaged, and a known-bad window is not asked for again. */
static void test_lazy_damage(void **state) {
        static const int errs[] = { -ENOENT, 0 /* corrupt bytes */, -EBADMSG, -EIO };
        const size_t plen = 3 << 20;
        struct th_buf gz = {};
        _cleanup_store_reader_ struct store_reader *r = NULL;
        _cleanup_gzindex_ struct gzindex *idx = NULL;
        _cleanup_free_ void *blob = NULL;
        struct windows ws;
        size_t len, n;
        uint8_t *plain, buf[4096];

        (void) state;
        make_plain(&plain, plen, 41, 60); /* mostly random: windows stored raw */
        th_gzip(&gz, plain, plen, 6);
        assert_int_equal(th_reader_from_memory(gz.p, gz.len, NULL, &r), 0);
        assert_int_equal(gzindex_build(r, 128 << 10, &idx), 0);
        n = gzindex_n_points(idx);
        assert_true(n > 4);
        windows_init(&ws, n);
        assert_int_equal(gzindex_serialize(idx, windows_put, &ws, &blob, &len), 0);

        for (size_t e = 0; e < ELEMENTSOF(errs); e++) {
                _cleanup_gzindex_ struct gzindex *back = NULL;
                bool transient = errs[e] == -EIO;

                memset(ws.loads, 0, n * sizeof(*ws.loads));
                ws.fail_point = (int) n - 1;
                ws.fail_errno = errs[e];
                assert_int_equal(gzindex_deserialize(blob, len, windows_loader(&ws), &back), 0);
                for (int i = 0; i < 3; i++) {
                        assert_int_equal(gzindex_read(back, r, plen - sizeof(buf), buf, sizeof(buf)), sizeof(buf));
                        assert_memory_equal(buf, plain + plen - sizeof(buf), sizeof(buf));
                }
                /* The previous point served instead. */
                assert_int_equal(ws.loads[n - 2], 1);
                assert_int_equal(ws.loads[n - 1], transient ? 3 : 1);
                assert_int_equal(gzindex_damaged(back), !transient);
                check_random_reads(back, r, plain, plen, 50 + e, 100);
        }

        /* Every window missing: reads go back to the start of the stream. */
        {
                _cleanup_gzindex_ struct gzindex *back = NULL;
                struct windows none;

                windows_init(&none, n);
                assert_int_equal(gzindex_deserialize(blob, len, windows_loader(&none), &back), 0);
                check_random_reads(back, r, plain, plen, 60, 20);
                assert_true(gzindex_damaged(back));
                for (size_t i = 1; i < n; i++)
                        assert_true(none.loads[i] <= 1);
                gzindex_free(TAKE_PTR(back));
                windows_done(&none);
        }
        windows_done(&ws);
        th_buf_free(&gz);
        free(plain);
}

static void test_corrupt_gzip(void **state) {
        const size_t plen = 1 << 20;
        struct th_buf gz = {};
        uint8_t *plain;

        (void) state;
        make_plain(&plain, plen, 13, 10);
        th_gzip(&gz, plain, plen, 6);
        {
                /* Not gzip at all; empty. */
                _cleanup_store_reader_ struct store_reader *r = NULL;
                struct gzindex *idx = NULL;
                assert_int_equal(th_reader_from_memory(plain, plen, NULL, &r), 0);
                assert_int_equal(gzindex_build(r, 0, &idx), -EBADMSG);
                assert_int_equal(gzindex_probe(r), 0);
                store_reader_free(TAKE_PTR(r));
                assert_int_equal(th_reader_from_memory(plain, 0, NULL, &r), 0);
                assert_int_equal(gzindex_build(r, 0, &idx), -EBADMSG);
                assert_null(idx);
        }
        /* Truncated at many points. */
        for (size_t cut = 1; cut < gz.len; cut += gz.len / 37) {
                _cleanup_store_reader_ struct store_reader *r = NULL;
                struct gzindex *idx = NULL;
                assert_int_equal(th_reader_from_memory(gz.p, cut, NULL, &r), 0);
                assert_int_equal(gzindex_build(r, 0, &idx), -EBADMSG);
        }
        /* Flipped bits in the deflate data or the trailer (CRC32/ISIZE). */
        for (size_t pos = 100; pos < gz.len; pos += gz.len / 23) {
                _cleanup_store_reader_ struct store_reader *r = NULL;
                struct gzindex *idx = NULL;
                size_t p = pos + 23 >= gz.len ? gz.len - 3 : pos;
                gz.p[p] ^= 0x10;
                assert_int_equal(th_reader_from_memory(gz.p, gz.len, NULL, &r), 0);
                assert_int_equal(gzindex_build(r, 0, &idx), -EBADMSG);
                gz.p[p] ^= 0x10;
        }
        /* Garbage after the last member. */
        th_buf_put(&gz, "garbage", 7);
        {
                _cleanup_store_reader_ struct store_reader *r = NULL;
                struct gzindex *idx = NULL;
                assert_int_equal(th_reader_from_memory(gz.p, gz.len, NULL, &r), 0);
                assert_int_equal(gzindex_build(r, 0, &idx), -EBADMSG);
        }
        th_buf_free(&gz);
        free(plain);
}

/* The gzip reader: sequential chunked reads, random reads, size check. */
static void test_reader(void **state) {
        const size_t plen = 5 << 20;
        struct th_buf gz = {};
        _cleanup_store_reader_ struct store_reader *src = NULL, *u = NULL;
        struct gzindex *idx = NULL;
        struct store_reader *bad = NULL;
        uint8_t *plain, *buf;
        uint64_t seed = 21;

        (void) state;
        make_plain(&plain, plen, 17, 30);
        th_gzip(&gz, plain, plen, 6);
        assert_int_equal(th_reader_from_memory(gz.p, gz.len, NULL, &src), 0);
        assert_int_equal(gzindex_build(src, 512 << 10, &idx), 0);
        assert_int_equal(gzindex_reader_new(idx, src, GZREADER_OWN_INDEX, &u), 0);
        assert_int_equal(u->size, plen);
        assert_int_equal(u->fd, -1);

        buf = malloc(plen);
        for (size_t off = 0; off < plen; off += 4099) {
                size_t n = off + 4099 <= plen ? 4099 : plen - off;
                assert_int_equal(store_reader_pread(u, buf + off, 4099, off), n);
        }
        assert_memory_equal(buf, plain, plen);
        for (int i = 0; i < 300; i++) {
                uint64_t off = th_rand(&seed) % plen;
                size_t len = th_rand(&seed) % 70000;
                size_t want = len < plen - off ? len : plen - off;
                assert_int_equal(store_reader_pread(u, buf, len, off), want);
                assert_memory_equal(buf, plain + off, want);
        }
        /* A source of another size is refused. */
        {
                _cleanup_gzindex_ struct gzindex *idx2 = NULL;
                _cleanup_store_reader_ struct store_reader *shorter = NULL;
                assert_int_equal(gzindex_build(src, 0, &idx2), 0);
                assert_int_equal(th_reader_from_memory(gz.p, gz.len - 1, NULL, &shorter), 0);
                assert_int_equal(gzindex_reader_new(idx2, shorter, 0, &bad), -EINVAL);
                assert_null(bad);
        }
        free(buf);
        free(plain);
        store_reader_free(TAKE_PTR(u));
        th_buf_free(&gz);
}

struct worker {
        struct store_reader *u;
        const uint8_t *plain;
        size_t plen;
        uint64_t seed;
        int failures;
};

static void *worker_main(void *arg) {
        struct worker *w = arg;
        uint8_t *buf = malloc(65536);

        for (int i = 0; i < 150; i++) {
                uint64_t off = th_rand(&w->seed) % w->plen;
                size_t len = th_rand(&w->seed) % 65536;
                size_t want = len < w->plen - off ? len : w->plen - off;
                /* Half the time read sequentially from where we were. */
                for (int j = 0; j < 3; j++) {
                        ssize_t n = store_reader_pread(w->u, buf, len, off);
                        if (n != (ssize_t) want || memcmp(buf, w->plain + off, want) != 0)
                                w->failures++;
                        off += want;
                        if (off >= w->plen)
                                break;
                        want = len < w->plen - off ? len : w->plen - off;
                }
        }
        free(buf);
        return NULL;
}

/* Six threads reading through one gzip reader; lazy: over a deserialised
 * index, whose windows (a few cached) are loaded concurrently. */
static void reader_threads(bool lazy) {
        const size_t plen = 4 << 20;
        struct th_buf gz = {};
        _cleanup_store_reader_ struct store_reader *src = NULL, *u = NULL;
        _cleanup_free_ void *blob = NULL;
        struct gzindex *idx = NULL;
        struct windows ws = {};
        struct worker w[6];
        pthread_t t[6];
        uint8_t *plain;
        size_t len;

        make_plain(&plain, plen, 23, 25);
        th_gzip(&gz, plain, plen, 6);
        assert_int_equal(th_reader_from_memory(gz.p, gz.len, NULL, &src), 0);
        assert_int_equal(gzindex_build(src, lazy ? 64 << 10 : 256 << 10, &idx), 0);
        if (lazy) {
                windows_init(&ws, gzindex_n_points(idx));
                assert_int_equal(gzindex_serialize(idx, windows_put, &ws, &blob, &len), 0);
                gzindex_free(idx);
                assert_int_equal(gzindex_deserialize(blob, len, windows_loader(&ws), &idx), 0);
        }
        /* The reader owns both: freeing it frees the index and the source. */
        assert_int_equal(gzindex_reader_new(idx, TAKE_PTR(src), GZREADER_OWN_INDEX | GZREADER_OWN_SOURCE, &u), 0);
        for (int i = 0; i < 6; i++) {
                w[i] = (struct worker) { .u = u, .plain = plain, .plen = plen, .seed = 1000 + (uint64_t) i };
                assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
        }
        for (int i = 0; i < 6; i++) {
                pthread_join(t[i], NULL);
                assert_int_equal(w[i].failures, 0);
        }
        store_reader_free(TAKE_PTR(u));
        if (lazy) {
                assert_int_equal(ws.freed, 1);
                assert_true(windows_total_loads(&ws) > 0);
                windows_done(&ws);
        }
        th_buf_free(&gz);
        free(plain);
}

static void test_reader_threads(void **state) {
        (void) state;
        reader_threads(false);
}

static void test_reader_threads_lazy(void **state) {
        (void) state;
        reader_threads(true);
}

/* tar + gzip: index the tar through the gzip reader and read members. */
static void test_tar_gz(void **state) {
        struct th_buf tar = {}, gz = {};
        _cleanup_store_reader_ struct store_reader *src = NULL, *u = NULL;
        _cleanup_tar_index_ struct tar_index *tidx = NULL;
        struct gzindex *idx = NULL;
        uint64_t seed = 31;
        uint8_t *files[200];
        size_t sizes[200];
        uint8_t buf[300000];

        (void) state;
        for (int i = 0; i < 200; i++) {
                char name[64];
                sizes[i] = th_rand(&seed) % (i % 17 == 0 ? 300000 : 20000);
                files[i] = malloc(sizes[i] + 1);
                th_fill(&seed, files[i], sizes[i], 40);
                snprintf(name, sizeof(name), "dir%d/file-%03d", i % 7, i);
                th_tar_file(&tar, name, files[i], sizes[i]);
        }
        th_tar_end(&tar);
        th_gzip(&gz, tar.p, tar.len, 6);
        assert_int_equal(th_reader_from_memory(gz.p, gz.len, NULL, &src), 0);
        assert_int_equal(gzindex_build(src, 1 << 20, &idx), 0);
        assert_int_equal(gzindex_usize(idx), tar.len);
        assert_int_equal(gzindex_reader_new(idx, src, GZREADER_OWN_INDEX, &u), 0);
        assert_int_equal(tarindex_build(u, &tidx), 0);
        assert_int_equal(tidx->n, 200);
        /* In reverse order, so that every read goes back to an access point. */
        for (int i = 199; i >= 0; i--) {
                const struct tar_member *m = &tidx->members[i];
                assert_int_equal(m->size, sizes[i]);
                assert_int_equal(store_reader_read_exact(u, buf, sizes[i], m->data_offset), 0);
                assert_memory_equal(buf, files[i], sizes[i]);
                free(files[i]);
        }
        th_buf_free(&tar);
        th_buf_free(&gz);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_single_member),
                cmocka_unit_test(test_multi_member),
                cmocka_unit_test(test_serialize),
                cmocka_unit_test(test_lazy_damage),
                cmocka_unit_test(test_corrupt_gzip),
                cmocka_unit_test(test_reader),
                cmocka_unit_test(test_reader_threads),
                cmocka_unit_test(test_reader_threads_lazy),
                cmocka_unit_test(test_tar_gz),
        };
        return cmocka_run_group_tests_name("store-gzindex", tests, NULL, NULL);
}
