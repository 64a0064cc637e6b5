/* store/base/path: joining never truncates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "path.h"

static void test_join(void **state) {
        (void) state;
        char buf[64];
        assert_int_equal(path_join(buf, sizeof(buf), "default", "containers", "web", NULL), 22);
        assert_string_equal(buf, "default/containers/web");
        /* empty components are skipped, a single one stands alone */
        assert_int_equal(path_join(buf, sizeof(buf), "", "a", "", "b", NULL), 3);
        assert_string_equal(buf, "a/b");
        assert_int_equal(path_join(buf, sizeof(buf), "only", NULL), 4);
        assert_string_equal(buf, "only");
        assert_int_equal(path_join(buf, sizeof(buf), NULL), 0);
        assert_string_equal(buf, "");
}

static void test_too_long(void **state) {
        (void) state;
        char buf[8];
        /* "abc/def" is 7 bytes plus the NUL: fits exactly */
        assert_int_equal(path_join(buf, sizeof(buf), "abc", "def", NULL), 7);
        assert_string_equal(buf, "abc/def");
        assert_int_equal(path_join(buf, sizeof(buf), "abc", "defg", NULL), -ENAMETOOLONG);
        assert_string_equal(buf, "");
        assert_int_equal(path_join(buf, 0, "a", NULL), -ENAMETOOLONG);
}

static void test_append(void **state) {
        (void) state;
        char buf[10];
        size_t len = 0;
        buf[0] = '\0';
        assert_int_equal(path_append(buf, sizeof(buf), &len, "ns", 2), 0);
        assert_int_equal(path_append(buf, sizeof(buf), &len, "checkpoints", 3), 0);
        assert_string_equal(buf, "ns/che");
        assert_int_equal(len, 6);
        /* does not fit: buffer and length unchanged */
        assert_int_equal(path_append(buf, sizeof(buf), &len, "abcd", 4), -ENAMETOOLONG);
        assert_string_equal(buf, "ns/che");
        assert_int_equal(len, 6);
        assert_int_equal(path_append(buf, sizeof(buf), &len, "abc", 2), 0);
        assert_string_equal(buf, "ns/che/ab");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_join),
                cmocka_unit_test(test_too_long),
                cmocka_unit_test(test_append),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
