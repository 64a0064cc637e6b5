/* store/base/json and strv: the text of JSON files, string vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "strv.h"

static void test_dump_text(void **state) {
        (void) state;
        _cleanup_json_ json_t *j = json_pack("{s:i, s:s}", "b", 2, "a", "x");
        char *s = NULL;
        size_t n = 0;
        assert_int_equal(json_dump_text(j, JSON_COMPACT | JSON_SORT_KEYS, &s, &n), 0);
        assert_string_equal(s, "{\"a\":\"x\",\"b\":2}\n");
        assert_int_equal(n, strlen(s));
        free(s);
        assert_int_equal(json_dump_text(NULL, 0, &s, &n), -ENOMEM);
}

static void test_strv(void **state) {
        (void) state;
        char *src[] = { "a", "bc", "", NULL };
        _cleanup_strv_free_ char **c = strv_copy(src);
        assert_non_null(c);
        assert_int_equal(strv_length(c), 3);
        assert_string_equal(c[1], "bc");
        assert_ptr_not_equal(c[1], src[1]);
        assert_null(c[3]);
        assert_int_equal(strv_length(NULL), 0);
        assert_null(strv_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dump_text),
                cmocka_unit_test(test_strv),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
