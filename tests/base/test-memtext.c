/* Unit tests of store/base/memtext.h: the text handed over whole, an empty
 * one, and a long one. Pure, no daemon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "memtext.h"

static void test_text(void **state) {
        (void) state;
        struct memtext t;
        assert_int_equal(memtext_open(&t), 0);
        fprintf(t.f, "a: %d\n", 42);
        fputs("b\n", t.f);
        char *s = NULL;
        size_t n = 0;
        assert_int_equal(memtext_finish(&t, &s, &n), 0);
        assert_string_equal(s, "a: 42\nb\n");
        assert_int_equal(n, 8);
        assert_null(t.f);
        free(s);
}

static void test_empty(void **state) {
        (void) state;
        struct memtext t;
        assert_int_equal(memtext_open(&t), 0);
        char *s = NULL;
        size_t n = 1;
        assert_int_equal(memtext_finish(&t, &s, &n), 0);
        assert_non_null(s);
        assert_string_equal(s, "");
        assert_int_equal(n, 0);
        free(s);
}

static void test_long(void **state) {
        (void) state;
        struct memtext t;
        assert_int_equal(memtext_open(&t), 0);
        for (int i = 0; i < 100000; i++)
                fputc('x', t.f);
        char *s = NULL;
        size_t n = 0;
        assert_int_equal(memtext_finish(&t, &s, &n), 0);
        assert_int_equal(n, 100000);
        assert_int_equal(strlen(s), 100000);
        free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_long),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
