/* store/base/log: levels, the line format on stderr, errno kept, the
 * return value of the *_errno forms. FNV-1a's published test vectors
 * (hash.h) too: inode numbers depend on them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"

/* Runs fn with stderr going to a temp file; returns what it wrote. */
static char *capture_stderr(void (*fn)(void)) {
        char path[] = "/tmp/ckptfs-log.XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        dup2(fd, STDERR_FILENO);
        fn();
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        static char buf[4096];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        close(fd);
        unlink(path);
        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

static void emit(void) {
        log_debug("not shown at info");
        log_info("mounted %s", "/mnt");
        errno = EAGAIN;
        int r = log_error_errno(-ENOENT, "cannot open %s", "x");
        assert_int_equal(r, -ENOENT);
        assert_int_equal(errno, EAGAIN);
        assert_int_equal(log_warning_errno(EIO, "positive errors are negated"), -EIO);
        assert_int_equal(log_error("no errno"), 0);
}

static void test_levels_and_format(void **state) {
        (void) state;
        log_setup(LOG_TARGET_STDERR, LOG_INFO, NULL);
        assert_int_equal(log_max_level(), LOG_INFO);
        const char *out = capture_stderr(emit);
        assert_string_equal(out,
                            "ckptfs: info: mounted /mnt\n"
                            "ckptfs: error: cannot open x: No such file or directory\n"
                            "ckptfs: warning: positive errors are negated: Input/output error\n"
                            "ckptfs: error: no errno\n");
}

static void emit_debug(void) {
        log_debug("shown at debug");
}

static void test_debug(void **state) {
        (void) state;
        log_setup(LOG_TARGET_STDERR, LOG_DEBUG, NULL);
        assert_string_equal(capture_stderr(emit_debug), "ckptfs: debug: shown at debug\n");
        log_setup(LOG_TARGET_STDERR, LOG_ERR, NULL);
        assert_string_equal(capture_stderr(emit_debug), "");
}

static void test_level_names(void **state) {
        (void) state;
        assert_int_equal(log_level_from_string("error"), LOG_ERR);
        assert_int_equal(log_level_from_string("warning"), LOG_WARNING);
        assert_int_equal(log_level_from_string("info"), LOG_INFO);
        assert_int_equal(log_level_from_string("debug"), LOG_DEBUG);
        assert_int_equal(log_level_from_string("verbose"), -EINVAL);
        assert_int_equal(log_level_from_string(NULL), -EINVAL);
}

static void test_fnv1a_vectors(void **state) {
        (void) state;
        assert_true(fnv1a_str(FNV1A_INIT, "") == 0xcbf29ce484222325ULL);
        assert_true(fnv1a_str(FNV1A_INIT, "a") == 0xaf63dc4c8601ec8cULL);
        assert_true(fnv1a_str(FNV1A_INIT, "foobar") == 0x85944171f73967e8ULL);
        assert_true(fnv1a(FNV1A_INIT, "foobar", 6) == 0x85944171f73967e8ULL);
        assert_true(fnv1a(fnv1a(FNV1A_INIT, "foo", 3), "bar", 3) == 0x85944171f73967e8ULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_levels_and_format),
                cmocka_unit_test(test_debug),
                cmocka_unit_test(test_level_names),
                cmocka_unit_test(test_fnv1a_vectors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
