/* Live tests of Content.Write (rpc_content_ingest) / Content.Read /
 * Content.Info, and of one client shared by several threads. Blob A (L.blob), written by
 * test_content_write_buffer, is read by the tests after it. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "containerd.h"
#include "live-tests.h"
#include "live-util.h"

#define MiB (1024 * 1024)

typedef struct {
        uint8_t *buf;
        size_t cap;
        uint64_t base;     /* offset asked for */
        uint64_t got;      /* bytes received */
        size_t n_chunks;
        size_t max_chunk;
        bool bad_offset;
        size_t fail_at_chunk;   /* 1-based; 0: never */
        int fail_with;
} read_sink;

static int sink_cb(const uint8_t *data, size_t len, uint64_t offset, void *userdata) {
        read_sink *s = userdata;
        s->n_chunks++;
        if (s->fail_at_chunk && s->n_chunks == s->fail_at_chunk)
                return s->fail_with;
        if (offset != s->base + s->got || s->got + len > s->cap) {
                s->bad_offset = true;
                return -EPROTO;
        }
        memcpy(s->buf + s->got, data, len);
        s->got += len;
        if (len > s->max_chunk)
                s->max_chunk = len;
        return 0;
}

static int64_t read_into(rpc_client *c, const rpc_opts *o, const char *digest, uint64_t off, uint64_t size,
                         read_sink *s, rpc_error *err) {
        s->base = off;
        s->got = 0;
        s->n_chunks = 0;
        s->max_chunk = 0;
        s->bad_offset = false;
        return rpc_content_read(c, o, digest, off, size, sink_cb, s, err);
}

static void assert_blob_reads_back(rpc_client *c, const rpc_opts *o, const char *digest, const uint8_t *data,
                                   size_t len) {
        read_sink s = { .buf = malloc(len + 1), .cap = len + 1 };
        assert_non_null(s.buf);
        rpc_error err = { 0 };
        int64_t r = read_into(c, o, digest, 0, 0, &s, &err);
        if (r < 0)
                fail_msg("reading back %s: %s", digest, err.message);
        assert_int_equal(r, len);
        assert_false(s.bad_offset);
        assert_int_equal(s.got, len);
        assert_memory_equal(s.buf, data, len);
        free(s.buf);
}

/* The peer's view: `ctr content get` has the same bytes. */
static void assert_ctr_has_blob(const char *digest) {
        _cleanup_free_ char *out = NULL;
        assert_int_equal(sh_capture(&out, "timeout -k 5 %d ctr --address '%s' -n '%s' content get %s | sha256sum",
                                    LIVE_CMD_TIMEOUT_S, L.addr, L.ns, digest),
                         0);
        assert_true(strlen(out) >= 64);
        assert_memory_equal(out, digest + 7, 64);
}

static const char *label_of(const rpc_blob_info *info, const char *key) {
        for (size_t i = 0; i < info->n_labels; i++)
                if (strcmp(info->labels[i]->key, key) == 0)
                        return info->labels[i]->value;
        return NULL;
}

typedef struct {
        const uint8_t *data;
        size_t len, pos;
        size_t piece;
        size_t calls;
} pull_src;

static ssize_t pull_cb(void *userdata, uint8_t *buf, size_t cap) {
        pull_src *p = userdata;
        p->calls++;
        size_t n = p->len - p->pos;
        if (n > cap)
                n = cap;
        if (n > p->piece)
                n = p->piece;
        memcpy(buf, p->data + p->pos, n);
        p->pos += n;
        return (ssize_t) n;
}

int live_write_buffer(rpc_client *c, const rpc_opts *o, const char *ref, const uint8_t *data, size_t len,
                      const char *const *labels, size_t n_labels, char digest[72], rpc_error *err) {
        pull_src src = { .data = data, .len = len, .piece = SIZE_MAX };
        return rpc_content_ingest(c, o, ref, len, pull_cb, &src, labels, n_labels, digest, err);
}

void test_content_write_buffer(void **state) {
        (void) state;
        /* Several 2 MiB messages and a partial one. */
        L.blob_len = 5 * MiB + 12345;
        L.blob = malloc(L.blob_len);
        assert_non_null(L.blob);
        fill_random(L.blob, L.blob_len, &L.seed);
        sha256_digest(L.blob, L.blob_len, L.blob_digest);

        rpc_error err = { 0 };
        rpc_opts o = opts();
        rpc_blob_info *info = NULL;
        assert_int_equal(rpc_content_info(L.c, &o, L.blob_digest, &info, &err), -ENOENT);

        char ref[96], digest[72] = "";
        snprintf(ref, sizeof(ref), "%s-a", L.prefix);
        /* gc.root keeps it without a lease until group teardown removes it. */
        const char *labels[] = { "containerd.io/gc.root", "rpc-live", "ckptfstest", L.prefix };
        int64_t t0 = now_ms();
        int r = live_write_buffer(L.c, &o, ref, L.blob, L.blob_len, labels, 2, digest, &err);
        if (r < 0)
                fail_msg("Content.Write: %d %s", r, err.message);
        L.blob_written = true;
        print_message("  wrote %zu bytes in %lld ms\n", L.blob_len, (long long) (now_ms() - t0));
        /* the sha256 computed on the way is the data's */
        assert_string_equal(digest, L.blob_digest);

        assert_int_equal(rpc_content_info(L.c, &o, L.blob_digest, &info, &err), 0);
        assert_string_equal(info->digest, L.blob_digest);
        assert_int_equal(info->size, L.blob_len);
        assert_non_null(label_of(info, "containerd.io/gc.root"));
        assert_string_equal(label_of(info, "containerd.io/gc.root"), "rpc-live");
        assert_string_equal(label_of(info, "ckptfstest"), L.prefix);
        pb_msg_free(info);

        assert_ctr_has_blob(L.blob_digest);
        assert_blob_reads_back(L.c, &o, L.blob_digest, L.blob, L.blob_len);
}

/* A reader that fails at once, with its own errno. */
static ssize_t failing_cb(void *userdata, uint8_t *buf, size_t cap) {
        (void) userdata;
        (void) buf;
        (void) cap;
        return -EPERM;
}

void test_content_write_pull(void **state) {
        (void) state;
        size_t len = 2 * MiB + 777;
        _cleanup_free_ uint8_t *data = malloc(len);
        assert_non_null(data);
        fill_random(data, len, &L.seed);
        char digest[72], got[72] = "";
        sha256_digest(data, len, digest);

        char ref[96];
        snprintf(ref, sizeof(ref), "%s-b", L.prefix);
        const char *labels[] = { "containerd.io/gc.root", "rpc-live" };
        /* Odd pieces: the writer must assemble full messages from many reads. */
        pull_src src = { .data = data, .len = len, .piece = 7777 };
        rpc_error err = { 0 };
        rpc_opts o = opts();
        int r = rpc_content_ingest(L.c, &o, ref, len, pull_cb, &src, labels, 1, got, &err);
        if (r < 0)
                fail_msg("Content.Write (pull): %d %s", r, err.message);
        assert_string_equal(got, digest);
        assert_int_equal(src.pos, len);
        assert_true(src.calls > len / 7777);

        rpc_blob_info *info = NULL;
        assert_int_equal(rpc_content_info(L.c, &o, digest, &info, &err), 0);
        assert_int_equal(info->size, len);
        pb_msg_free(info);
        assert_ctr_has_blob(digest);
        assert_blob_reads_back(L.c, &o, digest, data, len);
        ctr(NULL, "content rm %s >/dev/null", digest);

        /* A reader that ends early: an error, nothing is committed. */
        fill_random(data, len, &L.seed);
        snprintf(ref, sizeof(ref), "%s-c", L.prefix);
        pull_src short_src = { .data = data, .len = MiB + 5, .piece = MiB };
        memset(&err, 0, sizeof(err));
        r = rpc_content_ingest(L.c, &o, ref, len, pull_cb, &short_src, NULL, 0, got, &err);
        assert_int_equal(r, -EIO);
        assert_true(err.message[0] != '\0');
        sha256_digest(data, MiB + 5, digest);
        assert_int_equal(rpc_content_info(L.c, &o, digest, &info, &err), -ENOENT);

        /* One with more than announced: the same. */
        pull_src long_src = { .data = data, .len = len, .piece = MiB };
        memset(&err, 0, sizeof(err));
        r = rpc_content_ingest(L.c, &o, ref, len - 10, pull_cb, &long_src, NULL, 0, got, &err);
        assert_int_equal(r, -EIO);
        assert_non_null(strstr(err.message, "longer"));
        sha256_digest(data, len - 10, digest);
        assert_int_equal(rpc_content_info(L.c, &o, digest, &info, &err), -ENOENT);

        /* A reader that fails: its own error comes back. */
        memset(&err, 0, sizeof(err));
        assert_int_equal(rpc_content_ingest(L.c, &o, ref, len, failing_cb, NULL, NULL, 0, got, &err), -EPERM);
        assert_non_null(strstr(err.message, ref));
}

void test_content_write_existing(void **state) {
        (void) state;
        assert_true(L.blob_written);
        rpc_error err = { 0 };
        rpc_opts o = opts();
        char ref[96], got[72] = "";
        snprintf(ref, sizeof(ref), "%s-a2", L.prefix);
        /* The commit finds the blob: success, with its digest. */
        int r = live_write_buffer(L.c, &o, ref, L.blob, L.blob_len, NULL, 0, got, &err);
        if (r < 0)
                fail_msg("Content.Write of an existing blob: %d %s", r, err.message);
        assert_string_equal(got, L.blob_digest);

        /* Unchanged, labels kept. */
        rpc_blob_info *info = NULL;
        assert_int_equal(rpc_content_info(L.c, &o, L.blob_digest, &info, &err), 0);
        assert_int_equal(info->size, L.blob_len);
        assert_string_equal(label_of(info, "ckptfstest"), L.prefix);
        pb_msg_free(info);
}

/* An empty blob, written and read back. */
void test_content_write_edges(void **state) {
        (void) state;
        rpc_opts o = opts();
        rpc_error err = { 0 };
        char empty[72], got[72] = "", ref[96];
        sha256_digest((const uint8_t *) "", 0, empty);
        snprintf(ref, sizeof(ref), "%s-empty", L.prefix);
        const char *labels[] = { "containerd.io/gc.root", "rpc-live" };
        int r = live_write_buffer(L.c, &o, ref, (const uint8_t *) "", 0, labels, 1, got, &err);
        if (r < 0)
                fail_msg("writing the empty blob: %d %s", r, err.message);
        assert_string_equal(got, empty);
        rpc_blob_info *info = NULL;
        assert_int_equal(rpc_content_info(L.c, &o, empty, &info, &err), 0);
        assert_int_equal(info->size, 0);
        pb_msg_free(info);
        uint8_t one;
        read_sink s = { .buf = &one, .cap = 1 };
        assert_int_equal(read_into(L.c, &o, empty, 0, 0, &s, &err), 0);
        assert_int_equal(s.got, 0);
        ctr(NULL, "content rm %s >/dev/null 2>&1", empty);
}

void test_content_lease(void **state) {
        (void) state;
        char lease[96];
        snprintf(lease, sizeof(lease), "%s-lease", L.prefix);
        assert_int_equal(ctr(NULL, "leases create --id %s >/dev/null", lease), 0);

        size_t len = 100 * 1000;
        _cleanup_free_ uint8_t *data = malloc(len);
        assert_non_null(data);
        fill_random(data, len, &L.seed);
        char digest[72];
        sha256_digest(data, len, digest);
        char ref[96];
        snprintf(ref, sizeof(ref), "%s-lease", L.prefix);

        /* A lease that does not exist: containerd refuses, so the header is sent. */
        char bogus[96];
        snprintf(bogus, sizeof(bogus), "%s-nolease", L.prefix);
        rpc_opts o = { .ns = L.ns, .lease = bogus, .timeout_ms = 30000 };
        rpc_error err = { 0 };
        assert_int_equal(live_write_buffer(L.c, &o, ref, data, len, NULL, 0, NULL, &err), -ENOENT);
        assert_non_null(strstr(err.message, "lease"));

        o.lease = lease;
        assert_int_equal(live_write_buffer(L.c, &o, ref, data, len, NULL, 0, NULL, &err), 0);
        rpc_opts plain = opts();
        assert_blob_reads_back(L.c, &plain, digest, data, len);
        ctr(NULL, "leases rm %s >/dev/null", lease);
        ctr(NULL, "content rm %s >/dev/null 2>&1", digest);
}

void test_content_read_ranges(void **state) {
        (void) state;
        assert_true(L.blob_written);
        const uint64_t len = L.blob_len;
        static const char *why[] = {
                "whole", "first byte", "across the first 1 MiB boundary", "unaligned, 2 MiB + 7 across 3 chunks",
                "unaligned, to the end", "last byte", "last byte, to the end", "exactly 1 MiB unaligned",
                "empty at the end",
        };
        const struct {
                uint64_t off, size, want;
                size_t min_chunks;
        } cases[] = {
                { 0, 0, len, 4 },
                { 0, 1, 1, 1 },
                { MiB - 1, 2, 2, 1 },
                { MiB - 3, 2 * MiB + 7, 2 * MiB + 7, 3 },
                { MiB + 1, 0, len - MiB - 1, 3 },
                { len - 1, 1, 1, 1 },
                { len - 1, 0, 1, 1 },
                { 3, MiB, MiB, 1 },
                { len, 0, 0, 0 },
        };
        read_sink s = { .buf = malloc(len + 1), .cap = len + 1 };
        assert_non_null(s.buf);
        rpc_opts o = opts();
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                rpc_error err = { 0 };
                int64_t r = read_into(L.c, &o, L.blob_digest, cases[i].off, cases[i].size, &s, &err);
                if (r < 0)
                        fail_msg("read %s [%llu, +%llu): %lld %s", why[i], (unsigned long long) cases[i].off,
                                 (unsigned long long) cases[i].size, (long long) r, err.message);
                assert_false(s.bad_offset);
                assert_int_equal(r, cases[i].want);
                assert_int_equal(s.got, cases[i].want);
                assert_memory_equal(s.buf, L.blob + cases[i].off, cases[i].want);
                /* Multi-message streams really were put together. */
                assert_true(s.n_chunks >= cases[i].min_chunks);
                assert_true(s.max_chunk <= RPC_MAX_MESSAGE);
        }

        /* Past the end: an error, never a short success. */
        rpc_error err = { 0 };
        int64_t r = read_into(L.c, &o, L.blob_digest, len - 10, 100, &s, &err);
        assert_true(r < 0);
        assert_true(err.message[0] != '\0');
        /* Starting past the end: containerd says OUT_OF_RANGE. */
        memset(&err, 0, sizeof(err));
        r = read_into(L.c, &o, L.blob_digest, len + 1, 0, &s, &err);
        assert_int_equal(r, -ERANGE);
        assert_int_equal(err.status, GRPC_STATUS_OUT_OF_RANGE);
        free(s.buf);
}

void test_content_read_errors(void **state) {
        (void) state;
        rpc_opts o = opts();
        char missing[72];
        char seed[64];
        snprintf(seed, sizeof(seed), "missing-%s", L.prefix);
        sha256_digest((const uint8_t *) seed, strlen(seed), missing);

        uint8_t one;
        read_sink s = { .buf = &one, .cap = 1 };
        rpc_error err = { 0 };
        assert_int_equal(read_into(L.c, &o, missing, 0, 0, &s, &err), -ENOENT);
        assert_int_equal(s.n_chunks, 0);
        assert_int_equal(err.status, GRPC_STATUS_NOT_FOUND);
        assert_non_null(strstr(err.message, missing + 7));
        assert_non_null(strstr(err.message, "not found"));

        rpc_blob_info *info = NULL;
        assert_int_equal(rpc_content_info(L.c, &o, missing, &info, &err), -ENOENT);
        assert_null(info);

        const char *bad[] = { "sha256:1234", "nothex", "sha256:zzzz567890123456789012345678901234567890123456789012345678901234",
                              "" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&err, 0, sizeof(err));
                int64_t r = read_into(L.c, &o, bad[i], 0, 0, &s, &err);
                if (r != -EINVAL)
                        fail_msg("read of bad digest \"%s\": %lld (%s)", bad[i], (long long) r, err.message);
                assert_int_equal(err.status, GRPC_STATUS_INVALID_ARGUMENT);
                assert_true(err.message[0] != '\0');
                assert_int_equal(s.n_chunks, 0);
        }
}

void test_content_read_cb_error(void **state) {
        (void) state;
        assert_true(L.blob_written);
        rpc_opts o = opts();
        read_sink s = { .buf = malloc(L.blob_len), .cap = L.blob_len, .fail_at_chunk = 2, .fail_with = -EFBIG };
        assert_non_null(s.buf);
        rpc_error err = { 0 };
        assert_int_equal(read_into(L.c, &o, L.blob_digest, 0, 0, &s, &err), -EFBIG);
        assert_int_equal(s.n_chunks, 2);
        free(s.buf);

        /* The abandoned stream leaves the client usable. */
        _cleanup_pb_msg_ rpc_version *v = NULL;
        assert_int_equal(rpc_version_get(L.c, &o, &v, &err), 0);
        assert_blob_reads_back(L.c, &o, L.blob_digest, L.blob, L.blob_len);
}

/* A deadline shorter than the call: -ETIMEDOUT, and it is honoured. */
void test_deadline(void **state) {
        (void) state;
        assert_true(L.blob_written);
        rpc_opts o = { .ns = L.ns, .timeout_ms = 1 };
        read_sink s = { .buf = malloc(L.blob_len), .cap = L.blob_len };
        assert_non_null(s.buf);
        rpc_error err = { 0 };
        int64_t t0 = now_ms();
        int64_t r = read_into(L.c, &o, L.blob_digest, 0, 0, &s, &err);
        int64_t dt = now_ms() - t0;
        free(s.buf);
        assert_int_equal(r, -ETIMEDOUT);
        assert_int_equal(err.status, GRPC_STATUS_DEADLINE_EXCEEDED);
        assert_true(dt < 1000);
}

typedef struct {
        int ok, failed;
        char first_error[1100];
} worker_result;

static void *worker_main(void *p) {
        worker_result *res = p;
        rpc_opts o = opts();
        uint8_t *buf = malloc(L.blob_len);
        for (int i = 0; i < 60 && buf; i++) {
                rpc_error err = { 0 };
                int r;
                if (i % 20 == 0) {
                        read_sink s = { .buf = buf, .cap = L.blob_len };
                        int64_t n = read_into(L.c, &o, L.blob_digest, 0, 0, &s, &err);
                        r = n == (int64_t) L.blob_len && memcmp(buf, L.blob, L.blob_len) == 0 ? 0 : (n < 0 ? (int) n : -EIO);
                } else if (i % 2) {
                        rpc_version *v = NULL;
                        r = rpc_version_get(L.c, &o, &v, &err);
                        pb_msg_free(v);
                } else {
                        rpc_task_get *g = NULL;
                        r = rpc_tasks_get(L.c, &o, L.id_run, &g, &err);
                        if (r == 0 && g->process->status != CONTAINERD__V1__TYPES__STATUS__RUNNING)
                                r = -EIO;
                        pb_msg_free(g);
                }
                if (r == 0)
                        res->ok++;
                else if (res->failed++ == 0)
                        snprintf(res->first_error, sizeof(res->first_error), "%d %s", r, err.message);
        }
        free(buf);
        return NULL;
}

/* One client, several threads at once (the documented sharing). */
void test_concurrent_calls(void **state) {
        (void) state;
        assert_true(L.blob_written);
        enum { N = 4 };
        pthread_t t[N];
        worker_result res[N];
        memset(res, 0, sizeof(res));
        for (int i = 0; i < N; i++)
                assert_int_equal(pthread_create(&t[i], NULL, worker_main, &res[i]), 0);
        for (int i = 0; i < N; i++)
                pthread_join(t[i], NULL);
        for (int i = 0; i < N; i++) {
                if (res[i].failed)
                        fail_msg("worker %d: %d failures, first: %s", i, res[i].failed, res[i].first_error);
                assert_int_equal(res[i].ok, 60);
        }
}
