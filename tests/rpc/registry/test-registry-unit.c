/* rpc/registry's pure parts: references, control lines, challenges,
 * config.json credentials, the thread pool, reports and the blob memo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry-auth.h"
#include "registry-ref.h"
#include "registry.h"

static void test_ref_parse(void **state) {
        registry_ref r;
        assert_int_equal(registry_ref_parse("127.0.0.1:5000/ck/test:v1", &r), 0);
        assert_string_equal(r.host, "127.0.0.1:5000");
        assert_string_equal(r.repo, "ck/test");
        assert_string_equal(r.tag, "v1");
        assert_string_equal(r.digest, "");
        assert_true(r.loopback);

        assert_int_equal(registry_ref_parse("registry.example.com/a/b/c", &r), 0);
        assert_string_equal(r.host, "registry.example.com");
        assert_string_equal(r.repo, "a/b/c");
        assert_string_equal(r.tag, "latest");
        assert_false(r.loopback);

        const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        char s[256];
        snprintf(s, sizeof(s), "localhost:5000/x@%s", d);
        assert_int_equal(registry_ref_parse(s, &r), 0);
        assert_string_equal(r.repo, "x");
        assert_string_equal(r.tag, "");
        assert_string_equal(r.digest, d);
        assert_true(r.loopback);
        snprintf(s, sizeof(s), "[::1]:5000/x:t@%s", d);
        assert_int_equal(registry_ref_parse(s, &r), 0);
        assert_string_equal(r.host, "[::1]:5000");
        assert_string_equal(r.tag, "t");
        assert_true(r.loopback);
}

static void test_ref_errors(void **state) {
        registry_ref r;
        const char *bad[] = { "", "noslash", "ubuntu/x:1" /* no registry host */, "h.io/", "h.io/UPPER",
                              "h.io/a//b", "h.io/a:", "h.io/a:-x", "h.io/a@sha256:12", "h.io/a b",
                              "h.io/a/:t", NULL };
        for (size_t i = 0; bad[i]; i++)
                assert_int_equal(registry_ref_parse(bad[i], &r), -EINVAL);
}

static void test_loopback(void **state) {
        assert_true(registry_host_is_loopback("localhost"));
        assert_true(registry_host_is_loopback("127.0.0.1"));
        assert_true(registry_host_is_loopback("127.1.2.3:80"));
        assert_true(registry_host_is_loopback("[::1]"));
        assert_false(registry_host_is_loopback("128.0.0.1"));
        assert_false(registry_host_is_loopback("127.0.0.1.evil.com"));
        assert_false(registry_host_is_loopback("localhost.example.com"));
        assert_false(registry_host_is_loopback("[::2]:5000"));
}

static void test_line(void **state) {
        registry_ref r;
        char *name = NULL, *msg = NULL;
        bool insecure = false;
        const char *l = "reg.io:5000/ck/t:v1 name=a/b:c insecure\n";
        assert_int_equal(registry_line_parse(l, strlen(l), true, &r, &name, &insecure, &msg), 0);
        assert_string_equal(r.repo, "ck/t");
        assert_string_equal(name, "a/b:c");
        assert_true(insecure);
        free(name);
        name = NULL;
        l = "reg.io/x";
        assert_int_equal(registry_line_parse(l, strlen(l), false, &r, &name, &insecure, &msg), 0);
        assert_null(name);
        assert_false(insecure);
        l = "reg.io/x name=y";
        assert_int_equal(registry_line_parse(l, strlen(l), false, &r, &name, &insecure, &msg), -EINVAL);
        assert_non_null(strstr(msg, "name=y"));
        free(msg);
        msg = NULL;
        l = "\n";
        assert_int_equal(registry_line_parse(l, strlen(l), true, &r, &name, &insecure, &msg), -EINVAL);
        assert_non_null(strstr(msg, "no reference"));
        free(msg);
        msg = NULL;
        l = "reg.io/x reg.io/y";
        assert_int_equal(registry_line_parse(l, strlen(l), true, &r, &name, &insecure, &msg), -EINVAL);
        free(msg);
}

static void test_challenge(void **state) {
        registry_challenge c;
        assert_int_equal(registry_challenge_parse("Bearer realm=\"https://auth.io/token\",service=\"reg.io\","
                                                  "scope=\"repository:ck/t:pull,push\"",
                                                  &c),
                         0);
        assert_int_equal(c.scheme, REGISTRY_AUTH_BEARER);
        assert_string_equal(c.realm, "https://auth.io/token");
        assert_string_equal(c.service, "reg.io");
        assert_string_equal(c.scope, "repository:ck/t:pull,push");
        /* any order, bare values, unknown keys, escapes */
        assert_int_equal(registry_challenge_parse("bearer  error=\"insufficient_scope\", scope=a, "
                                                  "realm=\"http://x/t?a=\\\"b\\\"\"",
                                                  &c),
                         0);
        assert_string_equal(c.scope, "a");
        assert_string_equal(c.realm, "http://x/t?a=\"b\"");
        assert_string_equal(c.service, "");
        assert_int_equal(registry_challenge_parse("Basic realm=\"Registry Realm\"", &c), 0);
        assert_int_equal(c.scheme, REGISTRY_AUTH_BASIC);
        assert_string_equal(c.realm, "Registry Realm");
        assert_int_equal(registry_challenge_parse("Bearer service=\"x\"", &c), -EINVAL);
        assert_int_equal(registry_challenge_parse("Negotiate abc", &c), -EINVAL);
        assert_int_equal(registry_challenge_parse("", &c), -EINVAL);
        assert_int_equal(registry_challenge_parse("Bearer realm=\"unterminated", &c), 0);
        assert_string_equal(c.realm, "unterminated");
}

static void test_auth_lookup(void **state) {
        const char *j = "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"aHViOnNlY3JldA==\"},"
                        " \"127.0.0.1:5000\": {\"auth\": \"dTpw\"},"
                        " \"http://reg.io\": {\"auth\": \"cmVnOnB3\"},"
                        " \"empty.io\": {\"auth\": \"\"}}}";
        char *a = NULL;
        assert_int_equal(registry_auth_lookup(j, strlen(j), "127.0.0.1:5000", &a), 0);
        assert_string_equal(a, "dTpw");
        free(a);
        assert_int_equal(registry_auth_lookup(j, strlen(j), "reg.io", &a), 0);
        assert_string_equal(a, "cmVnOnB3");
        free(a);
        assert_int_equal(registry_auth_lookup(j, strlen(j), "index.docker.io", &a), 0);
        assert_string_equal(a, "aHViOnNlY3JldA==");
        free(a);
        assert_int_equal(registry_auth_lookup(j, strlen(j), "127.0.0.1", &a), -ENOENT);
        assert_int_equal(registry_auth_lookup(j, strlen(j), "reg.i", &a), -ENOENT);
        assert_int_equal(registry_auth_lookup(j, strlen(j), "empty.io", &a), -ENOENT);
        assert_int_equal(registry_auth_lookup("{}", 2, "reg.io", &a), -ENOENT);
        assert_int_equal(registry_auth_lookup("[1", 2, "reg.io", &a), -EBADMSG);
}

static void test_is_manifest(void **state) {
        assert_true(registry_is_manifest("application/vnd.oci.image.index.v1+json"));
        assert_true(registry_is_manifest("application/vnd.docker.distribution.manifest.v2+json"));
        assert_false(registry_is_manifest("application/vnd.containerd.container.criu.checkpoint.criu.tar"));
        assert_false(registry_is_manifest(NULL));
}

static int count_or_fail(void *ud, size_t i) {
        int *seen = ud;
        __atomic_add_fetch(&seen[i], 1, __ATOMIC_SEQ_CST);
        return i == 37 ? -EIO : 0;
}

static int just_count(void *ud, size_t i) {
        int *seen = ud;
        __atomic_add_fetch(&seen[i], 1, __ATOMIC_SEQ_CST);
        return 0;
}

static void test_pool(void **state) {
        int seen[100] = { 0 };
        assert_int_equal(registry_pool_run(100, REGISTRY_THREADS, just_count, seen), 0);
        for (size_t i = 0; i < 100; i++)
                assert_int_equal(seen[i], 1);
        memset(seen, 0, sizeof(seen));
        assert_int_equal(registry_pool_run(100, REGISTRY_THREADS, count_or_fail, seen), -EIO);
        assert_int_equal(seen[37], 1);
        for (size_t i = 0; i < 100; i++)
                assert_true(seen[i] <= 1);
        assert_int_equal(registry_pool_run(0, 4, just_count, seen), 0);
}

static void test_reports(void **state) {
        registry_reports *rep;
        assert_int_equal(registry_reports_new(&rep), 0);
        char *t;
        assert_int_equal(registry_reports_get(rep, "ns/a", &t), 0);
        assert_string_equal(t, "");
        free(t);
        registry_result res = { .digest = "sha256:abc", .blobs = 7, .uploaded = 5, .skipped = 2, .bytes = 99 };
        assert_int_equal(registry_reports_note(rep, "ns/a", "push", "r.io/x:1", 0, &res, NULL), 0);
        assert_int_equal(registry_reports_get(rep, "ns/a", &t), 0);
        assert_non_null(strstr(t, "result: ok\n"));
        assert_non_null(strstr(t, "uploaded: 5\nskipped: 2\n"));
        assert_non_null(strstr(t, "digest: sha256:abc\n"));
        free(t);
        registry_error err = { "HEAD blob: HTTP 401" };
        assert_int_equal(registry_reports_note(rep, "ns/a", "push", "r.io/x:1", -EACCES, NULL, &err), 0);
        assert_int_equal(registry_reports_note(rep, "ns", "pull", "r.io/x:1", 0, &res, NULL), 0);
        assert_int_equal(registry_reports_get(rep, "ns/a", &t), 0);
        assert_non_null(strstr(t, "result: error\n"));
        assert_non_null(strstr(t, "errno: EACCES\n"));
        assert_non_null(strstr(t, "error: HEAD blob: HTTP 401\n"));
        free(t);
        assert_int_equal(registry_reports_get(rep, "ns", &t), 0);
        assert_non_null(strstr(t, "fetched: 5\n"));
        free(t);
        registry_reports_free(rep);
}

static void test_memo(void **state) {
        char repo[REGISTRY_REPO_MAX];
        const char *d = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        assert_false(registry_memo_find("h:1", "a", d, repo));
        registry_memo_note("h:1", "a", d);
        assert_false(registry_memo_find("h:1", "a", d, repo));   /* not from itself */
        assert_false(registry_memo_find("h:2", "b", d, repo));   /* another registry */
        assert_true(registry_memo_find("h:1", "b", d, repo));
        assert_string_equal(repo, "a");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ref_parse), cmocka_unit_test(test_ref_errors),
                cmocka_unit_test(test_loopback),  cmocka_unit_test(test_line),
                cmocka_unit_test(test_challenge), cmocka_unit_test(test_auth_lookup),
                cmocka_unit_test(test_is_manifest), cmocka_unit_test(test_pool),
                cmocka_unit_test(test_reports),   cmocka_unit_test(test_memo),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
