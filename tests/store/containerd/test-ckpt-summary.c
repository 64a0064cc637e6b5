/* store/containerd/ckpt-summary: the summary text and inspect.json's
 * container fields from facts made here; config.json's fields. Pure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt-summary.h"
#include "json.h"
#include "strv.h"

static void facts(store_ckpt_facts *f) {
        *f = (store_ckpt_facts) { .name = strdup("containerd.io/checkpoint/web:v1"), .created_ns = 1764748205123456789LL,
                                  .total_size = 2015043, .has_criu = true, .criu_size = 322048, .n_images = 45,
                                  .pages_size = 262144, .has_rw = true, .rw_size = 92 };
        assert_int_equal(store_ckpt_facts_from_config(f, "{\"id\": \"web\", \"image\": \"docker.io/library/busybox:1\", "
                                                         "\"runtime\": {\"name\": \"io.containerd.runc.v2\"}}"),
                         0);
}

static void test_summary(void **state) {
        (void) state;
        store_ckpt_facts f;
        facts(&f);
        char *t = NULL;
        size_t n = 0;
        assert_int_equal(store_ckpt_summary_text(&f, &t, &n), 0);
        assert_string_equal(t, "checkpoint: containerd.io/checkpoint/web:v1\ncontainer: web\n"
                               "image: docker.io/library/busybox:1\nruntime: io.containerd.runc.v2\nengine: containerd\n"
                               "checkpointed: 2025-12-03T07:50:05Z\nsize: 2015043 bytes (1.9 MiB)\n"
                               "criu dump: yes, 45 files (task/, proc/)\ncriu dump size: 322048 bytes (314.5 KiB)\n"
                               "memory pages: 262144 bytes (256.0 KiB)\nstatistics: none (no stats-dump)\n"
                               "rw diff: 92 bytes\n");
        assert_int_equal(n, strlen(t));
        free(t);

        /* no dump, no rw, one damaged image, nothing known of the container */
        store_ckpt_facts g = { .total_size = 10 };
        size_t k = 0;
        assert_int_equal(strv_push(&g.damaged, &k, "pstree.img: does not decode"), 0);
        assert_int_equal(store_ckpt_summary_text(&g, &t, &n), 0);
        assert_non_null(strstr(t, "container: (unknown)\n"));
        assert_non_null(strstr(t, "size: 10 bytes\n"));
        assert_non_null(strstr(t, "criu dump: none"));
        assert_non_null(strstr(t, "rw diff: none\n"));
        assert_non_null(strstr(t, "\ndamaged: pstree.img: does not decode\n"));
        free(t);
        store_ckpt_facts_clear(&g);

        /* a config that is no object changes nothing */
        assert_int_equal(store_ckpt_facts_from_config(&f, "[1]"), -EBADMSG);
        assert_int_equal(store_ckpt_facts_from_config(&f, "not json"), -EBADMSG);
        assert_string_equal(f.container, "web");
        store_ckpt_facts_clear(&f);
        assert_null(f.name);
}

static void test_inspect_container(void **state) {
        (void) state;
        store_ckpt_facts f;
        facts(&f);
        f.rw_size = 0;
        json_t *o = json_object();
        assert_int_equal(store_ckpt_inspect_container(&f, o), 0);
        char *t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(t, "{\"checkpoint_size\":{\"memory_pages_size\":262144,\"total_size\":2015043},"
                               "\"checkpointed\":\"2025-12-03T07:50:05Z\",\"container_name\":\"web\","
                               "\"created\":\"2025-12-03T07:50:05Z\",\"engine\":\"containerd\",\"id\":\"web\","
                               "\"image\":\"docker.io/library/busybox:1\",\"runtime\":\"io.containerd.runc.v2\"}");
        free(t);
        json_decref(o);
        store_ckpt_facts_clear(&f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_summary),
                cmocka_unit_test(test_inspect_container),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
