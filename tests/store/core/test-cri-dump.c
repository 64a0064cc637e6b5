/* store/core/cri-dump.c: config.dump and status.dump of cri.tar from a
 * config.json record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cri-dump.h"

static json_t *parse(const char *s, size_t len) {
        assert_int_equal(strlen(s), len);
        assert_int_not_equal(s[len - 1], '\n');
        json_t *j = json_loadb(s, len, 0, NULL);
        assert_non_null(j);
        return j;
}

static const char *get(json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key));
}

static void test_ctr_container(void **state) {
        static const char cfg[] = "{\"id\": \"web\", \"image\": \"docker.io/library/busybox:latest\","
                                  " \"runtime\": {\"name\": \"io.containerd.runc.v2\", \"options\": null},"
                                  " \"snapshotter\": \"overlayfs\", \"spec\": {\"ociVersion\": \"1.2.0\"}}\n";
        store_cri_dumps d;
        assert_int_equal(store_cri_dumps_render(cfg, strlen(cfg), 1764748359123400000LL, &d), 0);
        json_t *c = parse(d.config_dump, d.config_len);
        assert_string_equal(get(c, "id"), "web");
        assert_string_equal(get(c, "name"), "web");
        assert_string_equal(get(c, "rootfsImage"), "docker.io/library/busybox:latest");
        assert_string_equal(get(c, "rootfsImageName"), "docker.io/library/busybox:latest");
        assert_null(json_object_get(c, "rootfsImageRef"));
        assert_string_equal(get(c, "runtime"), "io.containerd.runc.v2");
        assert_string_equal(get(c, "checkpointedTime"), "2025-12-03T07:52:39.1234Z");
        assert_string_equal(get(c, "createdTime"), "0001-01-01T00:00:00Z");
        assert_string_equal(get(c, "restoredTime"), "0001-01-01T00:00:00Z");
        assert_true(json_is_false(json_object_get(c, "restored")));
        /* Go's field order. */
        assert_true(strncmp(d.config_dump, "{\"id\":\"web\",\"name\":\"web\",\"rootfsImage\":", 39) == 0);
        json_t *s = parse(d.status_dump, d.status_len);
        assert_string_equal(get(s, "id"), "web");
        assert_string_equal(get(json_object_get(s, "metadata"), "name"), "web");
        assert_int_equal(json_integer_value(json_object_get(s, "state")), 1);
        assert_string_equal(get(json_object_get(s, "image"), "image"), "docker.io/library/busybox:latest");
        assert_null(json_object_get(s, "annotations"));
        json_decref(c);
        json_decref(s);
        store_cri_dumps_clear(&d);
}

/* A CRI container: its name from the spec; what config.json lacks (id,
 * image) is empty or omitted. */
static void test_cri_container(void **state) {
        static const char cfg[] = "{\"id\": null, \"image\": null, \"runtime\": {\"name\": null},"
                                  " \"spec\": {\"annotations\": {\"io.kubernetes.cri.container-name\": \"nginx\","
                                  " \"io.kubernetes.cri.sandbox-name\": \"pod\"}}}";
        store_cri_dumps d;
        assert_int_equal(store_cri_dumps_render(cfg, strlen(cfg), 0, &d), 0);
        json_t *c = parse(d.config_dump, d.config_len);
        assert_string_equal(get(c, "id"), "");
        assert_string_equal(get(c, "name"), "nginx");
        assert_null(json_object_get(c, "rootfsImage"));
        assert_null(json_object_get(c, "runtime"));
        assert_string_equal(get(c, "checkpointedTime"), "0001-01-01T00:00:00Z");
        json_t *s = parse(d.status_dump, d.status_len);
        assert_null(json_object_get(s, "id"));
        assert_null(json_object_get(s, "image"));
        assert_string_equal(get(json_object_get(s, "annotations"), "io.kubernetes.cri.sandbox-name"), "pod");
        json_decref(c);
        json_decref(s);
        store_cri_dumps_clear(&d);
}

static void test_bad(void **state) {
        store_cri_dumps d;
        assert_int_equal(store_cri_dumps_render("[1]", 3, 0, &d), -EBADMSG);
        assert_int_equal(store_cri_dumps_render("{", 1, 0, &d), -EBADMSG);
        char t[48];
        store_cri_time(1000000000LL, t, sizeof(t));
        assert_string_equal(t, "1970-01-01T00:00:01Z");
        store_cri_time(1000000001LL, t, sizeof(t));
        assert_string_equal(t, "1970-01-01T00:00:01.000000001Z");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ctr_container),
                cmocka_unit_test(test_cri_container),
                cmocka_unit_test(test_bad),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
