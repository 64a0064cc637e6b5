/* Unit tests of store/base/names.h and digest_valid(): the reference
 * grammar, tags, containerd's default and standard checkpoint names, and
 * digests. Pure, no daemon; links only store/base. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cleanup.h"
#include "digest.h"
#include "names.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void test_tags(void **state) {
        (void) state;
        const char *good[] = { "v1", "latest", "a_b.c-d", "_x", "1", "11-25-2026-12.18.12" };
        const char *bad[] = { "", ".x", "-x", "a:b", "a/b", "a b", "ä", "a\n", "x@y" };
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_true(ckpt_tag_valid(good[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_false(ckpt_tag_valid(bad[i]));
        char t128[129], t129[130];
        memset(t128, 'a', 128);
        t128[128] = 0;
        memset(t129, 'a', 129);
        t129[129] = 0;
        assert_true(ckpt_tag_valid(t128));
        assert_false(ckpt_tag_valid(t129));
        assert_false(ckpt_tag_valid(NULL));
}

static void test_refs(void **state) {
        (void) state;
        const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        char with_digest[200], tag_digest[200];
        snprintf(with_digest, sizeof(with_digest), "foo@%s", d);
        snprintf(tag_digest, sizeof(tag_digest), "docker.io/library/foo:1.0@%s", d);
        const char *good[] = {
                "foo", "foo/bar", "docker.io/library/busybox:latest", "localhost:5000/foo/bar:tag",
                "localhost/foo", "Registry.Example.COM/x", "a.b-c_d__e/f", "a---b", "192.168.1.1:80/a",
                "containerd.io/checkpoint/web-1:11-25-2026-12:18:12", "x:_", with_digest, tag_digest,
        };
        const char *bad[] = {
                "", "Foo", "foo/Bar", "foo/", "/foo", "foo//bar", "foo:", "foo:.bad", "foo:-bad", "-foo",
                "foo-", "foo..bar", "foo___bar", "foo@sha256:abc", "foo@", "foo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeX",
                ":tag", "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "foo bar", "foo\tbar", "host:port/x", "-host.com/x", "host-.com/x", "a/b:c/d",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                const char *why = NULL;
                bool ok = ckpt_ref_valid(good[i], &why);
                if (!ok)
                        print_error("%s rejected: %s\n", good[i], why);
                assert_true(ok);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *why = NULL;
                bool ok = ckpt_ref_valid(bad[i], &why);
                if (ok)
                        print_error("%s accepted\n", bad[i]);
                assert_false(ok);
                assert_non_null(why);
        }
        /* name length: 255 ok, 256 not */
        char name[300];
        memset(name, 'a', 255);
        name[255] = 0;
        assert_true(ckpt_ref_valid(name, NULL));
        strcat(name, ":t");
        assert_true(ckpt_ref_valid(name, NULL));
        memset(name, 'a', 256);
        name[256] = 0;
        assert_false(ckpt_ref_valid(name, NULL));
        assert_false(ckpt_ref_valid(NULL, NULL));
}

static void test_digests(void **state) {
        (void) state;
        assert_true(digest_valid("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
        assert_false(digest_valid("sha256:0123"));
        assert_false(digest_valid(NULL));
}

static void test_default_tag_shape(void **state) {
        (void) state;
        assert_true(ckpt_tag_is_default("11-25-2026-12:18:12"));
        assert_true(ckpt_tag_is_default("00-00-0000-00:00:00"));
        assert_false(ckpt_tag_is_default("11-25-2026-12:18:1"));
        assert_false(ckpt_tag_is_default("11-25-2026-12:18:123"));
        assert_false(ckpt_tag_is_default("11-25-2026-12-18-12"));
        assert_false(ckpt_tag_is_default("v1"));
        assert_false(ckpt_tag_is_default("aa-25-2026-12:18:12"));
        assert_false(ckpt_tag_is_default(NULL));
}

static void test_default_name(void **state) {
        (void) state;
        setenv("TZ", "UTC", 1);
        tzset();
        char *n = NULL;
        assert_int_equal(ckpt_default_name("abc", 0, &n), 0);
        assert_string_equal(n, "containerd.io/checkpoint/abc:01-01-1970-00:00:00");
        free(n);
        /* 2026-11-25 12:18:12 UTC */
        assert_int_equal(ckpt_default_name("c-1", 1795609092, &n), 0);
        assert_string_equal(n, "containerd.io/checkpoint/c-1:11-25-2026-12:18:12");
        free(n);
}

static void test_standard_names(void **state) {
        (void) state;
        char *n = NULL;
        assert_int_equal(ckpt_standard_name("web-1", "v1", &n), 0);
        assert_string_equal(n, "containerd.io/checkpoint/web-1:v1");
        const char *tag = NULL;
        assert_int_equal(ckpt_name_container(n, &tag), strlen("web-1"));
        assert_string_equal(tag, "v1");
        free(n);
        /* containerd's default tags hold colons: the id ends at the first */
        assert_int_equal(ckpt_name_container("containerd.io/checkpoint/c-1:11-25-2026-12:18:12", &tag), 3);
        assert_string_equal(tag, "11-25-2026-12:18:12");
        const char *others[] = { "docker.io/library/x:1", "containerd.io/checkpoint/a/b:c", "containerd.io/checkpoint/:t",
                                 "containerd.io/checkpoint/no-tag", "containerd.io/checkpoints/x:1" };
        for (size_t i = 0; i < ELEMENTSOF(others); i++)
                assert_int_equal(ckpt_name_container(others[i], &tag), 0);
}

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
                cmocka_unit_test(test_tags),
                cmocka_unit_test(test_refs),
                cmocka_unit_test(test_digests),
                cmocka_unit_test(test_default_name),
                cmocka_unit_test(test_default_tag_shape),
                cmocka_unit_test(test_component),
                cmocka_unit_test(test_name),
                cmocka_unit_test(test_standard_names),
        };
        return cmocka_run_group_tests_name("base-names", tests, NULL, NULL);
}
