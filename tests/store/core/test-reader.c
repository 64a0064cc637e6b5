/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "cleanup.h"
#include "reader.h"

static char *dir;

static int setup(void **state) {
        (void) state;
        dir = th_mkdtemp();
        return 0;
}

static int teardown(void **state) {
        (void) state;
        th_rm_rf(dir);
        free(dir);
        return 0;
}

static void test_fd_reader(void **state) {
        _cleanup_free_ char *path = NULL;
        _cleanup_store_reader_ struct store_reader *r = NULL, *s = NULL;
        uint8_t data[10000], buf[20000];
        uint64_t seed = 1;

        (void) state;
        th_fill(&seed, data, sizeof(data), 50);
        assert_int_not_equal(asprintf(&path, "%s/blob", dir), -1);
        assert_int_equal(th_write_file(path, data, sizeof(data)), 0);

        assert_int_equal(th_reader_open(path, &r), 0);
        assert_int_equal(r->size, sizeof(data));
        assert_true(r->fd >= 0);
        assert_int_equal(r->fd_offset, 0);

        /* Whole, partial, past-the-end, at-the-end reads. */
        assert_int_equal(store_reader_pread(r, buf, sizeof(buf), 0), sizeof(data));
        assert_memory_equal(buf, data, sizeof(data));
        assert_int_equal(store_reader_pread(r, buf, 100, 9950), 50);
        assert_memory_equal(buf, data + 9950, 50);
        assert_int_equal(store_reader_pread(r, buf, 100, 10000), 0);
        assert_int_equal(store_reader_pread(r, buf, 100, UINT64_MAX), 0);
        assert_int_equal(store_reader_read_exact(r, buf, 100, 9950), -ENODATA);
        assert_int_equal(store_reader_read_exact(r, buf, 100, 1234), 0);
        assert_memory_equal(buf, data + 1234, 100);

        /* A slice keeps the fd visible with the right offset, and owns its
         * parent once made (not when refused). */
        int fd = r->fd;
        assert_int_equal(store_reader_slice_owning(r, 9000, 1001, &s), -EINVAL);
        assert_null(s);
        assert_int_equal(store_reader_slice_owning(r, 1000, 500, &s), 0);
        (void) TAKE_PTR(r);
        assert_int_equal(s->size, 500);
        assert_int_equal(s->fd, fd);
        assert_int_equal(s->fd_offset, 1000);
        assert_int_equal(store_reader_pread(s, buf, sizeof(buf), 0), 500);
        assert_memory_equal(buf, data + 1000, 500);
        assert_int_equal(store_reader_pread(s, buf, 10, 495), 5);
        store_reader_free(TAKE_PTR(s));
        assert_int_equal(th_reader_open(path, &r), 0);
        assert_int_equal(store_reader_slice_owning(r, 10000, 0, &s), 0);
        (void) TAKE_PTR(r);
        assert_int_equal(store_reader_pread(s, buf, 10, 0), 0);
}

static void test_fd_errors(void **state) {
        struct store_reader *r = NULL;
        int fds[2];

        (void) state;
        assert_int_equal(th_reader_open("/nonexistent/blob", &r), -ENOENT);
        assert_int_equal(pipe(fds), 0);
        /* A pipe cannot be read at offsets; the fd stays ours on failure. */
        assert_int_equal(store_reader_from_fd(fds[0], &r), -ESPIPE);
        assert_null(r);
        assert_true(fcntl(fds[0], F_GETFD) >= 0);
        close(fds[0]);
        close(fds[1]);
        assert_int_equal(store_reader_from_fd(-1, &r), -EBADF);
}

static void test_memory_reader(void **state) {
        _cleanup_store_reader_ struct store_reader *r = NULL;
        char *owned = strdup("hello, world");
        char buf[32] = {};

        (void) state;
        assert_int_equal(th_reader_from_memory(owned, strlen(owned), free, &r), 0);
        assert_int_equal(r->fd, -1);
        assert_int_equal(store_reader_pread(r, buf, sizeof(buf), 7), 5);
        assert_string_equal(buf, "world");
}

/* A backend returning one byte per call: callers still get whole reads. */
static ssize_t trickle(void *ctx, void *buf, size_t len, uint64_t off) {
        const char *s = ctx;
        if (len == 0 || off >= strlen(s))
                return 0;
        *(char *) buf = s[off];
        return 1;
}

static ssize_t failing(void *ctx, void *buf, size_t len, uint64_t off) {
        (void) ctx, (void) buf, (void) len, (void) off;
        return -EIO;
}

static void test_generic_reader(void **state) {
        _cleanup_store_reader_ struct store_reader *r = NULL, *f = NULL;
        char buf[16] = {};

        (void) state;
        assert_int_equal(store_reader_new(trickle, NULL, (void *) "abcdefgh", 8, &r), 0);
        assert_int_equal(store_reader_read_exact(r, buf, 6, 1), 0);
        assert_string_equal(buf, "bcdefg");
        assert_int_equal(store_reader_new(failing, NULL, NULL, 8, &f), 0);
        assert_int_equal(store_reader_pread(f, buf, 4, 0), -EIO);
        assert_int_equal(store_reader_new(NULL, NULL, NULL, 8, &f), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fd_reader),
                cmocka_unit_test(test_fd_errors),
                cmocka_unit_test(test_memory_reader),
                cmocka_unit_test(test_generic_reader),
        };
        return cmocka_run_group_tests_name("store-reader", tests, setup, teardown);
}
