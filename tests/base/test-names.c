/* store/base/names.c: which entry names and image names the tree can show. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "names.h"

static void test_component(void **state) {
        char long_name[CKPT_COMPONENT_MAX + 2];
        memset(long_name, 'a', sizeof(long_name));
        assert_true(ckpt_component_valid("web:v1", 6));
        assert_true(ckpt_component_valid("...", 3));
        assert_true(ckpt_component_valid(".x", 2));
        assert_true(ckpt_component_valid("12-02-2026-07:52:20", 19));
        assert_true(ckpt_component_valid(long_name, CKPT_COMPONENT_MAX));
        assert_false(ckpt_component_valid(long_name, CKPT_COMPONENT_MAX + 1));
        assert_false(ckpt_component_valid("", 0));
        assert_false(ckpt_component_valid(".", 1));
        assert_false(ckpt_component_valid("..", 2));
        assert_false(ckpt_component_valid("a/b", 3));
        assert_false(ckpt_component_valid("a\0b", 3));
        /* Only the n bytes count: ".." followed by more is a longer name. */
        assert_true(ckpt_component_valid("..a", 3));
}

static void test_name(void **state) {
        const char *why = NULL;
        assert_true(ckpt_name_showable("containerd.io/checkpoint/web:v1", &why));
        assert_true(ckpt_name_showable("web:12-02-2026-07:52:20", NULL));
        assert_false(ckpt_name_showable("", &why));
        assert_non_null(why);
        why = NULL;
        assert_false(ckpt_name_showable("a/../b:x", &why));
        assert_non_null(strstr(why, ".."));
        assert_false(ckpt_name_showable("./b:x", NULL));
        assert_false(ckpt_name_showable("a//b:x", &why));
        assert_non_null(strstr(why, "empty"));
        assert_false(ckpt_name_showable("/a:x", NULL));
        assert_false(ckpt_name_showable("a/b/", NULL));

        char name[2 * CKPT_COMPONENT_MAX];
        memcpy(name, "ckpt/", 5);
        memset(name + 5, 'x', CKPT_COMPONENT_MAX);
        name[5 + CKPT_COMPONENT_MAX] = '\0';
        assert_true(ckpt_name_showable(name, NULL));
        name[5 + CKPT_COMPONENT_MAX] = 'y';
        name[6 + CKPT_COMPONENT_MAX] = '\0';
        assert_false(ckpt_name_showable(name, &why));
        assert_non_null(strstr(why, "255"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_component),
                cmocka_unit_test(test_name),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
